// Package config reads and writes a worker's configuration file, the
// buildslave counterpart of buildbot-worker's buildbot.tac. The file lives in
// the worker's base directory, is commented for a person to read and edit,
// and has mode 0600 because it holds the worker's password.
package config

import (
	"net"
	"strconv"
)

// FileName is the name of the configuration file inside the base directory.
const FileName = "buildslave.cfg"

// Defaults, as buildbot-worker's create-worker writes them.
const (
	DefaultPort      = 9989
	DefaultKeepalive = 600
	DefaultMaxDelay  = 300
	DefaultLogSize   = 10000000
	DefaultLogCount  = 10
	DefaultProtocol  = "pb"
)

// Config is one worker's configuration. Field comments name the buildbot.tac
// variable each one corresponds to.
type Config struct {
	// Basedir is the absolute base directory (tac: basedir). With
	// Relocatable set the file stores "." and Load fills in the directory
	// the file was read from.
	Basedir     string
	Relocatable bool

	MasterHost string // buildmaster_host
	MasterPort int    // port
	// ConnectionString, when set, replaces host and port
	// ("TCP:host:port", "TLS:host:port[:trustRoots=DIR]").
	ConnectionString      string
	ProxyConnectionString string // proxy_connection_string
	UseTLS                bool   // use_tls
	// FailoverMasters are further masters, "host:port" each, tried in
	// order after the one above on every (re)connection, with the same
	// TLS and proxy settings (no tac counterpart).
	FailoverMasters []string

	Name     string // workername
	Password string // passwd

	Keepalive          int    // seconds between keepalives; 0 disables
	Umask              *int   // nil: leave the process umask alone
	MaxDelay           int    // seconds, the cap of the reconnect backoff
	MaxRetries         int    // 0: retry for ever
	NumCPUs            int    // 0: detect
	AllowShutdown      string // "", "file" or "signal"
	DeleteLeftoverDirs bool
	Protocol           string // "pb" or "msgpack_experimental_v7"
	UnicodeEncoding    string // "" means utf-8

	// MetricsAddr, when set, is the host:port of the worker's HTTP
	// endpoint for /healthz and /metrics (no tac counterpart).
	MetricsAddr string

	LogSize     int64 // rotate twistd.log at this many bytes (rotateLength)
	LogCount    int   // rotated files kept (maxRotatedFiles)
	NoLogRotate bool
}

// Defaults returns the configuration create-worker would write without
// options, minus what has no default: base directory, master host, name and
// password.
func Defaults() Config {
	return Config{
		MasterPort: DefaultPort,
		Keepalive:  DefaultKeepalive,
		MaxDelay:   DefaultMaxDelay,
		Protocol:   DefaultProtocol,
		LogSize:    DefaultLogSize,
		LogCount:   DefaultLogCount,
	}
}

// MasterAddr is the master's address as host:port, with an IPv6 host in
// brackets. It ignores ConnectionString.
func (c *Config) MasterAddr() string {
	return net.JoinHostPort(c.MasterHost, strconv.Itoa(c.MasterPort))
}
