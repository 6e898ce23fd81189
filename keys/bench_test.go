package keys_test

import (
	"context"
	"crypto/ed25519"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// benchPayload is the size of a real credential payload.
var benchPayload = []byte(`{"@context":["https://www.w3.org/ns/credentials/v2"],"id":"https://certd.example/v/01JD8Z6Q4XW3N9T2B7K5M1R0HC","type":["VerifiableCredential","ConformityCertificate"],"issuer":{"id":"https://certd.example/issuers/cesa-itss","name":"中国电子工业标准化技术协会"},"validFrom":"2026-11-27T00:00:00+08:00","validUntil":"2029-11-27T00:00:00+08:00","credentialSubject":{"type":"Organization","name":"北京示例科技有限公司","nameEn":"Beijing Example Technology Co., Ltd.","uscc":"91110108MA0123456G","address":"北京市海淀区示例路1号","certificate":{"number":"ITSS-2026-000123","scheme":"itss","standard":"GB/T 28827.1-2022","category":"运行维护","level":3,"scope":"信息系统运行维护服务","assessmentBody":"示例认证中心"}},"credentialStatus":[{"type":"BitstringStatusListEntry","statusPurpose":"revocation","statusListIndex":"48213","statusListCredential":"https://certd.example/status/cesa-itss/revocation/1"},{"type":"BitstringStatusListEntry","statusPurpose":"suspension","statusListIndex":"48213","statusListCredential":"https://certd.example/status/cesa-itss/suspension/1"}],"iss":"https://certd.example/issuers/cesa-itss","jti":"https://certd.example/v/01JD8Z6Q4XW3N9T2B7K5M1R0HC","iat":1795737600,"exp":1890432000}`)

func benchToken(b *testing.B, keyType string) (*env, string) {
	b.Helper()
	e := newEnv(b)
	e.createRing(b, "cesa-itss", keyType)
	tok, _ := e.sign(b, "cesa-itss", benchPayload)
	return e, tok
}

// BenchmarkVerifyEd25519 is Service.Verify of one credential; compare it with
// BenchmarkBareEd25519Verify on the same token.
func BenchmarkVerifyEd25519(b *testing.B) {
	e, tok := benchToken(b, cert.KeyTypeEd25519)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.svc.Verify(ctx, "cesa-itss", tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkBareEd25519Verify is ed25519.Verify alone on the token's signing
// input and signature: the floor Service.Verify is measured against.
func BenchmarkBareEd25519Verify(b *testing.B) {
	e, tok := benchToken(b, cert.KeyTypeEd25519)
	x, _ := b64url.DecodeString(jwksOf(b, e.svc, "cesa-itss")[0].X)
	pub := ed25519.PublicKey(x)
	i := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:i])
	sig, _ := b64url.DecodeString(tok[i+1:])
	b.ReportAllocs()
	for b.Loop() {
		if !ed25519.Verify(pub, input, sig) {
			b.Fatal("does not verify")
		}
	}
}

// BenchmarkVerifyVsBare alternates Service.Verify and the bare
// ed25519.Verify of the same token, so both see the same machine load, and
// reports the medians of both and Verify's throughput as a fraction of the
// bare one (the target is at least 0.8). Medians keep a busy machine's
// preemptions out of the ratio.
func BenchmarkVerifyVsBare(b *testing.B) {
	e, tok := benchToken(b, cert.KeyTypeEd25519)
	ctx := context.Background()
	x, _ := b64url.DecodeString(jwksOf(b, e.svc, "cesa-itss")[0].X)
	pub := ed25519.PublicKey(x)
	i := strings.LastIndexByte(tok, '.')
	input := []byte(tok[:i])
	sig, _ := b64url.DecodeString(tok[i+1:])
	var verify, bare []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, _, err := e.svc.Verify(ctx, "cesa-itss", tok); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		if !ed25519.Verify(pub, input, sig) {
			b.Fatal("does not verify")
		}
		verify = append(verify, t1.Sub(t0))
		bare = append(bare, time.Since(t1))
	}
	mv, mb := median(verify), median(bare)
	b.ReportMetric(float64(mb)/float64(mv), "throughput-ratio")
	b.ReportMetric(float64(mv.Nanoseconds()), "verify-median-ns")
	b.ReportMetric(float64(mb.Nanoseconds()), "bare-median-ns")
}

func median(ds []time.Duration) time.Duration {
	slices.Sort(ds)
	return ds[len(ds)/2]
}

// BenchmarkVerifyEd25519Parallel is Service.Verify from all Ps at once, to
// show that the cached ring is not a point of contention.
func BenchmarkVerifyEd25519Parallel(b *testing.B) {
	e, tok := benchToken(b, cert.KeyTypeEd25519)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, _, err := e.svc.Verify(ctx, "cesa-itss", tok); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkVerifyES256 is Service.Verify of an ES256 credential.
func BenchmarkVerifyES256(b *testing.B) {
	e, tok := benchToken(b, cert.KeyTypeES256)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if _, _, err := e.svc.Verify(ctx, "cesa-itss", tok); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkSign is Service.Sign of one credential, ring read (from memory)
// included, as on every call.
func BenchmarkSign(b *testing.B) {
	for _, kt := range []string{cert.KeyTypeEd25519, cert.KeyTypeES256} {
		b.Run(kt, func(b *testing.B) {
			e, _ := benchToken(b, kt)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := e.svc.Sign(ctx, "cesa-itss", benchPayload); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkPeekIssuer is the unverified iss lookup that precedes Verify.
func BenchmarkPeekIssuer(b *testing.B) {
	_, tok := benchToken(b, cert.KeyTypeEd25519)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := keys.PeekIssuer(tok); err != nil {
			b.Fatal(err)
		}
	}
}
