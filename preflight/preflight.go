// Package preflight is `buildslave check`: what a volunteer runs before
// asking the master's administrator why nothing works. Each check says
// PASS, WARN or FAIL, why, and what to do. It never logs in to the master,
// so it is safe beside a running worker.
package preflight

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/buildslave/buildslave/agent"
	"github.com/buildslave/buildslave/config"
	"github.com/buildslave/buildslave/hostinfo"
)

// Verdicts of a check.
const (
	Pass = "PASS"
	Warn = "WARN"
	Fail = "FAIL"
)

// Result is one check.
type Result struct {
	Verdict string `json:"verdict"`
	Check   string `json:"check"`
	// Reason says what was found.
	Reason string `json:"reason"`
	// Fix says what to do about a WARN or FAIL.
	Fix string `json:"fix,omitempty"`
}

// Failed reports whether any result is a FAIL.
func Failed(results []Result) bool {
	for _, r := range results {
		if r.Verdict == Fail {
			return true
		}
	}
	return false
}

// Run checks the worker of basedir. load reads the configuration as start
// would (file plus environment overrides).
func Run(ctx context.Context, basedir string, load func(string) (*config.Config, error)) []Result {
	var out []Result
	add := func(verdict, check, reason, fix string) {
		out = append(out, Result{Verdict: verdict, Check: check, Reason: reason, Fix: fix})
	}
	cfg, err := load(basedir)
	if err != nil {
		add(Fail, "config", err.Error(), "fix "+config.FileName+" (or recreate it with 'buildslave create-slave --force')")
		return out
	}
	add(Pass, "config", fmt.Sprintf("%s is valid: worker %q, protocol %s", filepath.Join(cfg.Basedir, config.FileName), cfg.Name, cfg.Protocol), "")

	probes, err := agent.Probe(ctx, cfg)
	if err != nil {
		add(Fail, "config", "connection settings: "+err.Error(), "fix the connection settings in "+config.FileName)
	}
	// With failover masters, one that works is enough: the others'
	// failures are warnings.
	reachable := false
	for _, p := range probes {
		reachable = reachable || p.Stage == agent.StageProtocol && p.Err == nil
	}
	for _, p := range probes {
		check := p.Stage + " " + p.Master
		switch {
		case p.Err == nil:
			add(Pass, check, p.Detail, "")
		case reachable:
			add(Warn, check, p.Err.Error(), "the worker uses another of its masters meanwhile; "+advice(p, cfg))
		default:
			add(Fail, check, p.Err.Error(), advice(p, cfg))
		}
	}

	out = append(out, checkBasedir(cfg.Basedir))
	out = append(out, checkHost(cfg.Basedir)...)
	return out
}

// advice is what to do about a failed stage.
func advice(p agent.ProbeResult, cfg *config.Config) string {
	var dns *net.DNSError
	switch p.Stage {
	case agent.StageResolve:
		if errors.As(p.Err, &dns) && dns.IsNotFound {
			return "check the master's host name in " + config.FileName + " (buildmaster_host, connection_string or failover_masters) with the master's administrator"
		}
		return "check this host's DNS settings and network connection"
	case agent.StageConnect:
		switch {
		case errors.Is(p.Err, syscall.ECONNREFUSED) || strings.Contains(p.Err.Error(), "refused"): // Windows: "actively refused it"
			return "nothing listens there: check the port with the master's administrator (its c['protocols'] setting), or whether the master is running"
		case isTimeout(p.Err):
			return "no answer: a firewall may drop the connection, or the host is down; ask the master's administrator which address and port workers use"
		}
		return "check the network path to the master"
	case agent.StageProxy:
		return "check proxy_connection_string, and that the proxy allows CONNECT to the master's port"
	case agent.StageTLS:
		if strings.Contains(p.Err.Error(), "certificate") {
			return "the master's certificate is not trusted or does not name the host: get its CA certificate from the master's administrator and set trustRoots=DIR in connection_string (\"TLS:host:port:trustRoots=DIR\")"
		}
		return "the far end does not speak TLS there, or refused the handshake: check use_tls and the port with the master's administrator"
	case agent.StageProtocol:
		if cfg.Protocol == config.ProtocolMsgpack {
			return "this port is not the master's msgpack port: ask the master's administrator for it, or use protocol \"pb\" with its PB port"
		}
		return "this port is not a Buildbot master's worker (PB) port: ask the master's administrator for the worker port (9989 by default), not its web port"
	}
	return ""
}

func isTimeout(err error) bool {
	var nerr net.Error
	return errors.As(err, &nerr) && nerr.Timeout()
}

// checkBasedir makes sure the worker can create files where builds run.
func checkBasedir(basedir string) Result {
	r := Result{Check: "basedir"}
	f, err := os.CreateTemp(basedir, ".buildslave-check-*")
	if err != nil {
		r.Verdict, r.Reason = Fail, fmt.Sprintf("cannot create a file in %s: %v", basedir, err)
		r.Fix = "run the worker as the user who owns " + basedir + ", or give that user write access to it"
		return r
	}
	_, werr := io.WriteString(f, "buildslave check\n")
	cerr := f.Close()
	os.Remove(f.Name())
	if err := errors.Join(werr, cerr); err != nil {
		r.Verdict, r.Reason = Fail, fmt.Sprintf("cannot write in %s: %v", basedir, err)
		r.Fix = "free some space or fix the file system of " + basedir
		return r
	}
	r.Verdict, r.Reason = Pass, basedir+" is writable"
	return r
}

// checkHost compares the host with the recommended minimums; falling
// short is a warning, since small hosts run small builds fine.
func checkHost(basedir string) []Result {
	info := hostinfo.Collect(basedir, "")
	var out []Result
	one := func(check string, known bool, short bool, have, want, fix string) {
		switch {
		case !known:
			out = append(out, Result{Verdict: Warn, Check: check, Reason: "unknown on this system", Fix: "make sure the host has " + want})
		case short:
			out = append(out, Result{Verdict: Warn, Check: check, Reason: fmt.Sprintf("%s, below the recommended %s", have, want), Fix: fix})
		default:
			out = append(out, Result{Verdict: Pass, Check: check, Reason: fmt.Sprintf("%s (recommended: %s)", have, want)})
		}
	}
	one("cpus", info.CPUs > 0, info.CPUs < hostinfo.MinCPUs,
		fmt.Sprintf("%d CPUs", info.CPUs), fmt.Sprintf("%d CPUs", hostinfo.MinCPUs),
		"builds will be slow; tell the master's administrator, or set numcpus")
	one("memory", info.Memory > 0, info.Memory < hostinfo.MinMemory,
		hostinfo.Bytes(info.Memory)+" of memory", hostinfo.Bytes(hostinfo.MinMemory),
		"builds may run out of memory; add memory or swap")
	one("disk", info.DiskFree > 0, info.DiskFree < hostinfo.MinDiskFree,
		hostinfo.Bytes(info.DiskFree)+" free in "+basedir, hostinfo.Bytes(hostinfo.MinDiskFree)+" free",
		"builds may run out of disk: free some space, or move the worker to a larger disk")
	return out
}

// Print writes one line per result: verdict, check, reason, and what to
// do.
func Print(w io.Writer, results []Result) {
	for _, r := range results {
		line := fmt.Sprintf("%s  %s: %s", r.Verdict, r.Check, r.Reason)
		if r.Fix != "" && r.Verdict != Pass {
			line += " — " + r.Fix
		}
		fmt.Fprintln(w, line)
	}
}
