package main

import (
	"strings"
	"testing"
)

func TestParseMasterAddress(t *testing.T) {
	for _, tc := range []struct {
		in   string
		host string
		port int
	}{
		{"buildbot.example.org", "buildbot.example.org", 9989},
		{"buildbot.example.org:19989", "buildbot.example.org", 19989},
		{"192.0.2.7:1", "192.0.2.7", 1},
		{"localhost:65535", "localhost", 65535},
		{"[2001:db8::1]:9000", "2001:db8::1", 9000},
		{"[::1]", "::1", 9989},
	} {
		host, port, err := parseMasterAddress(tc.in)
		if err != nil || host != tc.host || port != tc.port {
			t.Errorf("parseMasterAddress(%q) = %q, %d, %v; want %q, %d", tc.in, host, port, err, tc.host, tc.port)
		}
	}
}

func TestParseMasterAddressErrors(t *testing.T) {
	for in, want := range map[string]string{
		"http://buildbot.example.org:8010/": "is a URL",
		"https://buildbot.example.org":      "is a URL",
		"HTTP:buildbot.example.org":         "is a URL",
		"tcp://host:9989":                   "is a URL",
		"":                                  "no host",
		":9989":                             "no host",
		"host:":                             "no port",
		"host:port":                         "invalid master port",
		"host:0":                            "invalid master port",
		"host:65536":                        "invalid master port",
		"host:-1":                           "invalid master port",
		"2001:db8::1":                       "put it in brackets",
		"[2001:db8::1":                      "lacks the ]",
		"[2001:db8::1]9989":                 "expected :PORT",
		"[]:9989":                           "no host",
		"user@host":                         "not HOST[:PORT]",
		"host/path":                         "not HOST[:PORT]",
	} {
		_, _, err := parseMasterAddress(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("parseMasterAddress(%q) error %v, want one containing %q", in, err, want)
		}
	}
}
