package console_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/accounts"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/console"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store/bolt"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// env is the real wiring of the console: bolt in a temp dir, keys, the
// issuer and accounts use cases, served by httptest.
type env struct {
	st    *bolt.Store
	srv   *httptest.Server
	acc   *accounts.Service
	iss   *issuer.Service
	clock *clock
	con   *console.Console
}

const password = "correct horse battery"

func newEnv(t *testing.T) *env { return newEnvTB(t, 0) }

// newEnvTB is newEnv with the console's dashboard TTL (negative: none).
func newEnvTB(t testing.TB, dashboardTTL time.Duration) *env {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i + 7)
	}
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		t.Fatal(err)
	}
	c := &clock{t: time.Date(2026, 12, 3, 2, 0, 0, 0, time.UTC)}
	ks := keys.NewService(st, kek, c.Now)
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	iss := issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: "http://certd.test", Now: c.Now})
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "bootstrap"}
	for _, id := range []string{"a", "b"} {
		if _, err := iss.CreateIssuer(t.Context(), admin, issuer.IssuerRequest{ID: id, Name: "CB " + id, TimeZone: "Asia/Shanghai", NumberPrefix: "ITSS"}); err != nil {
			t.Fatal(err)
		}
	}
	acc := accounts.New(accounts.Config{Store: st, Now: c.Now, Password: accounts.PasswordParams{Memory: 64, Time: 1, Threads: 1}})
	con, err := console.New(console.Config{Accounts: acc, Issuing: iss, Profiles: profile.New(profile.Config{Store: st, Schemes: schemes, Now: c.Now}), APIKeys: iss, SigningKeys: ks,
		Webhooks: &notify.Webhooks{Store: st, Secrets: kek, Now: c.Now}, PublicURL: "http://certd.test", Now: c.Now, DashboardTTL: dashboardTTL})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(con)
	t.Cleanup(srv.Close)
	return &env{st: st, srv: srv, acc: acc, iss: iss, clock: c, con: con}
}

// browser is an HTTP client with a cookie jar that does not follow
// redirects, so tests see each 303.
type browser struct {
	t    testing.TB
	c    *http.Client
	base string
}

func (e *env) browser(t testing.TB) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: e.srv.URL, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (b *browser) get(path string) (int, string, http.Header) {
	b.t.Helper()
	resp, err := b.c.Get(b.base + path)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

// post sends a form as a same-origin browser would.
func (b *browser) post(path string, form url.Values) (int, string, http.Header) {
	b.t.Helper()
	req, _ := http.NewRequest("POST", b.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body), resp.Header
}

var csrfRE = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf reads the form token of a page.
func (b *browser) csrf(path string) string {
	b.t.Helper()
	_, body, _ := b.get(path)
	m := csrfRE.FindStringSubmatch(body)
	if m == nil {
		b.t.Fatalf("no form token on %s", path)
	}
	return m[1]
}

// signUp makes a user of issuer with role through a setup or invitation
// link and returns a browser signed in as that user.
func (e *env) signUp(t testing.TB, issuerID, email string, role cert.Role) *browser {
	t.Helper()
	ctx := context.Background()
	var link accounts.Link
	var err error
	if role == cert.RoleAdmin {
		link, err = e.acc.NewSetupLink(ctx, issuerID)
	} else {
		link, err = e.acc.Invite(ctx, cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}, accounts.InviteRequest{Issuer: issuerID, Email: email, Role: role})
	}
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t)
	code, _, h := b.post("/console/setup/"+link.Secret, url.Values{"email": {email}, "displayName": {"测试"}, "password": {password}})
	if code != http.StatusSeeOther || h.Get("Location") != "/console/" {
		t.Fatalf("setup: %d → %s", code, h.Get("Location"))
	}
	return b
}

func TestRoutesNeedSession(t *testing.T) {
	e := newEnv(t)
	b := e.browser(t)
	walked := 0
	for _, r := range e.con.Routes() {
		method, path, _ := strings.Cut(r, " ")
		if strings.HasSuffix(path, "/login") || strings.Contains(path, "/setup/") || strings.Contains(path, "/static/") {
			continue
		}
		path = strings.NewReplacer("{id}", "01ABCDEFGHJKMNPQRSTVWXYZ0", "{action}", "suspend", "{$}", "").Replace(path)
		var code int
		var h http.Header
		if method == "GET" {
			code, _, h = b.get(path)
		} else {
			code, _, h = b.post(path, url.Values{"csrf": {"x"}})
		}
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/login") {
			t.Errorf("%s %s without a session: %d → %q, want 303 to the sign-in page", method, path, code, h.Get("Location"))
		}
		walked++
	}
	if walked < 10 {
		t.Errorf("walked %d routes, want every private one", walked)
	}
}

func TestIssueSuspendConflictAndTenancy(t *testing.T) {
	e := newEnv(t)
	clerk := e.signUp(t, "a", "clerk@a.cn", cert.RoleAdmin)
	code, body, _ := clerk.get("/console/")
	if code != 200 || !strings.Contains(body, "clerk@a.cn") {
		t.Fatalf("dashboard: %d", code)
	}
	csrf := clerk.csrf("/console/certificates/new")
	form := url.Values{"csrf": {csrf}, "scheme": {"itss"}, "standard": {"GB/T 28827.1-2022"}, "category": {"运行维护"}, "level": {"3"},
		"scope": {"信息系统运行维护服务"}, "organization.name": {"北京<script>alert(1)</script>科技有限公司\u202e"},
		"organization.uscc": {"91110108MA0123456X"}, "idempotencyKey": {"console-test-1"}, "step": {"issue"},
		"sites": {"北京总部 | 北京市海淀区中关村大街1号 | 运维服务\n\n上海分部"}}
	// A wrong USCC check character is shown by field, nothing issued.
	code, body, _ = clerk.post("/console/certificates/new", form)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "organization.uscc") {
		t.Fatalf("bad USCC: %d", code)
	}
	form.Set("organization.uscc", "91110108MA0123456G")
	form.Set("organization.name", "北京<script>alert(1)</script>\"引号'科技有限公司")
	code, _, h := clerk.post("/console/certificates/new", form)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/certificates/") {
		t.Fatalf("issue: %d → %s", code, h.Get("Location"))
	}
	certPage := h.Get("Location")
	id := strings.TrimPrefix(certPage, "/console/certificates/")
	// The same form again (a double click) issues nothing new.
	code, _, h = clerk.post("/console/certificates/new", form)
	if code != http.StatusSeeOther || h.Get("Location") != certPage {
		t.Errorf("resubmitted form: %d → %s, want the same certificate", code, h.Get("Location"))
	}
	_, body, _ = clerk.get(certPage)
	if strings.Contains(body, "<script>alert(1)</script>") || !strings.Contains(body, "&lt;script&gt;") || !strings.Contains(body, "&#34;引号&#39;") {
		t.Error("the organization name is not escaped on the certificate page")
	}
	// Two tabs: both open the suspend form at version 1; the first wins,
	// the second gets the conflict page.
	tab1 := clerk.csrf(certPage + "/suspend")
	code, _, h = clerk.post(certPage+"/suspend", url.Values{"csrf": {tab1}, "version": {"1"}, "reason": {"客户申请暂停"}})
	if code != http.StatusSeeOther || h.Get("Location") != certPage {
		t.Fatalf("suspend: %d → %s", code, h.Get("Location"))
	}
	code, body, _ = clerk.post(certPage+"/withdraw", url.Values{"csrf": {tab1}, "version": {"1"}, "reason": {"误发"}, "confirm": {"yes"}})
	if code != http.StatusConflict {
		t.Errorf("second tab: %d, want 409 and the conflict page", code)
	}
	crt, err := e.iss.Certificate(context.Background(), cert.Principal{Role: cert.RoleAdmin}, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(crt.Sites) != 2 || crt.Sites[0].Address != "北京市海淀区中关村大街1号" || crt.Sites[0].Scope != "运维服务" || crt.Sites[1].Name != "上海分部" {
		t.Errorf("sites %+v, want two, the first with its address and scope", crt.Sites)
	}
	if st := e.iss.StatusOf(crt); st.Status != cert.StatusSuspended {
		t.Errorf("status %s, want suspended (the second tab's withdrawal must not apply)", st.Status)
	}
	// Withdrawal without the confirmation is refused.
	code, _, _ = clerk.post(certPage+"/withdraw", url.Values{"csrf": {tab1}, "version": {"2"}, "reason": {"误发"}})
	if code != http.StatusUnprocessableEntity {
		t.Errorf("withdraw without confirmation: %d, want 422", code)
	}
	// A POST without the form token, or from another site, is refused.
	if code, _, _ := clerk.post(certPage+"/reinstate", url.Values{"version": {"2"}, "reason": {"x"}}); code != http.StatusForbidden {
		t.Errorf("no form token: %d, want 403", code)
	}
	req, _ := http.NewRequest("POST", e.srv.URL+certPage+"/reinstate", strings.NewReader(url.Values{"csrf": {tab1}, "version": {"2"}, "reason": {"x"}}.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	resp, err := clerk.c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	// Another issuer's user sees nothing of a's.
	other := e.signUp(t, "b", "admin@b.cn", cert.RoleAdmin)
	if code, _, _ := other.get(certPage); code != http.StatusNotFound {
		t.Errorf("issuer b reading a's certificate: %d, want 404", code)
	}
	if _, body, _ := other.get("/console/certificates"); strings.Contains(body, id) {
		t.Error("issuer b's list shows a's certificate")
	}
	// A viewer reads and changes nothing.
	viewer := e.signUp(t, "a", "viewer@a.cn", cert.RoleViewer)
	if code, body, _ := viewer.get(certPage); code != 200 || strings.Contains(body, "/suspend\"") {
		t.Errorf("viewer on the certificate page: %d, actions shown: %v", code, strings.Contains(body, "/suspend\""))
	}
	vt := viewer.csrf("/console/certificates")
	if code, _, _ := viewer.post(certPage+"/reinstate", url.Values{"csrf": {vt}, "version": {"2"}, "reason": {"x"}}); code != http.StatusForbidden {
		t.Errorf("viewer POST: %d, want 403", code)
	}
	// The list filters by status and exports CSV with formula cells neutralized.
	_, body, _ = clerk.get("/console/certificates?status=suspended")
	if !strings.Contains(body, id) {
		t.Error("the suspended certificate is not in the filtered list")
	}
	_, body, _ = clerk.get("/console/certificates?status=active")
	if strings.Contains(body, id) {
		t.Error("the suspended certificate is in the list of active ones")
	}
	code, body, h = clerk.get("/console/certificates?format=csv")
	if code != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/csv") || !strings.Contains(body, crt.Number) {
		t.Errorf("CSV export: %d %s", code, h.Get("Content-Type"))
	}
	// Sign out: the cookie stops working.
	lt := clerk.csrf("/console/")
	if code, _, _ := clerk.post("/console/logout", url.Values{"csrf": {lt}}); code != http.StatusSeeOther {
		t.Errorf("logout: %d", code)
	}
	if code, _, h := clerk.get("/console/"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/login") {
		t.Errorf("after sign-out: %d → %s", code, h.Get("Location"))
	}
}

func TestSessionExpiresWithFakeClock(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	if code, _, _ := b.get("/console/"); code != 200 {
		t.Fatalf("dashboard: %d", code)
	}
	e.clock.Add(31 * time.Minute)
	if code, _, h := b.get("/console/certificates"); code != http.StatusSeeOther || !strings.Contains(h.Get("Location"), "next=%2Fconsole%2Fcertificates") {
		t.Errorf("idle session: %d → %s, want the sign-in page with the way back", code, h.Get("Location"))
	}
}

func TestSignInThrottledAndSameAnswer(t *testing.T) {
	e := newEnv(t)
	e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	b := e.browser(t)
	_, unknown, _ := b.post("/console/login", url.Values{"email": {"nobody@a.cn"}, "password": {"whatever password"}})
	_, wrong, _ := b.post("/console/login", url.Values{"email": {"admin@a.cn"}, "password": {"whatever password"}})
	msg := regexp.MustCompile(`role="alert">([^<]*)<`)
	if m1, m2 := msg.FindStringSubmatch(unknown), msg.FindStringSubmatch(wrong); m1 == nil || m2 == nil || m1[1] != m2[1] {
		t.Errorf("unknown email and wrong password answer differently: %v / %v", m1, m2)
	}
	for range 9 {
		b.post("/console/login", url.Values{"email": {"admin@a.cn"}, "password": {"whatever password"}})
	}
	if code, _, _ := b.post("/console/login", url.Values{"email": {"admin@a.cn"}, "password": {password}}); code != http.StatusTooManyRequests {
		t.Errorf("right password after 10 wrong ones: %d, want 429", code)
	}
}

func TestPagesHaveLangAndLabels(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	for _, p := range []string{"/console/", "/console/certificates", "/console/certificates/new", "/console/settings/users", "/console/settings/profile", "/console/settings/keys", "/console/settings/security", "/console/import", "/console/login"} {
		for _, lang := range []string{"zh-CN", "en"} {
			_, body, _ := b.get(p + "?lang=" + lang)
			if !strings.Contains(body, `<html lang="`+lang+`">`) {
				t.Errorf("%s?lang=%s: no lang attribute", p, lang)
			}
			// Headings start at h1 and never skip a level going down.
			level := 0
			for _, h := range regexp.MustCompile(`<h([1-6])[ >]`).FindAllStringSubmatch(body, -1) {
				n := int(h[1][0] - '0')
				if (level == 0 && n != 1) || n > level+1 {
					t.Errorf("%s: heading h%d after h%d", p, n, level)
				}
				level = n
			}
			for _, m := range regexp.MustCompile(`<(?:input|select|textarea) id="([^"]+)"`).FindAllStringSubmatch(body, -1) {
				if !strings.Contains(body, `for="`+m[1]+`"`) {
					t.Errorf("%s: input %s has no label", p, m[1])
				}
			}
		}
	}
}

func TestTOTPEnrolmentThroughConsole(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	tok := b.csrf("/console/settings/security")
	_, body, _ := b.post("/console/settings/security", url.Values{"csrf": {tok}, "do": {"totp-begin"}})
	m := regexp.MustCompile(`<p><code>([A-Z2-7]+)</code></p>`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret shown:\n%.500s", body)
	}
	code, _ := accounts.CodeAt(m[1], e.clock.Now())
	status, body, _ := b.post("/console/settings/security", url.Values{"csrf": {tok}, "do": {"totp-confirm"}, "totp": {code}})
	codes := regexp.MustCompile(`<li><code>([0-9A-Z]{5}-[0-9A-Z]{5})</code></li>`).FindAllStringSubmatch(body, -1)
	if status != 200 || len(codes) != accounts.RecoveryCodeCount {
		t.Fatalf("confirm: %d, %d recovery codes", status, len(codes))
	}
	fresh := e.browser(t)
	if code, body, _ := fresh.post("/console/login", url.Values{"email": {"admin@a.cn"}, "password": {password}}); code != 200 || !strings.Contains(body, `autofocus`) {
		t.Errorf("sign-in without the code: %d, want the form asking for it", code)
	}
	if code, _, _ := fresh.post("/console/login", url.Values{"email": {"admin@a.cn"}, "password": {password}, "totp": {codes[0][1]}}); code != http.StatusSeeOther {
		t.Errorf("sign-in with a recovery code: %d, want 303", code)
	}
	// Neither the secret nor a recovery code is ever shown again.
	_, body, _ = b.get("/console/settings/security")
	if strings.Contains(body, m[1]) || strings.Contains(body, codes[1][1]) {
		t.Error("the security page shows the secret or a recovery code again")
	}
}

// upload posts a CSV file to the import form.
func (b *browser) upload(path, csrf, name, content string) (int, string, http.Header) {
	b.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	_ = mw.WriteField("csrf", csrf)
	fw, _ := mw.CreateFormFile("file", name)
	_, _ = fw.Write([]byte(content))
	_ = mw.Close()
	req, _ := http.NewRequest("POST", b.base+path, &body)
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	resp, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(out), resp.Header
}

func TestImportCSV(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	tok := b.csrf("/console/import")
	const header = "row_id,scheme,standard,category,level,scope,org_name,uscc\n"
	good := "r1,itss,GB/T 28827.1-2022,运行维护,3,信息系统运行维护服务,北京一号科技有限公司,91110108MA0123456G\n" +
		"r3,itss,GB/T 28827.1-2022,运行维护,2,信息系统运行维护服务,北京三号科技有限公司,91110108MA0123456G\n"
	bad := header + good[:strings.Index(good, "\n")+1] + "r2,itss,GB/T 28827.1-2022,运行维护,7,信息系统运行维护服务,北京二号科技有限公司,91110108MA0123456G\n" + good[strings.Index(good, "\n")+1:]
	code, body, _ := b.upload("/console/import", tok, "audit.csv", bad)
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "<td>3</td><td>level</td>") {
		t.Fatalf("file with a bad row: %d; want 422 naming row 3, column level:\n%.800s", code, body)
	}
	if n := e.count(t, "a"); n != 0 {
		t.Fatalf("%d certificates issued from a file with a bad row, want 0", n)
	}
	fixed := strings.Replace(bad, ",7,", ",1,", 1)
	code, _, h := b.upload("/console/import", tok, "audit.csv", fixed)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/console/import/") {
		t.Fatalf("fixed file: %d → %s", code, h.Get("Location"))
	}
	job := h.Get("Location")
	waitJob(t, b, job)
	_, body, _ = b.get(job)
	if !strings.Contains(body, "3 / 3") {
		t.Errorf("progress page: %.600s", body)
	}
	if n := e.count(t, "a"); n != 3 {
		t.Errorf("%d certificates after the import, want 3", n)
	}
	code, csvBody, _ := b.get(job + "/result.csv")
	if code != 200 || strings.Count(csvBody, ",issued,") != 3 {
		t.Errorf("result file: %d\n%s", code, csvBody)
	}
	// The same file again issues nothing twice.
	_, _, h = b.upload("/console/import", tok, "audit-again.csv", fixed)
	waitJob(t, b, h.Get("Location"))
	if n := e.count(t, "a"); n != 3 {
		t.Errorf("%d certificates after uploading the file again, want 3", n)
	}
	_, csvBody, _ = b.get(h.Get("Location") + "/result.csv")
	if strings.Count(csvBody, ",replayed,") != 3 {
		t.Errorf("second result file: %s", csvBody)
	}
}

func waitJob(t *testing.T, b *browser, job string) {
	t.Helper()
	for range 200 {
		if _, body, _ := b.get(job); strings.Contains(body, "result.csv") {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("import %s did not finish", job)
}

// count returns the number of certificates of an issuer.
func (e *env) count(t *testing.T, issuerID string) int {
	t.Helper()
	list, _, err := e.iss.List(context.Background(), cert.Principal{Role: cert.RoleAdmin}, issuer.Query{Issuer: issuerID, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return len(list)
}

func TestProfileSettings(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	tok := b.csrf("/console/settings/profile")
	form := url.Values{"csrf": {tok}, "version": {"1"}, "name": {"China Example Certification Center"}, "nameZh": {"中国示例认证中心"},
		"timeZone": {"Asia/Shanghai"}, "accreditation": {"CNAS | CNAS C001-M\nIAF MLA | IAF-001"}, "approvalNumber": {"CNCA-R-2002-001"},
		"signatory.name": {"张三"}, "signatory.title": {"主任"}, "numberPatterns.iso17021": {"QMS-{YYYY}-{SEQ:6}"}}
	code, body, _ := b.post("/console/settings/profile", form)
	if code != http.StatusSeeOther {
		t.Fatalf("save profile: %d\n%.800s", code, body)
	}
	is, err := e.iss.Issuer(context.Background(), "a")
	if err != nil {
		t.Fatal(err)
	}
	if is.NameZh != "中国示例认证中心" || len(is.Accreditation) != 2 || is.Accreditation[1].Number != "IAF-001" || is.Signatory == nil || is.Signatory.Name != "张三" {
		t.Errorf("stored profile %+v", is.Profile())
	}
	// The same form again, based on the old version: the conflict is shown.
	if code, _, _ := b.post("/console/settings/profile", form); code != http.StatusConflict {
		t.Errorf("stale form: %d, want 409", code)
	}
	form.Set("version", "2")
	form.Set("numberPatterns.itss", "ITSS-{YYYY}")
	if code, body, _ := b.post("/console/settings/profile", form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "numberPatterns.itss") {
		t.Errorf("pattern without SEQ: %d, want 422 naming numberPatterns.itss", code)
	}
	viewer := e.signUp(t, "a", "viewer@a.cn", cert.RoleViewer)
	vt := viewer.csrf("/console/certificates")
	form.Set("csrf", vt)
	if code, _, _ := viewer.post("/console/settings/profile", form); code != http.StatusForbidden {
		t.Errorf("viewer saving the profile: %d, want 403", code)
	}
}

func TestKeysSettings(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	tok := b.csrf("/console/settings/keys")
	code, body, _ := b.post("/console/settings/keys", url.Values{"csrf": {tok}, "do": {"create-api-key"}, "name": {"CRM"}, "role": {"issuer"}})
	m := regexp.MustCompile(`<code>(certd_[^<]+)</code>`).FindStringSubmatch(body)
	if code != 200 || m == nil {
		t.Fatalf("create API key: %d, token shown: %v", code, m != nil)
	}
	p, err := e.iss.Authenticate(context.Background(), m[1])
	if err != nil || p.Issuer != "a" || p.Role != cert.RoleIssuer {
		t.Errorf("the new key authenticates as %+v, %v; want an issuer key of a", p, err)
	}
	if _, body, _ := b.get("/console/settings/keys"); strings.Contains(body, m[1]) {
		t.Error("the token is shown again")
	}
	// Rotation needs the confirmation; with it the ring has two keys.
	if code, _, _ := b.post("/console/settings/keys", url.Values{"csrf": {tok}, "do": {"rotate"}}); code != http.StatusUnprocessableEntity {
		t.Errorf("rotate without confirmation: %d, want 422", code)
	}
	if code, _, _ := b.post("/console/settings/keys", url.Values{"csrf": {tok}, "do": {"rotate"}, "confirm": {"yes"}}); code != http.StatusSeeOther {
		t.Errorf("rotate: %d", code)
	}
	_, body, _ = b.get("/console/settings/keys")
	if strings.Count(body, "<td>retired</td>") != 1 || strings.Count(body, "<td>active</td>") != 1 {
		t.Errorf("after rotation the page shows:\n%.1500s", body)
	}
	// Issuer b's admin sees none of a's keys and cannot revoke them.
	other := e.signUp(t, "b", "admin@b.cn", cert.RoleAdmin)
	ot := other.csrf("/console/settings/keys")
	if _, body, _ := other.get("/console/settings/keys"); strings.Contains(body, "CRM") {
		t.Error("issuer b's admin sees a's API key")
	}
	keys, _ := e.iss.APIKeys(context.Background(), cert.Principal{Role: cert.RoleAdmin})
	for _, k := range keys {
		if code, _, _ := other.post("/console/settings/keys", url.Values{"csrf": {ot}, "do": {"revoke-api-key"}, "id": {k.ID}, "confirm": {"yes"}}); code != http.StatusNotFound {
			t.Errorf("issuer b revoking a's key: %d, want 404", code)
		}
	}
}

func TestXLSXExportAndImport(t *testing.T) {
	e := newEnv(t)
	b := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	tok := b.csrf("/console/import")
	header := []string{"row_id", "scheme", "standard", "category", "level", "scope", "org_name", "uscc"}
	rows := [][]string{
		{"x1", "itss", "GB/T 28827.1-2022", "运行维护", "3", "信息系统运行维护服务", "北京表格一号有限公司", "91110108MA0123456G"},
		{"x2", "itss", "GB/T 28827.1-2022", "运行维护", "9", "信息系统运行维护服务", "北京表格二号有限公司", "91110108MA0123456G"},
	}
	var wb bytes.Buffer
	if err := report.WriteTable(&wb, "import", header, rows); err != nil {
		t.Fatal(err)
	}
	code, body, _ := b.upload("/console/import", tok, "audit.xlsx", wb.String())
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "<td>3</td><td>level</td>") {
		t.Fatalf("workbook with a bad row: %d:\n%.600s", code, body)
	}
	rows[1][4] = "2"
	wb.Reset()
	if err := report.WriteTable(&wb, "import", header, rows); err != nil {
		t.Fatal(err)
	}
	_, _, h := b.upload("/console/import", tok, "audit.xlsx", wb.String())
	waitJob(t, b, h.Get("Location"))
	if n := e.count(t, "a"); n != 2 {
		t.Fatalf("%d certificates after the XLSX import, want 2", n)
	}
	// The filtered list as a workbook: the header and one row, read back.
	code, body, hdr := b.get("/console/certificates?q=%E8%A1%A8%E6%A0%BC%E4%BA%8C&format=xlsx")
	if code != 200 || !strings.Contains(hdr.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("XLSX export: %d %s", code, hdr.Get("Content-Type"))
	}
	got, err := report.ReadTable(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 || got[0][1] != "number" || got[1][6] != "北京表格二号有限公司" || got[1][9] != "active" {
		t.Errorf("exported workbook %q", got)
	}
	// Not a workbook at all.
	if code, _, _ := b.upload("/console/import", tok, "x.xlsx", "PK\x03\x04garbage"); code != http.StatusUnprocessableEntity {
		t.Errorf("a broken workbook: %d, want 422", code)
	}
}
