package storetest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// SeedSpread stores issuer "cb" (Asia/Shanghai) and n certificates of it
// whose validity starts are spread over the three years before now, ITSS
// and ISO/IEC 17021 alternating, a third with their surveillance audits
// recorded on time, in batches of 1,000: the store of the sweep
// benchmarks (the same store for the same n and now).
func SeedSpread(tb testing.TB, st store.Store, n int, now time.Time) {
	tb.Helper()
	ctx := context.Background()
	if err := st.CreateIssuer(ctx, &cert.Issuer{ID: "cb", Name: "Test CB", TimeZone: "Asia/Shanghai", Version: 1}); err != nil {
		tb.Fatal(err)
	}
	loc, err := cert.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	r := rand.New(rand.NewPCG(7, 8))
	perm := r.Perm(cert.StatusListSize)
	for start := 0; start < n; start += 1000 {
		var batch []*cert.Certificate
		for i := start; i < min(n, start+1000); i++ {
			scheme := "itss"
			if i%2 == 1 {
				scheme = "iso17021"
			}
			from, until := cert.ValidityPeriod(now.AddDate(0, 0, -r.IntN(3*365)), loc, 36)
			c := &cert.Certificate{
				ID: cert.NewID(), Number: fmt.Sprintf("ITSS-2027-%06d", i+1), Issuer: "cb", Scheme: scheme,
				Standard: "GB/T 28827.1-2022", Category: "运行维护", Level: 3, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G", Country: "CN"},
				ValidFrom:    from, ValidUntil: until, TimeZone: "Asia/Shanghai",
				Credential: strings.Repeat("x", 1200), Kid: "kid",
				StatusList: 1 + i/cert.StatusListSize, StatusIndex: perm[i%cert.StatusListSize], CreatedAt: from,
			}
			c.Append(cert.Event{Type: cert.EventIssued, At: from, RecordedAt: from, Actor: "seed"})
			if i%3 == 0 {
				// Surveillance audits on time.
				for _, m := range []int{10, 22} {
					if at := from.AddDate(0, m, 0); at.Before(now) {
						c.Append(cert.Event{Type: cert.EventSurveillancePassed, At: at, RecordedAt: at, Actor: "seed"})
					}
				}
			}
			batch = append(batch, c)
		}
		errs, err := st.CreateCertificates(ctx, batch)
		if err != nil {
			tb.Fatal(err)
		}
		for _, err := range errs {
			if err != nil {
				tb.Fatal(err)
			}
		}
	}
}
