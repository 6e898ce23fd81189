package main

import (
	_ "embed"
	"flag"
	"fmt"
	"log"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/certd/certd/bench/internal/wrk"
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
	r, err := wrk.Parse(out)
	check(err)
	return result{rate: r.Rate, p50: r.P50, p99: r.P99, errors: r.Errors}
}
