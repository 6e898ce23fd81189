package main

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"github.com/certd/certd/accounts"
)

// withCheapPasswords makes argon2id cheap for tests; each hash records
// its parameters, so the code path is the production one.
func withCheapPasswords() serverOption {
	return func(m *Main) { m.PasswordParams = accounts.PasswordParams{Memory: 64, Time: 1, Threads: 1} }
}

// chrome starts headless Chromium through chromedp (killed at the end of
// the test) and returns a context for its first tab.
func chrome(t *testing.T) context.Context {
	t.Helper()
	path := requireTool(t, "chromium")
	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.Flag("user-data-dir", t.TempDir()), chromedp.WindowSize(1280, 900))
	actx, cancel := chromedp.NewExecAllocator(context.Background(), opts...)
	t.Cleanup(cancel)
	ctx, cancel2 := chromedp.NewContext(actx)
	t.Cleanup(cancel2)
	ctx, cancel3 := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(cancel3)
	if err := chromedp.Do(ctx, chromedp.Navigate("about:blank")); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx
}

// shoot saves screenshots of the current page at 1280 and 390 px wide.
func shoot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	for _, w := range []int64{1280, 390} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(w, 900)); err != nil {
			t.Fatal(err)
		}
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+"-"+map[int64]string{1280: "1280", 390: "390"}[w]+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := chromedp.Do(ctx, chromedp.EmulateViewport(1280, 900)); err != nil {
		t.Fatal(err)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func do(t *testing.T, ctx context.Context, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Evaluate[string]("document.body ? document.body.innerText : ''"))
		t.Fatalf("%v\nat %s:\n%.600s", err, loc, body)
	}
}

// TestConsoleInBrowser walks the clerk's day in headless Chromium: the
// first-start setup link, sign-in, dashboard, issuing through the form,
// the public page, a surveillance audit, a suspension, two tabs on one
// certificate, and sign-out. Screenshots of each page go to the test's
// artifact directory at 1280 and 390 px.
func TestConsoleInBrowser(t *testing.T) {
	ctx := chrome(t)
	ts := startServer(t, "", withCheapPasswords())
	shots := t.ArtifactDir()
	b, err := os.ReadFile(filepath.Join(ts.DataDir, consoleSetupFile))
	if err != nil {
		t.Fatalf("console setup link: %v", err)
	}
	if fi, _ := os.Stat(filepath.Join(ts.DataDir, consoleSetupFile)); fi == nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("%s is not mode 0600", consoleSetupFile)
	}
	setupURL := strings.TrimSpace(string(b))
	// The browser stays on the public URL's host, where its cookie lives.
	base := setupURL[:strings.Index(setupURL, "/console/")]
	if !strings.Contains(ts.Stdout.String(), setupURL) {
		t.Error("the first-start message does not print the console setup link")
	}

	do(t, ctx, chromedp.Navigate(setupURL))
	shoot(t, ctx, shots, "setup")
	do(t, ctx,
		chromedp.SetValue(chromedp.CSS("#email"), "clerk@example.cn"),
		chromedp.SetValue(chromedp.CSS("#displayName"), "王小明"),
		chromedp.SetValue(chromedp.CSS("#password"), "correct horse battery"),
		chromedp.Submit(chromedp.CSS("#password")),
		chromedp.WaitVisible(chromedp.CSS("#h-status")))
	if got := text(t, ctx, "header"); !strings.Contains(got, "clerk@example.cn") {
		t.Errorf("dashboard header %q does not name the user", got)
	}
	shoot(t, ctx, shots, "dashboard")

	do(t, ctx, chromedp.Navigate(base+"/console/certificates/new"), chromedp.WaitVisible(chromedp.CSS("#f-scope")),
		chromedp.SetValue(chromedp.CSS("#f-standard"), "GB/T 28827.1-2022"),
		chromedp.SetValue(chromedp.CSS("#f-category"), "运行维护"),
		chromedp.SetValue(chromedp.CSS("#f-level"), "3"),
		chromedp.SetValue(chromedp.CSS("#f-scope"), "信息系统运行维护服务"),
		chromedp.SetValue(chromedp.CSS("#f-organization\\.name"), "北京示例科技有限公司"),
		chromedp.SendKeys(chromedp.CSS("#f-organization\\.uscc"), "91110108ma0123456x"))
	// With scripts on, a wrong check character is flagged as it is typed.
	if msg, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("f-organization.uscc").validationMessage`)); err != nil || !strings.Contains(msg, "check character") {
		t.Errorf("USCC typed with a wrong check character: message %q, %v", msg, err)
	}
	// The message is the browser's; the server checks again on submit. The
	// right code clears it when typed (an input event).
	if ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(function(){var i=document.getElementById("f-organization.uscc"); i.value="91110108MA0123456"; i.dispatchEvent(new Event("input")); i.value+="G"; i.dispatchEvent(new Event("input")); return i.validationMessage===""})()`)); err != nil || !ok {
		t.Errorf("the right USCC typed leaves a validation message (%v)", err)
	}
	do(t, ctx, chromedp.SetValue(chromedp.CSS("#f-organization\\.uscc"), "91110108MA0123456G"),
		chromedp.Click(chromedp.CSS(`button[value="preview"]`)),
		chromedp.WaitVisible(chromedp.CSS("#h-preview")))
	shoot(t, ctx, shots, "issue-preview")
	do(t, ctx, chromedp.Click(chromedp.CSS(`button[value="issue"]`)), chromedp.WaitVisible(chromedp.CSS(`a[href$="/certificate.pdf"]`)))
	certURL, err := chromedp.Run(ctx, chromedp.Location())
	if err != nil || !strings.Contains(certURL, "/console/certificates/") {
		t.Fatalf("after issuing: %s %v", certURL, err)
	}
	id := certURL[strings.LastIndex(certURL, "/")+1:]
	shoot(t, ctx, shots, "certificate")

	// The public page of the new certificate says it is valid.
	do(t, ctx, chromedp.Navigate(base+"/v/"+id+"?lang=en"), chromedp.WaitReady(chromedp.CSS("body")))
	if got := text(t, ctx, "body"); !strings.Contains(got, "Valid") {
		t.Errorf("public page of the new certificate: %.200q", got)
	}

	// A passed surveillance audit.
	do(t, ctx, chromedp.Navigate(certURL+"/surveillance"), chromedp.WaitVisible(chromedp.CSS("#date")),
		// The audit's day in the issuer's time zone (Asia/Shanghai, UTC+8,
		// no daylight saving): from 16:00 UTC it is already the next day
		// there, and the certificate's validity starts on that day.
		chromedp.SetValue(chromedp.CSS("#date"), time.Now().In(time.FixedZone("CST", 8*3600)).Format("2006-01-02")),
		chromedp.SetValue(chromedp.CSS("#auditRef"), "SA-2026-001"))
	shoot(t, ctx, shots, "surveillance-form")
	do(t, ctx, chromedp.Submit(chromedp.CSS("#reason")), chromedp.WaitVisible(chromedp.CSS(`a[href$="/certificate.pdf"]`)))
	if got := text(t, ctx, "main"); !strings.Contains(got, "surveillance_passed") {
		t.Errorf("history after the audit: %.300q", got)
	}

	// Two tabs open the suspend and withdraw forms at the same version.
	front := func(tab context.Context) {
		t.Helper()
		if _, err := chromedp.Call(tab, page.BringToFront, cdp.Empty{}); err != nil {
			t.Fatal(err)
		}
	}
	tab2, cancel := chromedp.NewContext(ctx)
	defer cancel()
	// The first action on a new context opens its tab, and the tab lives
	// as long as the context of that action: run it on tab2 itself.
	if err := chromedp.Do(tab2, chromedp.Navigate("about:blank")); err != nil {
		t.Fatal(err)
	}
	do(t, tab2, chromedp.Navigate(certURL+"/withdraw"), chromedp.WaitVisible(chromedp.CSS("#reason")))
	front(ctx)
	do(t, ctx, chromedp.Navigate(certURL+"/suspend"), chromedp.WaitVisible(chromedp.CSS("#reason")),
		chromedp.SetValue(chromedp.CSS("#reason"), "客户申请暂停"),
		chromedp.Submit(chromedp.CSS("#reason")), chromedp.WaitVisible(chromedp.CSS(`a[href$="/certificate.pdf"]`)))
	front(tab2)
	do(t, tab2, chromedp.SetValue(chromedp.CSS("#reason"), "误发"), chromedp.Click(chromedp.CSS(`input[name="confirm"]`)),
		chromedp.Submit(chromedp.CSS("#reason")), chromedp.WaitVisible(chromedp.CSS(`p[role="alert"]`)))
	if got := text(t, tab2, "h1"); !strings.Contains(got, "证书已被他人修改") && !strings.Contains(got, "changed meanwhile") {
		t.Errorf("the second tab got %q, want the conflict page", got)
	}
	shoot(t, tab2, shots, "conflict")

	// The public page turned to suspended.
	do(t, ctx, chromedp.Navigate(base+"/v/"+id+"?lang=en"), chromedp.WaitReady(chromedp.CSS("body")))
	if got := text(t, ctx, "body"); !strings.Contains(got, "Suspended") {
		t.Errorf("public page after suspension: %.200q", got)
	}

	do(t, ctx, chromedp.Navigate(base+"/console/certificates?status=suspended"), chromedp.WaitReady(chromedp.CSS("main")))
	if got := text(t, ctx, "main"); !strings.Contains(got, "北京示例科技有限公司") {
		t.Errorf("filtered list: %.300q", got)
	}
	shoot(t, ctx, shots, "certificates")

	// Import a CSV with one bad row: the error is shown by row and column;
	// the fixed file imports, and the progress page ends with all issued.
	dir := t.TempDir()
	const header = "row_id,scheme,standard,category,level,scope,org_name,uscc\n"
	rows := "b1,itss,GB/T 28827.1-2022,运行维护,3,信息系统运行维护服务,北京导入一号有限公司,91110108MA0123456G\n" +
		"b2,itss,GB/T 28827.1-2022,运行维护,9,信息系统运行维护服务,北京导入二号有限公司,91110108MA0123456G\n"
	bad, fixed := filepath.Join(dir, "bad.csv"), filepath.Join(dir, "fixed.csv")
	if err := os.WriteFile(bad, []byte(header+rows), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(fixed, []byte(header+strings.Replace(rows, ",9,", ",2,", 1)), 0o600); err != nil {
		t.Fatal(err)
	}
	do(t, ctx, chromedp.Navigate(base+"/console/import"), chromedp.WaitVisible(chromedp.CSS("#file")),
		chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{bad}), chromedp.Submit(chromedp.CSS("#file")),
		chromedp.WaitVisible(chromedp.CSS("p.errors")))
	if row := text(t, ctx, "main table tbody tr"); !strings.HasPrefix(row, "3") || !strings.Contains(row, "level") {
		t.Errorf("the bad row is not shown by row and column: %q", row)
	}
	shoot(t, ctx, shots, "import-errors")
	do(t, ctx, chromedp.SetUploadFiles(chromedp.CSS("#file"), []string{fixed}), chromedp.Submit(chromedp.CSS("#file")),
		chromedp.WaitVisible(chromedp.CSS(`a[href$="/result.csv"]`)))
	if got := text(t, ctx, "main"); !strings.Contains(got, "2 / 2") {
		t.Errorf("progress page after the import: %.400q", got)
	}
	shoot(t, ctx, shots, "import-done")

	for _, page := range []string{"import", "settings/users", "settings/profile", "settings/keys", "settings/security"} {
		do(t, ctx, chromedp.Navigate(base+"/console/"+page), chromedp.WaitVisible(chromedp.CSS("h1")))
		shoot(t, ctx, shots, strings.ReplaceAll(page, "/", "-"))
	}

	// Register a webhook (switched off: this test sends nothing out): the
	// secret is shown once, in a box to copy from.
	do(t, ctx, chromedp.Navigate(base+"/console/settings/webhooks"), chromedp.WaitVisible(chromedp.CSS("#w-url")),
		chromedp.SetValue(chromedp.CSS("#w-url"), "https://crm.example.cn/hooks/certd"),
		chromedp.Click(chromedp.CSS(`input[value="certificate.withdrawn"]`)),
		chromedp.Click(chromedp.CSS(`input[name="active"]`)),
		chromedp.Submit(chromedp.CSS("#w-url")), chromedp.WaitVisible(chromedp.CSS("#w-secret")))
	if v, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("w-secret").value`)); err != nil || !strings.HasPrefix(v, "whsec_") {
		t.Errorf("the new webhook's secret box holds %q (%v)", v, err)
	}
	if got := text(t, ctx, "main table"); !strings.Contains(got, "certificate.withdrawn") || !strings.Contains(got, "crm.example.cn") {
		t.Errorf("the webhooks list: %.300q", got)
	}
	shoot(t, ctx, shots, "settings-webhooks")

	// Sign out: a console URL then leads to the sign-in page.
	do(t, ctx, chromedp.Navigate(base+"/console/"), chromedp.WaitVisible(chromedp.CSS(`header button`)),
		chromedp.Click(chromedp.CSS(`header button`)), chromedp.WaitVisible(chromedp.CSS("#password")),
		chromedp.Navigate(base+"/console/certificates"), chromedp.WaitVisible(chromedp.CSS("#password")))
	loc, _ := chromedp.Run(ctx, chromedp.Location())
	if !strings.Contains(loc, "/console/login") {
		t.Errorf("after sign-out a console URL leads to %s", loc)
	}
	shoot(t, ctx, shots, "login")
}

// Passwords, session cookies, TOTP secrets and recovery codes appear in no
// log line and in no page but the one that shows a secret once.
func TestConsoleSecretsNeverLogged(t *testing.T) {
	ts := startServer(t, "", withCheapPasswords())
	b, err := os.ReadFile(filepath.Join(ts.DataDir, consoleSetupFile))
	if err != nil {
		t.Fatal(err)
	}
	setupURL := strings.TrimSpace(string(b))
	base := setupURL[:strings.Index(setupURL, "/console/")]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	const password = "Zebra-Orchid-Quartz-9931"
	post := func(path string, form url.Values) string {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		resp, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	get := func(path string) string {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return string(body)
	}
	post(strings.TrimPrefix(setupURL, base), url.Values{"email": {"admin@example.cn"}, "password": {password}})
	page := get("/console/settings/security")
	csrf := regexp.MustCompile(`name="csrf" value="([^"]+)"`).FindStringSubmatch(page)[1]
	secret := regexp.MustCompile(`<p><code>([A-Z2-7]+)</code></p>`).FindStringSubmatch(post("/console/settings/security", url.Values{"csrf": {csrf}, "do": {"totp-begin"}}))[1]
	code, _ := accounts.CodeAt(secret, time.Now())
	codes := regexp.MustCompile(`<li><code>([0-9A-Z-]+)</code></li>`).FindAllStringSubmatch(post("/console/settings/security", url.Values{"csrf": {csrf}, "do": {"totp-confirm"}, "totp": {code}}), -1)
	if len(codes) == 0 {
		t.Fatal("no recovery codes shown")
	}
	post("/console/login", url.Values{"email": {"admin@example.cn"}, "password": {"wrong " + password}})
	var cookie string
	for _, ck := range jar.Cookies(mustURL(t, base+"/console/")) {
		if ck.Name == "certd_session" {
			cookie = ck.Value
		}
	}
	logs := ts.Logs.String() + ts.Stdout.String()
	for name, s := range map[string]string{"password": password, "TOTP secret": secret, "recovery code": codes[0][1], "session cookie": cookie} {
		if s != "" && strings.Contains(logs, s) {
			t.Errorf("the %s appears in the logs", name)
		}
	}
	if strings.Contains(get("/console/settings/security")+get("/console/settings/users"), secret) {
		t.Error("the TOTP secret is shown again")
	}
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

// The profile page's preview renders the issuer's PDF with a sample
// certificate: the current names, and SAMPLE where a number would be.
func TestConsoleProfilePreview(t *testing.T) {
	pdftotext := requireTool(t, "pdftotext")
	ts := startServer(t, "", withCheapPasswords())
	b, err := os.ReadFile(filepath.Join(ts.DataDir, consoleSetupFile))
	if err != nil {
		t.Fatal(err)
	}
	setupURL := strings.TrimSpace(string(b))
	base := setupURL[:strings.Index(setupURL, "/console/")]
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar}
	req, _ := http.NewRequest("POST", setupURL, strings.NewReader(url.Values{"email": {"admin@example.cn"}, "password": {"correct horse battery"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	resp, err = c.Get(base + "/console/settings/profile/preview.pdf")
	if err != nil {
		t.Fatal(err)
	}
	pdf, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("preview: %d %s\n%s", resp.StatusCode, resp.Header.Get("Content-Type"), ts.Logs.String())
	}
	p := filepath.Join(t.TempDir(), "preview.pdf")
	if err := os.WriteFile(p, pdf, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(pdftotext, "-layout", p, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"SAMPLE", "默认认证机构"} {
		if !strings.Contains(string(out), want) {
			t.Errorf("preview text lacks %q:\n%s", want, out)
		}
	}
}
