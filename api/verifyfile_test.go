package api_test

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certd/certd/pdfattach/pdfattachtest"
)

// basePDF is a PDF of one empty page tree (object 1, where
// pdfattachtest.Replace expects it) without attachments.
const basePDF = "%PDF-1.4\n1 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n2 0 obj\n<< /Type /Catalog /Pages 1 0 R >>\nendobj\n" +
	"xref\n0 3\n0000000000 65535 f \n0000000009 00000 n \n0000000058 00000 n \ntrailer\n<< /Size 3 /Root 2 0 R >>\nstartxref\n107\n%%EOF\n"

// pdfWith is a PDF whose credential.jwt attachment holds token.
func pdfWith(token string, objStm bool) []byte {
	return pdfattachtest.Replace([]byte(basePDF), token, objStm)
}

// upload posts a multipart body with the given parts (name, filename,
// content; a part without filename is a form field) to path.
func (a *pageAPI) upload(path, accept string, parts ...[3]string) *httptest.ResponseRecorder {
	a.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, p := range parts {
		var w io.Writer
		var err error
		if p[1] != "" {
			w, err = mw.CreateFormFile(p[0], p[1])
		} else {
			w, err = mw.CreateFormField(p[0])
		}
		if err != nil {
			a.t.Fatal(err)
		}
		_, _ = io.WriteString(w, p[2])
	}
	_ = mw.Close()
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.RemoteAddr = "192.0.2.20:40000"
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept", accept)
	req.Header.Set("Accept-Language", "en")
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}

const browserAccept = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"

func verdictOf(t testing.TB, rec *httptest.ResponseRecorder) map[string]any {
	t.Helper()
	var v map[string]any
	if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
		t.Fatalf("not JSON (%d %s): %s", rec.Code, rec.Header().Get("Content-Type"), rec.Body)
	}
	return v
}

func TestVerifyFile(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456G")
	other := newPageAPI(t, "https://verify.example.cn", 1e6)
	foreign := other.issue("北京示例科技有限公司", "Beijing Example Technology Co., Ltd.", "91110108MA0123456G").Credential
	parts := strings.Split(c.Credential, ".")
	tampered := parts[0] + "." + strings.TrimRight(parts[1], "A") + "A." + parts[2]
	if tampered == c.Credential {
		tampered = parts[0] + "." + parts[1] + "B." + parts[2]
	}
	random := make([]byte, 4096)
	_, _ = rand.Read(random)

	cases := []struct {
		name  string
		parts [][3]string
		// HTML: status and a text of the page; JSON: status and verdict
		// (or problem type).
		page     int
		pageText string
		api      int
		verdict  string
	}{
		{"valid/pdf", [][3]string{{"file", "certificate.pdf", string(pdfWith(c.Credential, false))}}, 200, c.Number, 200, "valid"},
		{"valid/pdf with object streams", [][3]string{{"file", "certificate.pdf", string(pdfWith(c.Credential, true))}}, 200, c.Number, 200, "valid"},
		{"valid/jwt file", [][3]string{{"file", "credential.jwt", c.Credential + "\n"}}, 200, c.Number, 200, "valid"},
		{"valid/pasted token, empty file input", [][3]string{{"file", "x", ""}, {"token", "", " " + c.Credential + " "}}, 200, c.Number, 200, "valid"},
		{"invalid/another issuer's token in the pdf", [][3]string{{"file", "certificate.pdf", string(pdfWith(foreign, false))}}, 200, "The credential is not genuine", 200, "invalid"},
		{"invalid/tampered token in the pdf", [][3]string{{"file", "certificate.pdf", string(pdfWith(tampered, true))}}, 200, "The credential is not genuine", 200, "invalid"},
		{"none/pdf without attachment", [][3]string{{"file", "scan.pdf", basePDF}}, 422, "This file carries no certd credential", 422, "urn:certd:problem:no-credential"},
		{"none/random binary", [][3]string{{"file", "photo.bin", string(random)}}, 422, "This file carries no certd credential", 422, "urn:certd:problem:no-credential"},
		{"none/nothing chosen", [][3]string{{"file", "x", ""}, {"token", "", ""}}, 422, "The request could not be handled", 422, "urn:certd:problem:invalid-input"},
		{"too large/17 MiB", [][3]string{{"file", "big.pdf", "%PDF-1.4\n" + strings.Repeat("x", 17<<20)}}, 413, "File too large", 413, "urn:certd:problem:body-too-large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := a.upload("/verify", browserAccept, tc.parts...)
			if rec.Code != tc.page || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") || !strings.Contains(rec.Body.String(), tc.pageText) {
				t.Errorf("POST /verify: %d %s, want %d with %q:\n%.600s", rec.Code, rec.Header().Get("Content-Type"), tc.page, tc.pageText, rec.Body)
			}
			rec = a.upload("/api/v1/verify/file", "application/json", tc.parts...)
			v := verdictOf(t, rec)
			got, _ := v["verdict"].(string)
			if got == "" {
				got, _ = v["type"].(string)
			}
			if rec.Code != tc.api || got != tc.verdict {
				t.Errorf("POST /api/v1/verify/file: %d %v, want %d %s: %s", rec.Code, got, tc.api, tc.verdict, rec.Body)
			}
		})
	}

	t.Run("refused/not multipart", func(t *testing.T) {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/verify/file", strings.NewReader(c.Credential))
		req.Header.Set("Content-Type", "application/vc+jwt")
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		if v := verdictOf(t, rec); rec.Code != 415 || v["type"] != "urn:certd:problem:unsupported-media-type" {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("refused/declared length over the limit, before reading", func(t *testing.T) {
		// The body is never read: a reader that fails proves it.
		req := httptest.NewRequest(http.MethodPost, "/api/v1/verify/file", failingReader{})
		req.ContentLength = 17 << 20
		req.Header.Set("Content-Type", "multipart/form-data; boundary=x")
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		if rec.Code != 413 {
			t.Errorf("%d %s", rec.Code, rec.Body)
		}
	})
	t.Run("form/the page posts the file", func(t *testing.T) {
		rec := a.get("/verify?lang=en", "Accept", browserAccept)
		body := rec.Body.String()
		for _, want := range []string{`method="post"`, `enctype="multipart/form-data"`, `action="/verify?lang=en"`, `type="file"`, `name="file"`, `name="token"`} {
			if rec.Code != 200 || !strings.Contains(body, want) {
				t.Errorf("GET /verify: %d, lacks %s", rec.Code, want)
			}
		}
		if strings.Contains(body, "<script") {
			t.Error("the page has a script")
		}
	})
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, io.ErrUnexpectedEOF }

// Verifying a file has a stricter budget than the other public routes: a
// burst that the common budget allows is cut short on the file routes.
func TestVerifyFileRateLimited(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 50)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	for _, path := range []string{"/verify", "/api/v1/verify/file"} {
		limited := false
		for range 10 {
			rec := a.upload(path, "application/json", [3]string{"file", "credential.jwt", c.Credential})
			if rec.Code == http.StatusTooManyRequests {
				limited = rec.Header().Get("Retry-After") != ""
				break
			}
		}
		if !limited {
			t.Errorf("POST %s: 10 uploads in a row were never limited", path)
		}
	}
	for range 10 {
		if rec := a.get("/verify"); rec.Code != http.StatusOK {
			t.Fatalf("GET /verify within the common budget: %d", rec.Code)
		}
	}
}
