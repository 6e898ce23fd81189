package main

import "syscall"

// childAttr makes the kernel kill a child process when the test process
// dies (a -timeout panic, a kill), so no certd is left running.
func childAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
}
