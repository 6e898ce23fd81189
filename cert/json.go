package cert

import (
	"time"
	"unicode/utf8"
)

// Hand-written JSON encoders (Verdict.AppendJSON, the API's certificate
// resource) build on these; their tests hold them to encoding/json.

// AppendJSON appends o as encoding/json writes it.
func (o *Organization) AppendJSON(b []byte) []byte {
	b = append(b, `{"name":`...)
	b = AppendJSONString(b, o.Name)
	b = AppendJSONOmitEmpty(b, `,"nameEn":`, o.NameEn)
	b = append(b, `,"uscc":`...)
	b = AppendJSONString(b, o.USCC)
	b = AppendJSONOmitEmpty(b, `,"address":`, o.Address)
	b = AppendJSONOmitEmpty(b, `,"country":`, o.Country)
	b = AppendJSONOmitEmpty(b, `,"email":`, o.Email)
	return append(b, '}')
}

// AppendJSON appends s as encoding/json writes it.
func (s *Surveillance) AppendJSON(b []byte) []byte {
	b = append(b, `{"state":`...)
	b = AppendJSONString(b, string(s.State))
	b = AppendJSONOmitEmpty(b, `,"windowStart":`, s.WindowStart)
	b = AppendJSONOmitEmpty(b, `,"windowEnd":`, s.WindowEnd)
	b = append(b, `,"lastAudit":`...)
	if s.LastAudit == nil {
		b = append(b, "null"...)
	} else {
		b = AppendJSONString(b, *s.LastAudit)
	}
	return append(b, '}')
}

// AppendJSONOmitEmpty appends key (with its leading comma and colon) and
// s, unless s is empty: a string field tagged omitempty.
func AppendJSONOmitEmpty(b []byte, key, s string) []byte {
	if s == "" {
		return b
	}
	return AppendJSONString(append(b, key...), s)
}

// AppendJSONTime appends t as time.Time.MarshalJSON writes it.
func AppendJSONTime(b []byte, t time.Time) []byte {
	b = append(b, '"')
	b = t.AppendFormat(b, time.RFC3339Nano)
	return append(b, '"')
}

// AppendJSONString appends s as encoding/json writes it (with HTML
// escaping, as json.Marshal and echo's JSON answers):
// quotes, backslashes, control characters, <, >, &, U+2028 and U+2029
// escaped, invalid UTF-8 replaced by U+FFFD.
func AppendJSONString(b []byte, s string) []byte {
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
