package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// Processor time, which a noisy machine disturbs far less than throughput: the seconds PostgreSQL's processes and
// this process (the portal and its clients) have run, read from /proc and getrusage, to give the cost of one
// operation in CPU milliseconds next to the rates.

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat's times: 100 on every Linux this runs on.
const clockTicks = 100

// postgresCPU is the processor time of the server whose data directory is dir: the postmaster's own, its
// children's that have exited (cutime, cstime) and its live children's (the backends and workers).
func postgresCPU(dir string) (float64, error) {
	pidFile, err := os.ReadFile(filepath.Join(dir, "postmaster.pid"))
	if err != nil {
		return 0, err
	}
	master, err := strconv.Atoi(strings.TrimSpace(strings.SplitN(string(pidFile), "\n", 2)[0]))
	if err != nil {
		return 0, fmt.Errorf("postmaster.pid: %w", err)
	}
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return 0, err
	}
	var ticks int64
	for _, e := range entries {
		pid, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		f, ok := procStat(pid)
		if !ok {
			continue
		}
		switch {
		case pid == master:
			ticks += f[11] + f[12] + f[13] + f[14] // utime, stime, cutime, cstime
		case f[1] == int64(master):
			ticks += f[11] + f[12]
		}
	}
	return float64(ticks) / clockTicks, nil
}

// procStat returns the numeric fields of /proc/<pid>/stat after the command name, from state (index 0, as 0) on:
// index 1 is the parent's pid, 11–14 utime, stime, cutime, cstime.
func procStat(pid int) ([]int64, bool) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return nil, false
	}
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return nil, false
	}
	fields := strings.Fields(s[i+1:])
	if len(fields) < 15 {
		return nil, false
	}
	out := make([]int64, len(fields))
	for j, f := range fields {
		out[j], _ = strconv.ParseInt(f, 10, 64)
	}
	return out, true
}

// selfCPU is this process's processor time.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return float64(ru.Utime.Nano()+ru.Stime.Nano()) / 1e9
}
