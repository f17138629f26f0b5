package main

import (
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/buildslave/buildslave/config"
)

// parseMasterAddress splits create-slave's MASTERHOST[:PORT] argument. An
// IPv6 address needs brackets, as in "[2001:db8::1]:9989"; without a port
// the master's default worker port applies.
func parseMasterAddress(s string) (host string, port int, err error) {
	lower := strings.ToLower(s)
	if strings.Contains(s, "://") || strings.HasPrefix(lower, "http:") || strings.HasPrefix(lower, "https:") {
		return "", 0, fmt.Errorf("the master address %q is a URL: give the master's host name and worker port instead, "+
			"as in buildbot.example.org:9989 (not the address of its web pages)", s)
	}

	portText := ""
	switch {
	case strings.HasPrefix(s, "["):
		end := strings.Index(s, "]")
		if end < 0 {
			return "", 0, fmt.Errorf("the master address %q lacks the ] closing its IPv6 address", s)
		}
		host = s[1:end]
		rest := s[end+1:]
		if rest != "" {
			var ok bool
			if portText, ok = strings.CutPrefix(rest, ":"); !ok {
				return "", 0, fmt.Errorf("the master address %q has %q after its IPv6 address; expected :PORT", s, rest)
			}
		}
	case strings.Count(s, ":") > 1:
		return "", 0, fmt.Errorf("the master address %q looks like an IPv6 address: put it in brackets, as in [%s]:%d",
			s, s, config.DefaultPort)
	default:
		var hasPort bool
		host, portText, hasPort = strings.Cut(s, ":")
		if hasPort && portText == "" {
			return "", 0, fmt.Errorf("the master address %q has a colon but no port", s)
		}
	}

	if host == "" {
		return "", 0, fmt.Errorf("the master address %q has no host", s)
	}
	if strings.ContainsAny(host, " \t\n/\\@") {
		return "", 0, fmt.Errorf("the master address %q is not HOST[:PORT]", s)
	}
	port = config.DefaultPort
	if portText != "" {
		port, err = strconv.Atoi(portText)
		if err != nil || port < 1 || port > 65535 {
			return "", 0, fmt.Errorf("invalid master port %q: needs a number from 1 to 65535", portText)
		}
	}
	return host, port, nil
}

// parseMasterList splits create-slave's master argument, one
// MASTERHOST[:PORT] or several separated by commas: the first is the
// master, the others, as host:port, its failover masters.
func parseMasterList(s string) (host string, port int, failover []string, err error) {
	for i, one := range strings.Split(s, ",") {
		one = strings.TrimSpace(one)
		if one == "" {
			return "", 0, nil, fmt.Errorf("the master list %q has an empty entry", s)
		}
		h, p, err := parseMasterAddress(one)
		if err != nil {
			return "", 0, nil, err
		}
		if i == 0 {
			host, port = h, p
			continue
		}
		failover = append(failover, net.JoinHostPort(h, strconv.Itoa(p)))
	}
	return host, port, failover, nil
}
