package agent

import (
	"context"
	"crypto/tls"
	"fmt"
	"net"
	"strings"
	"time"

	"github.com/buildslave/buildslave/config"
)

// probeTimeout bounds each stage of a probe: a preflight check should not
// keep a volunteer waiting as long as a worker waits for a busy master.
const probeTimeout = 10 * time.Second

// speakFirstWait is how long the msgpack probe listens before it sends its
// request, to catch a port that speaks first.
const speakFirstWait = 500 * time.Millisecond

// Stages of a probe, in order.
const (
	StageResolve  = "resolve"
	StageConnect  = "connect"
	StageProxy    = "proxy"
	StageTLS      = "tls"
	StageProtocol = "protocol"
)

// ProbeResult is one stage of the way to one master. Err is nil when the
// stage passed; Detail says what was found.
type ProbeResult struct {
	Master string // as the log names it
	Stage  string
	Detail string
	Err    error
}

// Probe goes the way the worker goes to each of cfg's masters — name
// resolution, TCP connection, proxy tunnel, TLS handshake and certificate
// — and checks that the far end speaks the configured protocol (PB's
// dialect offer; for msgpack, a WebSocket upgrade refused for lack of
// credentials), without ever logging in. A master's probe stops at its
// first failing stage. Only invalid connection settings are an error.
func Probe(ctx context.Context, cfg *config.Config) ([]ProbeResult, error) {
	routes, err := routesFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	var out []ProbeResult
	for _, r := range routes {
		out = append(out, probeRoute(ctx, r, cfg.Protocol)...)
	}
	return out, nil
}

func probeRoute(ctx context.Context, r route, protocol string) []ProbeResult {
	var out []ProbeResult
	ok := func(stage, detail string) {
		out = append(out, ProbeResult{Master: r.String(), Stage: stage, Detail: detail})
	}
	fail := func(stage string, err error) []ProbeResult {
		return append(out, ProbeResult{Master: r.String(), Stage: stage, Err: err})
	}
	first := r.master
	if r.proxy != nil {
		first = *r.proxy
	}

	// Resolution, separately from the connection, so that a typo in the
	// name is not reported as a network problem.
	if ip := net.ParseIP(first.Host); ip != nil {
		ok(StageResolve, first.Host+" is an address")
	} else {
		rctx, cancel := context.WithTimeout(ctx, probeTimeout)
		addrs, err := net.DefaultResolver.LookupHost(rctx, first.Host)
		cancel()
		if err != nil {
			return fail(StageResolve, err)
		}
		ok(StageResolve, fmt.Sprintf("%s is %s", first.Host, strings.Join(addrs, ", ")))
	}

	dialer := net.Dialer{Timeout: probeTimeout}
	started := time.Now()
	conn, err := dialer.DialContext(ctx, "tcp", first.addr())
	if err != nil {
		return fail(StageConnect, err)
	}
	defer conn.Close()
	ok(StageConnect, fmt.Sprintf("%s answered in %s", first.addr(), time.Since(started).Round(time.Millisecond)))

	if r.proxy != nil {
		if err := httpConnect(ctx, conn, r.master.addr(), probeTimeout); err != nil {
			return fail(StageProxy, err)
		}
		ok(StageProxy, "the proxy opened a tunnel to "+r.master.addr())
	}
	if r.master.TLS {
		tcfg, err := tlsConfig(r.master)
		if err != nil {
			return fail(StageTLS, err)
		}
		tconn := tls.Client(conn, tcfg)
		hctx, cancel := context.WithTimeout(ctx, probeTimeout)
		err = tconn.HandshakeContext(hctx)
		cancel()
		if err != nil {
			return fail(StageTLS, err)
		}
		cert := tconn.ConnectionState().PeerCertificates[0]
		ok(StageTLS, fmt.Sprintf("certificate of %q verified, valid until %s", cert.Subject.CommonName, cert.NotAfter.UTC().Format("2006-01-02")))
		conn = tconn
	}

	var perr error
	var detail string
	if protocol == config.ProtocolMsgpack {
		detail, perr = probeMsgpack(conn, r.master.addr())
	} else {
		detail, perr = probePB(conn)
	}
	if perr != nil {
		return fail(StageProtocol, perr)
	}
	ok(StageProtocol, detail)
	return out
}

// recordingReader keeps the first bytes read, for error messages.
type recordingReader struct {
	r    net.Conn
	seen []byte
}

func (r *recordingReader) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if len(r.seen) < 64 {
		r.seen = append(r.seen, p[:min(n, 64-len(r.seen))]...)
	}
	return n, err
}

func preview(b []byte) string {
	if len(b) > 40 {
		b = b[:40]
	}
	return string(b)
}
