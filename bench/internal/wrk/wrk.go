// Package wrk reads the summary the wrk load generator prints (run with
// --latency), for the benchmark programs under bench/.
package wrk

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Result is what a wrk run measured.
type Result struct {
	// Rate is the answers per second.
	Rate     float64
	P50, P99 time.Duration
	// Errors are the non-2xx/3xx answers and the socket errors.
	Errors int
}

var (
	reqPerSec = regexp.MustCompile(`Requests/sec:\s+([0-9.]+)`)
	latLine   = regexp.MustCompile(`(?m)^\s+(50|99)(?:\.000)?%\s+([0-9.]+)(us|ms|s)\s*$`)
	non2xx    = regexp.MustCompile(`Non-2xx or 3xx responses:\s+(\d+)`)
	sockErr   = regexp.MustCompile(`Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)`)
)

// Parse reads wrk's output; a report without a rate is an error.
func Parse(out string) (Result, error) {
	var r Result
	m := reqPerSec.FindStringSubmatch(out)
	if m == nil {
		return r, fmt.Errorf("wrk printed no Requests/sec:\n%s", out)
	}
	r.Rate, _ = strconv.ParseFloat(m[1], 64)
	for _, l := range latLine.FindAllStringSubmatch(out, -1) {
		v, _ := strconv.ParseFloat(l[2], 64)
		unit := map[string]time.Duration{"us": time.Microsecond, "ms": time.Millisecond, "s": time.Second}[l[3]]
		lat := time.Duration(v * float64(unit))
		if l[1] == "50" {
			r.P50 = lat
		} else {
			r.P99 = lat
		}
	}
	if m := non2xx.FindStringSubmatch(out); m != nil {
		r.Errors, _ = strconv.Atoi(m[1])
	}
	if m := sockErr.FindStringSubmatch(out); m != nil {
		for _, s := range m[1:] {
			k, _ := strconv.Atoi(s)
			r.Errors += k
		}
	}
	return r, nil
}
