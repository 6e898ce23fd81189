package issuer_test

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/store"
)

// heapStore measures the live heap each time the sweep asks for a page.
type heapStore struct {
	*faultyStore
	live []uint64
}

func (h *heapStore) ListCertificates(ctx context.Context, q store.Query) ([]*cert.Certificate, string, error) {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	h.live = append(h.live, m.HeapAlloc)
	return h.faultyStore.ListCertificates(ctx, q)
}

// The sweep reads every certificate, a page at a time, and keeps nothing
// of the pages it is done with: its memory does not grow with the number
// of certificates (at a million, holding on to what it read took
// gigabytes).
func TestSweepDerivedMemory(t *testing.T) {
	e := newEnv(t, "2027-03-01")
	ctx := context.Background()
	now := e.clock.Now()
	from, until := cert.ValidityPeriod(now.AddDate(0, -1, 0), shanghai, 36)
	const n = 6000
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < start+1000; i++ {
			c := &cert.Certificate{
				ID: cert.NewID(), Number: fmt.Sprintf("ITSS-2027-%06d", i+1), Issuer: "cb", Scheme: "itss",
				Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
				ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai",
				Credential: strings.Repeat("x", 1200), Kid: "kid", StatusList: 1, StatusIndex: i, CreatedAt: from,
			}
			c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "seed"})
			batch = append(batch, c)
		}
		if errs, err := e.st.CreateCertificates(ctx, batch); err != nil || errs[0] != nil {
			t.Fatal(err, errs[0])
		}
	}
	h := &heapStore{faultyStore: e.st}
	svc := issuer.New(issuer.Config{Store: h, Signer: e.keys, Rings: e.keys, Schemes: mustSchemes(), PublicURL: "https://verify.example.cn", Now: e.clock.Now})
	if _, err := svc.SweepDerived(ctx, "cb"); err != nil {
		t.Fatal(err)
	}
	if len(h.live) < 10 {
		t.Fatalf("the sweep read %d pages, want at least 10", len(h.live))
	}
	// From the second page (the first allocations are behind it) to the
	// last: 5,000 certificates of about 1.5 KB each were read meanwhile.
	first, last := h.live[1], h.live[len(h.live)-1]
	if last > first && last-first > 1<<20 {
		t.Errorf("the live heap grew by %d KB while the sweep read %d certificates (from %d KB to %d KB): it holds on to what it read",
			(last-first)>>10, n, first>>10, last>>10)
	}
}
