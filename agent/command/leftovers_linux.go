package command

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// procStat is what /proc/PID/stat tells about a process.
type procStat struct {
	pgrp, session int
	start         uint64 // clock ticks since boot
}

func readProcStat(pid int) (procStat, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return procStat{}, err
	}
	// The command name, in parentheses, may hold anything: the fields
	// start after its last ')'.
	i := bytes.LastIndexByte(data, ')')
	if i < 0 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: no command name", pid)
	}
	f := strings.Fields(string(data[i+1:]))
	// f[0] is field 3 (state); pgrp is 5, session 6, starttime 22.
	if len(f) < 20 {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %d fields", pid, len(f))
	}
	var s procStat
	var errs [3]error
	s.pgrp, errs[0] = strconv.Atoi(f[2])
	s.session, errs[1] = strconv.Atoi(f[3])
	s.start, errs[2] = strconv.ParseUint(f[19], 10, 64)
	if err := errors.Join(errs[:]...); err != nil {
		return procStat{}, fmt.Errorf("/proc/%d/stat: %w", pid, err)
	}
	return s, nil
}

func bootID() string {
	data, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
	return strings.TrimSpace(string(data))
}

// groupLeftover describes the process group c leads, for the record.
func groupLeftover(c *child, argv []string) (leftover, bool) {
	pid := c.cmd.Process.Pid
	st, err := readProcStat(pid)
	boot := bootID()
	if err != nil || st.pgrp != pid || boot == "" {
		// Gone already, or not a group leader: nothing we could verify.
		return leftover{}, false
	}
	return leftover{Kind: "group", PGID: pid, SID: st.session, Start: st.start, Boot: boot, Argv: argv}, true
}

// endGroup kills what is left of a recorded process group and returns the
// pids it killed. A process is ours only if it is in the recorded group
// and session and started no earlier than the recorded leader, in the
// same boot; and if the group's leader still exists it must be the one
// recorded (same start time), else the number now belongs to someone
// else's group and nothing is touched.
func endGroup(l leftover) ([]int, error) {
	if l.PGID <= 1 || l.Boot != bootID() {
		return nil, nil // another boot: everything of that run is gone
	}
	if st, err := readProcStat(l.PGID); err == nil && (st.start != l.Start || st.pgrp != l.PGID) {
		return nil, nil
	}
	var killed []int
	for range 10 { // members may fork while we kill
		members, err := groupMembers(l)
		if err != nil {
			return killed, err
		}
		if len(members) == 0 {
			return killed, nil
		}
		for _, pid := range members {
			if err := syscall.Kill(pid, syscall.SIGKILL); err == nil {
				killed = append(killed, pid)
			} else if !errors.Is(err, syscall.ESRCH) {
				return killed, fmt.Errorf("killing %d: %w", pid, err)
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	return killed, fmt.Errorf("process group %d keeps forking", l.PGID)
}

// groupMembers lists the live processes that endGroup may kill.
func groupMembers(l leftover) ([]int, error) {
	dirs, err := filepath.Glob("/proc/[0-9]*")
	if err != nil {
		return nil, err
	}
	var pids []int
	for _, d := range dirs {
		pid, err := strconv.Atoi(filepath.Base(d))
		if err != nil {
			continue
		}
		st, err := readProcStat(pid)
		if err != nil || st.pgrp != l.PGID || st.session != l.SID || st.start < l.Start {
			continue
		}
		if state, _ := procState(pid); state == 'Z' {
			continue // dead already; its parent reaps it
		}
		pids = append(pids, pid)
	}
	return pids, nil
}

func procState(pid int) (byte, error) {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	i := bytes.LastIndexByte(data, ')')
	if i < 0 || i+2 >= len(data) {
		return 0, errors.New("short stat")
	}
	return data[i+2], nil
}
