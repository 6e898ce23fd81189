package templates

import (
	"bytes"
	"html/template"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
)

// hostile are values a certificate, an issuer's profile or a deployment's
// configuration could hold: markup, quotes, a NUL, invalid UTF-8, plus
// signs, URLs of other schemes, characters html/template percent-encodes.
var hostile = []string{
	"北京示例科技有限公司", `<script>alert(1)</script>"'`, "A+B & Co. <Ltd>", "nul\x00byte", "bad\xffutf8",
	"javascript:alert(1)", "https://cert.example.cn/a b?x=1&y=<2>", "https://cert.example.cn/路径", "/path/%41#frag",
	"//evil.example", "http://cert.example.cn:8443/x?y=z", "HTTPS://CERT.EXAMPLE.CN", "data:text/html,x", "",
}

// The page a registered certificate's QR code leads to is written
// without the template (writeVerifyDirect); it must be, byte for byte,
// what verify.html writes, for any value in every place, or leave the
// page to the template.
func TestVerifyDirectAsTemplate(t *testing.T) {
	direct, fallback := 0, 0
	check := func(name string, d VerifyPageData) {
		t.Helper()
		v := newVerifyView(d)
		want, err := execute(v.P.Lang, "verify.html", v)
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		if !writeVerifyDirect(&b, v) {
			fallback++
			got, err := VerifyPage(d)
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: the page left to the template differs (%v)", name, err)
			}
			return
		}
		direct++
		if got := b.Bytes(); !bytes.Equal(got, want) {
			i := 0
			for i < len(got) && i < len(want) && got[i] == want[i] {
				i++
			}
			t.Errorf("%s: differs at byte %d:\n got …%q\nwant …%q", name, i, tail(got, i), tail(want, i))
		}
	}
	statuses := []cert.Status{cert.StatusActive, cert.StatusSuspended, cert.StatusWithdrawn, cert.StatusExpired, cert.StatusSuperseded, cert.StatusNotFound, ""}
	for _, lang := range Languages {
		for _, st := range statuses {
			for _, watch := range []bool{false, true} {
				d := pageData(st, lang)
				d.Watch = watch
				check(lang+"/"+string(st), d)
			}
		}
		for _, h := range hostile {
			// Hostile text, plain links: written directly.
			d := pageData(cert.StatusSuperseded, lang)
			d.Watch = true
			c := d.Verdict.Certificate
			c.Organization.Name, c.Organization.NameEn, c.Scope, c.Number, c.AssessmentBody = h, h, h, h, h
			c.Successor = &cert.CertificateLink{ID: testID, Number: h, Status: cert.StatusActive}
			c.Predecessor = &cert.CertificateLink{ID: testID, Number: h, Status: cert.StatusSuperseded}
			d.Verdict.Issuer = &cert.VerdictIssuer{ID: "cesa-itss", Name: h, NameZh: h, SignedName: h, CurrentName: h}
			is := *testIssuer
			is.Website, is.Logo = "https://cert.example.cn/about", &cert.ImageRef{}
			d.Issuer = &is
			before := direct
			check(lang+"/text/"+h, d)
			if direct == before {
				t.Errorf("%s/text/%q: left to the template", lang, h)
			}
			d.PublicURL = "https://" + h
			check(lang+"/host/"+h, d)
		}
		for i, h := range hostile {
			d := pageData(cert.StatusActive, lang)
			d.Watch = true
			c := d.Verdict.Certificate
			c.Organization.Name, c.Organization.NameEn, c.Scope, c.Number = h, h, h, h
			c.Successor = &cert.CertificateLink{ID: h, Number: h, Status: cert.StatusActive}
			c.Predecessor = &cert.CertificateLink{ID: h, Number: h, Status: cert.StatusSuperseded}
			is := *testIssuer
			is.Website, is.Logo, is.ID = h, &cert.ImageRef{}, h
			d.Issuer = &is
			d.Verdict.Issuer = &cert.VerdictIssuer{ID: h, Name: h, NameZh: h, SignedName: h}
			check(lang+"/hostile/"+h, d)
			for _, pub := range []string{"https://verify.example.cn/" + h, "https://" + h, "https://x.example/pre fix", "https://x.example/前缀"} {
				d := d
				d.PublicURL = pub
				check(lang+"/public-url/"+pub, d)
			}
			d.Verdict.Certificate.Kid = h
			d.Verdict.CheckedAt = d.Verdict.CheckedAt.AddDate(0, 0, i)
			check(lang+"/kid/"+h, d)
		}
	}
	if direct == 0 || fallback == 0 {
		t.Errorf("%d pages written directly, %d by the template: want both", direct, fallback)
	}
}

func tail(b []byte, i int) string {
	return string(b[i:min(len(b), i+80)])
}

// textEscaper escapes as html/template does in text.
func FuzzTextEscaper(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	tmpl := template.Must(template.New("").Parse(`<p title="{{.}}">{{.}}</p>`))
	f.Fuzz(func(t *testing.T, s string) {
		var want strings.Builder
		if err := tmpl.Execute(&want, s); err != nil {
			t.Skip()
		}
		e := textEscaper.Replace(s)
		if got := `<p title="` + e + `">` + e + `</p>`; got != want.String() {
			t.Errorf("%q: got %q, want %q", s, got, want.String())
		}
	})
}

// plainURL accepts only URLs that html/template writes as they are.
func FuzzPlainURL(f *testing.F) {
	for _, h := range hostile {
		f.Add(h)
	}
	tmpl := template.Must(template.New("").Parse(`<a href="{{.}}">`))
	f.Fuzz(func(t *testing.T, u string) {
		if !plainURL(u) {
			return
		}
		var want strings.Builder
		if err := tmpl.Execute(&want, u); err != nil {
			t.Fatal(err)
		}
		if got := `<a href="` + u + `">`; got != want.String() {
			t.Errorf("%q: written as it is, but html/template writes %q", u, want.String())
		}
	})
}
