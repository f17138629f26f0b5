package agent

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/buildslave/buildslave/config"
)

// tcpKeepalive is the TCP keepalive period of the connection to the master:
// the kernel's probes notice a peer that vanished even while the
// application-level keepalive is off or far apart.
const tcpKeepalive = 30 * time.Second

// endpoint is one end of a connection, in the terms of the Twisted client
// endpoint strings the reference accepts ("tcp:host:port",
// "tls:host=H:port=P:trustRoots=DIR").
type endpoint struct {
	TLS  bool
	Host string
	Port int
	// Timeout bounds the dial; 0 means dialTimeout.
	Timeout time.Duration
	// TrustRoots is a directory (or file) of PEM certificates the master's
	// certificate must chain to; empty means the system's roots.
	TrustRoots string
	// Certificate and PrivateKey are a client certificate, for masters
	// that ask for one.
	Certificate, PrivateKey string
}

func (e endpoint) addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// String names the endpoint in logs; it holds nothing secret.
func (e endpoint) String() string {
	if e.TLS {
		return "tls:" + e.addr()
	}
	return e.addr()
}

// parseEndpoint reads a Twisted client endpoint string of type tcp or tls.
// Fields are separated by ':' ('\:' is a literal colon, as in an IPv6
// host); the first two positional fields are host and port, the rest are
// key=value pairs.
func parseEndpoint(s string) (endpoint, error) {
	fields := splitEndpoint(s)
	var e endpoint
	switch strings.ToLower(fields[0]) {
	case "tcp":
	case "tls":
		e.TLS = true
	default:
		return e, fmt.Errorf("connection string %q: type %q is not tcp or tls", s, fields[0])
	}
	var positional []string
	for _, f := range fields[1:] {
		key, value, ok := strings.Cut(f, "=")
		if !ok {
			positional = append(positional, f)
			continue
		}
		var err error
		switch key {
		case "host":
			e.Host = value
		case "port":
			e.Port, err = parsePort(value)
		case "timeout":
			var secs float64
			secs, err = strconv.ParseFloat(value, 64)
			if err == nil && secs <= 0 {
				err = errors.New("not positive")
			}
			e.Timeout = time.Duration(secs * float64(time.Second))
		case "bindAddress":
			// Accepted and ignored: the system picks the source address.
		case "trustRoots", "certificate", "privateKey":
			if !e.TLS {
				return e, fmt.Errorf("connection string %q: %s needs a tls: connection", s, key)
			}
			switch key {
			case "trustRoots":
				e.TrustRoots = value
			case "certificate":
				e.Certificate = value
			default:
				e.PrivateKey = value
			}
		default:
			return e, fmt.Errorf("connection string %q: unknown parameter %q", s, key)
		}
		if err != nil {
			return e, fmt.Errorf("connection string %q: %s %q: %w", s, key, value, err)
		}
	}
	if len(positional) > 2 {
		return e, fmt.Errorf("connection string %q: too many fields", s)
	}
	if len(positional) > 0 {
		e.Host = positional[0]
	}
	if len(positional) > 1 {
		p, err := parsePort(positional[1])
		if err != nil {
			return e, fmt.Errorf("connection string %q: port %q: %w", s, positional[1], err)
		}
		e.Port = p
	}
	if e.Host == "" || e.Port == 0 {
		return e, fmt.Errorf("connection string %q: a host and a port are required (e.g. \"tcp:host:port\")", s)
	}
	if (e.Certificate == "") != (e.PrivateKey == "") {
		return e, fmt.Errorf("connection string %q: certificate and privateKey go together", s)
	}
	return e, nil
}

// splitEndpoint splits on ':' except where a backslash escapes it.
func splitEndpoint(s string) []string {
	var fields []string
	var cur strings.Builder
	for i := 0; i < len(s); i++ {
		switch {
		case s[i] == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
		case s[i] == ':':
			fields = append(fields, cur.String())
			cur.Reset()
		default:
			cur.WriteByte(s[i])
		}
	}
	return append(fields, cur.String())
}

func parsePort(s string) (int, error) {
	p, err := strconv.Atoi(s)
	if err != nil || p < 1 || p > 65535 {
		return 0, errors.New("not a port number 1..65535")
	}
	return p, nil
}

// route is how the worker reaches its master: directly at master, or
// through an HTTP proxy that tunnels to master.
type route struct {
	master endpoint
	proxy  *endpoint
}

// routeFromConfig reads the connection settings as the reference does: a
// connection string replaces host, port and use_tls; a proxy connection
// string tunnels to host:port (TLS inside when use_tls) and cannot be
// combined with a connection string.
func routeFromConfig(cfg *config.Config) (route, error) {
	var r route
	if cfg.ConnectionString != "" {
		if cfg.ProxyConnectionString != "" {
			return r, errors.New("proxy_connection_string needs buildmaster_host and port, not connection_string")
		}
		ep, err := parseEndpoint(cfg.ConnectionString)
		if err != nil {
			return r, err
		}
		r.master = ep
		return r, nil
	}
	r.master = endpoint{TLS: cfg.UseTLS, Host: cfg.MasterHost, Port: cfg.MasterPort}
	if cfg.ProxyConnectionString != "" {
		p, err := parseEndpoint(cfg.ProxyConnectionString)
		if err != nil {
			return r, fmt.Errorf("proxy_connection_string: %w", err)
		}
		r.proxy = &p
	}
	return r, nil
}

// routesFromConfig is the master of routeFromConfig followed by the
// failover masters, in the order they are tried. A failover master takes
// the first one's TLS settings (use_tls, or a TLS connection string's
// trust roots and client certificate) and its proxy.
func routesFromConfig(cfg *config.Config) ([]route, error) {
	first, err := routeFromConfig(cfg)
	if err != nil {
		return nil, err
	}
	routes := []route{first}
	for _, m := range cfg.FailoverMasters {
		host, port, err := config.ParseHostPort(m)
		if err != nil {
			return nil, fmt.Errorf("failover_masters: %w", err)
		}
		r := first
		r.master.Host, r.master.Port = host, port
		routes = append(routes, r)
	}
	return routes, nil
}

func (r route) String() string {
	if r.proxy != nil {
		return r.master.String() + " via proxy " + r.proxy.String()
	}
	return r.master.String()
}

// dial opens a connection to the master along r, ready for PB: the TCP
// connection (with keepalive), the proxy tunnel and the TLS handshake.
func (r route) dial(ctx context.Context) (net.Conn, error) {
	first := r.master
	if r.proxy != nil {
		first = *r.proxy
	}
	timeout := first.Timeout
	if timeout <= 0 {
		timeout = dialTimeout
	}
	dialer := net.Dialer{
		Timeout:         timeout,
		KeepAliveConfig: net.KeepAliveConfig{Enable: true, Idle: tcpKeepalive, Interval: tcpKeepalive},
	}
	if first.TLS && r.proxy != nil {
		return nil, fmt.Errorf("proxy %s: TLS to the proxy itself is not supported", first)
	}
	conn, err := dialer.DialContext(ctx, "tcp", first.addr())
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", first, err)
	}
	if r.proxy != nil {
		if err := httpConnect(ctx, conn, r.master.addr(), timeout); err != nil {
			conn.Close()
			return nil, fmt.Errorf("proxy %s: %w", r.proxy, err)
		}
	}
	if !r.master.TLS {
		return conn, nil
	}
	cfg, err := tlsConfig(r.master)
	if err != nil {
		conn.Close()
		return nil, err
	}
	tconn := tls.Client(conn, cfg)
	hctx, cancel := context.WithTimeout(ctx, handshakeTimeout)
	defer cancel()
	if err := tconn.HandshakeContext(hctx); err != nil {
		conn.Close()
		return nil, fmt.Errorf("TLS handshake with %s: %w", r.master.addr(), err)
	}
	return tconn, nil
}
