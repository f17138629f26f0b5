package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"unicode"
)

// FileMode is the configuration file's permission: it holds the password.
const FileMode = 0o600

// Write stores c as basedir's configuration file, replacing any existing
// one atomically: the file is written under a temporary name in the same
// directory and renamed over the old one, so a crash never leaves a
// truncated configuration, and the password is never readable by others,
// not even for a moment.
func (c *Config) Write(basedir string) error {
	if err := c.Validate(); err != nil {
		return fmt.Errorf("not writing an invalid worker configuration: %w", err)
	}
	path := filepath.Join(basedir, FileName)
	tmp, err := os.CreateTemp(basedir, "."+FileName+".*")
	if err != nil {
		return fmt.Errorf("writing the worker configuration: %w", err)
	}
	// Once renamed, Remove fails harmlessly.
	defer os.Remove(tmp.Name())

	// CreateTemp already uses 0600; the explicit Chmod states the intent
	// and survives any change to that.
	if err := tmp.Chmod(FileMode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if _, err := tmp.WriteString(c.render()); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return nil
}

// render produces the file's text: every setting with a comment saying what
// it does and what it defaults to, like the buildbot.tac it stands in for.
func (c *Config) render() string {
	var b strings.Builder
	b.WriteString(header)

	basedir := c.Basedir
	if c.Relocatable {
		basedir = relocatableBasedir
	}
	section(&b, "Where the worker lives")
	setting(&b, "Base directory of the worker; builds run in subdirectories of it.\n"+
		`"." means the directory holding this file (a relocatable worker).`,
		"basedir", quote(basedir))

	section(&b, "The master")
	setting(&b, "Host name or address of the Buildbot master.",
		"buildmaster_host", quote(c.MasterHost))
	setting(&b, fmt.Sprintf("TCP port the master listens on for workers. Default: %d.", DefaultPort),
		"port", strconv.Itoa(c.MasterPort))
	optional(&b, "Replaces buildmaster_host and port when set, e.g. \"TCP:host:port\" or\n"+
		"\"TLS:host:port[:trustRoots=DIR]\". Default: unset.",
		"connection_string", c.ConnectionString, `"TLS:buildbot.example.org:9989"`)
	optional(&b, "HTTP proxy to tunnel the connection through (with CONNECT). Default: none.",
		"proxy_connection_string", c.ProxyConnectionString, `"tcp:proxy.example.org:3128"`)
	failover := ""
	if len(c.FailoverMasters) > 0 {
		quoted := make([]string, len(c.FailoverMasters))
		for i, m := range c.FailoverMasters {
			quoted[i] = quote(m)
		}
		failover = "[" + strings.Join(quoted, ", ") + "]"
	}
	optionalRaw(&b, "Other masters of a multi-master set-up, \"host:port\" each, tried in this\n"+
		"order when the master above cannot be reached, on every (re)connection.\n"+
		"They take the same TLS and proxy settings. Default: none.",
		"failover_masters", failover, `["master2.example.org:9989"]`)
	setting(&b, "Connect to the master with TLS. Default: false.",
		"use_tls", strconv.FormatBool(c.UseTLS))
	setting(&b, "Protocol spoken to the master: \"pb\" or \"msgpack_experimental_v7\".\n"+
		"Default: \"pb\".",
		"protocol", quote(c.Protocol))

	section(&b, "Identity: the master's administrator gives you both")
	setting(&b, "Name the worker logs in with.",
		"workername", quote(c.Name))
	setting(&b, "Password the worker logs in with. Keep this file private.",
		"passwd", quote(c.Password))

	section(&b, "Behaviour")
	setting(&b, fmt.Sprintf("Seconds between keepalive messages to the master; 0 disables them.\nDefault: %d.", DefaultKeepalive),
		"keepalive", strconv.Itoa(c.Keepalive))
	setting(&b, fmt.Sprintf("Longest wait, in seconds, between two connection attempts. Default: %d.", DefaultMaxDelay),
		"maxdelay", strconv.Itoa(c.MaxDelay))
	setting(&b, "Give up after this many failed connection attempts; 0 retries for\never. Default: 0.",
		"maxretries", strconv.Itoa(c.MaxRetries))
	setting(&b, "Number of CPUs reported to the master; 0 reports the detected count.\nDefault: 0.",
		"numcpus", strconv.Itoa(c.NumCPUs))
	umask := ""
	if c.Umask != nil {
		umask = FormatUmask(*c.Umask)
	}
	optional(&b, "Octal umask for the files builds create, e.g. \"022\" makes them readable\n"+
		"by everyone. Default: unset, which keeps the umask the worker was started\n"+
		"with, or 077 when \"buildslave start\" runs it in the background.",
		"umask", umask, `"022"`)
	setting(&b, "How the worker may ask the master for a graceful shutdown: \"signal\"\n"+
		"(send it SIGHUP), \"file\" (touch shutdown.stamp in the base directory)\n"+
		"or \"\" (it may not). Default: \"\".",
		"allow_shutdown", quote(c.AllowShutdown))
	setting(&b, "Delete directories of the base directory the master has no builder for.\nDefault: false.",
		"delete_leftover_dirs", strconv.FormatBool(c.DeleteLeftoverDirs))
	optional(&b, "Encoding of the name, password, command lines and their output.\n"+
		"Default: utf-8.",
		"unicode_encoding", c.UnicodeEncoding, `"utf-8"`)

	section(&b, "Monitoring")
	optional(&b, "Serve /healthz and /metrics (Prometheus) over HTTP at this host:port;\n"+
		"a port alone listens on 127.0.0.1 only. Default: unset (no endpoint).",
		"metrics_addr", c.MetricsAddr, `"127.0.0.1:9101"`)

	section(&b, "Log file (twistd.log in the base directory)")
	setting(&b, fmt.Sprintf("Rotate the log when it reaches this many bytes, rounded up to whole\nMiB; rotated logs are named twistd-TIMESTAMP.log. Default: %d.", DefaultLogSize),
		"log_size", strconv.FormatInt(c.LogSize, 10))
	setting(&b, fmt.Sprintf("Rotated logs to keep; 0 keeps them all. Default: %d.", DefaultLogCount),
		"log_count", strconv.Itoa(c.LogCount))
	setting(&b, "Never rotate the log: append to it for ever. Default: false.",
		"no_logrotate", strconv.FormatBool(c.NoLogRotate))
	return b.String()
}

const header = `# buildslave.cfg: configuration of the Buildbot worker in this directory,
# read by "buildslave start". It plays the part of buildbot-worker's
# buildbot.tac.
#
# This file holds the password the worker logs in with: keep it private
# (mode 0600). It is TOML (https://toml.io). A setting that is left out takes
# the default its comment names. After an edit, restart the worker:
#   buildslave restart BASEDIR
`

func section(b *strings.Builder, title string) {
	fmt.Fprintf(b, "\n# --- %s ---\n", title)
}

// setting writes one "key = value" line below its comment.
func setting(b *strings.Builder, comment, key, value string) {
	writeComment(b, comment)
	fmt.Fprintf(b, "%s = %s\n", key, value)
}

// optional writes a setting whose absence has a meaning of its own: when
// unset it shows, commented out, an example of what it could be.
func optional(b *strings.Builder, comment, key, value, example string) {
	writeComment(b, comment)
	if value == "" {
		fmt.Fprintf(b, "#%s = %s\n", key, example)
		return
	}
	fmt.Fprintf(b, "%s = %s\n", key, quote(value))
}

// optionalRaw is optional for a value already in TOML syntax.
func optionalRaw(b *strings.Builder, comment, key, value, example string) {
	writeComment(b, comment)
	if value == "" {
		fmt.Fprintf(b, "#%s = %s\n", key, example)
		return
	}
	fmt.Fprintf(b, "%s = %s\n", key, value)
}

func writeComment(b *strings.Builder, comment string) {
	b.WriteString("\n")
	for line := range strings.SplitSeq(comment, "\n") {
		fmt.Fprintf(b, "# %s\n", line)
	}
}

// quote renders s as a TOML basic string. strconv.Quote would not do: its
// \x and \a escapes are not TOML.
func quote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"':
			b.WriteString(`\"`)
		case r == '\\':
			b.WriteString(`\\`)
		case r == '\t':
			b.WriteString(`\t`)
		case r == '\n':
			b.WriteString(`\n`)
		case r == '\r':
			b.WriteString(`\r`)
		case r < 0x20 || r == 0x7f || !unicode.IsPrint(r) && r <= 0xffff:
			fmt.Fprintf(&b, `\u%04X`, r)
		case !unicode.IsPrint(r):
			fmt.Fprintf(&b, `\U%08X`, r)
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// FormatUmask writes a umask the way people read them: three octal digits.
func FormatUmask(u int) string {
	return fmt.Sprintf("%03o", u)
}
