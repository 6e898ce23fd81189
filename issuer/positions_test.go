package issuer_test

import (
	"context"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// Single issues take status positions from blocks reserved ahead. Two
// instances on one store, issuing concurrently, and a third started after
// them (a restart) never hand out the same position; a batch takes its own
// range.
func TestStatusPositionsNeverShared(t *testing.T) {
	e := newEnv(t, "2026-11-27")
	req := issuer.Request{
		Scheme: "itss", Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务", Category: "运行维护", Level: 3,
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}
	var (
		mu   sync.Mutex
		seen = map[[2]int]string{}
	)
	record := func(c *cert.Certificate) {
		mu.Lock()
		defer mu.Unlock()
		key := [2]int{c.StatusList, c.StatusIndex}
		if prev, dup := seen[key]; dup {
			t.Errorf("certificates %s and %s share status position %v", prev, c.ID, key)
		}
		seen[key] = c.ID
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	for _, svc := range []*issuer.Service{e.svc, e.newService()} {
		for range 8 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for range 25 {
					c, _, err := svc.Issue(ctx, e.cb, req, "")
					if err != nil {
						t.Error(err)
						return
					}
					record(c)
				}
			}()
		}
	}
	wg.Wait()
	restarted := e.newService()
	for range 3 {
		c, _, err := restarted.Issue(ctx, e.cb, req, "")
		if err != nil {
			t.Fatal(err)
		}
		record(c)
	}
	items := make([]issuer.Request, 300)
	for i := range items {
		items[i] = req
	}
	results, err := e.svc.IssueBatch(ctx, e.cb, items)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Err != nil {
			t.Fatal(r.Err)
		}
		record(r.Certificate)
	}
	if len(seen) != 2*8*25+3+300 {
		t.Errorf("%d distinct positions, want %d", len(seen), 2*8*25+3+300)
	}
}

// The next block of status positions is reserved while half of the last
// one is left, so the request that uses a block up does not wait for a
// reservation: with the store refusing reservations from then on, the
// issues after the first block still succeed.
func TestStatusPositionsReservedAhead(t *testing.T) {
	e := newEnv(t, "2026-11-27")
	req := issuer.Request{
		Scheme: "itss", Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务", Category: "运行维护", Level: 3,
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}
	ctx := context.Background()
	issue := func(n int) {
		t.Helper()
		for range n {
			if _, _, err := e.svc.Issue(ctx, e.cb, req, ""); err != nil {
				t.Fatalf("issue: %v", err)
			}
		}
	}
	issue(64) // one block
	// The reservation ahead runs in the background; the bound is only
	// there so that code without one fails instead of hanging.
	for start := time.Now(); e.st.statusReserved.Load() < 2; runtime.Gosched() {
		if time.Since(start) > time.Minute {
			t.Fatal("no block of status positions was reserved ahead")
		}
	}
	e.st.refuseStatus.Store(true)
	issue(32)
}
