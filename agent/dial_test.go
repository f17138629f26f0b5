package agent

import (
	"context"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/buildslave/buildslave/config"
)

func TestParseEndpoint(t *testing.T) {
	for in, want := range map[string]endpoint{
		"TCP:master.example.org:9989":                {Host: "master.example.org", Port: 9989},
		"tcp:host=m:port=1":                          {Host: "m", Port: 1},
		"tcp:m:1:timeout=2.5":                        {Host: "m", Port: 1, Timeout: 2500 * time.Millisecond},
		"TLS:m:9989":                                 {TLS: true, Host: "m", Port: 9989},
		"tls:m:9989:trustRoots=/etc/bb/ca":           {TLS: true, Host: "m", Port: 9989, TrustRoots: "/etc/bb/ca"},
		"tls:host=m:port=9989:trustRoots=ca":         {TLS: true, Host: "m", Port: 9989, TrustRoots: "ca"},
		`tcp:host=\:\:1:port=9989`:                   {Host: "::1", Port: 9989},
		"tls:m:1:certificate=c.pem:privateKey=k.pem": {TLS: true, Host: "m", Port: 1, Certificate: "c.pem", PrivateKey: "k.pem"},
		"tcp:m:1:bindAddress=127.0.0.1":              {Host: "m", Port: 1},
	} {
		got, err := parseEndpoint(in)
		if err != nil || got != want {
			t.Errorf("%s: %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "unix:/tmp/s", "tcp:m", "tcp:m:0", "tcp:m:65536", "tcp:m:http", "tcp:m:1:2",
		"tcp:m:1:trustRoots=ca", "tls:m:1:frobnicate=1", "tls:m:1:certificate=c.pem", "tcp:m:1:timeout=-1",
	} {
		if got, err := parseEndpoint(in); err == nil {
			t.Errorf("%q: accepted as %+v", in, got)
		}
	}
}

func TestRouteFromConfig(t *testing.T) {
	cfg := &config.Config{MasterHost: "m", MasterPort: 9989, UseTLS: true}
	r, err := routeFromConfig(cfg)
	if err != nil || r.master != (endpoint{TLS: true, Host: "m", Port: 9989}) || r.proxy != nil {
		t.Errorf("use_tls: %+v, %v", r, err)
	}
	cfg.ProxyConnectionString = "tcp:proxy:3128"
	r, err = routeFromConfig(cfg)
	if err != nil || r.proxy == nil || *r.proxy != (endpoint{Host: "proxy", Port: 3128}) || !r.master.TLS {
		t.Errorf("proxy: %+v, %v", r, err)
	}
	cfg.ConnectionString = "tcp:other:1"
	if _, err := routeFromConfig(cfg); err == nil {
		t.Error("a proxy with a connection string was accepted")
	}
	cfg.ProxyConnectionString = ""
	r, err = routeFromConfig(cfg)
	if err != nil || r.master != (endpoint{Host: "other", Port: 1}) {
		t.Errorf("connection string: %+v, %v", r, err)
	}
}

// fakeProxy answers one CONNECT with status, then echoes what it gets.
func fakeProxy(t *testing.T, status string, requests chan<- string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 512)
		n, _ := c.Read(buf)
		requests <- string(buf[:n])
		// The first tunnelled bytes come with the answer: they must
		// not be lost.
		_, _ = io.WriteString(c, status+"\r\nX-Proxy: yes\r\n\r\nhello")
		_, _ = io.Copy(c, c)
	}()
	return l.Addr().String()
}

func TestDialThroughProxy(t *testing.T) {
	requests := make(chan string, 1)
	addr := fakeProxy(t, "HTTP/1.1 200 Connection established", requests)
	host, port, _ := net.SplitHostPort(addr)
	r, err := routeFromConfig(&config.Config{MasterHost: "master.invalid", MasterPort: 9989, ProxyConnectionString: "tcp:" + host + ":" + port})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := r.dial(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if got := <-requests; got != "CONNECT master.invalid:9989 HTTP/1.1\r\n\r\n" {
		t.Errorf("request %q", got)
	}
	buf := make([]byte, 5)
	conn.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.ReadFull(conn, buf); err != nil || string(buf) != "hello" {
		t.Errorf("first tunnelled bytes %q, %v", buf, err)
	}
	_, _ = io.WriteString(conn, "ping")
	if _, err := io.ReadFull(conn, buf[:4]); err != nil || string(buf[:4]) != "ping" {
		t.Errorf("echo %q, %v", buf[:4], err)
	}
}

func TestDialProxyRefusal(t *testing.T) {
	requests := make(chan string, 1)
	addr := fakeProxy(t, "HTTP/1.1 403 Forbidden", requests)
	p, _ := parseEndpoint("tcp:" + addr)
	r := route{master: endpoint{Host: "m", Port: 1}, proxy: &p}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	_, err := r.dial(ctx)
	if err == nil || !strings.Contains(err.Error(), "403 Forbidden") {
		t.Errorf("err = %v, want the proxy's refusal", err)
	}
}
