package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// cpuMeter measures the CPU time that certd and this program (the load
// generator) spend during a scenario, so that a figure says whether the
// client or the server took the cores.
type cpuMeter struct {
	pid          int
	start        time.Time
	server, self time.Duration
}

func startCPU(pid int) cpuMeter {
	return cpuMeter{pid: pid, start: time.Now(), server: procCPU(pid), self: selfCPU()}
}

// print reports the CPU seconds per wall second of certd and of the load
// generator since the meter started; on a system without /proc the
// server's share is left out.
func (m cpuMeter) print() {
	wall := time.Since(m.start).Seconds()
	self := (selfCPU() - m.self).Seconds() / wall
	if srv := procCPU(m.pid); srv >= 0 && m.server >= 0 {
		fmt.Printf("  CPU: certd %.2f cores, load generator %.2f cores\n", (srv-m.server).Seconds()/wall, self)
		return
	}
	fmt.Printf("  CPU: load generator %.2f cores\n", self)
}

func selfCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// procCPU reads the user and system time of process pid from
// /proc/pid/stat, or -1 when it cannot.
func procCPU(pid int) time.Duration {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return -1
	}
	// Fields after the command name (which may hold spaces): state is
	// field 3, utime 14, stime 15.
	s := string(b)
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return -1
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 13 {
		return -1
	}
	ut, err1 := strconv.ParseInt(f[11], 10, 64)
	st, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return -1
	}
	const clkTck = 100 // USER_HZ on Linux
	return time.Duration(ut+st) * time.Second / clkTck
}
