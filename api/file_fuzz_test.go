package api_test

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"testing"
)

// FuzzVerifyFile: whatever an upload holds (a multipart body as a browser
// or a script sends it, or bytes that only claim to be one; a PDF, a .jwt
// file or a pasted token), the file routes answer with a verdict, a page
// or a problem: never a 5xx, never a panic. The parts of a genuine upload
// are the seeds.
func FuzzVerifyFile(f *testing.F) {
	a := newTestAPI(f, "2026-11-27")
	c := a.issue("itss")
	genuine := pdfWith(c.Credential, false)
	if rec := a.sendUpload(f, "/api/v1/verify/file", genuine, "", false); rec.Code != http.StatusOK || !bytes.Contains(rec.Body.Bytes(), []byte(`"verdict":"valid"`)) {
		f.Fatalf("the certificate PDF: HTTP %d %s", rec.Code, rec.Body.Bytes())
	}
	f.Add(genuine, "", false, uint8(0))
	f.Add(pdfWith(c.Credential, true), "", false, uint8(1))
	f.Add([]byte(c.Credential), "", false, uint8(0))
	f.Add([]byte{}, c.Credential, false, uint8(1))
	f.Add(pdfWith(c.Credential[:len(c.Credential)-2], false), "x", false, uint8(0))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.pdf\"\r\n\r\n%PDF-1.7\r\n--B--\r\n"), "", true, uint8(0))
	f.Add([]byte("--B\r\nContent-Disposition: form-data; name=\"token\"\r\n\r\n"+c.Credential+"\r\n--B"), "", true, uint8(1))
	f.Add([]byte("--B\r\n\r\n--B--"), "", true, uint8(0))
	f.Fuzz(func(t *testing.T, file []byte, token string, raw bool, route uint8) {
		path := []string{"/api/v1/verify/file", "/verify"}[route%2]
		rec := a.sendUpload(t, path, file, token, raw)
		if rec.Code >= 500 {
			t.Fatalf("POST %s: HTTP %d %s", path, rec.Code, rec.Body.Bytes())
		}
		if path == "/api/v1/verify/file" && !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("POST %s: HTTP %d body is not JSON: %q", path, rec.Code, rec.Body.Bytes())
		}
	})
}

// sendUpload posts file and token as multipart/form-data, or file as the
// whole body under a multipart Content-Type when raw.
func (a *testAPI) sendUpload(t testing.TB, path string, file []byte, token string, raw bool) *httptest.ResponseRecorder {
	t.Helper()
	var body bytes.Buffer
	ct := "multipart/form-data; boundary=B"
	if raw {
		body.Write(file)
	} else {
		mw := multipart.NewWriter(&body)
		if len(file) > 0 {
			w, err := mw.CreateFormFile("file", "certificate.pdf")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = w.Write(file)
		}
		if token != "" {
			w, err := mw.CreateFormField("token")
			if err != nil {
				t.Fatal(err)
			}
			_, _ = io.WriteString(w, token)
		}
		_ = mw.Close()
		ct = mw.FormDataContentType()
	}
	req := httptest.NewRequest(http.MethodPost, path, &body)
	req.RemoteAddr = "192.0.2.10:40000"
	req.Header.Set("Content-Type", ct)
	rec := httptest.NewRecorder()
	a.srv.ServeHTTP(rec, req)
	return rec
}
