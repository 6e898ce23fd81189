package wrk

import (
	"testing"
	"time"
)

func TestParse(t *testing.T) {
	out := `Running 8s test @ http://127.0.0.1:41234/api/v1/verify/
  2 threads and 64 connections
  Thread Stats   Avg      Stdev     Max   +/- Stdev
    Latency     2.10ms    1.20ms  31.22ms   80.00%
    Req/Sec    15.51k     1.02k   18.20k    71.25%
  Latency Distribution
     50%    1.85ms
     75%    2.40ms
     90%    3.30ms
     99%  612.00us
  247125 requests in 8.00s, 210.58MB read
  Socket errors: connect 0, read 2, write 0, timeout 1
  Non-2xx or 3xx responses: 4
Requests/sec:  30890.62
Transfer/sec:     26.32MB
`
	r, err := Parse(out)
	if err != nil {
		t.Fatal(err)
	}
	if r.Rate != 30890.62 {
		t.Errorf("rate = %v, want 30890.62", r.Rate)
	}
	if r.P50 != 1850*time.Microsecond || r.P99 != 612*time.Microsecond {
		t.Errorf("p50, p99 = %v, %v; want 1.85ms, 612µs", r.P50, r.P99)
	}
	if r.Errors != 7 {
		t.Errorf("errors = %d, want 7 (4 non-2xx + 3 socket errors)", r.Errors)
	}
}
