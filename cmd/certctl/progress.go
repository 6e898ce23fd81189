package main

import (
	"fmt"
	"io"
	"strings"
	"sync"
	"time"
)

// progress reports an import: a bar redrawn in place on a terminal, a
// plain line every few seconds otherwise (logs, CI).
type progress struct {
	w     io.Writer
	tty   bool
	total int
	start time.Time
	every time.Duration

	mu     sync.Mutex
	done   int
	failed int

	stop    chan struct{}
	stopped chan struct{}
}

// plainEvery is how often a plain progress line is printed.
const plainEvery = 2 * time.Second

func newProgress(w io.Writer, total int) *progress {
	p := &progress{w: w, tty: isTerminal(w), total: total, start: time.Now(), every: plainEvery,
		stop: make(chan struct{}), stopped: make(chan struct{})}
	if p.tty {
		p.every = 100 * time.Millisecond
	}
	go p.loop()
	return p
}

func (p *progress) add(failed bool) {
	p.mu.Lock()
	p.done++
	if failed {
		p.failed++
	}
	p.mu.Unlock()
}

func (p *progress) loop() {
	defer close(p.stopped)
	t := time.NewTicker(p.every)
	defer t.Stop()
	last := -1
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
			p.mu.Lock()
			done, failed := p.done, p.failed
			p.mu.Unlock()
			if done != last {
				p.print(done, failed, false)
				last = done
			}
		}
	}
}

// finish draws the final state and ends the line.
func (p *progress) finish() {
	close(p.stop)
	<-p.stopped
	p.mu.Lock()
	done, failed := p.done, p.failed
	p.mu.Unlock()
	p.print(done, failed, true)
}

func (p *progress) print(done, failed int, final bool) {
	elapsed := time.Since(p.start)
	rate := 0.0
	if s := elapsed.Seconds(); s > 0 {
		rate = float64(done) / s
	}
	pct := 100.0
	if p.total > 0 {
		pct = 100 * float64(done) / float64(p.total)
	}
	eta := ""
	if rate > 0 && done < p.total {
		eta = fmt.Sprintf(" ETA %s", (time.Duration(float64(p.total-done)/rate) * time.Second).Round(time.Second))
	}
	fail := ""
	if failed > 0 {
		fail = fmt.Sprintf(", %d failed", failed)
	}
	if !p.tty {
		if final && done == 0 {
			return
		}
		fmt.Fprintf(p.w, "certctl: %d/%d rows sent (%.0f%%%s), %.0f/s%s\n", done, p.total, pct, fail, rate, eta)
		return
	}
	const width = 30
	filled := int(float64(width) * pct / 100)
	bar := strings.Repeat("█", filled) + strings.Repeat("░", width-filled)
	fmt.Fprintf(p.w, "\r%s %d/%d %3.0f%% %.0f/s%s%s\x1b[K", bar, done, p.total, pct, rate, eta, fail)
	if final {
		fmt.Fprintln(p.w)
	}
}
