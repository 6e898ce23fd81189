package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The read scenarios are driven by wrk when it is installed: a Go HTTP
// client on the same two cores takes about half of the CPU of each request
// and squeezes every ratio towards 1; wrk (C, event loop) costs a fraction
// of that. The Go client stays for what wrk cannot express (issuance).
var (
	noWrk      = flag.Bool("no-wrk", false, "drive the read scenarios with the Go client even when wrk is installed")
	wrkThreads = flag.Int("wrk-threads", 2, "wrk threads (-t)")
	tokenCount = flag.Int("tokens", 10000, "distinct genuine tokens presented at random in the token scenarios")
)

//go:embed pick.lua
var pickLua []byte

// wrkSpec is a scenario wrk can run: a URL (whose path is the prefix of
// each request), the file of values it picks from, and the mode of
// pick.lua ("path" or "body").
type wrkSpec struct {
	url, file, mode, accept string
}

func haveWrk() bool {
	if *noWrk {
		return false
	}
	_, err := exec.LookPath("wrk")
	return err == nil
}

var (
	scriptOnce sync.Once
	scriptPath string
)

func wrkScript(dir string) string {
	scriptOnce.Do(func() {
		scriptPath = filepath.Join(dir, "pick.lua")
		check(os.WriteFile(scriptPath, pickLua, 0o644))
	})
	return scriptPath
}

// writeLines writes values one a line into dir/name and returns the path.
func writeLines(dir, name string, values []string) string {
	p := filepath.Join(dir, name)
	check(os.WriteFile(p, []byte(strings.Join(values, "\n")+"\n"), 0o644))
	return p
}

var (
	reqPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latLine   = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	non2xx    = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockErr   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// runWrk runs one wrk measurement of d with n connections and parses its
// summary: the rate of answers, p50 and p99, and the failures (non-2xx
// answers and socket errors).
func runWrk(dir string, s wrkSpec, n int, d time.Duration) result {
	args := []string{"-t", strconv.Itoa(min(*wrkThreads, n)), "-c", strconv.Itoa(n), "-d", fmt.Sprintf("%ds", int(d.Seconds())),
		"--timeout", "30s", "--latency", "-s", wrkScript(dir), s.url, "--", s.file, s.mode, s.accept}
	out, err := exec.Command("wrk", args...).CombinedOutput()
	if err != nil {
		log.Fatalf("wrk %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return parseWrk(string(out))
}

func parseWrk(out string) result {
	var r result
	m := reqPerSec.FindStringSubmatch(out)
	if m == nil {
		log.Fatalf("wrk printed no Requests/sec:\n%s", out)
	}
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range latLine.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[l[3]]
		lat := time.Duration(v * float64(unit))
		if l[1] == "50" {
			r.p50 = lat
		} else {
			r.p99 = lat
		}
	}
	if m := non2xx.FindStringSubmatch(out); m != nil {
		r.errors, _ = strconv.Atoi(m[1])
	}
	if m := sockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			k, _ := strconv.Atoi(s)
			r.errors += k
		}
	}
	return r
}
