package cert

import (
	"encoding/json"
	"slices"
	"testing"
)

func TestMergePatch(t *testing.T) {
	base := Profile{Name: "CB", Website: "https://a.example", TimeZone: "Asia/Shanghai",
		NumberPatterns: map[string]string{"itss": "ITSS-{YYYY}-{SEQ:6}", "iso17021": "QMS-{YYYY}-{SEQ:6}"},
		Signatory:      &Signatory{Name: "张三", Title: "总经理"}}
	got, err := base.MergePatch([]byte(`{"website": null, "timeZone": null, "numberPatterns": {"itss": null}, "signatory": {"title": "主任"}, "nameZh": "认证中心"}`))
	if err != nil {
		t.Fatal(err)
	}
	if got.Website != "" || got.TimeZone != "Asia/Shanghai" || got.NameZh != "认证中心" || got.Name != "CB" {
		t.Errorf("MergePatch = %+v", got)
	}
	if _, ok := got.NumberPatterns["itss"]; ok || got.NumberPatterns["iso17021"] == "" {
		t.Errorf("numberPatterns = %v, want only iso17021 left", got.NumberPatterns)
	}
	if got.Signatory == nil || *got.Signatory != (Signatory{Name: "张三", Title: "主任"}) {
		t.Errorf("signatory = %v, want the name kept and the title changed", got.Signatory)
	}
	if base.NumberPatterns["itss"] == "" || base.Website == "" {
		t.Error("MergePatch changed the profile it was called on")
	}
	if f := ChangedFields(base, got); !slices.Equal(f, []string{"nameZh", "numberPatterns", "signatory", "website"}) {
		t.Errorf("ChangedFields = %v", f)
	}
	for _, bad := range []string{`[]`, `"x"`, `{"id": "other"}`, `{"keyType": "ES256"}`, `{"accreditation": "CNAS"}`} {
		if _, err := base.MergePatch([]byte(bad)); err == nil {
			t.Errorf("MergePatch(%s) accepted", bad)
		}
	}
}

func TestProfileValidate(t *testing.T) {
	schemes, _ := NewSchemes(BuiltinSchemes())
	for _, tc := range []struct {
		name  string
		p     Profile
		field string
	}{
		{"ok", Profile{Name: "CB", TimeZone: "UTC", Email: "cert@example.cn", Website: "https://x.example", Phone: "+86 10 1234-5678"}, ""},
		{"fail/no-seq", Profile{Name: "CB", TimeZone: "UTC", NumberPatterns: map[string]string{"itss": "ITSS-{YYYY}"}}, "numberPatterns.itss"},
		{"fail/empty-number", Profile{Name: "CB", TimeZone: "UTC", NumberPatterns: map[string]string{"itss": "#{SEQ}"}}, "numberPatterns.itss"},
		{"fail/unknown-scheme", Profile{Name: "CB", TimeZone: "UTC", NumberPatterns: map[string]string{"iso9001": "Q-{SEQ}"}}, "numberPatterns.iso9001"},
		{"fail/control", Profile{Name: "CB\x1b[31m", TimeZone: "UTC"}, "name"},
		{"fail/website", Profile{Name: "CB", TimeZone: "UTC", Website: "ftp://x"}, "website"},
		{"fail/email", Profile{Name: "CB", TimeZone: "UTC", Email: "Bob <bob@x.cn>"}, "email"},
		{"fail/zone", Profile{Name: "CB", TimeZone: "Nowhere/Else"}, "timeZone"},
		{"fail/accreditation", Profile{Name: "CB", TimeZone: "UTC", Accreditation: []Accreditation{{Body: "CNAS"}}}, "accreditation[0].number"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			v := tc.p.Validate(schemes)
			var fields []string
			for _, f := range v.Fields {
				fields = append(fields, f.Field)
			}
			if (tc.field == "" && len(fields) > 0) || (tc.field != "" && !slices.Equal(fields, []string{tc.field})) {
				t.Errorf("Validate fields = %v, want [%s]", fields, tc.field)
			}
		})
	}
}

func TestSiteUnmarshal(t *testing.T) {
	var sites []Site
	if err := json.Unmarshal([]byte(`["总部", {"name": "机房", "address": "东莞", "scope": "运维"}]`), &sites); err != nil {
		t.Fatal(err)
	}
	want := []Site{{Name: "总部"}, {Name: "机房", Address: "东莞", Scope: "运维"}}
	if !slices.Equal(sites, want) {
		t.Errorf("sites = %+v, want %+v", sites, want)
	}
	if err := json.Unmarshal([]byte(`[1]`), &sites); err == nil {
		t.Error("a number was accepted as a site")
	}
}

func TestIssuerReadsOldAccreditation(t *testing.T) {
	var is Issuer
	if err := json.Unmarshal([]byte(`{"id":"cb","name":"CB","accreditationBody":"CNAS","accreditationNumber":"CNAS C123-M"}`), &is); err != nil {
		t.Fatal(err)
	}
	if len(is.Accreditation) != 1 || is.Accreditation[0] != (Accreditation{Body: "CNAS", Number: "CNAS C123-M"}) {
		t.Errorf("accreditation = %v", is.Accreditation)
	}
}

func FuzzMergePatch(f *testing.F) {
	f.Add([]byte(`{"name": "X", "numberPatterns": {"itss": null}}`))
	f.Add([]byte(`{"signatory": null}`))
	base := Profile{Name: "CB", TimeZone: "UTC"}
	f.Fuzz(func(t *testing.T, patch []byte) {
		p, err := base.MergePatch(patch)
		if err == nil && p.TimeZone == "" {
			t.Error("a patch left the time zone empty")
		}
	})
}

func FuzzSiteUnmarshal(f *testing.F) {
	f.Add([]byte(`"x"`))
	f.Add([]byte(`{"name":"a","address":"b"}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		var s Site
		if json.Unmarshal(b, &s) == nil {
			out, err := json.Marshal(s)
			var back Site
			if err != nil || json.Unmarshal(out, &back) != nil || back != s {
				t.Errorf("site %+v does not survive a round trip: %s", s, out)
			}
		}
	})
}
