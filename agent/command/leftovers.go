package command

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
)

// A worker killed outright (kill -9, the OOM killer, a power cut of the
// service manager's patience) cannot clean up after its commands: their
// processes run on, reparented to init, and a download's temporary file
// stays hidden beside its destination. So each command that leaves
// something behind records it first in a small file in the base
// directory, removed when the command is done with it; the next start
// reads what a previous run left (CleanLeftovers) and deals with it.
//
// The records are files, not a directory, because the base directory's
// subdirectories are the builders' and an unknown one may be deleted as a
// leftover builder directory.

// leftoverPrefix starts the name of every record.
const leftoverPrefix = ".buildslave-leftover."

// leftover is one record.
type leftover struct {
	// Kind is "partial" (a download's temporary file) or "group" (a
	// command's process group).
	Kind string `json:"kind"`
	// Path is the temporary file of a partial download.
	Path string `json:"path,omitempty"`
	// The process group: its id (the leader's pid), the leader's session
	// and start time, and the boot the start time counts from. Only a
	// process that matches them is ever signalled (see endGroup).
	PGID  int      `json:"pgid,omitempty"`
	SID   int      `json:"sid,omitempty"`
	Start uint64   `json:"start,omitempty"`
	Boot  string   `json:"boot,omitempty"`
	Argv  []string `json:"argv,omitempty"`
}

// partialName matches the temporary files downloads create, and nothing a
// user would name a file: a hidden name ending in our marker and 1-13
// base-36 digits.
var partialName = regexp.MustCompile(`^\..+\.buildslave-[0-9a-z]{1,13}$`)

// recordLeftover writes l under basedir and returns the function that
// removes the record once what it describes is gone. Without a base
// directory (tests, tools) nothing is recorded. A record that cannot be
// written is logged and the command goes on: it only loses the crash
// cleanup.
func recordLeftover(basedir string, l leftover, log *slog.Logger) (release func()) {
	if basedir == "" {
		return func() {}
	}
	data, err := json.Marshal(l)
	if err != nil {
		log.Warn("cannot record what a command may leave behind", "err", err)
		return func() {}
	}
	for range 10 {
		name := filepath.Join(basedir, leftoverPrefix+strconv.FormatUint(rand.Uint64(), 36))
		f, err := os.OpenFile(name, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if os.IsExist(err) {
			continue
		}
		if err != nil {
			log.Warn("cannot record what a command may leave behind", "err", err)
			return func() {}
		}
		_, werr := f.Write(data)
		if cerr := f.Close(); werr == nil {
			werr = cerr
		}
		if werr != nil {
			os.Remove(name)
			log.Warn("cannot record what a command may leave behind", "err", werr)
			return func() {}
		}
		return func() { os.Remove(name) }
	}
	return func() {}
}

// CleanLeftovers deals with what a previous run of the worker in basedir
// left behind when it died: it removes the temporary files of downloads
// cut short and ends the process groups of commands still running,
// logging each. It must run before this run starts any command. It never
// touches a process it cannot prove the previous run started (see
// endGroup) nor a file whose name is not one of ours.
func CleanLeftovers(basedir string, log *slog.Logger) {
	names, err := filepath.Glob(filepath.Join(basedir, leftoverPrefix+"*"))
	if err != nil || len(names) == 0 {
		return
	}
	for _, name := range names {
		data, err := os.ReadFile(name)
		var l leftover
		if err == nil {
			err = json.Unmarshal(data, &l)
		}
		if err != nil {
			log.Warn("ignoring an unreadable record of a previous run", "file", name, "err", err)
			os.Remove(name)
			continue
		}
		switch l.Kind {
		case "partial":
			removePartial(l.Path, log)
		case "group":
			pids, err := endGroup(l)
			switch {
			case err != nil:
				log.Warn("cannot end the processes a previous run left running", "pgid", l.PGID, "argv", strings.Join(l.Argv, " "), "err", err)
			case len(pids) > 0:
				log.Warn(fmt.Sprintf("ended %d process(es) of a command the previous run left running", len(pids)),
					"pgid", l.PGID, "pids", pids, "argv", strings.Join(l.Argv, " "))
			}
		}
		os.Remove(name)
	}
}

func removePartial(path string, log *slog.Logger) {
	if !filepath.IsAbs(path) || !partialName.MatchString(filepath.Base(path)) {
		log.Warn("ignoring a record of a partial download that does not name one of ours", "path", path)
		return
	}
	err := os.Remove(path)
	switch {
	case err == nil:
		log.Info("removed the partial download a previous run left", "path", path)
	case !os.IsNotExist(err):
		log.Warn("cannot remove the partial download a previous run left", "path", path, "err", err)
	}
}

// trackGroup records the process group c leads, which a kill of the worker
// would leave running, until the returned function is called. shown is
// the command as it may be logged (secrets hidden).
func trackGroup(env *Environment, c *child, shown []string) (release func()) {
	l, ok := groupLeftover(c, shown)
	if !ok {
		return func() {}
	}
	return recordLeftover(env.Basedir, l, env.logger())
}
