package issuer_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

func itssRequest(number string) issuer.Request {
	return issuer.Request{
		Scheme: "itss", Standard: "GB/T 28827.1-2022", Scope: "信息系统运行维护服务", Category: "运行维护", Level: 3,
		Number:       number,
		Organization: cert.Organization{Name: "北京示例科技有限公司", USCC: "91110108MA0123456G"},
	}
}

// payloadHas reports whether the credential of c carries its number and
// status index: a certificate given a new number or position after a
// collision is signed again.
func payloadHas(t testing.TB, c *cert.Certificate) {
	t.Helper()
	b, err := base64.RawURLEncoding.DecodeString(strings.Split(c.Credential, ".")[1])
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"` + c.Number + `"`, `"statusListIndex":"` + strconv.Itoa(c.StatusIndex) + `"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("credential of %s does not carry %s: %s", c.Number, want, b)
		}
	}
}

// A number the counter hands out that a certificate already holds (a CB
// chose it) is replaced by the next one, for a single issue and in a
// batch, instead of refusing the request; a number the CB chose that is
// taken is still refused.
func TestAssignedNumberCollision(t *testing.T) {
	e := newEnv(t, "2026-03-02")
	ctx := context.Background()
	for _, n := range []string{"ITSS-2026-000002", "ITSS-2026-000004"} {
		if _, _, err := e.svc.Issue(ctx, e.cb, itssRequest(n), ""); err != nil {
			t.Fatalf("issue with number %s: %v", n, err)
		}
	}
	c, _, err := e.svc.Issue(ctx, e.cb, itssRequest(""), "")
	if err != nil || c.Number != "ITSS-2026-000001" {
		t.Fatalf("first assigned number: %v, %v; want ITSS-2026-000001", c, err)
	}
	c, _, err = e.svc.Issue(ctx, e.cb, itssRequest(""), "key-2")
	if err != nil {
		t.Fatalf("issue when the next number is taken: %v", err)
	}
	if c.Number != "ITSS-2026-000003" || c.BaseNumber != c.Number {
		t.Errorf("number %s base %s, want ITSS-2026-000003 for both", c.Number, c.BaseNumber)
	}
	payloadHas(t, c)
	if got, err := e.st.CertificateByNumber(ctx, "cb", "ITSS-2026-000003"); err != nil || got.ID != c.ID {
		t.Errorf("stored ITSS-2026-000003: %v %v, want %s", got, err, c.ID)
	}

	rs, err := e.svc.IssueBatch(ctx, e.cb, []issuer.Request{itssRequest(""), itssRequest(""), itssRequest("ITSS-2026-000002")})
	if err != nil {
		t.Fatal(err)
	}
	// The batch reserves 000004 and 000005; 000004 is taken.
	want := map[string]bool{"ITSS-2026-000005": true, "ITSS-2026-000006": true}
	for i, r := range rs[:2] {
		if r.Err != nil {
			t.Errorf("batch item %d: %v", i, r.Err)
			continue
		}
		if !want[r.Certificate.Number] {
			t.Errorf("batch item %d: number %s, want one of %v", i, r.Certificate.Number, want)
		}
		delete(want, r.Certificate.Number)
		payloadHas(t, r.Certificate)
	}
	if err := rs[2].Err; err == nil || !strings.Contains(err.Error(), `number: "ITSS-2026-000002" is already used`) {
		t.Errorf("batch item with a taken number of the CB: %v, want the number named as taken", err)
	}
	if _, _, err := e.svc.Issue(ctx, e.cb, itssRequest("ITSS-2026-000003"), ""); err == nil {
		t.Errorf("issue with a taken number of the CB succeeded")
	}
}

// A status position the counter hands out that a certificate already holds
// (stored with positions the counter did not give, as after restoring an
// older counter) is replaced by the next one instead of refusing the
// request.
func TestAssignedPositionCollision(t *testing.T) {
	e := newEnv(t, "2026-03-02")
	ctx := context.Background()
	first := e.issue(t, "itss", "")
	is, err := e.st.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	// Occupy the positions of the next two counter values.
	for n := int64(1); n <= 2; n++ {
		squat := *first
		squat.ID, squat.Number, squat.BaseNumber, squat.IdempotencyKey = cert.NewID(), "SQUAT-"+strconv.Itoa(int(n)), "SQUAT-"+strconv.Itoa(int(n)), ""
		squat.StatusList, squat.StatusIndex = issuer.StatusPosition(is.StatusKey, n)
		if err := e.st.CreateCertificate(ctx, &squat); err != nil {
			t.Fatal(err)
		}
	}
	c, _, err := e.svc.Issue(ctx, e.cb, itssRequest(""), "")
	if err != nil {
		t.Fatalf("issue when the next positions are taken: %v", err)
	}
	wantList, wantIndex := issuer.StatusPosition(is.StatusKey, 3)
	if c.StatusList != wantList || c.StatusIndex != wantIndex {
		t.Errorf("position (%d, %d), want (%d, %d)", c.StatusList, c.StatusIndex, wantList, wantIndex)
	}
	if c.Number != "ITSS-2026-000002" {
		t.Errorf("number %s, want ITSS-2026-000002 (a position collision does not use up numbers)", c.Number)
	}
	payloadHas(t, c)
}

// A retry under an Idempotency-Key whose first request is stored but not
// yet visible to reads (a lagging replica) collides on the key's unique
// index; it then reads again, briefly, and is a replay, not a conflict.
func TestIdempotencyKeyWinnerSeenLate(t *testing.T) {
	e := newEnv(t, "2026-03-02")
	ctx := context.Background()
	first, _, err := e.svc.Issue(ctx, e.cb, itssRequest(""), "order-1")
	if err != nil {
		t.Fatal(err)
	}
	// Hidden from the retry's first look and from the first read after
	// the collision.
	e.st.hideKeys.Store(2)
	again, replayed, err := e.svc.Issue(ctx, e.cb, itssRequest(""), "order-1")
	if err != nil || !replayed || again.ID != first.ID {
		t.Fatalf("retry: %v replayed %v err %v; want a replay of %s", again, replayed, err, first.ID)
	}
	if _, err := e.st.CertificateByNumber(ctx, "cb", "ITSS-2026-000002"); err == nil {
		t.Errorf("the retry stored a second certificate")
	}
}
