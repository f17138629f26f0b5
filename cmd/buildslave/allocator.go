package main

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"

	"github.com/buildslave/buildslave/config"
)

// A worker made with create-slave --allocator asks the allocator
// (slavealloc) for its master every time start or restart runs, and keeps
// the answer in buildslave.cfg; allocator.cfg says where to ask.
const allocatorFileName = "allocator.cfg"

// allocatorFetchTimeout bounds the question: a worker at boot must not
// hang on an allocator that is down.
const allocatorFetchTimeout = 10 * time.Second

// allocatorSettings is allocator.cfg.
type allocatorSettings struct {
	URL       string `toml:"url"`
	Name      string `toml:"workername"`
	TokenFile string `toml:"token_file"`
	// Timeout is in seconds; 0 means allocatorFetchTimeout.
	Timeout int `toml:"timeout"`
	// CAFile holds PEM certificates to trust for an https:// allocator,
	// besides the system's.
	CAFile string `toml:"ca_file"`
}

func (s *allocatorSettings) timeout() time.Duration {
	if s.Timeout > 0 {
		return time.Duration(s.Timeout) * time.Second
	}
	return allocatorFetchTimeout
}

func (s *allocatorSettings) check() error {
	u, err := url.Parse(s.URL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("allocator URL %q is not an http:// or https:// URL", s.URL)
	}
	if s.Name == "" {
		return errors.New("the worker's name is empty")
	}
	return nil
}

func (s *allocatorSettings) write(basedir string) error {
	text := fmt.Sprintf(`# allocator.cfg: this worker asks the fleet allocator (slavealloc) for its
# master each time "buildslave start" or "restart" runs, and keeps the
# answer in buildslave.cfg, which it falls back to when the allocator
# cannot be reached. Remove this file to stop asking.

# The allocator's URL.
url = %s
# The name the worker asks for.
workername = %s
# File holding the token sent to the allocator (empty: none).
token_file = %s
# Seconds to wait for the allocator's answer. Default: %d.
timeout = %d
# PEM certificates to trust for an https:// allocator, besides the
# system's (empty: the system's only).
ca_file = %s
`, strconv.Quote(s.URL), strconv.Quote(s.Name), strconv.Quote(s.TokenFile), int(allocatorFetchTimeout/time.Second), s.Timeout, strconv.Quote(s.CAFile))
	path := filepath.Join(basedir, allocatorFileName)
	tmp, err := os.CreateTemp(basedir, "."+allocatorFileName+".*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.WriteString(text); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", path, err)
	}
	return os.Rename(tmp.Name(), path)
}

// readAllocatorSettings reads basedir's allocator.cfg; nil, nil when there
// is none.
func readAllocatorSettings(basedir string) (*allocatorSettings, error) {
	path := filepath.Join(basedir, allocatorFileName)
	var s allocatorSettings
	md, err := toml.DecodeFile(path, &s)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		return nil, fmt.Errorf("%s: unknown setting %q", path, u[0].String())
	}
	if err := s.check(); err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return &s, nil
}

// allocation is the allocator's answer.
type allocation struct {
	cfg    *config.Config
	master string // the allocator's name for the master
	reason string
}

// allocatorRefusal is an answer that says no (4xx): the allocator works
// but will not give this worker a master. Starting anyway on an old
// answer would hide that from the administrator.
type allocatorRefusal struct {
	status int
	msg    string
}

func (e *allocatorRefusal) Error() string {
	return fmt.Sprintf("the allocator refused (%d %s): %s", e.status, http.StatusText(e.status), e.msg)
}

// fetchAllocation asks the allocator for the worker's configuration and
// checks it. protocol is the protocol the worker speaks, which decides the
// master's port.
func fetchAllocation(ctx context.Context, s *allocatorSettings, protocol, basedir string) (*allocation, error) {
	tok := ""
	if s.TokenFile != "" {
		var err error
		if tok, err = readAllocatorToken(s.TokenFile); err != nil {
			return nil, err
		}
	}
	ctx, cancel := context.WithTimeout(ctx, s.timeout())
	defer cancel()
	u := strings.TrimSuffix(s.URL, "/") + "/gettac/" + url.PathEscape(s.Name) +
		"?format=cfg&protocol=" + url.QueryEscape(protocol)
	req, err := http.NewRequestWithContext(ctx, "GET", u, nil)
	if err != nil {
		return nil, err
	}
	if tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	client, err := s.httpClient()
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("asking %s: %w", s.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if err != nil {
		return nil, fmt.Errorf("reading the answer of %s: %w", s.URL, err)
	}
	if resp.StatusCode >= 400 && resp.StatusCode < 500 {
		return nil, &allocatorRefusal{status: resp.StatusCode, msg: errorMessage(body)}
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s: %s", s.URL, resp.Status, errorMessage(body))
	}
	cfg, err := config.Parse(body, basedir)
	if err != nil {
		return nil, fmt.Errorf("the allocator's answer is not a valid configuration: %w", err)
	}
	if cfg.Name != s.Name {
		return nil, fmt.Errorf("the allocator's answer is for worker %q, not %q", cfg.Name, s.Name)
	}
	return &allocation{cfg: cfg, master: resp.Header.Get("X-Slavealloc-Master"), reason: resp.Header.Get("X-Slavealloc-Reason")}, nil
}

// httpClient trusts CAFile's certificates besides the system's.
func (s *allocatorSettings) httpClient() (*http.Client, error) {
	if s.CAFile == "" {
		return http.DefaultClient, nil
	}
	pem, err := os.ReadFile(s.CAFile)
	if err != nil {
		return nil, fmt.Errorf("reading the allocator's CA file: %w", err)
	}
	pool, err := x509.SystemCertPool()
	if err != nil {
		pool = x509.NewCertPool()
	}
	if !pool.AppendCertsFromPEM(pem) {
		return nil, fmt.Errorf("%s holds no PEM certificate", s.CAFile)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12}
	return &http.Client{Transport: tr}, nil
}

// errorMessage extracts {"error": ...} from an answer, or its text.
func errorMessage(body []byte) string {
	s := strings.TrimSpace(string(body))
	if i := strings.Index(s, `"error"`); i >= 0 {
		rest := strings.TrimSpace(s[i+len(`"error"`):])
		rest = strings.TrimSpace(strings.TrimPrefix(rest, ":"))
		if v, err := strconv.QuotedPrefix(rest); err == nil {
			if u, err := strconv.Unquote(v); err == nil {
				return u
			}
		}
	}
	if len(s) > 200 {
		s = s[:200] + "..."
	}
	return s
}

// readAllocatorToken reads the first word of the first line of path that
// is neither empty nor a comment.
func readAllocatorToken(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("reading the allocator token: %w", err)
	}
	for line := range strings.SplitSeq(string(data), "\n") {
		if f := strings.Fields(line); len(f) > 0 && !strings.HasPrefix(f[0], "#") {
			return f[0], nil
		}
	}
	return "", fmt.Errorf("%s holds no token", path)
}

// withAllocation is local with the master and credentials the allocator
// gave; every other setting stays the worker's own.
func withAllocation(local config.Config, got *config.Config) config.Config {
	local.MasterHost, local.MasterPort = got.MasterHost, got.MasterPort
	local.ConnectionString = ""
	// The allocator chooses one master: failover masters of an earlier
	// hand-written configuration would route around its choice.
	local.FailoverMasters = nil
	local.Name, local.Password = got.Name, got.Password
	local.Protocol = got.Protocol
	return local
}

func describeAllocation(a *allocation) string {
	s := fmt.Sprintf("master %s (%s)", a.master, a.cfg.MasterAddr())
	if a.reason != "" {
		s += ": " + a.reason
	}
	return s
}

// refreshFromAllocator runs before start: for a worker with an
// allocator.cfg it asks the allocator for its master and stores the
// answer in buildslave.cfg (atomically, mode 0600). When the allocator
// cannot be reached or answers nonsense, the worker starts with the last
// good configuration; when it refuses the worker, start fails. Either way
// the outcome is printed and logged.
func refreshFromAllocator(ctx context.Context, out printer, basedir string) error {
	s, err := readAllocatorSettings(basedir)
	if err != nil || s == nil {
		return err
	}
	local, err := config.Load(basedir)
	if err != nil {
		return fmt.Errorf("the last configuration the allocator gave is unusable: %w", err)
	}
	note := func(level, format string, args ...any) {
		msg := fmt.Sprintf(format, args...)
		out("%s", msg)
		logAllocator(local, level, msg)
	}
	a, err := fetchAllocation(ctx, s, local.Protocol, local.Basedir)
	var refused *allocatorRefusal
	switch {
	case errors.As(err, &refused):
		note("ERROR", "allocator %s: %v; not starting (fix the worker in the allocator, or remove %s to run without it)",
			s.URL, refused, filepath.Join(basedir, allocatorFileName))
		return fmt.Errorf("allocator %s: %w", s.URL, refused)
	case err != nil:
		note("WARN", "allocator unreachable or unusable (%v): starting with the last good configuration, master %s", err, masterOf(local))
		return nil
	}
	merged := withAllocation(*local, a.cfg)
	if err := merged.Validate(); err != nil {
		note("WARN", "the allocator's answer is not usable (%v): starting with the last good configuration, master %s", err, masterOf(local))
		return nil
	}
	if reflect.DeepEqual(merged, *local) {
		note("INFO", "allocator %s kept %s", s.URL, describeAllocation(a))
		return nil
	}
	if err := merged.Write(basedir); err != nil {
		note("WARN", "could not store the allocator's answer (%v): starting with the last good configuration, master %s", err, masterOf(local))
		return nil
	}
	note("INFO", "allocator %s gave %s (was %s)", s.URL, describeAllocation(a), masterOf(local))
	return nil
}

func masterOf(c *config.Config) string {
	if c.ConnectionString != "" {
		return c.ConnectionString
	}
	return c.MasterAddr()
}

// logAllocator records the allocator's outcome in twistd.log, where the
// administrator looks when a worker went to an unexpected master.
func logAllocator(cfg *config.Config, level, msg string) {
	logger, closeLog, err := openLog(cfg, nil)
	if err != nil {
		return
	}
	defer func() { _ = closeLog() }()
	switch level {
	case "ERROR":
		logger.Error(msg)
	case "WARN":
		logger.Warn(msg)
	default:
		logger.Info(msg)
	}
}

// createFromAllocator is create-slave --allocator URL BASEDIR NAME: it
// asks the allocator for the worker's master and password, makes the
// worker directory as create-slave does with them, and records where to
// ask again. An allocator that cannot answer leaves nothing behind.
func createFromAllocator(ctx context.Context, a *app, stdout, stderr io.Writer, args []string, opts createOptions) error {
	basedir, err := filepath.Abs(args[0])
	if err != nil {
		return fmt.Errorf("base directory %q: %w", args[0], err)
	}
	s := &allocatorSettings{URL: opts.allocator, Name: args[1]}
	if opts.allocatorTokenFile != "" {
		if s.TokenFile, err = filepath.Abs(opts.allocatorTokenFile); err != nil {
			return err
		}
	}
	if opts.allocatorCAFile != "" {
		if s.CAFile, err = filepath.Abs(opts.allocatorCAFile); err != nil {
			return err
		}
	}
	if err := s.check(); err != nil {
		return &usageError{err}
	}
	if p := opts.cfg.Protocol; p != config.ProtocolPB && p != config.ProtocolMsgpack {
		return usageErrorf("protocol %q is not one of %q, %q", p, config.ProtocolPB, config.ProtocolMsgpack)
	}
	got, err := fetchAllocation(ctx, s, opts.cfg.Protocol, basedir)
	if err != nil {
		return fmt.Errorf("asking the allocator for worker %s: %w; nothing was created", s.Name, err)
	}
	if !opts.quiet {
		fmt.Fprintf(stdout, "allocator %s gave %s\n", s.URL, describeAllocation(got))
	}
	opts.cfg.ConnectionString = ""
	opts.cfg.Protocol = got.cfg.Protocol
	master := net.JoinHostPort(got.cfg.MasterHost, strconv.Itoa(got.cfg.MasterPort))
	if err := createWorker(a, stdout, stderr, []string{basedir, master, got.cfg.Name, got.cfg.Password}, opts); err != nil {
		return err
	}
	if err := s.write(basedir); err != nil {
		return fmt.Errorf("%w; the worker is made but will not ask the allocator again", err)
	}
	return nil
}
