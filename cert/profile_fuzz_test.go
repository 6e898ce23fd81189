package cert

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzMergePatchIdempotent: a merge patch from outside (PATCH of an
// issuer's profile) is refused as ErrInvalid, leaving the profile as it
// was, or gives a profile; and applying the same patch again changes
// nothing (RFC 7396 patches are idempotent), so a retried request is
// harmless.
func FuzzMergePatchIdempotent(f *testing.F) {
	for _, s := range []string{
		`{"website": null, "timeZone": null, "numberPatterns": {"itss": null}, "signatory": {"title": "主任"}, "nameZh": "认证中心"}`,
		`{}`, `[]`, `"x"`, `null`, `{"id": "other"}`, `{"signatory": null}`, `{"signatory": {}}`, `{"numberPatterns": null}`,
		`{"numberPatterns": {"x": 1}}`, `{"name": ["a"]}`, `{"timeZone": ""}`, `{"website": "\u0000"}`, `{"a":{"b":null}}`,
	} {
		f.Add([]byte(s))
	}
	schemes, err := NewSchemes(BuiltinSchemes())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, patch []byte) {
		base := Profile{Name: "CB", Website: "https://a.example", TimeZone: "Asia/Shanghai",
			NumberPatterns: map[string]string{"itss": "ITSS-{YYYY}-{SEQ:6}", "iso17021": "QMS-{YYYY}-{SEQ:6}"},
			Signatory:      &Signatory{Name: "张三", Title: "总经理"}}
		before, _ := json.Marshal(base)
		got, err := base.MergePatch(patch)
		if after, _ := json.Marshal(base); string(after) != string(before) {
			t.Fatalf("MergePatch(%s) changed the profile it was called on: %s", patch, after)
		}
		if err != nil {
			if !errors.Is(err, ErrInvalid) {
				t.Fatalf("MergePatch(%s): %v, want an error matching ErrInvalid", patch, err)
			}
			return
		}
		_ = got.Validate(schemes)
		again, err := got.MergePatch(patch)
		if err != nil {
			t.Fatalf("MergePatch(%s) applies once but not twice: %v", patch, err)
		}
		a, _ := json.Marshal(got)
		b, _ := json.Marshal(again)
		if string(a) != string(b) || len(ChangedFields(got, again)) != 0 {
			t.Fatalf("MergePatch(%s) twice differs from once:\n once %s\ntwice %s", patch, a, b)
		}
	})
}
