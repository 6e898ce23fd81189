package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"crypto/ed25519"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/verifier"
)

// Status lists end to end (DESIGN.md section 7): fetched over HTTP from the
// real wiring and decoded exactly as Bitstring Status List v1.0 says.

// listClock is a fake clock the tests move; safe for concurrent use.
type listClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *listClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *listClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

func withStatusTTL(d time.Duration) serverOption {
	return func(m *Main) { m.Config.StatusTTL = d }
}

var beijing = time.FixedZone("CST", 8*3600)

// statusList is a fetched and decoded list.
type statusList struct {
	Header  map[string]any
	Payload map[string]any
	Subject map[string]any
	Token   string
	// Bits is the uncompressed bitstring.
	Bits []byte
}

// bit is entry i: byte i/8, bit 7 - i%8 (index 0 is the left-most bit).
func (l *statusList) bit(i int) bool { return l.Bits[i/8]>>(7-i%8)&1 == 1 }

// set lists the set entries.
func (l *statusList) set() []int {
	var out []int
	for i := range len(l.Bits) * 8 {
		if l.bit(i) {
			out = append(out, i)
		}
	}
	return out
}

// fetchList gets /status/{issuer}/{purpose}/{n} and decodes it: strip the
// multibase "u", base64url-decode (no padding), gunzip.
func (ts *testServer) fetchList(t testing.TB, issuer, purpose string, n int) (*statusList, response) {
	t.Helper()
	r := ts.do("GET", "/status/"+issuer+"/"+purpose+"/"+strconv.Itoa(n), "", nil)
	if r.Status != http.StatusOK {
		t.Fatalf("GET status list %s/%s/%d: %d %s", issuer, purpose, n, r.Status, r.Body)
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/vc+jwt" {
		t.Errorf("Content-Type = %q, want application/vc+jwt", ct)
	}
	l := &statusList{Token: string(r.Body), Header: header(t, string(r.Body)), Payload: payload(t, string(r.Body))}
	l.Subject, _ = l.Payload["credentialSubject"].(map[string]any)
	enc, _ := l.Subject["encodedList"].(string)
	raw, ok := strings.CutPrefix(enc, "u")
	if !ok {
		t.Fatalf("encodedList %.30q does not start with the multibase prefix u", enc)
	}
	if strings.ContainsAny(raw, "=+/") {
		t.Errorf("encodedList is not base64url without padding")
	}
	gz, err := base64.RawURLEncoding.DecodeString(raw)
	if err != nil {
		t.Fatalf("encodedList base64url: %v", err)
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		t.Fatalf("encodedList is not GZIP: %v", err)
	}
	if l.Bits, err = io.ReadAll(zr); err != nil {
		t.Fatalf("gunzip: %v", err)
	}
	if len(l.Bits) != cert.StatusListSize/8 {
		t.Fatalf("bitstring is %d bytes, want %d (131,072 entries)", len(l.Bits), cert.StatusListSize/8)
	}
	return l, r
}

// position reads a certificate's status entries from its credential, as a
// verifier would, and checks they name the list URLs of the issuer.
func (ts *testServer) position(t testing.TB, c map[string]any) (list, index int) {
	t.Helper()
	p := payload(t, c["credential"].(string))
	entries := p["credentialStatus"].([]any)
	if len(entries) != 2 {
		t.Fatalf("credentialStatus has %d entries, want 2", len(entries))
	}
	for i, e := range entries {
		e := e.(map[string]any)
		purpose := e["statusPurpose"].(string)
		url := e["statusListCredential"].(string)
		prefix := ts.m.PublicURL() + "/status/" + c["issuer"].(string) + "/" + purpose + "/"
		n, err := strconv.Atoi(strings.TrimPrefix(url, prefix))
		if !strings.HasPrefix(url, prefix) || err != nil {
			t.Fatalf("statusListCredential %q is not %sN", url, prefix)
		}
		idx, err := strconv.Atoi(e["statusListIndex"].(string))
		if err != nil {
			t.Fatalf("statusListIndex %v", e["statusListIndex"])
		}
		if i > 0 && (n != list || idx != index) {
			t.Fatalf("the revocation and suspension entries differ: %d/%d and %d/%d", list, index, n, idx)
		}
		list, index = n, idx
	}
	return list, index
}

func (ts *testServer) act(t testing.TB, id, action string, body map[string]any, want int) map[string]any {
	t.Helper()
	r := ts.do("POST", "/api/v1/certificates/"+id+"/"+action, ts.Admin, body)
	if r.Status != want {
		t.Fatalf("%s %s: %d %s", action, id, r.Status, r.Body)
	}
	return r.JSON(t)
}

func (ts *testServer) issueFrom(t testing.TB, validFrom string) map[string]any {
	t.Helper()
	req := sampleCertificate("default", testUSCC)
	if validFrom != "" {
		req["validFrom"] = validFrom
	}
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, req)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	return r.JSON(t)
}

// verifyJWS checks a compact JWS against the issuer's published JWKS,
// with the standard library only.
func (ts *testServer) verifyJWS(t testing.TB, issuer, token string) error {
	t.Helper()
	r := ts.do("GET", "/issuers/"+issuer+"/jwks.json", "", nil)
	var set struct {
		Keys []struct{ Kid, Kty, Crv, Alg, X string }
	}
	if err := json.Unmarshal(r.Body, &set); err != nil {
		t.Fatalf("jwks: %v", err)
	}
	parts := strings.Split(token, ".")
	h := header(t, token)
	if len(parts) != 3 {
		return errors.New("not a compact JWS")
	}
	sig, err := base64.RawURLEncoding.DecodeString(parts[2])
	if err != nil {
		return err
	}
	for _, k := range set.Keys {
		if k.Kid != h["kid"] {
			continue
		}
		if k.Kty != "OKP" || k.Crv != "Ed25519" || h["alg"] != "EdDSA" {
			return errors.New("not an Ed25519 key")
		}
		pub, err := base64.RawURLEncoding.DecodeString(k.X)
		if err != nil {
			return err
		}
		if !ed25519.Verify(pub, []byte(parts[0]+"."+parts[1]), sig) {
			return errors.New("signature does not verify")
		}
		return nil
	}
	return errors.New("kid not in the issuer's JWKS")
}

// A list shows the revocation and suspension bits of exactly the
// certificates that have them; its signature verifies against the JWKS;
// the store-derived verdict agrees with the list bit for bit.
func TestStatusListShowsEveryState(t *testing.T) {
	// A certificate to renew, issued in 2024 and audited in both windows.
	clk := &listClock{t: time.Date(2025, 5, 2, 10, 0, 0, 0, beijing)}
	ttl := 2 * time.Minute
	ts := startServer(t, "", withClock(clk.Now), withStatusTTL(ttl))
	certs := map[string]map[string]any{}
	certs["renewed"] = ts.issueFrom(t, "2024-07-10")
	ts.act(t, certs["renewed"]["id"].(string), "surveillance", map[string]any{"reason": "annual audit", "date": "2025-05-01", "result": "passed"}, http.StatusOK)
	clk.Set(time.Date(2026, 5, 2, 10, 0, 0, 0, beijing))
	ts.act(t, certs["renewed"]["id"].(string), "surveillance", map[string]any{"reason": "annual audit", "date": "2026-05-01", "result": "passed"}, http.StatusOK)

	clk.Set(time.Date(2027, 3, 1, 10, 0, 0, 0, beijing))
	certs["active"] = ts.issueFrom(t, "")
	for _, action := range []string{"withdraw", "cancel", "suspend"} {
		c := ts.issueFrom(t, "")
		certs[action] = ts.act(t, c["id"].(string), action, map[string]any{"reason": "test " + action}, http.StatusOK)
	}
	// Its first surveillance window (months 9 to 12) closes at midnight
	// Beijing time on 2027-03-05; no audit is recorded.
	certs["overdue"] = ts.issueFrom(t, "2026-03-05")
	certs["revised"] = ts.issueFrom(t, "")
	certs["revision"] = ts.act(t, certs["revised"]["id"].(string), "revise", map[string]any{"reason": "downgrade", "level": 2}, http.StatusCreated)
	// Renewed from today: superseded, not revoked.
	certs["renewal"] = ts.act(t, certs["renewed"]["id"].(string), "renew", map[string]any{"reason": "renewal audit", "validFrom": "2027-03-01"}, http.StatusCreated)

	clk.Set(time.Date(2027, 3, 6, 10, 0, 0, 0, beijing))
	want := map[string][2]bool{ // revocation, suspension
		"active": {false, false}, "withdraw": {true, false}, "cancel": {true, false}, "suspend": {false, true},
		"overdue": {false, true}, "revised": {true, false}, "revision": {false, false},
		"renewed": {false, false}, "renewal": {false, false},
	}
	rev, revResp := ts.fetchList(t, "default", cert.PurposeRevocation, 1)
	susp, _ := ts.fetchList(t, "default", cert.PurposeSuspension, 1)

	wantSet := [2]map[int]string{{}, {}}
	for name, c := range certs {
		list, idx := ts.position(t, c)
		if list != 1 {
			t.Fatalf("%s is in list %d, want 1", name, list)
		}
		for p, l := range []*statusList{rev, susp} {
			if got := l.bit(idx); got != want[name][p] {
				t.Errorf("%s (%s): %s bit = %v, want %v", name, c["id"], []string{"revocation", "suspension"}[p], got, want[name][p])
			}
			if want[name][p] {
				wantSet[p][idx] = name
			}
		}
	}
	// Every set bit is accounted for.
	for p, l := range []*statusList{rev, susp} {
		got := l.set()
		if len(got) != len(wantSet[p]) {
			t.Errorf("%s list has %d bits set %v, want %d (%v)", l.Subject["statusPurpose"], len(got), got, len(wantSet[p]), wantSet[p])
		}
		for _, i := range got {
			if _, ok := wantSet[p][i]; !ok {
				t.Errorf("%s list: bit %d is set by no certificate that should set it", l.Subject["statusPurpose"], i)
			}
		}
	}

	// The credential: W3C shape, our header, our issuer, the ttl.
	pub := ts.m.PublicURL()
	for _, l := range []*statusList{rev, susp} {
		purpose := l.Subject["statusPurpose"].(string)
		id := pub + "/status/default/" + purpose + "/1"
		if l.Header["typ"] != "vc+jwt" || l.Header["alg"] != "EdDSA" || l.Header["kid"] == nil {
			t.Errorf("header %v, want typ vc+jwt, alg EdDSA, a kid", l.Header)
		}
		types, _ := l.Payload["type"].([]any)
		if len(types) != 2 || types[0] != "VerifiableCredential" || types[1] != "BitstringStatusListCredential" {
			t.Errorf("type = %v", l.Payload["type"])
		}
		if ctx, _ := l.Payload["@context"].([]any); len(ctx) == 0 || ctx[0] != "https://www.w3.org/ns/credentials/v2" {
			t.Errorf("@context = %v", l.Payload["@context"])
		}
		if l.Payload["id"] != id || l.Payload["jti"] != id || l.Subject["id"] != id+"#list" {
			t.Errorf("id %v, jti %v, subject id %v; want %s and %s#list", l.Payload["id"], l.Payload["jti"], l.Subject["id"], id, id)
		}
		issuerURL := pub + "/issuers/default"
		if is, _ := l.Payload["issuer"].(map[string]any); is["id"] != issuerURL || l.Payload["iss"] != issuerURL {
			t.Errorf("issuer %v, iss %v; want %s", l.Payload["issuer"], l.Payload["iss"], issuerURL)
		}
		if l.Subject["type"] != "BitstringStatusList" {
			t.Errorf("credentialSubject.type = %v", l.Subject["type"])
		}
		if got := l.Subject["ttl"]; got != float64(ttl.Milliseconds()) {
			t.Errorf("credentialSubject.ttl = %v, want %d (milliseconds)", got, ttl.Milliseconds())
		}
		from, err := time.Parse(time.RFC3339, l.Payload["validFrom"].(string))
		if err != nil || from.After(clk.Now()) || clk.Now().Sub(from) > ttl {
			t.Errorf("validFrom = %v, want within ttl before now %s", l.Payload["validFrom"], clk.Now())
		}
		until, err := time.Parse(time.RFC3339, l.Payload["validUntil"].(string))
		if err != nil || !until.After(clk.Now().Add(ttl)) || l.Payload["exp"] != float64(until.Unix()) || l.Payload["iat"] != float64(from.Unix()) {
			t.Errorf("validUntil %v, exp %v, iat %v: want validUntil after now+ttl, exp = validUntil, iat = validFrom", l.Payload["validUntil"], l.Payload["exp"], l.Payload["iat"])
		}
		if err := ts.verifyJWS(t, "default", l.Token); err != nil {
			t.Errorf("%s list: signature against the JWKS: %v", purpose, err)
		}
	}
	// The signature check can fail.
	parts := strings.Split(rev.Token, ".")
	forged := bytes.Replace(revResp.Body, []byte(parts[1][:8]), []byte("AAAAAAAA"), 1)
	if err := ts.verifyJWS(t, "default", string(forged)); err == nil {
		t.Error("a list with a changed payload verified")
	}

	// The verdicts from the store and from a presented token agree with
	// the lists, check for check.
	for name, c := range certs {
		byID := ts.do("GET", "/api/v1/verify/"+c["id"].(string), "", nil).JSON(t)
		byToken := ts.do("POST", "/api/v1/verify", "", map[string]any{"credential": c["credential"]}).JSON(t)
		for _, v := range []map[string]any{byID, byToken} {
			got := checks(v)
			for p, check := range []string{"revocation", "suspension"} {
				if ok, found := got[check]; !found || ok == want[name][p] {
					t.Errorf("%s: %s check ok=%v (found %v) but the list bit is %v: %v", name, check, ok, found, want[name][p], v["checks"])
				}
			}
		}
		if byID["verdict"] != byToken["verdict"] {
			t.Errorf("%s: verdict by id %v, by token %v", name, byID["verdict"], byToken["verdict"])
		}
	}
}

func checks(v map[string]any) map[string]bool {
	out := map[string]bool{}
	list, _ := v["checks"].([]any)
	for _, c := range list {
		c := c.(map[string]any)
		out[c["name"].(string)], _ = c["ok"].(bool)
	}
	return out
}

func checkDetail(v map[string]any, name string) string {
	list, _ := v["checks"].([]any)
	for _, c := range list {
		if c := c.(map[string]any); c["name"] == name {
			s, _ := c["detail"].(string)
			return s
		}
	}
	return ""
}

// HTTP caching: Cache-Control max-age = ttl, a strong ETag, 304 on
// If-None-Match; 404 problems for what does not exist.
func TestStatusListHTTP(t *testing.T) {
	clk := &listClock{t: time.Date(2027, 3, 1, 10, 0, 0, 0, beijing)}
	ttl := 90 * time.Second
	ts := startServer(t, "", withClock(clk.Now), withStatusTTL(ttl))
	ts.issueFrom(t, "")

	_, r := ts.fetchList(t, "default", "revocation", 1)
	if got, want := r.Header.Get("Cache-Control"), "public, max-age=90"; got != want {
		t.Errorf("Cache-Control = %q, want %q", got, want)
	}
	etag := r.Header.Get("ETag")
	if len(etag) < 10 || !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) {
		t.Fatalf("ETag = %q, want a strong (quoted, no W/) tag", etag)
	}
	for _, tc := range []struct {
		name, ifNoneMatch string
		want              int
	}{
		{"ok/same-tag", etag, http.StatusNotModified},
		{"ok/weak-form", "W/" + etag, http.StatusNotModified},
		{"ok/in-a-list", `"other", ` + etag, http.StatusNotModified},
		{"ok/star", "*", http.StatusNotModified},
		{"ok/other-tag", `"other"`, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := ts.do("GET", "/status/default/revocation/1", "", nil, "If-None-Match", tc.ifNoneMatch)
			if r.Status != tc.want {
				t.Fatalf("status %d, want %d", r.Status, tc.want)
			}
			if r.Header.Get("ETag") != etag || r.Header.Get("Cache-Control") != "public, max-age=90" {
				t.Errorf("ETag %q, Cache-Control %q; want the 200's", r.Header.Get("ETag"), r.Header.Get("Cache-Control"))
			}
			if tc.want == http.StatusNotModified && len(r.Body) != 0 {
				t.Errorf("304 with a body of %d bytes", len(r.Body))
			}
		})
	}
	// Within the ttl the same list is served; after it, a new signature
	// (and tag), even with the same bits.
	if _, r := ts.fetchList(t, "default", "revocation", 1); r.Header.Get("ETag") != etag {
		t.Error("ETag changed within the ttl without any change")
	}
	clk.Set(clk.Now().Add(ttl))
	if _, r := ts.fetchList(t, "default", "revocation", 1); r.Header.Get("ETag") == etag {
		t.Error("ETag unchanged after the ttl: the list was not signed again")
	}

	for _, path := range []string{
		"/status/nobody/revocation/1", "/status/default/message/1", "/status/default/revocation/2",
		"/status/default/suspension/0", "/status/default/suspension/x",
	} {
		r := ts.do("GET", path, "", nil)
		if r.Status != http.StatusNotFound || r.Header.Get("Content-Type") != "application/problem+json" {
			t.Errorf("GET %s: %d %s, want a 404 problem", path, r.Status, r.Header.Get("Content-Type"))
		}
	}
}

// A withdrawal through the API is in the list at once; a time-derived
// suspension is in it within the ttl; a presented token of the withdrawn
// certificate is invalid with the revocation check failing.
func TestStatusListFollowsChanges(t *testing.T) {
	// Ten seconds before o's first surveillance window closes.
	clk := &listClock{t: time.Date(2027, 3, 4, 23, 59, 50, 0, beijing)}
	ttl := time.Minute
	ts := startServer(t, "", withClock(clk.Now), withStatusTTL(ttl))
	a := ts.issueFrom(t, "")
	o := ts.issueFrom(t, "2026-03-05")
	_, ai := ts.position(t, a)
	_, oi := ts.position(t, o)

	rev, _ := ts.fetchList(t, "default", "revocation", 1)
	susp, suspResp := ts.fetchList(t, "default", "suspension", 1)
	if rev.bit(ai) || susp.bit(oi) {
		t.Fatal("bits set before anything happened")
	}
	v := ts.do("POST", "/api/v1/verify", "", map[string]any{"credential": a["credential"]}).JSON(t)
	if v["verdict"] != "valid" || !strings.Contains(checkDetail(v, "revocation"), "not set in the revocation list") {
		t.Fatalf("token of a before withdrawal: %v %v", v["verdict"], v["checks"])
	}

	ts.act(t, a["id"].(string), "withdraw", map[string]any{"reason": "certificate obtained by fraud"}, http.StatusOK)
	rev, _ = ts.fetchList(t, "default", "revocation", 1)
	if !rev.bit(ai) {
		t.Error("the withdrawal is not in the revocation list at once")
	}
	// The suspension list did not change: same signature, same tag.
	if _, r := ts.fetchList(t, "default", "suspension", 1); r.Header.Get("ETag") != suspResp.Header.Get("ETag") {
		t.Error("the suspension list was signed again though its bits did not change")
	}
	v = ts.do("POST", "/api/v1/verify", "", map[string]any{"credential": a["credential"]}).JSON(t)
	if v["verdict"] != "invalid" || checks(v)["revocation"] || !strings.Contains(checkDetail(v, "revocation"), "set in the revocation list") {
		t.Errorf("token of the withdrawn certificate: verdict %v, checks %v; want invalid with the revocation check failing on the list", v["verdict"], v["checks"])
	}

	// The window closes at midnight; within a ttl the list shows it.
	clk.Set(time.Date(2027, 3, 5, 0, 0, 0, 0, beijing).Add(ttl))
	susp, _ = ts.fetchList(t, "default", "suspension", 1)
	if !susp.bit(oi) {
		t.Errorf("the suspension of o (window closed %s ago) is not in the list", ttl)
	}
	v = ts.do("POST", "/api/v1/verify", "", map[string]any{"credential": o["credential"]}).JSON(t)
	if v["verdict"] != "invalid" || checks(v)["suspension"] {
		t.Errorf("token of o: verdict %v, checks %v; want invalid with the suspension check failing", v["verdict"], v["checks"])
	}
}

// failingLists is a status list that cannot be read.
type failingLists struct{}

func (failingLists) Bit(context.Context, string, string, int, int) (bool, error) {
	return false, cert.ErrUnavailable
}

// A presented token whose status list cannot be read is never valid.
func TestPresentedTokenWithoutStatusListIsUnknown(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issueFrom(t, "")
	schemes, err := loadSchemes("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name  string
		lists verifier.StatusLists
		want  string
	}{
		{"ok/lists-readable", ts.m.StatusLists, cert.VerdictValid},
		{"fail/lists-unavailable", failingLists{}, cert.VerdictUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := verifier.New(verifier.Config{Store: ts.m.store, Keys: ts.m.Keys, Schemes: schemes, PublicURL: ts.m.PublicURL(), StatusLists: tc.lists})
			vd := v.ByToken(context.Background(), c["credential"].(string))
			if vd.Verdict != tc.want {
				t.Errorf("verdict %s, want %s: %+v", vd.Verdict, tc.want, vd.Checks)
			}
		})
	}
}
