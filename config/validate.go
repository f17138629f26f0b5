package config

import (
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/buildslave/buildslave/internal/pytext"
)

// Protocols a worker can speak to its master.
const (
	ProtocolPB      = "pb"
	ProtocolMsgpack = "msgpack_experimental_v7"
)

// Values of AllowShutdown.
const (
	ShutdownFile   = "file"
	ShutdownSignal = "signal"
)

// MaxUmask is the largest meaningful umask: the permission bits.
const MaxUmask = 0o777

// Validate reports every problem of c at once, so that whoever edits the
// file by hand fixes it in one pass. Messages name settings by their key in
// the file.
func (c *Config) Validate() error {
	var errs []error
	bad := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf(format, args...))
	}

	if c.Basedir == "" && !c.Relocatable {
		bad("basedir is empty")
	}
	if c.Name == "" {
		bad("workername is empty")
	}
	if c.Password == "" {
		bad("passwd is empty")
	}
	if c.ConnectionString == "" {
		if c.MasterHost == "" {
			bad("buildmaster_host is empty and no connection_string is set")
		}
		if c.MasterPort < 1 || c.MasterPort > 65535 {
			bad("port %d is out of range 1..65535 and no connection_string is set", c.MasterPort)
		}
	} else if c.MasterPort < 0 || c.MasterPort > 65535 {
		bad("port %d is out of range 1..65535", c.MasterPort)
	}
	switch c.Protocol {
	case ProtocolPB:
	case ProtocolMsgpack:
		// The name travels in HTTP Basic credentials, "name:password".
		if strings.Contains(c.Name, ":") {
			bad("workername %q contains ':', which protocol %q cannot carry (its login is HTTP Basic name:password): choose another name or use protocol %q",
				c.Name, ProtocolMsgpack, ProtocolPB)
		}
	default:
		bad("protocol %q is not one of %q, %q", c.Protocol, ProtocolPB, ProtocolMsgpack)
	}
	switch c.AllowShutdown {
	case "", ShutdownFile, ShutdownSignal:
	default:
		bad("allow_shutdown %q is not one of \"\", %q, %q", c.AllowShutdown, ShutdownFile, ShutdownSignal)
	}
	for _, n := range []struct {
		key string
		val int64
	}{
		{"keepalive", int64(c.Keepalive)},
		{"maxdelay", int64(c.MaxDelay)},
		{"maxretries", int64(c.MaxRetries)},
		{"numcpus", int64(c.NumCPUs)},
		{"log_count", int64(c.LogCount)},
	} {
		if n.val < 0 {
			bad("%s %d is negative", n.key, n.val)
		}
	}
	if c.LogSize < 1 {
		bad("log_size %d is not a positive number of bytes", c.LogSize)
	}
	if err := pytext.Check(c.UnicodeEncoding); err != nil {
		bad("%v", err)
	}
	if c.Umask != nil && (*c.Umask < 0 || *c.Umask > MaxUmask) {
		bad("umask %#o is out of range 0..0777", *c.Umask)
	}
	// The file is TOML, which must be UTF-8; better to refuse here than
	// to write a file that Load then rejects.
	for _, s := range []struct{ key, val string }{
		{"basedir", c.Basedir},
		{"buildmaster_host", c.MasterHost},
		{"connection_string", c.ConnectionString},
		{"proxy_connection_string", c.ProxyConnectionString},
		{"workername", c.Name},
		{"passwd", c.Password},
		{"unicode_encoding", c.UnicodeEncoding},
	} {
		if !utf8.ValidString(s.val) {
			bad("%s is not valid UTF-8", s.key)
		}
	}
	return errors.Join(errs...)
}
