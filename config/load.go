package config

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"strconv"
	"strings"

	"github.com/BurntSushi/toml"
)

// file is the on-disk shape of a Config. Keys are buildbot.tac's variable
// names, so that a worker's administrator recognises them, except for the
// logging settings, which the tac spells in camel case and which are named
// after create-worker's options instead.
type file struct {
	Basedir               string   `toml:"basedir"`
	MasterHost            string   `toml:"buildmaster_host"`
	MasterPort            int      `toml:"port"`
	ConnectionString      string   `toml:"connection_string"`
	ProxyConnectionString string   `toml:"proxy_connection_string"`
	UseTLS                bool     `toml:"use_tls"`
	FailoverMasters       []string `toml:"failover_masters"`
	MetricsAddr           string   `toml:"metrics_addr"`
	Name                  string   `toml:"workername"`
	Password              string   `toml:"passwd"`
	Keepalive             int      `toml:"keepalive"`
	// Umask is a string of octal digits ("022") or a TOML integer
	// (0o22), so it stays an any until Load looks at it.
	Umask              any    `toml:"umask"`
	MaxDelay           int    `toml:"maxdelay"`
	MaxRetries         int    `toml:"maxretries"`
	NumCPUs            int    `toml:"numcpus"`
	AllowShutdown      string `toml:"allow_shutdown"`
	DeleteLeftoverDirs bool   `toml:"delete_leftover_dirs"`
	Protocol           string `toml:"protocol"`
	UnicodeEncoding    string `toml:"unicode_encoding"`
	LogSize            int64  `toml:"log_size"`
	LogCount           int    `toml:"log_count"`
	NoLogRotate        bool   `toml:"no_logrotate"`
}

// isKnownKey reports whether key is one of file's keys. The TOML decoder
// matches struct fields case-insensitively, so Load checks keys exactly
// itself: "Port" would otherwise be taken silently.
func isKnownKey(key string) bool {
	t := reflect.TypeFor[file]()
	for i := range t.NumField() {
		if t.Field(i).Tag.Get("toml") == key {
			return true
		}
	}
	return false
}

// relocatableBasedir is the basedir value meaning "the directory this file
// is in", as in buildbot.tac.
const relocatableBasedir = "."

// Load reads basedir's configuration file. A missing setting takes its
// default; an unknown key, a value of the wrong type or an invalid value is
// an error naming the file and the key.
func Load(basedir string) (*Config, error) {
	path := filepath.Join(basedir, FileName)
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("reading the worker configuration: %w", err)
	}
	cfg, err := parse(data, basedir)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return cfg, nil
}

// parse turns a file's content into a validated Config; dir is the
// directory the file was read from.
func parse(data []byte, dir string) (*Config, error) {
	d := Defaults()
	f := file{
		MasterPort: d.MasterPort,
		Keepalive:  d.Keepalive,
		MaxDelay:   d.MaxDelay,
		Protocol:   d.Protocol,
		LogSize:    d.LogSize,
		LogCount:   d.LogCount,
	}
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&f)
	if err != nil {
		return nil, err
	}
	for _, key := range md.Keys() {
		if top := key[0]; !isKnownKey(top) {
			return nil, atLine(data, top, fmt.Errorf("unknown setting %q", top))
		}
	}

	cfg := &Config{
		MasterHost:            f.MasterHost,
		MasterPort:            f.MasterPort,
		ConnectionString:      f.ConnectionString,
		ProxyConnectionString: f.ProxyConnectionString,
		UseTLS:                f.UseTLS,
		FailoverMasters:       f.FailoverMasters,
		MetricsAddr:           f.MetricsAddr,
		Name:                  f.Name,
		Password:              f.Password,
		Keepalive:             f.Keepalive,
		MaxDelay:              f.MaxDelay,
		MaxRetries:            f.MaxRetries,
		NumCPUs:               f.NumCPUs,
		AllowShutdown:         f.AllowShutdown,
		DeleteLeftoverDirs:    f.DeleteLeftoverDirs,
		Protocol:              f.Protocol,
		UnicodeEncoding:       f.UnicodeEncoding,
		LogSize:               f.LogSize,
		LogCount:              f.LogCount,
		NoLogRotate:           f.NoLogRotate,
	}
	if f.Umask != nil {
		u, err := umaskFromTOML(f.Umask)
		if err != nil {
			return nil, atLine(data, "umask", err)
		}
		cfg.Umask = &u
	}
	if err := cfg.setBasedir(f.Basedir, dir); err != nil {
		return nil, err
	}
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return cfg, nil
}

// setBasedir interprets the file's basedir. "." (or nothing) makes the
// worker relocatable: its base directory is wherever the file is. Any other
// relative path is taken relative to that directory too, rather than to
// whatever directory the worker happens to be started from.
func (c *Config) setBasedir(stored, dir string) error {
	if stored == "" || stored == relocatableBasedir {
		c.Relocatable = true
		stored = relocatableBasedir
	}
	if !filepath.IsAbs(stored) {
		stored = filepath.Join(dir, stored)
	}
	abs, err := filepath.Abs(stored)
	if err != nil {
		return fmt.Errorf("basedir: %w", err)
	}
	c.Basedir = abs
	return nil
}

// umaskFromTOML accepts the two spellings Write and people produce: a
// string of octal digits, with or without a 0o prefix, or a TOML integer.
func umaskFromTOML(v any) (int, error) {
	var u int64
	switch v := v.(type) {
	case string:
		digits := strings.TrimPrefix(strings.TrimPrefix(v, "0o"), "0O")
		n, err := strconv.ParseInt(digits, 8, 64)
		if err != nil || digits == "" {
			return 0, fmt.Errorf("umask %q is not an octal number such as \"022\"", v)
		}
		u = n
	case int64:
		u = v
	default:
		return 0, fmt.Errorf("umask must be a string of octal digits such as \"022\", not a %T", v)
	}
	if u < 0 || u > MaxUmask {
		return 0, fmt.Errorf("umask %#o is out of range 0..0777", u)
	}
	return int(u), nil
}

// atLine prefixes err with the line defining key, when it can be found.
func atLine(data []byte, key string, err error) error {
	if n := keyLine(data, key); n > 0 {
		return fmt.Errorf("line %d: %w", n, err)
	}
	return err
}

// keyLine finds the line defining a top-level key (as "key =", "key.sub =",
// a quoted key or a "[key]" table header), for error messages. The TOML
// package does not expose key positions. 0 means not found.
func keyLine(data []byte, key string) int {
	q := regexp.QuoteMeta(key)
	re := regexp.MustCompile(`^\s*(?:\[\[?\s*)?(?:` + q + `|"` + q + `"|'` + q + `')\s*[=.\]]`)
	for i, line := range strings.Split(string(data), "\n") {
		if re.MatchString(line) {
			return i + 1
		}
	}
	return 0
}
