package keys

import (
	"encoding/json"
	"strings"
)

// PeekIssuer returns the "iss" claim of a token WITHOUT verifying it, after
// the size and compact-form checks, only to choose the key ring Verify is to
// use. The payload must be a JSON object with exactly one top-level "iss"
// member, a non-empty string. Errors match ErrBadToken and cert.ErrInvalid.
func PeekIssuer(token string) (string, error) {
	c, err := splitCompact(token, MaxTokenSize)
	if err != nil {
		return "", err
	}
	raw, err := b64.DecodeString(c.payload)
	if err != nil {
		return "", reject("payload is not valid base64url")
	}
	v, err := topLevelMember(raw, `"iss"`)
	if err != nil {
		return "", err
	}
	var iss string
	if v == nil || json.Unmarshal(v, &iss) != nil || iss == "" {
		return "", reject("payload iss must be a non-empty string")
	}
	return iss, nil
}

// topLevelMember returns the raw value of the member whose raw (quoted) name
// is quoted in the JSON object p, or nil when there is none. It scans p once
// without building anything, which makes it several times cheaper than
// encoding/json on a credential; the full decoding of the claims happens
// after verification, by the caller. A name present twice is an error, so
// this and a full decoder cannot disagree on the value.
func topLevelMember(p []byte, quoted string) ([]byte, error) {
	bad := reject("payload is not a JSON object")
	i := skipWS(p, 0)
	if i >= len(p) || p[i] != '{' {
		return nil, bad
	}
	i = skipWS(p, i+1)
	var found []byte
	if i < len(p) && p[i] == '}' {
		i++
	} else {
		for {
			if i >= len(p) || p[i] != '"' {
				return nil, bad
			}
			ks := i
			if i = skipString(p, i); i < 0 {
				return nil, bad
			}
			key := p[ks:i]
			if i = skipWS(p, i); i >= len(p) || p[i] != ':' {
				return nil, bad
			}
			vs := skipWS(p, i+1)
			if i = skipValue(p, vs); i < 0 {
				return nil, bad
			}
			if same, fold := sameName(key, quoted); same || fold {
				if found != nil || fold {
					return nil, reject("payload has " + quoted + " more than once (or in another spelling)")
				}
				found = p[vs:i]
			}
			if i = skipWS(p, i); i >= len(p) {
				return nil, bad
			}
			if p[i] == '}' {
				i++
				break
			}
			if p[i] != ',' {
				return nil, bad
			}
			i = skipWS(p, i+1)
		}
	}
	if skipWS(p, i) != len(p) {
		return nil, bad
	}
	return found, nil
}

// sameName compares a raw member name with a raw (quoted, plain ASCII)
// name: same when they are equal once unescaped, fold when they differ but
// encoding/json would still match them case-insensitively.
func sameName(key []byte, quoted string) (same, fold bool) {
	if string(key) == quoted {
		return true, false
	}
	plain := true
	for _, c := range key {
		if c == '\\' || c >= 0x80 {
			plain = false
			break
		}
	}
	if plain {
		return false, len(key) == len(quoted) && strings.EqualFold(string(key), quoted)
	}
	var k, name string
	if json.Unmarshal(key, &k) != nil || json.Unmarshal([]byte(quoted), &name) != nil {
		return false, false
	}
	return k == name, k != name && strings.EqualFold(k, name)
}

func skipWS(p []byte, i int) int {
	for i < len(p) && (p[i] == ' ' || p[i] == '\t' || p[i] == '\n' || p[i] == '\r') {
		i++
	}
	return i
}

// skipString returns the index after the string starting at p[i] == '"',
// or -1.
func skipString(p []byte, i int) int {
	for i++; i < len(p); i++ {
		switch p[i] {
		case '\\':
			i++
		case '"':
			return i + 1
		}
	}
	return -1
}

// skipValue returns the index after the value starting at p[i], or -1. It
// checks nesting and strings; the literals are checked by the decoder that
// reads the value, or by the full decoding of the claims.
func skipValue(p []byte, i int) int {
	if i >= len(p) {
		return -1
	}
	switch p[i] {
	case '"':
		return skipString(p, i)
	case '{', '[':
		var stack []byte
		for ; i < len(p); i++ {
			switch c := p[i]; c {
			case '"':
				if i = skipString(p, i); i < 0 {
					return -1
				}
				i--
			case '{', '[':
				stack = append(stack, c)
			case '}', ']':
				open := byte('{')
				if c == ']' {
					open = '['
				}
				if len(stack) == 0 || stack[len(stack)-1] != open {
					return -1
				}
				stack = stack[:len(stack)-1]
				if len(stack) == 0 {
					return i + 1
				}
			}
		}
		return -1
	case ',', ':', '}', ']':
		return -1
	}
	start := i
	for i < len(p) {
		switch p[i] {
		case ',', '}', ']', ' ', '\t', '\n', '\r':
			if i == start {
				return -1
			}
			return i
		case '"', '{', '[', ':':
			return -1
		}
		i++
	}
	return i
}
