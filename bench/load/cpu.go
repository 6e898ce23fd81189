package main

import (
	"fmt"
	"syscall"
	"time"

	"github.com/certd/certd/bench/internal/proc"
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
	return cpuMeter{pid: pid, start: time.Now(), server: proc.CPU(pid), self: selfCPU()}
}

// print reports the CPU seconds per wall second of certd and of the load
// generator since the meter started; on a system without /proc the
// server's share is left out.
func (m cpuMeter) print() {
	wall := time.Since(m.start).Seconds()
	self := (selfCPU() - m.self).Seconds() / wall
	if srv := proc.CPU(m.pid); srv >= 0 && m.server >= 0 {
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
