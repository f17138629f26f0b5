package config

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
)

// ParseHostPort reads one "host:port" of failover_masters; an IPv6 host
// goes in brackets, as in "[2001:db8::1]:9989".
func ParseHostPort(s string) (host string, port int, err error) {
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return "", 0, fmt.Errorf("%q is not host:port (an IPv6 address goes in brackets: [2001:db8::1]:%d)", s, DefaultPort)
	}
	if host == "" {
		return "", 0, fmt.Errorf("%q has no host", s)
	}
	port, err = strconv.Atoi(portText)
	if err != nil || port < 1 || port > 65535 {
		return "", 0, fmt.Errorf("%q: port %q is not a number from 1 to 65535", s, portText)
	}
	return host, port, nil
}

// MetricsListenAddr is where the HTTP endpoint listens: metrics_addr with
// an empty host ("9101", ":9101") made loopback, so that only a host named
// on purpose ("0.0.0.0:9101") opens it to the network.
func (c *Config) MetricsListenAddr() (string, error) {
	return metricsListenAddr(c.MetricsAddr)
}

func metricsListenAddr(s string) (string, error) {
	if s == "" {
		return "", errors.New("metrics_addr is not set")
	}
	if !strings.Contains(s, ":") {
		s = ":" + s
	}
	host, portText, err := net.SplitHostPort(s)
	if err != nil {
		return "", fmt.Errorf("metrics_addr %q is not host:port", s)
	}
	if p, err := strconv.Atoi(portText); err != nil || p < 0 || p > 65535 {
		return "", fmt.Errorf("metrics_addr %q: port %q is not a number from 0 to 65535", s, portText)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, portText), nil
}
