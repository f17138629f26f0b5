package agent

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"
)

// probeMsgpack asks for a WebSocket upgrade without credentials: a
// Buildbot msgpack port refuses it with 401, which proves who is there
// without logging in.
func probeMsgpack(conn net.Conn, hostport string) (string, error) {
	// A WebSocket server waits for the request; a PB port speaks first,
	// and a request sent to it would be answered by a reset that can
	// swallow what it said.
	conn.SetReadDeadline(time.Now().Add(speakFirstWait))
	first := make([]byte, 64)
	if n, _ := conn.Read(first); n > 0 {
		what := "it spoke first"
		if bytes.Contains(first[:n], []byte("pb")) {
			what = "it speaks Perspective Broker (a PB port)"
		}
		return "", fmt.Errorf("the far end is not a Buildbot msgpack port: %s, sending %q", what, preview(first[:n]))
	}
	conn.SetDeadline(time.Now().Add(probeTimeout))
	key := make([]byte, 16)
	rand.Read(key)
	req := "GET / HTTP/1.1\r\nHost: " + hostport + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" +
		"Sec-WebSocket-Key: " + base64.StdEncoding.EncodeToString(key) + "\r\nSec-WebSocket-Version: 13\r\n\r\n"
	if _, err := conn.Write([]byte(req)); err != nil {
		return "", fmt.Errorf("sending a WebSocket upgrade: %w", err)
	}
	rec := &recordingReader{r: conn}
	resp, err := http.ReadResponse(bufio.NewReader(rec), nil)
	if err != nil {
		if len(rec.seen) > 0 {
			return "", fmt.Errorf("the far end is not a Buildbot msgpack port: it answered %q", preview(rec.seen))
		}
		return "", fmt.Errorf("no answer to a WebSocket upgrade: %w", err)
	}
	resp.Body.Close()
	switch resp.StatusCode {
	case http.StatusUnauthorized:
		return "msgpack: the master asks for credentials on a WebSocket upgrade (HTTP 401), as a Buildbot msgpack port does", nil
	case http.StatusSwitchingProtocols:
		return "", errors.New("the far end accepted a WebSocket upgrade without credentials: not a Buildbot msgpack port")
	}
	return "", fmt.Errorf("the far end answered a WebSocket upgrade with %q, not a Buildbot msgpack port's 401 (is it a web port?)", resp.Status)
}
