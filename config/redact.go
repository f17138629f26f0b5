package config

import (
	"fmt"
	"log/slog"
	"strings"
)

// redacted stands in for the password wherever a Config is shown.
const redacted = "[redacted]"

// LogValue, String and Format have value receivers so that a Config value
// is as safe to print or log as a pointer to one.

// LogValue makes slog log a Config as its settings with the password
// replaced, so that logging a configuration is always safe.
func (c Config) LogValue() slog.Value {
	password := ""
	if c.Password != "" {
		password = redacted
	}
	umask := "unset"
	if c.Umask != nil {
		umask = FormatUmask(*c.Umask)
	}
	attrs := []slog.Attr{
		slog.String("basedir", c.Basedir),
		slog.Bool("relocatable", c.Relocatable),
		slog.String("master", c.MasterAddr()),
	}
	if c.ConnectionString != "" {
		attrs = append(attrs, slog.String("connection_string", c.ConnectionString))
	}
	if c.ProxyConnectionString != "" {
		attrs = append(attrs, slog.String("proxy_connection_string", c.ProxyConnectionString))
	}
	if len(c.FailoverMasters) > 0 {
		attrs = append(attrs, slog.String("failover_masters", strings.Join(c.FailoverMasters, ",")))
	}
	if c.MetricsAddr != "" {
		attrs = append(attrs, slog.String("metrics_addr", c.MetricsAddr))
	}
	attrs = append(attrs,
		slog.Bool("use_tls", c.UseTLS),
		slog.String("protocol", c.Protocol),
		slog.String("workername", c.Name),
		slog.String("passwd", password),
		slog.Int("keepalive", c.Keepalive),
		slog.Int("maxdelay", c.MaxDelay),
		slog.Int("maxretries", c.MaxRetries),
		slog.Int("numcpus", c.NumCPUs),
		slog.String("umask", umask),
		slog.String("allow_shutdown", c.AllowShutdown),
		slog.Bool("delete_leftover_dirs", c.DeleteLeftoverDirs),
	)
	if c.UnicodeEncoding != "" {
		attrs = append(attrs, slog.String("unicode_encoding", c.UnicodeEncoding))
	}
	attrs = append(attrs,
		slog.Int64("log_size", c.LogSize),
		slog.Int("log_count", c.LogCount),
		slog.Bool("no_logrotate", c.NoLogRotate),
	)
	return slog.GroupValue(attrs...)
}

// String shows the settings as key=value pairs, the password redacted.
func (c Config) String() string {
	var b strings.Builder
	b.WriteString("{")
	for i, a := range c.LogValue().Group() {
		if i > 0 {
			b.WriteString(" ")
		}
		fmt.Fprintf(&b, "%s=%v", a.Key, a.Value)
	}
	b.WriteString("}")
	return b.String()
}

// Format makes every fmt verb print String: without it %#v, %d and friends
// would print the struct's fields, password included.
func (c Config) Format(f fmt.State, verb rune) {
	fmt.Fprint(f, c.String())
}
