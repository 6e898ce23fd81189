package verifier_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// BenchmarkByID measures a verdict by id on a bbolt store of 5,001
// certificates, ids at random: the store read and the judgement, without
// HTTP.
func BenchmarkByID(b *testing.B) {
	e := newEnv(b)
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "t"}
	ids := []string{e.cert.ID}
	for range 5 {
		reqs := make([]issuer.Request, 1000)
		for i := range reqs {
			first17 := fmt.Sprintf("91110108MA%07d", len(ids)+i)
			check, err := cert.USCCCheckChar(first17)
			if err != nil {
				b.Fatal(err)
			}
			reqs[i] = issuer.Request{
				Issuer: "cb", Scheme: "itss", Category: "运行维护", Level: 2, Scope: "信息系统运行维护服务",
				Organization: cert.Organization{Name: fmt.Sprintf("北京示例%d科技有限公司", len(ids)+i), NameEn: "Example Technology Co., Ltd.", USCC: first17 + string(check)},
			}
		}
		res, err := e.iss.IssueBatch(ctx, admin, reqs)
		if err != nil {
			b.Fatal(err)
		}
		for _, r := range res {
			if r.Err != nil {
				b.Fatal(r.Err)
			}
			ids = append(ids, r.Certificate.ID)
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	b.ReportAllocs()
	for b.Loop() {
		vd := e.direct.ByID(ctx, ids[rng.IntN(len(ids))])
		if vd.Verdict != cert.VerdictValid {
			b.Fatalf("verdict %s: %s", vd.Verdict, vd.Reason)
		}
	}
}
