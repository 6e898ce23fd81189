package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"hash/crc32"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/store/bolt"
)

// patch sends a JSON merge patch of the default issuer's profile.
func (ts *testServer) patch(t testing.TB, body string, ifMatch string) response {
	t.Helper()
	h := []string{"Content-Type", "application/merge-patch+json"}
	if ifMatch != "" {
		h = append(h, "If-Match", ifMatch)
	}
	return ts.do("PATCH", "/api/v1/issuers/default", ts.Admin, body, h...)
}

func problemFields(t testing.TB, r response) []string {
	t.Helper()
	var out []string
	errs, _ := r.JSON(t)["errors"].([]any)
	for _, e := range errs {
		out = append(out, e.(map[string]any)["field"].(string))
	}
	return out
}

// TestIssuerProfileThroughMain: a renamed issuer signs its new name and
// accreditation into new certificates; old credentials keep the name
// they were signed with, still verify, and the page shows both names.
func TestIssuerProfileThroughMain(t *testing.T) {
	ts := startServer(t, "")
	old := ts.issue(t, "default")
	if n := old["number"].(string); !strings.HasPrefix(n, "ITSS-") {
		t.Errorf("ITSS certificate of the bootstrap issuer numbered %q, want ITSS-…", n)
	}
	iso := ts.issueCert(t, map[string]any{"scheme": "iso17021", "category": "", "level": 0, "standard": "ISO 9001:2015"}, nil)
	if n := iso["number"].(string); strings.HasPrefix(n, "ITSS-") || !strings.HasPrefix(n, "QMS-") {
		t.Errorf("iso17021 certificate of the bootstrap issuer numbered %q, want QMS-…", n)
	}

	r := ts.do("GET", "/api/v1/issuers/default", ts.Admin, nil)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"1"` {
		t.Fatalf("GET issuer: %d ETag %q, want 200 \"1\": %s", r.Status, r.Header.Get("ETag"), r.Body)
	}
	if p := r.JSON(t)["numberPatterns"].(map[string]any); p["iso17021"] != "QMS-{YYYY}-{SEQ:6}" {
		t.Errorf("numberPatterns = %v, want iso17021 QMS-{YYYY}-{SEQ:6}", p)
	}

	// A pattern that cannot number uniquely is refused, naming the field.
	r = ts.patch(t, `{"numberPatterns": {"itss": "ITSS-{YYYY}"}}`, "")
	if fields := problemFields(t, r); r.Status != http.StatusUnprocessableEntity || len(fields) != 1 || fields[0] != "numberPatterns.itss" {
		t.Errorf("pattern without {SEQ}: %d fields %v, want 422 naming numberPatterns.itss: %s", r.Status, fields, r.Body)
	}
	r = ts.patch(t, `{"website": "javascript:alert(1)", "email": "not an address", "timeZone": "Mars/Olympus", "name": "A\nB"}`, "")
	if fields := strings.Join(problemFields(t, r), ","); r.Status != http.StatusUnprocessableEntity || fields != "name,website,email,timeZone" {
		t.Errorf("bad fields: %d %s, want 422 name,website,email,timeZone", r.Status, fields)
	}
	// A stale If-Match changes nothing.
	if r = ts.patch(t, `{"name": "Stale"}`, `"7"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("stale If-Match: %d, want 412: %s", r.Status, r.Body)
	}

	const newZh, newEn = "华信认证中心", "Huaxin Certification Centre"
	r = ts.patch(t, `{"name": "`+newEn+`", "nameZh": "`+newZh+`", "website": "https://cert.example.cn",
		"address": "北京市朝阳区示例路1号", "accreditation": [{"body": "CNAS", "number": "CNAS C001-M"}],
		"approvalNumber": "CNCA-R-2002-001", "signatory": {"name": "张三", "title": "总经理"}}`, `"1"`)
	if r.Status != http.StatusOK || r.Header.Get("ETag") != `"2"` {
		t.Fatalf("PATCH: %d ETag %q, want 200 \"2\": %s", r.Status, r.Header.Get("ETag"), r.Body)
	}

	fresh := ts.issueCert(t, map[string]any{"sites": []any{
		map[string]any{"name": "数据中心", "address": "东莞市松山湖", "scope": "数据中心运维"}, "上海分公司"}}, nil)
	cred := payload(t, fresh["credential"].(string))
	is := cred["issuer"].(map[string]any)
	acc, _ := is["accreditation"].(map[string]any)
	if is["name"] != newZh || acc == nil || acc["approvalNumber"] != "CNCA-R-2002-001" ||
		acc["accreditations"].([]any)[0].(map[string]any)["number"] != "CNAS C001-M" {
		t.Errorf("new credential's issuer = %v, want %s with CNAS C001-M and CNCA-R-2002-001", is, newZh)
	}
	sites, _ := cred["credentialSubject"].(map[string]any)["sites"].([]any)
	if len(sites) != 2 || sites[0].(map[string]any)["address"] != "东莞市松山湖" || sites[1].(map[string]any)["name"] != "上海分公司" {
		t.Errorf("credential sites = %v, want the two sites (the plain string as a name)", sites)
	}

	if name := payload(t, old["credential"].(string))["issuer"].(map[string]any)["name"]; name != "默认认证机构" {
		t.Errorf("old credential's issuer name = %v, want the name it was signed with", name)
	}
	v := ts.do("GET", "/api/v1/verify/"+old["id"].(string), "", nil).JSON(t)
	vi := v["issuer"].(map[string]any)
	if v["verdict"] != "valid" || vi["signedName"] != "默认认证机构" || vi["currentName"] != newZh {
		t.Errorf("old certificate's verdict %v, issuer %v; want valid, signed as 默认认证机构, current %s", v["verdict"], vi, newZh)
	}
	page := string(ts.do("GET", "/v/"+old["id"].(string)+"?lang=zh-CN", "", nil).Body)
	for _, want := range []string{"默认认证机构", newZh, "颁证机构现名称"} {
		if !strings.Contains(page, want) {
			t.Errorf("old certificate's page lacks %q", want)
		}
	}
	page = string(ts.do("GET", "/v/"+fresh["id"].(string)+"?lang=en", "", nil).Body)
	for _, want := range []string{"CNAS C001-M", "CNCA-R-2002-001", "东莞市松山湖", "上海分公司", "北京市海淀区中关村大街1号", `href="https://cert.example.cn"`} {
		if !strings.Contains(page, want) {
			t.Errorf("new certificate's page lacks %q", want)
		}
	}
	if strings.Contains(page, "Current issuer name") {
		t.Error("a certificate signed under the current name shows a current issuer name")
	}

	ev := ts.do("GET", "/api/v1/issuers/default/events", ts.Admin, nil).JSON(t)["events"].([]any)
	last := ev[len(ev)-1].(map[string]any)
	if len(ev) != 2 || last["type"] != "profile_updated" || !strings.Contains(last["actor"].(string), "bootstrap admin") ||
		!strings.Contains(strings.Join(anyStrings(last["fields"]), ","), "nameZh") {
		t.Errorf("events = %v, want created and one profile_updated by the bootstrap admin naming nameZh", ev)
	}
}

func anyStrings(v any) []string {
	var out []string
	for _, s := range v.([]any) {
		out = append(out, s.(string))
	}
	return out
}

// TestVerifyByNumberThroughMain: /v/{number} and /api/v1/verify/{number}
// answer the verdict of a printed number; a number of several issuers
// lists them; an unknown number is not registered; ids work as before.
func TestVerifyByNumberThroughMain(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	number, id := c["number"].(string), c["id"].(string)
	for _, path := range []string{"/api/v1/verify/" + number, "/api/v1/verify/" + strings.ToLower(number), "/v/" + number, "/api/v1/verify/" + id} {
		r := ts.do("GET", path, "", nil, "Accept", "application/json")
		v := r.JSON(t)
		cv, _ := v["certificate"].(map[string]any)
		if r.Status != http.StatusOK || v["verdict"] != "valid" || cv == nil || cv["id"] != id {
			t.Errorf("GET %s: %d %v, want the valid verdict of %s", path, r.Status, v["verdict"], id)
		}
	}
	if r := ts.do("GET", "/v/"+number, "", nil); r.Status != http.StatusOK || !strings.Contains(string(r.Body), number) {
		t.Errorf("HTML page by number: %d", r.Status)
	}

	// A number with "/" travels escaped as %2F.
	slash := ts.issueCert(t, map[string]any{"number": "CNCA/2026/7"}, nil)
	r := ts.do("GET", "/api/v1/verify/"+url.PathEscape("CNCA/2026/7"), "", nil)
	if v := r.JSON(t); r.Status != http.StatusOK || v["certificate"].(map[string]any)["id"] != slash["id"] {
		t.Errorf("GET /api/v1/verify/CNCA%%2F2026%%2F7: %d %s", r.Status, r.Body)
	}

	// The same number at another issuer.
	if r := ts.do("POST", "/api/v1/issuers", ts.Admin, map[string]any{"id": "other", "name": "Other CB"}); r.Status != http.StatusCreated {
		t.Fatalf("create issuer: %d %s", r.Status, r.Body)
	}
	body := sampleCertificate("other", testUSCC)
	body["number"] = number
	r = ts.do("POST", "/api/v1/certificates", ts.Admin, body)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue at other: %d %s", r.Status, r.Body)
	}
	otherID := r.JSON(t)["id"].(string)
	r = ts.do("GET", "/api/v1/verify/"+number, "", nil)
	matches, _ := r.JSON(t)["matches"].([]any)
	if r.Status != http.StatusMultipleChoices || len(matches) != 2 ||
		matches[0].(map[string]any)["id"] != id || matches[1].(map[string]any)["id"] != otherID {
		t.Errorf("ambiguous number: %d %s, want 300 with both certificates (default, then other)", r.Status, r.Body)
	}
	r = ts.do("GET", "/v/"+number, "", nil, "Accept", "text/html")
	if page := string(r.Body); r.Status != http.StatusMultipleChoices || !strings.Contains(page, `href="/v/`+id+`"`) || !strings.Contains(page, `href="/v/`+otherID+`"`) {
		t.Errorf("ambiguous number page: %d, want links to both ids:\n%s", r.Status, page)
	}
	for _, path := range []string{"/api/v1/verify/NO-SUCH-0001", "/v/NO-SUCH-0001"} {
		if r := ts.do("GET", path, "", nil, "Accept", "application/json"); r.Status != http.StatusNotFound || r.JSON(t)["status"] != "not_found" {
			t.Errorf("GET %s: %d %s, want 404 not_found", path, r.Status, r.Body)
		}
	}
}

// pngBomb is a small PNG whose header claims width x height pixels.
func pngBomb(width, height uint32) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		_ = binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		crc.Write([]byte(typ))
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		_ = binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := make([]byte, 13)
	binary.BigEndian.PutUint32(ihdr[0:], width)
	binary.BigEndian.PutUint32(ihdr[4:], height)
	ihdr[8], ihdr[9] = 8, 6 // 8-bit RGBA
	chunk("IHDR", ihdr)
	chunk("IDAT", []byte{0x78, 0x9c, 0x03, 0x00, 0x00, 0x00, 0x00, 0x01})
	chunk("IEND", nil)
	return b.Bytes()
}

// sealPNG is a 64x64 red disc on a transparent ground.
func sealPNG(t testing.TB) []byte {
	t.Helper()
	img := image.NewNRGBA(image.Rect(0, 0, 64, 64))
	for y := range 64 {
		for x := range 64 {
			if (x-32)*(x-32)+(y-32)*(y-32) < 900 {
				img.Set(x, y, color.NRGBA{R: 220, A: 255})
			}
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestIssuerImagesThroughMain: bad uploads are refused with problems and
// change nothing; a good one is re-encoded as PNG with its transparency,
// served publicly, and can be deleted.
func TestIssuerImagesThroughMain(t *testing.T) {
	ts := startServer(t, "")
	put := func(kind, contentType string, body []byte) response {
		return ts.do("PUT", "/api/v1/issuers/default/"+kind, ts.Admin, body, "Content-Type", contentType)
	}
	for _, tc := range []struct {
		name, contentType string
		body              []byte
		want              int
	}{
		{"fail/text-file", "image/png", []byte("this is not an image\n"), http.StatusUnprocessableEntity},
		{"fail/text-type", "text/plain", []byte("this is not an image\n"), http.StatusUnsupportedMediaType},
		{"fail/5-MiB", "image/png", append(sealPNG(t), make([]byte, 5<<20)...), http.StatusRequestEntityTooLarge},
		{"fail/bomb-20000x20000", "image/png", pngBomb(20000, 20000), http.StatusUnprocessableEntity},
		{"fail/jpeg-declared-png", "image/jpeg", sealPNG(t), http.StatusUnprocessableEntity},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := put("seal", tc.contentType, tc.body)
			if r.Status != tc.want || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/problem+json") {
				t.Errorf("PUT seal: %d %s, want a %d problem", r.Status, r.Header.Get("Content-Type"), tc.want)
			}
			if r := ts.do("GET", "/issuers/default/seal.png", "", nil); r.Status != http.StatusNotFound {
				t.Errorf("seal.png after a refused upload: %d, want 404", r.Status)
			}
			if r := ts.do("GET", "/api/v1/issuers/default", ts.Admin, nil); r.Header.Get("ETag") != `"1"` {
				t.Errorf("issuer version after a refused upload: %s, want \"1\"", r.Header.Get("ETag"))
			}
		})
	}

	r := put("seal", "image/png", sealPNG(t))
	if r.Status != http.StatusOK || r.JSON(t)["seal"] == nil {
		t.Fatalf("PUT seal: %d %s", r.Status, r.Body)
	}
	r = ts.do("GET", "/issuers/default/seal.png", "", nil)
	img, err := png.Decode(bytes.NewReader(r.Body))
	if r.Status != http.StatusOK || r.Header.Get("Content-Type") != "image/png" || err != nil {
		t.Fatalf("GET seal.png: %d %s %v", r.Status, r.Header.Get("Content-Type"), err)
	}
	if _, _, _, a := img.At(0, 0).RGBA(); a != 0 {
		t.Errorf("corner of the seal has alpha %d, want transparent", a)
	}
	if _, _, _, a := img.At(32, 32).RGBA(); a != 0xffff {
		t.Errorf("centre of the seal has alpha %d, want opaque", a)
	}
	if r := ts.do("DELETE", "/api/v1/issuers/default/seal", ts.Admin, nil, "If-Match", `"1"`); r.Status != http.StatusPreconditionFailed {
		t.Errorf("DELETE seal with a stale If-Match: %d, want 412", r.Status)
	}
	if r := ts.do("DELETE", "/api/v1/issuers/default/seal", ts.Admin, nil); r.Status != http.StatusOK {
		t.Errorf("DELETE seal: %d %s", r.Status, r.Body)
	}
	if r := ts.do("GET", "/issuers/default/seal.png", "", nil); r.Status != http.StatusNotFound {
		t.Errorf("seal.png after DELETE: %d, want 404", r.Status)
	}
	ev := ts.do("GET", "/api/v1/issuers/default/events", ts.Admin, nil).JSON(t)["events"].([]any)
	if len(ev) != 3 || ev[1].(map[string]any)["type"] != "image_put" || ev[2].(map[string]any)["type"] != "image_deleted" {
		t.Errorf("events = %v, want created, image_put, image_deleted", ev)
	}

	// An issuer key reads its own issuer only, and changes nothing.
	r = ts.do("POST", "/api/v1/apikeys", ts.Admin, map[string]any{"issuer": "default", "role": "issuer", "name": "ops"})
	key := r.JSON(t)["token"].(string)
	if r := ts.do("GET", "/api/v1/issuers/default", key, nil); r.Status != http.StatusOK {
		t.Errorf("issuer key GET own issuer: %d", r.Status)
	}
	if r := ts.do("PATCH", "/api/v1/issuers/default", key, `{"name": "Mine"}`); r.Status != http.StatusForbidden {
		t.Errorf("issuer key PATCH: %d, want 403", r.Status)
	}
	if r := put("logo", "image/png", sealPNG(t)); r.Status != http.StatusOK {
		t.Errorf("PUT logo: %d %s", r.Status, r.Body)
	}
	if page := string(ts.do("GET", "/v/"+ts.issue(t, "default")["id"].(string), "", nil).Body); !strings.Contains(page, `src="/issuers/default/logo.png"`) {
		t.Error("verification page does not show the issuer's logo")
	}
}

// TestSitesAndSuccessorLinksThroughMain: a revision replaces the sites
// (plain strings still accepted); the old page links to the successor by
// number and status, the successor's page links back; a batch takes
// structured sites too.
func TestSitesAndSuccessorLinksThroughMain(t *testing.T) {
	ts := startServer(t, "")
	old := ts.issueCert(t, map[string]any{"sites": []any{"旧场所"}}, nil)
	r := ts.do("POST", "/api/v1/certificates/"+old["id"].(string)+"/revise", ts.Admin, map[string]any{
		"reason": "新增场所", "sites": []any{"旧场所", map[string]any{"name": "新机房", "address": "杭州市滨江区", "scope": "云计算"}}})
	if r.Status != http.StatusCreated {
		t.Fatalf("revise: %d %s", r.Status, r.Body)
	}
	next := r.JSON(t)
	sites, _ := payload(t, next["credential"].(string))["credentialSubject"].(map[string]any)["sites"].([]any)
	if len(sites) != 2 || sites[1].(map[string]any)["address"] != "杭州市滨江区" {
		t.Errorf("revised credential's sites = %v", sites)
	}
	v := ts.do("GET", "/api/v1/verify/"+old["id"].(string), "", nil).JSON(t)
	succ, _ := v["certificate"].(map[string]any)["successor"].(map[string]any)
	if succ == nil || succ["number"] != next["number"] || succ["status"] != "active" {
		t.Errorf("old verdict's successor = %v, want %s active", succ, next["number"])
	}
	oldPage := string(ts.do("GET", "/v/"+old["id"].(string)+"?lang=en", "", nil).Body)
	if !strings.Contains(oldPage, `href="/v/`+next["id"].(string)+`"`) || !strings.Contains(oldPage, next["number"].(string)) {
		t.Error("the superseded certificate's page does not link to its successor by number")
	}
	newPage := string(ts.do("GET", "/v/"+next["id"].(string)+"?lang=en", "", nil).Body)
	if !strings.Contains(newPage, `href="/v/`+old["id"].(string)+`"`) || !strings.Contains(newPage, "Replaces certificate: "+old["number"].(string)) {
		t.Error("the successor's page does not link back to the certificate it replaces")
	}
	if !strings.Contains(newPage, "新机房, 杭州市滨江区") || !strings.Contains(newPage, "云计算") {
		t.Error("the page does not show the structured site")
	}

	body := sampleCertificate("default", testUSCC)
	body["sites"] = []any{map[string]any{"name": "批量场所", "address": "深圳"}, "第二场所"}
	r = ts.do("POST", "/api/v1/certificates/batch", ts.Admin, map[string]any{"certificates": []any{body}})
	res, _ := r.JSON(t)["results"].([]any)
	if r.Status != http.StatusOK || len(res) != 1 {
		t.Fatalf("batch: %d %s", r.Status, r.Body)
	}
	got, _ := res[0].(map[string]any)["certificate"].(map[string]any)["sites"].([]any)
	if len(got) != 2 || got[0].(map[string]any)["address"] != "深圳" || got[1].(map[string]any)["name"] != "第二场所" {
		t.Errorf("batch sites = %v", got)
	}
}

// TestCredentialPayloadGolden holds the credential payload of a
// certificate issued under a full profile (accreditation, approval
// number) with sites to a golden file; random ids, positions and the
// public URL are replaced by placeholders.
func TestCredentialPayloadGolden(t *testing.T) {
	ts := startServer(t, "", withClock(fixedClock))
	if r := ts.patch(t, `{"accreditation": [{"body": "CNAS", "number": "CNAS C001-M"}], "approvalNumber": "CNCA-R-2002-001"}`, ""); r.Status != http.StatusOK {
		t.Fatalf("PATCH: %d %s", r.Status, r.Body)
	}
	c := ts.issueCert(t, map[string]any{"sites": []any{map[string]any{"name": "总部", "address": "北京市海淀区中关村大街1号", "scope": "运行维护"}, "上海分公司"}}, nil)
	p := payload(t, c["credential"].(string))
	for _, e := range p["credentialStatus"].([]any) {
		m := e.(map[string]any)
		m["statusListIndex"] = "{index}"
	}
	pretty, _ := json.MarshalIndent(p, "", "  ")
	norm := strings.NewReplacer(c["id"].(string), "{id}", ts.m.PublicURL(), "{public-url}")
	golden(t, filepath.Join("testdata", "golden", "credential_payload.json"), []byte(norm.Replace(string(pretty))+"\n"))
}

// TestBootstrapIssuerMigratesNumberPatterns: the default issuer of a data
// directory made before per-scheme numbering gets the schemes' patterns
// on the next start; its ITSS numbers continue the old sequence and its
// ISO/IEC 17021 certificates are numbered QMS-….
func TestBootstrapIssuerMigratesNumberPatterns(t *testing.T) {
	dir := t.TempDir()
	ts := startServer(t, dir)
	first := ts.issue(t, "default")
	_ = ts.m.Close()
	// Make the issuer look as an older version stored it.
	st, err := bolt.Open(filepath.Join(dir, "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	is, err := st.Issuer(t.Context(), "default")
	if err != nil {
		t.Fatal(err)
	}
	is.NumberPatterns, is.Events = nil, nil
	if err := st.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatal(err)
	}
	_ = st.Close()

	ts = startServer(t, dir)
	itss := ts.issue(t, "default")
	iso := ts.issueCert(t, map[string]any{"scheme": "iso17021", "category": "", "level": 0}, nil)
	if first["number"] != "ITSS-"+itss["number"].(string)[5:9]+"-000001" || !strings.HasSuffix(itss["number"].(string), "-000002") {
		t.Errorf("ITSS numbers %s then %s, want the sequence continued", first["number"], itss["number"])
	}
	if n := iso["number"].(string); !strings.HasPrefix(n, "QMS-") {
		t.Errorf("iso17021 number after the upgrade = %s, want QMS-…", n)
	}
}

// TestMongoProfileAcrossInstances: two instances on one database change
// the same issuer from the same version: one wins, the other gets 412;
// a certificate issued by the other instance afterwards signs the winner's
// name.
func TestMongoProfileAcrossInstances(t *testing.T) {
	a, b := twoInstances(t)
	for round := range 4 {
		version := strconv.Quote(strconv.Itoa(round + 1))
		var wg sync.WaitGroup
		var ra, rb response
		var errA, errB error
		start := make(chan struct{})
		wg.Add(2)
		patch := func(ts *testServer, name string) (response, error) {
			return ts.send(nil, "PATCH", "/api/v1/issuers/default", ts.Admin, `{"nameZh": "`+name+`"}`,
				"Content-Type", "application/merge-patch+json", "If-Match", version)
		}
		go func() { defer wg.Done(); <-start; ra, errA = patch(a, "甲认证中心"+strconv.Itoa(round)) }()
		go func() { defer wg.Done(); <-start; rb, errB = patch(b, "乙认证中心"+strconv.Itoa(round)) }()
		close(start)
		wg.Wait()
		if errA != nil || errB != nil {
			t.Fatal(errA, errB)
		}
		won, lost := ra, rb
		if rb.Status == http.StatusOK {
			won, lost = rb, ra
		}
		if won.Status != http.StatusOK || lost.Status != http.StatusPreconditionFailed {
			t.Fatalf("round %d: %d and %d, want one 200 and one 412", round, ra.Status, rb.Status)
		}
		name := won.JSON(t)["nameZh"].(string)
		for _, ts := range []*testServer{a, b} {
			c := ts.issue(t, "default")
			if got := payload(t, c["credential"].(string))["issuer"].(map[string]any)["name"]; got != name {
				t.Errorf("round %d: credential issued after the change names %v, want %s", round, got, name)
			}
		}
	}
	var ev struct{ Events []any }
	if err := json.Unmarshal(b.do("GET", "/api/v1/issuers/default/events", b.Admin, nil).Body, &ev); err != nil || len(ev.Events) != 5 {
		t.Errorf("events: %d (%v), want created and 4 updates", len(ev.Events), err)
	}
}

// TestConsoleRenameSeenByNextVerification: a profile changed through the
// profiles service the console uses (not the API route) is seen by the
// very next verification and page, although both were answered, and
// kept, just before.
func TestConsoleRenameSeenByNextVerification(t *testing.T) {
	ts := startServer(t, "")
	c := ts.issue(t, "default")
	id := c["id"].(string)
	for range 2 {
		if status, vd := ts.verdict(t, id, ""); status != http.StatusOK || vd["verdict"] != "valid" {
			t.Fatalf("verify: %d %v", status, vd)
		}
		ts.do("GET", "/v/"+id+"?lang=en", "", nil, "Accept", "text/html")
	}
	if _, err := ts.m.Profiles.Patch(t.Context(), cert.Principal{Role: cert.RoleAdmin, KeyID: "console"}, "default",
		[]byte(`{"name":"Renamed Certification Body"}`), profile.NoIfMatch); err != nil {
		t.Fatal(err)
	}
	_, vd := ts.verdict(t, id, "")
	if is, _ := vd["issuer"].(map[string]any); is["name"] != "Renamed Certification Body" {
		t.Errorf("the verdict after the rename names the issuer %v", is)
	}
	if page := ts.do("GET", "/v/"+id+"?lang=en", "", nil, "Accept", "text/html"); !strings.Contains(string(page.Body), "Renamed Certification Body") {
		t.Errorf("the page after the rename does not name the issuer as renamed")
	}
}
