package config

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
)

// Tac renders c as the buildbot.tac that buildbot-worker 3.7's
// create-worker writes, so that the Python worker runs it unchanged and
// ParseTac (upgrade-slave) reads it back to the same settings. A
// relocatable configuration gets basedir '.', which the tac's own guard
// turns into the directory holding the file.
func (c *Config) Tac() string {
	basedir := c.Basedir
	if c.Relocatable || basedir == "" {
		basedir = relocatableBasedir
	}
	var b strings.Builder
	fmt.Fprintf(&b, `
import os

from buildbot_worker.bot import Worker
from twisted.application import service

basedir = %s
rotateLength = %d
maxRotatedFiles = %s

# if this is a relocatable tac file, get the directory containing the TAC
if basedir == '.':
    import os.path
    basedir = os.path.abspath(os.path.dirname(__file__))

# note: this line is matched against to check that this is a worker
# directory; do not edit it.
application = service.Application('buildbot-worker')
`, pyRepr(basedir), c.LogSize, pyIntOrNone(c.LogCount))
	if !c.NoLogRotate {
		b.WriteString(`
from twisted.python.logfile import LogFile
from twisted.python.log import ILogObserver, FileLogObserver
logfile = LogFile.fromFullPath(
    os.path.join(basedir, "twistd.log"), rotateLength=rotateLength,
    maxRotatedFiles=maxRotatedFiles)
application.setComponent(ILogObserver, FileLogObserver(logfile).emit)
`)
	}
	umask := "None"
	if c.Umask != nil {
		umask = "0o" + strconv.FormatInt(int64(*c.Umask), 8)
	}
	fmt.Fprintf(&b, `
buildmaster_host = %s
port = %d
workername = %s
passwd = %s
keepalive = %d
umask = %s
maxdelay = %d
numcpus = %s
allow_shutdown = %s
maxretries = %s
use_tls = %d
delete_leftover_dirs = %d
proxy_connection_string = %s
protocol = %s
`, pyRepr(c.MasterHost), c.MasterPort, pyRepr(c.Name), pyRepr(c.Password), c.Keepalive, umask,
		c.MaxDelay, pyIntOrNone(c.NumCPUs), pyStrOrNone(c.AllowShutdown), pyIntOrNone(c.MaxRetries),
		b2i(c.UseTLS), b2i(c.DeleteLeftoverDirs), pyStrOrNone(c.ProxyConnectionString), pyRepr(c.Protocol))
	if c.UnicodeEncoding != "" {
		fmt.Fprintf(&b, "unicode_encoding = %s\n", pyRepr(c.UnicodeEncoding))
	}
	b.WriteString(`
s = Worker(buildmaster_host, port, workername, passwd, basedir,
           keepalive, umask=umask, maxdelay=maxdelay,
           numcpus=numcpus, allow_shutdown=allow_shutdown,
           maxRetries=maxretries, protocol=protocol, useTls=use_tls,
           delete_leftover_dirs=delete_leftover_dirs,
           proxy_connection_string=proxy_connection_string`)
	if c.UnicodeEncoding != "" {
		b.WriteString(",\n           unicode_encoding=unicode_encoding")
	}
	b.WriteString(")\ns.setServiceParent(application)\n")
	return b.String()
}

// Text renders c as the worker's configuration file, as Write stores it.
func (c *Config) Text() string {
	return c.render()
}

// Parse reads a configuration file's content, as Load does; dir is the
// directory a relocatable basedir stands for.
func Parse(data []byte, dir string) (*Config, error) {
	return parse(data, dir)
}

// pyRepr writes s as a Python string literal, always single-quoted, with
// everything that is not printable escaped, so that no value can end the
// literal or the line early.
func pyRepr(s string) string {
	var b strings.Builder
	b.WriteByte('\'')
	for _, r := range s {
		switch {
		case r == '\\' || r == '\'':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f:
			fmt.Fprintf(&b, `\x%02x`, r)
		case !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04x`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08x`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('\'')
	return b.String()
}

// pyIntOrNone writes 0, which the configuration uses for "unset", as None.
func pyIntOrNone(n int) string {
	if n == 0 {
		return "None"
	}
	return strconv.Itoa(n)
}

func pyStrOrNone(s string) string {
	if s == "" {
		return "None"
	}
	return pyRepr(s)
}

func b2i(v bool) int {
	if v {
		return 1
	}
	return 0
}
