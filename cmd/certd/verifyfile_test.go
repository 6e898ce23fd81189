package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/pdfattach/pdfattachtest"
)

// certificatePDF downloads the PDF certd serves for certificate id.
func (ts *testServer) certificatePDF(t testing.TB, id string) []byte {
	t.Helper()
	if _, err := os.Stat("/usr/share/fonts/truetype/arphic-gbsn00lp/gbsn00lp.ttf"); err != nil {
		requireTool(t, "fonts-arphic-gbsn00lp (font file)")
	}
	r := ts.do("GET", "/v/"+id+"/certificate.pdf", "", nil)
	if r.Status != 200 || !bytes.HasPrefix(r.Body, []byte("%PDF-")) {
		t.Fatalf("certificate.pdf: %d %s", r.Status, r.Body)
	}
	return r.Body
}

// uploadFile posts file as the multipart part "file" to path.
func (ts *testServer) uploadFile(t testing.TB, path, accept string, file []byte) response {
	t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	w, err := mw.CreateFormFile("file", "certificate.pdf")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = w.Write(file)
	_ = mw.Close()
	return ts.do("POST", path, "", body.Bytes(), "Content-Type", mw.FormDataContentType(), "Accept", accept, "Accept-Language", "en")
}

// resave runs a PDF through qpdf with args, as a viewer re-saving it would.
func resave(t testing.TB, pdf []byte, args ...string) []byte {
	t.Helper()
	requireTool(t, "qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("qpdf", append(args, in, out)...).CombinedOutput(); err != nil {
		t.Fatalf("qpdf %v: %v %s", args, err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pagesOnly copies the pages of pdf into a new document (qpdf --empty
// --pages), which leaves the attachments behind, as printing does.
func pagesOnly(t testing.TB, pdf []byte) []byte {
	t.Helper()
	requireTool(t, "qpdf")
	dir := t.TempDir()
	in, out := filepath.Join(dir, "in.pdf"), filepath.Join(dir, "out.pdf")
	if err := os.WriteFile(in, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	if b, err := exec.Command("qpdf", "--empty", "--pages", in, "1-z", "--", out).CombinedOutput(); err != nil {
		t.Fatalf("qpdf --empty --pages: %v %s", err, b)
	}
	b, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// The certificate PDF certd serves verifies through "verify a file", also
// after a viewer re-saved it; a changed or foreign credential, a file
// without credential and an oversized upload get clear answers.
func TestVerifyFileWithRealPDFs(t *testing.T) {
	const public = "https://verify.example.cn"
	ts := startServer(t, "", withPublicURL(public), withRateLimit(5000))
	c := ts.issue(t, "default")
	pdf := ts.certificatePDF(t, c["id"].(string))
	// Another deployment with the same public URL and issuer id, but its
	// own keys: its credential names our issuer and is still not ours.
	other := startServer(t, "", withPublicURL(public), withRateLimit(5000))
	foreign := other.issue(t, "default")["credential"].(string)
	tampered := strings.Replace(c["credential"].(string), ".", ".e", 1)

	random := make([]byte, 64<<10)
	_, _ = rand.Read(random)
	cases := []struct {
		name    string
		file    func(t *testing.T) []byte
		status  int
		verdict string
		page    string
	}{
		{"valid/as served", func(*testing.T) []byte { return pdf }, 200, "valid", c["number"].(string)},
		{"valid/qpdf object streams", func(t *testing.T) []byte { return resave(t, pdf, "--object-streams=generate") }, 200, "valid", c["number"].(string)},
		{"valid/qpdf qdf", func(t *testing.T) []byte { return resave(t, pdf, "--qdf") }, 200, "valid", c["number"].(string)},
		{"valid/qpdf linearized", func(t *testing.T) []byte { return resave(t, pdf, "--linearize") }, 200, "valid", c["number"].(string)},
		{"valid/qpdf object streams, linearized", func(t *testing.T) []byte {
			return resave(t, pdf, "--object-streams=generate", "--linearize")
		}, 200, "valid", c["number"].(string)},
		{"valid/an incremental update that re-attaches the same credential", func(*testing.T) []byte {
			return pdfattachtest.Replace(pdf, c["credential"].(string), true)
		}, 200, "valid", c["number"].(string)},
		{"invalid/another deployment's credential attached", func(*testing.T) []byte {
			return pdfattachtest.Replace(pdf, foreign, false)
		}, 200, "invalid", "The credential is not genuine"},
		{"invalid/tampered credential attached, object streams", func(t *testing.T) []byte {
			return resave(t, pdfattachtest.Replace(pdf, tampered, true), "--object-streams=generate")
		}, 200, "invalid", "The credential is not genuine"},
		{"none/pages copied into a new PDF", func(t *testing.T) []byte { return pagesOnly(t, pdf) }, 422, "urn:certd:problem:no-credential", "This file carries no certd credential"},
		{"none/random binary", func(*testing.T) []byte { return random }, 422, "urn:certd:problem:no-credential", "This file carries no certd credential"},
		{"too large/17 MiB", func(*testing.T) []byte { return append(bytes.Clone(pdf), bytes.Repeat([]byte{' '}, 17<<20)...) }, 413, "urn:certd:problem:body-too-large", "File too large"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			file := tc.file(t)
			r := ts.uploadFile(t, "/api/v1/verify/file", "application/json", file)
			v := r.JSON(t)
			got, _ := v["verdict"].(string)
			if got == "" {
				got, _ = v["type"].(string)
			}
			if r.Status != tc.status || got != tc.verdict {
				t.Errorf("POST /api/v1/verify/file: %d %s, want %d %s: %s", r.Status, got, tc.status, tc.verdict, r.Body)
			}
			r = ts.uploadFile(t, "/verify", "text/html", file)
			if r.Status != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") || !strings.Contains(string(r.Body), tc.page) {
				t.Errorf("POST /verify: %d %s, want %d with %q", r.Status, r.Header.Get("Content-Type"), tc.status, tc.page)
			}
		})
	}
}

// A person uploads the certificate PDF through the form of /verify in
// Chromium with JavaScript switched off, and sees the verdict.
func TestVerifyFileFormInBrowser(t *testing.T) {
	chromium := requireTool(t, "chromium")
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	dir := t.TempDir()
	genuine := filepath.Join(dir, "certificate.pdf")
	if err := os.WriteFile(genuine, resave(t, ts.certificatePDF(t, c["id"].(string)), "--object-streams=generate"), 0o600); err != nil {
		t.Fatal(err)
	}
	forged := filepath.Join(dir, "forged.pdf")
	tampered := strings.Replace(c["credential"].(string), ".", ".e", 1)
	if err := os.WriteFile(forged, pdfattachtest.Replace(ts.certificatePDF(t, c["id"].(string)), tampered, true), 0o600); err != nil {
		t.Fatal(err)
	}
	shots := t.ArtifactDir()
	for _, tc := range []struct {
		name, file, want string
	}{
		{"genuine", genuine, "Certificate verification result"},
		{"forged", forged, "The credential is not genuine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
			defer cancel()
			b := startBrowser(ctx, t, chromium, 390, 844, true)
			if err := b.call(ctx, b.session, "Emulation.setScriptExecutionDisabled", map[string]any{"value": true}, nil); err != nil {
				t.Fatal(err)
			}
			if err := b.navigate(ctx, ts.URL+"/verify?lang=en"); err != nil {
				t.Fatal(err)
			}
			if err := b.setFile(ctx, "input[type=file]", tc.file); err != nil {
				t.Fatal(err)
			}
			before, err := b.outerHTML(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if err := b.click(ctx, "form.upload button[type=submit]"); err != nil {
				t.Fatal(err)
			}
			html, err := b.waitFor(ctx, func(html string) bool { return html != before && strings.Contains(html, "</footer>") })
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(html, tc.want) {
				t.Errorf("after submitting %s the page lacks %q:\n%.2000s", tc.name, tc.want, html)
			}
			if tc.name == "genuine" && !strings.Contains(html, c["number"].(string)) {
				t.Errorf("the verification page lacks the certificate number %s", c["number"])
			}
			if img, err := b.screenshot(ctx, 390, 0); err == nil {
				_ = os.WriteFile(filepath.Join(shots, "verify-file-"+tc.name+".png"), img, 0o600)
			}
		})
	}
}

// The form page and the error pages fit a 320 px wide phone: no
// horizontal scrolling.
func TestVerifyFilePagesFitNarrowScreens(t *testing.T) {
	chromium := requireTool(t, "chromium")
	ts := startServer(t, "")
	shots := t.ArtifactDir()
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	b := startBrowser(ctx, t, chromium, 320, 640, true)
	for _, page := range []struct{ name, path string }{
		{"form-zh", "/verify?lang=zh-CN"}, {"form-en", "/verify?lang=en"},
		{"404-zh", "/no/such/page?lang=zh-CN"}, {"404-en", "/no/such/page?lang=en"},
	} {
		if err := b.open(ctx, ts.URL+page.path); err != nil {
			t.Fatal(err)
		}
		var width struct{ Scroll, Inner float64 }
		var raw string
		if err := b.eval(ctx, `JSON.stringify({Scroll: document.documentElement.scrollWidth, Inner: window.innerWidth})`, &raw); err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal([]byte(raw), &width); err != nil {
			t.Fatal(err)
		}
		if width.Scroll > width.Inner || width.Inner != 320 {
			t.Errorf("%s: page %v px wide in a %v px viewport", page.name, width.Scroll, width.Inner)
		}
		if img, err := b.screenshot(ctx, 320, 0); err == nil {
			_ = os.WriteFile(filepath.Join(shots, "verify-file-"+page.name+"-320.png"), img, 0o600)
		}
	}
}

// The DevTools calls below work with the page's scripts disabled: they
// use the DOM and Input domains, as a person's clicks do, never
// JavaScript.

// navigate loads url and waits until the upload form is there.
func (b *browser) navigate(ctx context.Context, url string) error {
	var nav struct{ ErrorText string }
	if err := b.call(ctx, b.session, "Page.navigate", map[string]any{"url": url}, &nav); err != nil {
		return err
	}
	if nav.ErrorText != "" {
		return fmt.Errorf("navigate to %s: %s", url, nav.ErrorText)
	}
	_, err := b.waitFor(ctx, func(html string) bool {
		return strings.Contains(html, "</footer>") && strings.Contains(html, `type="file"`)
	})
	return err
}

// outerHTML returns the document's markup as the browser holds it.
func (b *browser) outerHTML(ctx context.Context) (string, error) {
	root, err := b.rootNode(ctx)
	if err != nil {
		return "", err
	}
	var out struct{ OuterHTML string }
	err = b.call(ctx, b.session, "DOM.getOuterHTML", map[string]any{"nodeId": root}, &out)
	return out.OuterHTML, err
}

func (b *browser) rootNode(ctx context.Context) (int, error) {
	var doc struct {
		Root struct {
			NodeID int `json:"nodeId"`
		}
	}
	err := b.call(ctx, b.session, "DOM.getDocument", map[string]any{"depth": 0}, &doc)
	return doc.Root.NodeID, err
}

func (b *browser) query(ctx context.Context, selector string) (int, error) {
	root, err := b.rootNode(ctx)
	if err != nil {
		return 0, err
	}
	var n struct {
		NodeID int `json:"nodeId"`
	}
	if err := b.call(ctx, b.session, "DOM.querySelector", map[string]any{"nodeId": root, "selector": selector}, &n); err != nil {
		return 0, err
	}
	if n.NodeID == 0 {
		return 0, fmt.Errorf("no element matches %s", selector)
	}
	return n.NodeID, nil
}

// setFile chooses path in the file input selector.
func (b *browser) setFile(ctx context.Context, selector, path string) error {
	n, err := b.query(ctx, selector)
	if err != nil {
		return err
	}
	return b.call(ctx, b.session, "DOM.setFileInputFiles", map[string]any{"nodeId": n, "files": []string{path}}, nil)
}

// click presses and releases the mouse on the middle of selector.
func (b *browser) click(ctx context.Context, selector string) error {
	n, err := b.query(ctx, selector)
	if err != nil {
		return err
	}
	_ = b.call(ctx, b.session, "DOM.scrollIntoViewIfNeeded", map[string]any{"nodeId": n}, nil)
	var box struct {
		Model struct {
			Content []float64 `json:"content"`
		} `json:"model"`
	}
	if err := b.call(ctx, b.session, "DOM.getBoxModel", map[string]any{"nodeId": n}, &box); err != nil {
		return err
	}
	q := box.Model.Content
	if len(q) != 8 {
		return fmt.Errorf("%s has no box", selector)
	}
	x, y := (q[0]+q[4])/2, (q[1]+q[5])/2
	for _, typ := range []string{"mouseMoved", "mousePressed", "mouseReleased"} {
		if err := b.call(ctx, b.session, "Input.dispatchMouseEvent", map[string]any{
			"type": typ, "x": x, "y": y, "button": "left", "clickCount": 1,
		}, nil); err != nil {
			return err
		}
	}
	return nil
}

// waitFor polls the document until done accepts its markup (or ctx ends).
func (b *browser) waitFor(ctx context.Context, done func(html string) bool) (string, error) {
	for {
		html, err := b.outerHTML(ctx)
		if err == nil && done(html) {
			return html, nil
		}
		select {
		case <-ctx.Done():
			return html, fmt.Errorf("waiting for the page: %w (last error %v)", ctx.Err(), err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// Over the wire, HEAD answers the public pages and files with the status
// and headers of GET and no body.
func TestHEADOverHTTP(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)
	ts.certificatePDF(t, id) // skips without the font
	for _, path := range []string{"/", "/search", "/verify", "/v/" + id, "/v/" + id + "/qr.png", "/v/" + id + "/qr.svg",
		"/v/" + id + "/credential.jwt", "/v/" + id + "/certificate.pdf", "/no/such/page"} {
		get := ts.do("GET", path, "", nil, "Accept", "text/html")
		head := ts.do("HEAD", path, "", nil, "Accept", "text/html")
		if head.Status != get.Status || len(head.Body) != 0 {
			t.Errorf("HEAD %s: %d with %d body bytes; GET: %d", path, head.Status, len(head.Body), get.Status)
		}
		for _, h := range []string{"Content-Type", "Cache-Control", "Content-Language", "ETag"} {
			if head.Header.Get(h) != get.Header.Get(h) {
				t.Errorf("HEAD %s: %s %q; GET: %q", path, h, head.Header.Get(h), get.Header.Get(h))
			}
		}
		if n := head.Header.Get("Content-Length"); n != "" && n != fmt.Sprint(len(get.Body)) {
			t.Errorf("HEAD %s: Content-Length %s; GET body: %d bytes", path, n, len(get.Body))
		}
	}
}
