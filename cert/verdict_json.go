package cert

import (
	"strconv"
	"time"
	"unicode/utf8"
)

// AppendJSON appends the JSON of v, byte for byte what encoding/json
// writes for it (HTML characters escaped, as by json.Marshal). Verification
// answers a verdict on every request; this writes one without reflection.
// TestVerdictJSON holds it to encoding/json for every field.
func (v *Verdict) AppendJSON(b []byte) []byte {
	b = append(b, `{"verdict":`...)
	b = appendJSONString(b, v.Verdict)
	b = append(b, `,"status":`...)
	b = appendJSONString(b, string(v.Status))
	b = append(b, `,"reason":`...)
	b = appendJSONString(b, v.Reason)
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
			b = appendJSONString(b, ch.Name)
			b = append(b, `,"ok":`...)
			b = strconv.AppendBool(b, ch.OK)
			b = append(b, `,"detail":`...)
			b = appendJSONString(b, ch.Detail)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	if s := v.Surveillance; s != nil {
		b = append(b, `,"surveillance":{"state":`...)
		b = appendJSONString(b, string(s.State))
		b = appendOmitEmpty(b, `,"windowStart":`, s.WindowStart)
		b = appendOmitEmpty(b, `,"windowEnd":`, s.WindowEnd)
		b = append(b, `,"lastAudit":`...)
		if s.LastAudit == nil {
			b = append(b, "null"...)
		} else {
			b = appendJSONString(b, *s.LastAudit)
		}
		b = append(b, '}')
	}
	if c := v.Certificate; c != nil {
		b = append(b, `,"certificate":{"id":`...)
		b = appendJSONString(b, c.ID)
		b = append(b, `,"number":`...)
		b = appendJSONString(b, c.Number)
		b = append(b, `,"scheme":`...)
		b = appendJSONString(b, c.Scheme)
		b = appendOmitEmpty(b, `,"standard":`, c.Standard)
		b = appendOmitEmpty(b, `,"category":`, c.Category)
		if c.Level != 0 {
			b = append(b, `,"level":`...)
			b = strconv.AppendInt(b, int64(c.Level), 10)
		}
		b = appendOmitEmpty(b, `,"scope":`, c.Scope)
		b = appendOmitEmpty(b, `,"scopeEn":`, c.ScopeEn)
		b = appendOmitEmpty(b, `,"assessmentBody":`, c.AssessmentBody)
		o := &c.Organization
		b = append(b, `,"organization":{"name":`...)
		b = appendJSONString(b, o.Name)
		b = appendOmitEmpty(b, `,"nameEn":`, o.NameEn)
		b = append(b, `,"uscc":`...)
		b = appendJSONString(b, o.USCC)
		b = appendOmitEmpty(b, `,"address":`, o.Address)
		b = appendOmitEmpty(b, `,"country":`, o.Country)
		b = append(b, `},"validFrom":`...)
		b = appendJSONString(b, c.ValidFrom)
		b = append(b, `,"validUntil":`...)
		b = appendJSONString(b, c.ValidUntil)
		b = appendOmitEmpty(b, `,"originalDate":`, c.OriginalDate)
		b = appendOmitEmpty(b, `,"kid":`, c.Kid)
		b = appendOmitEmpty(b, `,"supersededBy":`, c.SupersededBy)
		b = append(b, '}')
	}
	if is := v.Issuer; is != nil {
		b = append(b, `,"issuer":{"id":`...)
		b = appendJSONString(b, is.ID)
		b = append(b, `,"name":`...)
		b = appendJSONString(b, is.Name)
		b = appendOmitEmpty(b, `,"nameZh":`, is.NameZh)
		b = appendOmitEmpty(b, `,"url":`, is.URL)
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
			b = appendJSONTime(b, h.At)
			b = append(b, `,"status":`...)
			b = appendJSONString(b, string(h.Status))
			b = appendOmitEmpty(b, `,"reason":`, h.Reason)
			b = append(b, `,"derived":`...)
			b = strconv.AppendBool(b, h.Derived)
			b = append(b, '}')
		}
		b = append(b, ']')
	}
	b = append(b, `,"checkedAt":`...)
	b = appendJSONTime(b, v.CheckedAt)
	return append(b, '}')
}

// MarshalJSON makes encoding/json use AppendJSON where a verdict is part of
// a larger answer.
func (v Verdict) MarshalJSON() ([]byte, error) { return v.AppendJSON(nil), nil }

func appendOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return appendJSONString(append(b, key...), s)
}

// appendJSONTime writes t as time.Time.MarshalJSON does.
func appendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// appendJSONString writes s as encoding/json does with HTML escaping:
// quotes, backslashes, control characters, <, >, &, U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
