package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"image/png"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	"github.com/makiuchi-d/gozxing/qrcode"
)

func TestIdempotencyKey(t *testing.T) {
	ts := startServer(t, "")
	body := sampleCertificate("default", testUSCC)
	first := ts.do("POST", "/api/v1/certificates", ts.Admin, body, "Idempotency-Key", "audit-2026-0042")
	again := ts.do("POST", "/api/v1/certificates", ts.Admin, body, "Idempotency-Key", "audit-2026-0042")
	if first.Status != 201 || again.Status != 201 {
		t.Fatalf("statuses %d, %d; want 201, 201", first.Status, again.Status)
	}
	a, b := first.JSON(t), again.JSON(t)
	if a["id"] != b["id"] || a["number"] != b["number"] || a["credential"] != b["credential"] {
		t.Errorf("retry created another certificate: %v vs %v", a["id"], b["id"])
	}
	if again.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replayed response lacks Idempotent-Replayed")
	}
	other := sampleCertificate("default", testUSCC)
	other["level"] = 2
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, other, "Idempotency-Key", "audit-2026-0042")
	if r.Status != 422 || r.Header.Get("Content-Type") != "application/problem+json" {
		t.Errorf("same key, other body: %d %s, want 422 problem", r.Status, r.Body)
	}

	// Concurrent retries with one key create one certificate.
	var wg sync.WaitGroup
	ids := make([]string, 20)
	for i := range ids {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r := ts.do("POST", "/api/v1/certificates", ts.Admin, body, "Idempotency-Key", "concurrent-key")
			if r.Status == 201 {
				var c struct{ ID string }
				_ = json.Unmarshal(r.Body, &c)
				ids[i] = c.ID
			}
		}()
	}
	wg.Wait()
	for i, id := range ids {
		if id == "" || id != ids[0] {
			t.Fatalf("concurrent retry %d got %q, first got %q", i, id, ids[0])
		}
	}
	var page struct{ Items []any }
	_ = json.Unmarshal(ts.do("GET", "/api/v1/certificates", ts.Admin, nil).Body, &page)
	if len(page.Items) != 2 {
		t.Errorf("%d certificates stored, want 2", len(page.Items))
	}
}

func TestBatchIssuing(t *testing.T) {
	ts := startServer(t, "")
	bad := sampleCertificate("default", "91110108MA01234567")
	items := []any{sampleCertificate("default", testUSCC), bad, sampleCertificate("default", testUSCC)}
	dup := sampleCertificate("default", testUSCC)
	dup["number"] = "CB-FIXED-1"
	items = append(items, dup, dup)
	r := ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": items})
	if r.Status != 200 {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	var out struct {
		Results []struct {
			Index       int
			Status      int
			Certificate *struct{ ID, Number string }
			Problem     *struct {
				Title  string
				Errors []struct{ Field string }
			}
		}
	}
	if err := json.Unmarshal(r.Body, &out); err != nil {
		t.Fatal(err)
	}
	want := []int{201, 422, 201, 201, 409}
	if len(out.Results) != len(want) {
		t.Fatalf("%d results, want %d", len(out.Results), len(want))
	}
	numbers := map[string]bool{}
	for i, res := range out.Results {
		if res.Index != i || res.Status != want[i] {
			t.Errorf("result %d: index %d status %d, want %d", i, res.Index, res.Status, want[i])
		}
		if res.Certificate != nil {
			if numbers[res.Certificate.Number] {
				t.Errorf("number %s twice", res.Certificate.Number)
			}
			numbers[res.Certificate.Number] = true
		}
	}
	if p := out.Results[1].Problem; p == nil || len(p.Errors) == 0 || p.Errors[0].Field != "certificates[1].organization.uscc" {
		t.Errorf("bad item problem does not name certificates[1].organization.uscc: %+v", p)
	}

	tooMany := make([]any, 1001)
	for i := range tooMany {
		tooMany[i] = sampleCertificate("default", testUSCC)
	}
	if r := ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": tooMany}); r.Status != 422 {
		t.Errorf("1001 items: %d, want 422", r.Status)
	}
}

func TestRequestIDs(t *testing.T) {
	ts := startServer(t, "")
	r := ts.do("GET", "/api/v1/certificates/X", "", nil, "X-Request-ID", "client-req-7")
	if got := r.Header.Get("X-Request-ID"); got != "client-req-7" {
		t.Errorf("short client request id not kept: %q", got)
	}
	if p := r.JSON(t); p["requestId"] != "client-req-7" {
		t.Errorf("problem requestId = %v", p["requestId"])
	}
	r = ts.do("GET", "/healthz", "", nil, "X-Request-ID", strings.Repeat("x", 200)+"\"<script>")
	if got := r.Header.Get("X-Request-ID"); got == "" || strings.Contains(got, "<") || len(got) > 64 {
		t.Errorf("unsafe client request id kept or none generated: %q", got)
	}
	if !strings.Contains(ts.Logs.String(), `"request_id":"client-req-7"`) {
		t.Errorf("logs do not carry the request id")
	}
}

// Public routes are limited per client IP taken from the connection; a
// forged X-Forwarded-For does not buy a fresh budget.
func TestRateLimitUsesConnectionIP(t *testing.T) {
	ts := startServer(t, "")
	limited := 0
	for i := 0; i < 400 && limited == 0; i++ {
		r := ts.do("GET", "/api/v1/verify/0000000000000000000000000Z", "", nil, "X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i%250))
		if r.Status == http.StatusTooManyRequests {
			limited++
			if r.Header.Get("Retry-After") == "" || r.Header.Get("Content-Type") != "application/problem+json" {
				t.Errorf("429 without Retry-After or problem document")
			}
		}
	}
	if limited == 0 {
		t.Fatalf("400 rapid requests with forged X-Forwarded-For were never limited")
	}
	if r := ts.do("GET", "/healthz", "", nil); r.Status != 200 {
		t.Errorf("healthz is rate limited: %d", r.Status)
	}
}

func TestQRCodeEncodesVerificationURL(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)
	r := ts.do("GET", "/v/"+id+"/qr.png", "", nil)
	if r.Status != 200 || r.Header.Get("Content-Type") != "image/png" {
		t.Fatalf("qr.png: %d %s", r.Status, r.Header.Get("Content-Type"))
	}
	img, err := png.Decode(bytes.NewReader(r.Body))
	if err != nil {
		t.Fatal(err)
	}
	bmp, _ := gozxing.NewBinaryBitmapFromImage(img)
	res, err := qrcode.NewQRCodeReader().Decode(bmp, map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true})
	if err != nil {
		t.Fatalf("decode QR: %v", err)
	}
	got := res.GetText()
	want := ts.m.PublicURL() + "/v/" + id
	if !strings.EqualFold(got, want) {
		t.Fatalf("QR holds %q, want %q", got, want)
	}
	// The URL as encoded (possibly upper-cased for the alphanumeric mode)
	// leads to the same certificate.
	path := got[strings.Index(strings.ToLower(got), "/v/"):]
	if v := ts.do("GET", path, "", nil, "Accept", "application/json").JSON(t); v["verdict"] != "valid" {
		t.Errorf("GET %s: %v", path, v["verdict"])
	}
	if r := ts.do("GET", "/v/0000000000000000000000000Z/qr.png", "", nil); r.Status != 404 {
		t.Errorf("QR of an unknown id: %d, want 404", r.Status)
	}
}
