package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"time"
)

// maxProxyHeader bounds the proxy's answer to CONNECT.
const maxProxyHeader = 16 << 10

// httpConnect asks the HTTP proxy at the other end of conn for a tunnel to
// target, with the request the reference sends. On success conn carries
// the tunnel.
func httpConnect(ctx context.Context, conn net.Conn, target string, timeout time.Duration) error {
	deadline := time.Now().Add(timeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	conn.SetDeadline(deadline)
	defer conn.SetDeadline(time.Time{})
	if _, err := fmt.Fprintf(conn, "CONNECT %s HTTP/1.1\r\n\r\n", target); err != nil {
		return fmt.Errorf("sending CONNECT: %w", err)
	}
	header, err := readProxyHeader(conn)
	if err != nil {
		return fmt.Errorf("reading the answer to CONNECT: %w", err)
	}
	status, _, _ := strings.Cut(header, "\r\n")
	fields := strings.Fields(status)
	if len(fields) < 2 || !strings.HasPrefix(fields[0], "HTTP/") {
		return fmt.Errorf("the answer to CONNECT is not HTTP: %q", status)
	}
	if fields[1] != "200" {
		return fmt.Errorf("CONNECT %s refused: %s", target, strings.Join(fields[1:], " "))
	}
	return nil
}

// readProxyHeader reads up to and including the blank line ending the
// proxy's header, one byte at a time: whatever follows already belongs to
// the master, and a buffered read could swallow it.
func readProxyHeader(conn net.Conn) (string, error) {
	var buf bytes.Buffer
	b := make([]byte, 1)
	for !bytes.HasSuffix(buf.Bytes(), []byte("\r\n\r\n")) {
		if buf.Len() >= maxProxyHeader {
			return "", errors.New("header too long")
		}
		if _, err := conn.Read(b); err != nil {
			return "", err
		}
		buf.WriteByte(b[0])
	}
	return buf.String(), nil
}
