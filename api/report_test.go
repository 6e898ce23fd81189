package api_test

import (
	"archive/zip"
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"encoding/xml"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/certd/certd/api"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/profile"
	"github.com/certd/certd/report"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/verifier"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newReportAPI is newTestAPI with search, report templates (from dir when
// not empty) and report submissions, on a store a second server can share.
func newReportAPI(t *testing.T, start string) (*testAPI, func(dir string) *testAPI) {
	t.Helper()
	st, err := bolt.Open(filepath.Join(t.TempDir(), "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	kek, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(bytes.Repeat([]byte{7}, 32))))
	if err != nil {
		t.Fatal(err)
	}
	schemes, err := cert.NewSchemes(cert.BuiltinSchemes())
	if err != nil {
		t.Fatal(err)
	}
	clk := &clock{t: bj(t, start).Add(10 * time.Hour)}
	ks := keys.NewService(st, kek, clk.Now)
	svc := issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: publicURL, Now: clk.Now, Organizations: st})
	ver := verifier.New(verifier.Config{Store: st, Keys: ks, Schemes: schemes, PublicURL: publicURL, Now: clk.Now, VerdictCache: 1000})
	ctx := context.Background()
	admin := cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}
	if _, err := svc.CreateIssuer(ctx, admin, issuer.IssuerRequest{ID: "cb", Name: "Test CB", NameZh: "测试认证中心", NumberPrefix: "ITSS"}); err != nil {
		t.Fatal(err)
	}
	// The approval and accreditation the reports carry.
	prof := profile.New(profile.Config{Store: st, Schemes: schemes, Now: clk.Now})
	is, err := svc.Issuer(ctx, "cb")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := prof.Patch(ctx, admin, "cb", []byte(`{"approvalNumber":"CNCA-R-2002-001","accreditation":[{"body":"CNAS","number":"CNAS C123-M"}]}`), is.Version); err != nil {
		t.Fatal(err)
	}
	_, token, err := svc.CreateAPIKey(ctx, admin, issuer.APIKeyRequest{Issuer: "cb", Role: cert.RoleIssuer, Name: "cb operator"})
	if err != nil {
		t.Fatal(err)
	}
	server := func(dir string) *testAPI {
		ts, err := report.LoadTemplates(dir)
		if err != nil {
			t.Fatal(err)
		}
		srv := api.New(api.Config{
			Issuing: svc, Verifying: ver, Keys: ks, Store: st, Search: st, PublicURL: publicURL,
			Reports: ts, Submissions: st,
			PublicRate: 1e6, PublicBurst: 1e6, Now: clk.Now,
			Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		})
		return &testAPI{t: t, srv: srv, svc: svc, clock: clk, token: token}
	}
	return server(""), server
}

// authed sends a request with the operator's token.
func (a *testAPI) authed(method, path string, body any) response {
	a.t.Helper()
	return a.do(method, path, body, "Authorization", "Bearer "+a.token)
}

func (a *testAPI) issueOn(day, scheme, name, validFrom string) resource {
	a.t.Helper()
	return a.issueOnWith(day, scheme, name, validFrom, nil)
}

// issueOnWith is issueOn with extra members of the body.
func (a *testAPI) issueOnWith(day, scheme, name, validFrom string, extra map[string]any) resource {
	a.t.Helper()
	a.clock.Set(bj(a.t, day).Add(9 * time.Hour))
	body := map[string]any{
		"scheme": scheme, "standard": "GB/T 19001-2016", "scope": "软件开发", "validFrom": validFrom,
		"organization": map[string]any{"name": name, "uscc": "91110108MA0123456G", "address": "北京市海淀区"},
	}
	if scheme == "itss" {
		body["category"], body["level"], body["standard"] = "运行维护", 3, "GB/T 28827.1-2022"
	}
	for k, v := range extra {
		body[k] = v
	}
	r := a.do(http.MethodPost, "/api/v1/certificates", body)
	if r.code != http.StatusCreated {
		a.t.Fatalf("issue: HTTP %d %s", r.code, r.body)
	}
	var c resource
	r.decode(a.t, &c)
	return c
}

func (a *testAPI) actOn(day, id, action string, body map[string]any, want int) response {
	a.t.Helper()
	a.clock.Set(bj(a.t, day).Add(11 * time.Hour))
	return a.act(id, action, body, want)
}

// monthScenario is November 2026 of the issue: 30 certificates issued (28
// new, 2 renewals, whose old certificates are withdrawn as 0120), 3
// suspended with codes, 1 withdrawn, 1 suspended automatically for an
// overdue audit, and one audit. It returns the certificates by role.
func monthScenario(t *testing.T, a *testAPI) map[string]resource {
	t.Helper()
	out := map[string]resource{}
	// October: what November changes. Two certificates near their expiry
	// with their audits done, and one whose first audit falls due in
	// November and is never done.
	for i, name := range []string{"old1", "old2"} {
		c := a.issueOn("2026-10-0"+fmt.Sprint(i+1), "iso17021", "续证示例有限公司"+name, "2023-12-01")
		a.actOn("2026-10-05", c.ID, "surveillance", map[string]any{"reason": "audit", "date": "2024-06-01", "result": "passed"}, http.StatusOK)
		a.actOn("2026-10-05", c.ID, "surveillance", map[string]any{"reason": "audit", "date": "2025-06-01", "result": "passed"}, http.StatusOK)
		out[name] = c
	}
	out["overdue"] = a.issueOn("2026-10-20", "iso17021", "逾期示例有限公司", "2025-11-10")

	// November.
	for i := range 28 {
		scheme := "itss"
		if i%2 == 1 {
			scheme = "iso17021"
		}
		var extra map[string]any
		if i == 0 {
			// The audit behind the first issue, as the reports show it.
			extra = map[string]any{"decisionDate": "2026-10-30", "audit": map[string]any{
				"type": "initial", "mode": "FS03", "firstDay": "2026-10-26", "lastDay": "2026-10-28",
				"team":       []map[string]any{{"name": "张组长", "role": "leader"}, {"name": "李审核", "role": "auditor"}, {"name": "王专家", "role": "technical_expert"}},
				"personDays": 4.5, "decisionMakers": []string{"赵决定", "钱决定"}, "technicalAreas": []string{"33", "19.1"}, "employees": 86,
			}}
		}
		c := a.issueOnWith(fmt.Sprintf("2026-11-%02d", 1+i%28), scheme, fmt.Sprintf("示例%02d有限公司", i), fmt.Sprintf("2026-11-%02d", 1+i%28), extra)
		out[fmt.Sprintf("new%02d", i)] = c
	}
	a.actOn("2026-11-12", out["new01"].ID, "suspend", map[string]any{"reason": "客户申请", "reasonCode": "0113"}, http.StatusOK)
	a.actOn("2026-11-13", out["new03"].ID, "suspend", map[string]any{"reason": "不符合", "reasonCode": "0114"}, http.StatusOK)
	a.actOn("2026-11-14", out["new04"].ID, "suspend", map[string]any{"reason": "误用标志", "reasonCode": "0115"}, http.StatusOK)
	a.actOn("2026-11-15", out["new05"].ID, "withdraw", map[string]any{"reason": "严重不符合", "reasonCode": "0103"}, http.StatusOK)
	a.actOn("2026-11-28", out["new06"].ID, "surveillance", map[string]any{"reason": "audit", "date": "2026-11-28", "result": "passed", "auditRef": "sa-2026-11",
		"audit": map[string]any{"mode": "FS02", "firstDay": "2026-11-27", "lastDay": "2026-11-28", "team": []map[string]any{{"name": "孙组长", "role": "leader"}},
			"personDays": 1.5, "decisionDate": "2026-11-28", "decisionMakers": []string{"周决定"}, "technicalAreas": []string{"33"}, "employees": 40}}, http.StatusOK)
	for i, name := range []string{"old1", "old2"} {
		day := fmt.Sprintf("2026-11-2%d", i)
		r := a.actOn(day, out[name].ID, "renew", map[string]any{"reason": "再认证", "validFrom": day}, http.StatusCreated)
		var next resource
		r.decode(t, &next)
		out["renewed-"+name] = next
	}
	a.clock.Set(bj(t, "2026-12-01 09:00:00"))
	return out
}

func TestAPIReportMonth(t *testing.T) {
	a, _ := newReportAPI(t, "2026-10-01")
	monthScenario(t, a)

	tmpl, err := report.LoadTemplates("")
	if err != nil {
		t.Fatal(err)
	}
	cnca := tmpl["cnca"]
	r := a.authed(http.MethodGet, "/api/v1/reports/cnca/2026-11?format=xlsx", nil)
	if r.code != http.StatusOK || r.header.Get("Content-Type") != report.ContentType(report.FormatXLSX) {
		t.Fatalf("xlsx: HTTP %d %s %s", r.code, r.header.Get("Content-Type"), r.body)
	}
	// Read back with excelize.
	f, err := excelize.OpenReader(bytes.NewReader(r.body))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := f.GetSheetList(), []string{"证书信息表", "审核结果信息表", "审核计划信息表"}; !slices.Equal(got, want) {
		t.Fatalf("sheets %q, want %q", got, want)
	}
	byExcelize := map[string][][]string{}
	for _, name := range f.GetSheetList() {
		rows, err := f.GetRows(name)
		if err != nil {
			t.Fatal(err)
		}
		byExcelize[name] = rows
	}
	// And independently: unzip and parse the sheet XML.
	byXML := readXLSX(t, r.body)
	if !equalSheets(byXML, byExcelize) {
		t.Errorf("zip+xml and excelize disagree:\n%q\n%q", byXML, byExcelize)
	}
	for i, name := range []string{"证书信息表", "审核结果信息表", "审核计划信息表"} {
		if got := byXML.rows(name); len(got) == 0 || !slices.Equal(got[0], cnca.Header(i)) {
			t.Errorf("%s header %q, want %q", name, got, cnca.Header(i))
		}
	}
	rows := byXML.rows("证书信息表")[1:]
	if len(rows) != 37 {
		t.Errorf("certificate sheet: %d rows, want 37 (30 issued, 3 suspended, 1 withdrawn, 2 replaced, 1 overdue)", len(rows))
	}
	col := func(h string) int { return slices.Index(cnca.Header(0), h) }
	count := map[string]int{}
	number := regexp.MustCompile(`^[A-Z0-9-]+$`)
	day := regexp.MustCompile(`^\d{4}-\d{2}-\d{2}$`)
	cell := func(row []string, i int) string {
		if i < len(row) {
			return row[i]
		}
		return "" // trailing empty cells are not written
	}
	for _, row := range rows {
		count[cell(row, col("证书状态"))+"/"+cell(row, col("暂停/撤销原因代码"))]++
		if n := row[col("证书编号")]; !number.MatchString(n) {
			t.Errorf("number %q: want upper case without spaces", n)
		}
		for _, h := range []string{"颁证日期", "证书到期日期", "变更日期"} {
			if v := row[col(h)]; !day.MatchString(v) {
				t.Errorf("%s %q: want YYYY-MM-DD", h, v)
			}
		}
	}
	want := map[string]int{"01/": 30, "02/0113": 1, "02/0114": 1, "02/0115": 1, "02/0111": 1, "03/0103": 1, "03/0120": 2}
	if fmt.Sprint(count) != fmt.Sprint(want) {
		t.Errorf("status/reason counts %v, want %v", count, want)
	}
	// The audit sheets: the initial audit recorded with new00's issue and
	// new06's surveillance audit, each with its record; the body's
	// approval and accreditation on every row.
	for i, sheet := range []string{"审核结果信息表", "审核计划信息表"} {
		audits := byXML.rows(sheet)
		if len(audits) != 3 {
			t.Fatalf("%s: %d rows, want a header and 2 audits: %q", sheet, len(audits), audits)
		}
		h := cnca.Header(i + 1)
		get := func(row []string, header string) string {
			k := slices.Index(h, header)
			if k < 0 {
				t.Fatalf("%s has no column %s", sheet, header)
			}
			return cell(row, k)
		}
		want := []map[string]string{
			{"审核类型": "初次认证审核", "审核方式代码": "FS03", "审核开始日期": "2026-10-26", "审核结束日期": "2026-10-28", "审核组长": "张组长",
				"现场审核人日数": "4.5", "专业代码": "33; 19.1", "覆盖员工人数": "86", "认证机构批准号": "CNCA-R-2002-001"},
			{"审核类型": "监督审核", "审核方式代码": "FS02", "审核开始日期": "2026-11-27", "审核结束日期": "2026-11-28", "审核组长": "孙组长",
				"现场审核人日数": "1.5", "专业代码": "33", "覆盖员工人数": "40", "认证机构批准号": "CNCA-R-2002-001"},
		}
		if i == 0 {
			want[0]["审核组成员"], want[0]["认证决定日期"], want[0]["认证决定人员"], want[0]["审核结论"] = "李审核; 王专家", "2026-10-30", "赵决定; 钱决定", "通过"
			want[1]["审核组成员"], want[1]["认证决定日期"], want[1]["认证决定人员"], want[1]["审核结论"] = "", "2026-11-28", "周决定", "通过"
			want[1]["审核报告编号"], want[0]["认可机构"], want[0]["认可证书号"] = "sa-2026-11", "CNAS", "CNAS C123-M"
		} else {
			want[0]["审核组成员及角色"] = "张组长 (leader); 李审核 (auditor); 王专家 (technical_expert)"
		}
		for j, w := range want {
			for header, v := range w {
				if got := get(audits[j+1], header); got != v {
					t.Errorf("%s row %d %s = %q, want %q", sheet, j+1, header, got, v)
				}
			}
		}
	}

	// CSV and JSON against golden files.
	for _, g := range []struct{ query, file string }{
		{"format=csv", "cnca-2026-11.csv"},
		{"format=csv&sheet=2", "cnca-2026-11-audits.csv"},
		{"format=csv&sheet=3", "cnca-2026-11-audit-plan.csv"},
		{"format=json", "cnca-2026-11.json"},
		{"format=json", "iafcertsearch-2026-11.json"},
	} {
		target := strings.SplitN(g.file, "-", 2)[0]
		r := a.authed(http.MethodGet, "/api/v1/reports/"+target+"/2026-11?"+g.query, nil)
		if r.code != http.StatusOK {
			t.Fatalf("%s: HTTP %d %s", g.file, r.code, r.body)
		}
		golden(t, g.file, r.body)
	}
	// Accept picks the format too.
	if r := a.do(http.MethodGet, "/api/v1/reports/cnca/2026-11", nil, "Authorization", "Bearer "+a.token, "Accept", "text/csv"); r.code != http.StatusOK || !strings.HasPrefix(r.header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept text/csv: HTTP %d %s", r.code, r.header.Get("Content-Type"))
	}
	wantFieldProblem(t, a.authed(http.MethodGet, "/api/v1/reports/cnca/2026-13", nil), "period", "YYYY-MM")
	wantFieldProblem(t, a.authed(http.MethodGet, "/api/v1/reports/cnca/2026-11?format=pdf", nil), "format", "xlsx")
	if r := a.authed(http.MethodGet, "/api/v1/reports/nca/2026-11", nil); r.code != http.StatusNotFound {
		t.Errorf("unknown target: HTTP %d", r.code)
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	p := filepath.Join("testdata", "report", name)
	if *update {
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run with -update after checking):\n got %s\nwant %s", name, got, want)
	}
}

// Changing a column of a template file changes the output, without a
// rebuild: the file is read when the server starts.
func TestAPIReportTemplateFile(t *testing.T) {
	a, server := newReportAPI(t, "2026-11-02")
	a.issueOn("2026-11-02", "itss", "模板示例有限公司", "2026-11-02")
	b, err := os.ReadFile(filepath.Join("..", "report", "templates", "cnca.json"))
	if err != nil {
		t.Fatal(err)
	}
	var tm map[string]any
	if err := json.Unmarshal(b, &tm); err != nil {
		t.Fatal(err)
	}
	cols := tm["sheets"].([]any)[0].(map[string]any)["columns"].([]any)
	cols[0] = map[string]any{"header": "证书号码", "field": "number"}                        // renamed
	cols[1], cols[2] = cols[2], cols[1]                                                  // swapped
	cols = append(cols, map[string]any{"header": "认证机构批准号", "value": "CNCA-R-2002-001"}) // added
	tm["sheets"].([]any)[0].(map[string]any)["columns"] = cols
	dir := t.TempDir()
	b, _ = json.Marshal(tm)
	if err := os.WriteFile(filepath.Join(dir, "cnca.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	edited := server(dir)
	for _, tc := range []struct {
		srv  *testAPI
		head string
	}{
		{a, "证书编号,获证组织名称,统一社会信用代码,"},
		{edited, "证书号码,统一社会信用代码,获证组织名称,"},
	} {
		r := tc.srv.authed(http.MethodGet, "/api/v1/reports/cnca/2026-11?format=csv", nil)
		lines := strings.Split(string(r.body), "\n")
		if r.code != http.StatusOK || !strings.HasPrefix(lines[0], tc.head) {
			t.Errorf("HTTP %d header %q, want it to start %q", r.code, lines[0], tc.head)
		}
		if tc.srv == edited && (!strings.HasSuffix(lines[0], ",认证机构批准号") || !strings.HasSuffix(lines[1], ",CNCA-R-2002-001")) {
			t.Errorf("added column missing: %q", lines[:2])
		}
	}
	// A broken template is refused at start, naming the field.
	if err := os.WriteFile(filepath.Join(dir, "cnca.json"), []byte(`{"id":"cnca","sheets":[{"name":"x","rows":"changes","columns":[{"header":"h","field":"nope"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := report.LoadTemplates(dir); err == nil || !strings.Contains(err.Error(), "sheets[0].columns[0].field") {
		t.Errorf("broken template: got %v", err)
	}
}

// Confidential certificates are absent from public search and from the
// IAF CertSearch records; their page still verifies.
func TestAPIConfidential(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-02")
	open := a.issueOn("2026-11-02", "itss", "公开示例有限公司", "2026-11-02")
	secret := a.issueOn("2026-11-03", "itss", "保密示例有限公司", "2026-11-03")
	r := a.authed(http.MethodPut, "/api/v1/certificates/"+secret.ID+"/confidential", map[string]any{"confidential": true})
	if r.code != http.StatusOK || !strings.Contains(string(r.body), `"confidential":true`) {
		t.Fatalf("PUT confidential: HTTP %d %s", r.code, r.body)
	}
	wantFieldProblem(t, a.authed(http.MethodPut, "/api/v1/certificates/"+secret.ID+"/confidential", map[string]any{}), "confidential", "true or false")

	for _, q := range []string{"示例有限公司", secret.Number} {
		r := a.do(http.MethodGet, "/api/v1/search?q="+q, nil)
		if r.code != http.StatusOK || strings.Contains(string(r.body), secret.ID) {
			t.Errorf("search %q: HTTP %d, the confidential certificate must be absent: %s", q, r.code, r.body)
		}
		if q != secret.Number && !strings.Contains(string(r.body), open.ID) {
			t.Errorf("search %q: the public certificate is missing", q)
		}
	}
	r = a.authed(http.MethodGet, "/api/v1/reports/iafcertsearch/2026-11?format=json", nil)
	if r.code != http.StatusOK || strings.Contains(string(r.body), secret.Number) || !strings.Contains(string(r.body), open.Number) {
		t.Errorf("IAF records: HTTP %d, want %s and not %s: %s", r.code, open.Number, secret.Number, r.body)
	}
	// CNCA gets every certificate, confidential or not.
	if r := a.authed(http.MethodGet, "/api/v1/reports/cnca/2026-11?format=csv", nil); !strings.Contains(string(r.body), secret.Number) {
		t.Errorf("CNCA report must hold the confidential certificate: %s", r.body)
	}
	if v := a.verify(secret.ID); v.Verdict != cert.VerdictValid {
		t.Errorf("verdict %s, want valid", v.Verdict)
	}
	if r := a.do(http.MethodGet, "/v/"+secret.ID, nil); r.code != http.StatusOK || !strings.Contains(string(r.body), "保密示例有限公司") {
		t.Errorf("page: HTTP %d", r.code)
	}
	a.verifyByQR(t, secret.ID, "保密示例有限公司")
}

// Marking a period submitted, then changing one of its certificates: the
// change is outstanding for the next report.
func TestAPIReportOutstanding(t *testing.T) {
	a, _ := newReportAPI(t, "2026-11-02")
	c := a.issueOn("2026-11-02", "iso17021", "申报示例有限公司", "2026-11-02")
	a.issueOn("2026-11-05", "itss", "申报示例二有限公司", "2026-11-05")
	type period struct {
		Period      string
		Entries     int
		Outstanding int
		Submitted   bool
		Deadline    string
		Warning     string
	}
	periods := func() map[string]period {
		t.Helper()
		r := a.authed(http.MethodGet, "/api/v1/reports/cnca", nil)
		var out struct{ Periods []period }
		r.decode(t, &out)
		m := map[string]period{}
		for _, p := range out.Periods {
			m[p.Period] = p
		}
		return m
	}
	a.clock.Set(bj(t, "2026-12-06 10:00:00"))
	if got := periods()["2026-11"]; got.Outstanding != 2 || got.Submitted || got.Deadline != "2026-12-10" || got.Warning != "due_soon" {
		t.Errorf("before: %+v", got)
	}
	r := a.authed(http.MethodPost, "/api/v1/reports/cnca/2026-11/submitted", nil)
	if r.code != http.StatusCreated || !strings.Contains(string(r.body), `"entries":2`) {
		t.Fatalf("mark: HTTP %d %s", r.code, r.body)
	}
	a.actOn("2026-12-07", c.ID, "suspend", map[string]any{"reason": "客户申请", "reasonCode": "0113"}, http.StatusOK)
	a.clock.Set(bj(t, "2027-01-11 10:00:00"))
	got := periods()
	if p := got["2026-11"]; p.Outstanding != 0 || !p.Submitted || p.Warning != "" {
		t.Errorf("November after marking: %+v", p)
	}
	if p := got["2026-12"]; p.Outstanding != 1 || p.Entries != 1 || p.Submitted || p.Deadline != "2027-01-10" || p.Warning != "overdue" {
		t.Errorf("December: %+v, want the suspension outstanding and overdue", p)
	}
}

// xlsxSheets is a workbook read with archive/zip and encoding/xml only.
type xlsxSheets struct {
	names []string
	data  map[string][][]string
}

func (x xlsxSheets) rows(name string) [][]string { return x.data[name] }

func equalSheets(x xlsxSheets, m map[string][][]string) bool {
	if len(x.data) != len(m) {
		return false
	}
	for name, rows := range x.data {
		if fmt.Sprint(rows) != fmt.Sprint(m[name]) {
			return false
		}
	}
	return true
}

func readXLSX(t *testing.T, b []byte) xlsxSheets {
	t.Helper()
	zr, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	read := func(name string, v any) bool {
		f, err := zr.Open(name)
		if err != nil {
			return false
		}
		defer f.Close()
		if err := xml.NewDecoder(f).Decode(v); err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		return true
	}
	var wb struct {
		Sheets []struct {
			Name string `xml:"name,attr"`
			RID  string `xml:"http://schemas.openxmlformats.org/officeDocument/2006/relationships id,attr"`
		} `xml:"sheets>sheet"`
	}
	var rels struct {
		Rel []struct {
			ID     string `xml:"Id,attr"`
			Target string `xml:"Target,attr"`
		} `xml:"Relationship"`
	}
	var sst struct {
		SI []struct {
			T string `xml:"t"`
			R []struct {
				T string `xml:"t"`
			} `xml:"r"`
		} `xml:"si"`
	}
	if !read("xl/workbook.xml", &wb) || !read("xl/_rels/workbook.xml.rels", &rels) {
		t.Fatal("not a workbook")
	}
	read("xl/sharedStrings.xml", &sst)
	shared := make([]string, len(sst.SI))
	for i, si := range sst.SI {
		shared[i] = si.T
		for _, r := range si.R {
			shared[i] += r.T
		}
	}
	out := xlsxSheets{data: map[string][][]string{}}
	for _, s := range wb.Sheets {
		target := ""
		for _, r := range rels.Rel {
			if r.ID == s.RID {
				target = r.Target
			}
		}
		if !strings.HasPrefix(target, "/") {
			target = path.Join("xl", target)
		} else {
			target = strings.TrimPrefix(target, "/")
		}
		var ws struct {
			Rows []struct {
				C []struct {
					R  string `xml:"r,attr"`
					T  string `xml:"t,attr"`
					V  string `xml:"v"`
					IS struct {
						T string `xml:"t"`
					} `xml:"is"`
				} `xml:"c"`
			} `xml:"sheetData>row"`
		}
		if !read(target, &ws) {
			t.Fatalf("sheet %s: no part %s", s.Name, target)
		}
		var rows [][]string
		for _, row := range ws.Rows {
			var cells []string
			for _, c := range row.C {
				col, _, err := excelize.SplitCellName(c.R)
				if err != nil {
					t.Fatal(err)
				}
				n, _ := excelize.ColumnNameToNumber(col)
				for len(cells) < n-1 {
					cells = append(cells, "")
				}
				v := c.V
				switch c.T {
				case "s":
					var i int
					fmt.Sscan(c.V, &i)
					v = shared[i]
				case "inlineStr":
					v = c.IS.T
				}
				cells = append(cells, v)
			}
			for len(cells) > 0 && cells[len(cells)-1] == "" {
				cells = cells[:len(cells)-1]
			}
			rows = append(rows, cells)
		}
		out.names = append(out.names, s.Name)
		out.data[s.Name] = rows
	}
	if !slices.Equal(out.names, []string{"证书信息表", "审核结果信息表", "审核计划信息表"}) {
		t.Errorf("workbook.xml sheets %q", out.names)
	}
	return out
}
