package cert

import (
	"encoding/json"
	"strconv"
	"sync"
)

// AppendJSON appends the JSON of v, byte for byte what encoding/json
// writes for it (HTML characters escaped, as by json.Marshal). Verification
// answers a verdict on every request; this writes one without reflection.
// TestVerdictJSON holds it to encoding/json for every field.
func (v *Verdict) AppendJSON(b []byte) []byte {
	if v.JSON != nil {
		v.JSON.once.Do(func() { v.JSON.head = v.appendHead(nil) })
		b = append(b, v.JSON.head...)
	} else {
		b = v.appendHead(b)
	}
	b = AppendJSONTime(b, v.CheckedAt)
	return append(b, '}')
}

// VerdictJSON is the JSON of a verdict up to its checkedAt, written once
// and shared by copies of one verdict that differ in CheckedAt alone (the
// verdicts the verifier keeps and answers again).
type VerdictJSON struct {
	once sync.Once
	head []byte
}

// appendHead appends the JSON of v up to the value of checkedAt.
func (v *Verdict) appendHead(b []byte) []byte {
	b = append(b, `{"verdict":`...)
	b = AppendJSONString(b, v.Verdict)
	b = append(b, `,"status":`...)
	b = AppendJSONString(b, string(v.Status))
	b = append(b, `,"reason":`...)
	b = AppendJSONString(b, v.Reason)
	b = append(b, `,"checks":`...)
	if v.Checks == nil {
		b = append(b, "null"...)
	} else {
		b = append(b, '[')
		for i := range v.Checks {
			if i > 0 {
				b = append(b, ',')
			}
			ch := &v.Checks[i]
			b = append(b, `{"name":`...)
			b = AppendJSONString(b, ch.Name)
			b = append(b, `,"ok":`...)
			b = strconv.AppendBool(b, ch.OK)
			b = append(b, `,"detail":`...)
			b = AppendJSONString(b, ch.Detail)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if v.Surveillance != nil {
		b = append(b, `,"surveillance":`...)
		b = v.Surveillance.AppendJSON(b)
	}
	if c := v.Certificate; c != nil {
		b = append(b, `,"certificate":{"id":`...)
		b = AppendJSONString(b, c.ID)
		b = append(b, `,"number":`...)
		b = AppendJSONString(b, c.Number)
		b = append(b, `,"scheme":`...)
		b = AppendJSONString(b, c.Scheme)
		b = AppendJSONOmitEmpty(b, `,"standard":`, c.Standard)
		b = AppendJSONOmitEmpty(b, `,"category":`, c.Category)
		if c.Level != 0 {
			b = append(b, `,"level":`...)
			b = strconv.AppendInt(b, int64(c.Level), 10)
		}
		b = AppendJSONOmitEmpty(b, `,"scope":`, c.Scope)
		b = AppendJSONOmitEmpty(b, `,"scopeEn":`, c.ScopeEn)
		b = AppendJSONOmitEmpty(b, `,"assessmentBody":`, c.AssessmentBody)
		b = append(b, `,"organization":`...)
		b = c.Organization.AppendJSON(b)
		b = append(b, `,"validFrom":`...)
		b = AppendJSONString(b, c.ValidFrom)
		b = append(b, `,"validUntil":`...)
		b = AppendJSONString(b, c.ValidUntil)
		b = AppendJSONOmitEmpty(b, `,"originalDate":`, c.OriginalDate)
		b = AppendJSONOmitEmpty(b, `,"kid":`, c.Kid)
		b = AppendJSONOmitEmpty(b, `,"supersededBy":`, c.SupersededBy)
		// Rare and nested: written by encoding/json.
		if len(c.Sites) > 0 {
			b = appendMarshal(b, `,"sites":`, c.Sites)
		}
		if c.Successor != nil {
			b = appendMarshal(b, `,"successor":`, c.Successor)
		}
		if c.Predecessor != nil {
			b = appendMarshal(b, `,"predecessor":`, c.Predecessor)
		}
		b = append(b, '}')
	}
	if is := v.Issuer; is != nil {
		b = append(b, `,"issuer":{"id":`...)
		b = AppendJSONString(b, is.ID)
		b = append(b, `,"name":`...)
		b = AppendJSONString(b, is.Name)
		b = AppendJSONOmitEmpty(b, `,"nameZh":`, is.NameZh)
		b = AppendJSONOmitEmpty(b, `,"url":`, is.URL)
		b = AppendJSONOmitEmpty(b, `,"signedName":`, is.SignedName)
		b = AppendJSONOmitEmpty(b, `,"currentName":`, is.CurrentName)
		if is.Accreditation != nil {
			b = appendMarshal(b, `,"accreditation":`, is.Accreditation)
		}
		b = append(b, '}')
	}
	if len(v.History) > 0 {
		b = append(b, `,"history":[`...)
		for i := range v.History {
			if i > 0 {
				b = append(b, ',')
			}
			h := &v.History[i]
			b = append(b, `{"at":`...)
			b = AppendJSONTime(b, h.At)
			b = append(b, `,"status":`...)
			b = AppendJSONString(b, string(h.Status))
			b = AppendJSONOmitEmpty(b, `,"reason":`, h.Reason)
			if h.Code != nil {
				b = append(b, `,"code":{"code":`...)
				b = AppendJSONString(b, h.Code.Code)
				b = append(b, `,"label":`...)
				b = AppendJSONString(b, h.Code.Label)
				b = append(b, `,"labelEn":`...)
				b = AppendJSONString(b, h.Code.LabelEn)
				b = append(b, '}')
			}
			b = append(b, `,"derived":`...)
			b = strconv.AppendBool(b, h.Derived)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	return append(b, `,"checkedAt":`...)
}

// MarshalJSON makes encoding/json use AppendJSON where a verdict is part of
// a larger answer.
func (v Verdict) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

// appendMarshal appends key and the encoding/json form of v (values whose
// types have no MarshalJSON that could fail).
func appendMarshal(b []byte, key string, v any) []byte {
	j, err := json.Marshal(v)
	if err != nil {
		j = []byte("null")
	}
	return append(append(b, key...), j...)
}
