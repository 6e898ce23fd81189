package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"image/png"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/templates"
)

type problemDoc struct {
	Type   string
	Status int
	Detail string
	Errors []cert.FieldError
}

func decodeProblem(t testing.TB, rec *httptest.ResponseRecorder) problemDoc {
	t.Helper()
	var p problemDoc
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("not a problem document (%d): %s", rec.Code, rec.Body)
	}
	return p
}

// withFakePDF gives the server a font and a PDF renderer that counts its
// calls and answers with render.
func withFakePDF(srv *api.Server, render func(templates.CertificateDoc) ([]byte, error)) *atomic.Int64 {
	var calls atomic.Int64
	srv.SetRenderPDF(func(d templates.CertificateDoc, _ templates.Fonts) ([]byte, error) {
		calls.Add(1)
		return render(d)
	})
	return &calls
}

func withFont(cfg *api.Config) {
	fonts := templates.NewFonts(templates.Font{Path: "test.ttf"})
	cfg.Fonts = &fonts
}

// QR code PNGs come in a few sizes; any other size is refused with a
// problem naming the field and the sizes offered.
func TestQRSizesFromFixedSet(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	for _, size := range []int{128, 256, 512, 1024} {
		rec := a.get(fmt.Sprintf("/v/%s/qr.png?size=%d", c.ID, size))
		if rec.Code != http.StatusOK {
			t.Errorf("size %d: %d %s", size, rec.Code, rec.Body)
			continue
		}
		img, err := png.Decode(bytes.NewReader(rec.Body.Bytes()))
		if err != nil {
			t.Fatalf("size %d: %v", size, err)
		}
		if w := img.Bounds().Dx(); w > size || w < size*3/4 {
			t.Errorf("size %d: image is %d pixels wide", size, w)
		}
	}
	if rec := a.get("/v/" + c.ID + "/qr.png"); rec.Code != http.StatusOK {
		t.Errorf("default size: %d", rec.Code)
	}
	for _, q := range []string{"2048", "64", "100", "513", "4096", "0", "-512", "abc", "512.0"} {
		rec := a.get("/v/" + c.ID + "/qr.png?size=" + q)
		p := decodeProblem(t, rec)
		if rec.Code != http.StatusUnprocessableEntity || len(p.Errors) != 1 || p.Errors[0].Field != "size" ||
			!strings.Contains(p.Errors[0].Message, "128, 256, 512 or 1024") {
			t.Errorf("size=%s: %d %+v, want 422 naming size and the sizes offered", q, rec.Code, p)
		}
	}
}

// A client that asks for many renders exhausts its render budget (429 with
// Retry-After) long before its public budget: verification from the same
// address still answers, and so do the renders already cached.
func TestRenderBudgetSeparate(t *testing.T) {
	// A burst of one PDF, or five 1024-pixel QR codes, and next to no
	// refill while the test runs.
	a := newPageAPI(t, "https://verify.example.cn", 1e6, withFont, func(cfg *api.Config) { cfg.RenderRate = 0.001 })
	calls := withFakePDF(a.srv, func(templates.CertificateDoc) ([]byte, error) { return []byte("%PDF-1.7 test"), nil })
	var ids []string
	for range 8 {
		ids = append(ids, a.issue("北京示例科技有限公司", "", "91110108MA0123456G").ID)
	}
	limited := -1
	for i, id := range ids {
		rec := a.get("/v/" + id + "/qr.png?size=1024")
		if rec.Code == http.StatusTooManyRequests {
			if p := decodeProblem(t, rec); p.Type != "urn:certd:problem:render-rate-limited" || rec.Header().Get("Retry-After") == "" {
				t.Errorf("429 without its problem type or Retry-After: %+v %v", p, rec.Header())
			}
			limited = i
			break
		}
		if rec.Code != http.StatusOK {
			t.Fatalf("qr %d: %d %s", i, rec.Code, rec.Body)
		}
	}
	if limited < 0 {
		t.Fatalf("%d QR codes of 1024 pixels in a row were never limited", len(ids))
	}
	if rec := a.get("/v/" + ids[limited+1] + "/certificate.pdf"); rec.Code != http.StatusTooManyRequests || calls.Load() != 0 {
		t.Errorf("PDF with an exhausted render budget: %d, %d renders; want 429 and none", rec.Code, calls.Load())
	}
	for _, path := range []string{"/api/v1/verify/" + ids[0], "/v/" + ids[0], "/v/" + ids[0] + "/qr.png?size=1024"} {
		if rec := a.get(path); rec.Code != http.StatusOK {
			t.Errorf("%s from the same address after its render budget: %d, want 200", path, rec.Code)
		}
	}
	// Another address has its own budget.
	req := httptest.NewRequest(http.MethodGet, "/v/"+ids[len(ids)-1]+"/certificate.pdf", nil)
	req.RemoteAddr = "198.51.100.7:40000"
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK || calls.Load() != 1 {
		t.Errorf("PDF from another address: %d, %d renders", rec.Code, calls.Load())
	}
}

// A PDF render that fails is remembered for the certificate's version: the
// next request answers the same problem without rendering or logging again,
// and a new version renders afresh.
func TestPDFRenderFailureRemembered(t *testing.T) {
	for _, tc := range []struct {
		name   string
		err    error
		status int
		typ    string
	}{
		{"font coverage", fmt.Errorf("render: %w: U+20AC", templates.ErrFontCoverage), http.StatusServiceUnavailable, "urn:certd:problem:pdf-font-coverage"},
		{"other", errors.New("layout overflow"), http.StatusInternalServerError, "urn:certd:problem:internal"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			logs := &bytes.Buffer{}
			var mu sync.Mutex
			a := newPageAPI(t, "https://verify.example.cn", 1e6, withFont, func(cfg *api.Config) {
				cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
			})
			calls := withFakePDF(a.srv, func(templates.CertificateDoc) ([]byte, error) { return nil, tc.err })
			c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
			lines := func() int { mu.Lock(); defer mu.Unlock(); return strings.Count(logs.String(), "\n") }
			for i := range 5 {
				rec := a.get("/v/" + c.ID + "/certificate.pdf")
				if p := decodeProblem(t, rec); rec.Code != tc.status || p.Type != tc.typ {
					t.Fatalf("request %d: %d %+v, want %d %s", i, rec.Code, p, tc.status, tc.typ)
				}
			}
			if calls.Load() != 1 || lines() != 1 {
				t.Errorf("5 requests for a PDF that cannot be rendered: %d renders, %d log lines; want 1 and 1\n%s", calls.Load(), lines(), logs)
			}
			if _, err := a.svc.Act(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}, c.ID, "suspend", issuer.ActionRequest{Reason: "客户申请"}, 0); err != nil {
				t.Fatal(err)
			}
			a.get("/v/" + c.ID + "/certificate.pdf")
			if calls.Load() != 2 {
				t.Errorf("a new version of the certificate: %d renders in all, want 2", calls.Load())
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// Renders run a bounded number at a time: one more waits briefly, then is
// refused with 503 and Retry-After, without a warning in the log for each;
// the verification still answers.
func TestRenderConcurrencyBounded(t *testing.T) {
	logs := &bytes.Buffer{}
	var mu sync.Mutex
	a := newPageAPI(t, "https://verify.example.cn", 1e6, withFont, func(cfg *api.Config) {
		cfg.Logger = slog.New(slog.NewTextHandler(lockedWriter{&mu, logs}, &slog.HandlerOptions{Level: slog.LevelInfo}))
		cfg.RenderConcurrency = 1
		cfg.RenderWait = 20 * time.Millisecond
	})
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	calls := withFakePDF(a.srv, func(templates.CertificateDoc) ([]byte, error) {
		once.Do(func() { close(started) })
		<-release
		return []byte("%PDF-1.7 test"), nil
	})
	first := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	second := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	done := make(chan int)
	go func() {
		req := httptest.NewRequest(http.MethodGet, "/v/"+first.ID+"/certificate.pdf", nil)
		req.RemoteAddr = "198.51.100.7:40000"
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		done <- rec.Code
	}()
	<-started
	for _, path := range []string{"/v/" + second.ID + "/certificate.pdf", "/v/" + second.ID + "/qr.png?size=256", "/v/" + second.ID + "/qr.svg"} {
		rec := a.get(path)
		if p := decodeProblem(t, rec); rec.Code != http.StatusServiceUnavailable || p.Type != "urn:certd:problem:render-busy" || rec.Header().Get("Retry-After") == "" {
			t.Errorf("%s while the render slot is taken: %d %+v Retry-After %q", path, rec.Code, p, rec.Header().Get("Retry-After"))
		}
	}
	if rec := a.get("/api/v1/verify/" + second.ID); rec.Code != http.StatusOK {
		t.Errorf("verify while the render slot is taken: %d", rec.Code)
	}
	mu.Lock()
	if logs.Len() > 0 {
		t.Errorf("renders refused for want of a slot were logged:\n%s", logs)
	}
	mu.Unlock()
	close(release)
	if code := <-done; code != http.StatusOK {
		t.Errorf("the render that held the slot: %d", code)
	}
	if rec := a.get("/v/" + second.ID + "/certificate.pdf"); rec.Code != http.StatusOK || calls.Load() != 2 {
		t.Errorf("after the slot is free: %d, %d renders", rec.Code, calls.Load())
	}
}
