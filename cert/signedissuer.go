package cert

import (
	"encoding/base64"
	"encoding/json"
	"strings"
	"sync"
)

// SignedIssuer reads the issuer object of a stored credential: the name
// and accreditation the issuer signed at issuance. It does not check the
// signature (the credential is the one this service stored); ok is false
// when token is not a compact JWS with a JSON payload.
//
// Every verdict shows it, so it is read without decoding the whole
// payload: the payload is checked to be JSON and its issuer member is
// found by issuerMember, and the objects read are kept by their text
// (signedIssuers). What issuerMember cannot settle (escaped or
// differently cased member names, a repeated member) takes the full
// json.Unmarshal; both give the same answer for every input (a fuzz test
// holds them to it).
func SignedIssuer(token string) (is CredentialIssuer, ok bool) {
	i := strings.IndexByte(token, '.')
	if i < 0 {
		return CredentialIssuer{}, false
	}
	j := strings.IndexByte(token[i+1:], '.')
	if j < 0 || strings.IndexByte(token[i+1+j+1:], '.') >= 0 {
		return CredentialIssuer{}, false
	}
	payload, err := base64.RawURLEncoding.DecodeString(token[i+1 : i+1+j])
	if err != nil {
		return CredentialIssuer{}, false
	}
	return SignedIssuerOf(payload)
}

// SignedIssuerOf is SignedIssuer of a credential whose payload (decoded
// from base64url) is payload.
func SignedIssuerOf(payload []byte) (is CredentialIssuer, ok bool) {
	raw, settled := issuerMember(payload)
	if !settled {
		return signedIssuerSlow(payload)
	}
	if raw == nil {
		// A JSON object without an issuer member.
		return CredentialIssuer{}, true
	}
	return signedIssuers.get(raw)
}

// signedIssuerSlow is SignedIssuer's reading of the whole payload.
func signedIssuerSlow(payload []byte) (CredentialIssuer, bool) {
	var cred struct {
		Issuer CredentialIssuer `json:"issuer"`
	}
	if err := json.Unmarshal(payload, &cred); err != nil {
		return CredentialIssuer{}, false
	}
	return cred.Issuer, true
}

// signedIssuers keeps the issuer objects read from credentials, keyed by
// their JSON text: an issuer signs the same object into every credential
// until its profile changes, so a deployment has a few of them. It is
// bounded: when full it starts again empty. The values are shared: callers
// must not change them.
var signedIssuers = issuerObjects{m: map[string]issuerObject{}}

const maxSignedIssuers = 256

type issuerObjects struct {
	mu sync.RWMutex
	m  map[string]issuerObject
}

type issuerObject struct {
	is CredentialIssuer
	ok bool
}

func (c *issuerObjects) get(raw []byte) (CredentialIssuer, bool) {
	c.mu.RLock()
	o, found := c.m[string(raw)]
	c.mu.RUnlock()
	if found {
		return o.is, o.ok
	}
	var is CredentialIssuer
	o = issuerObject{ok: json.Unmarshal(raw, &is) == nil}
	if o.ok {
		o.is = is
	}
	c.mu.Lock()
	if len(c.m) >= maxSignedIssuers {
		c.m = make(map[string]issuerObject, maxSignedIssuers)
	}
	c.m[string(raw)] = o
	c.mu.Unlock()
	return o.is, o.ok
}

// issuerMember checks that p is one JSON value, an object, and returns the
// text of its member "issuer" (nil when it has none). settled is false
// when the answer needs json.Unmarshal: p is not valid JSON or not an
// object (Unmarshal says so), a member name holds an escape or matches
// "issuer" only without regard to case (Unmarshal matches such names, and
// folds some letters beyond ASCII: a name with any is left to it), or
// "issuer" is there twice (Unmarshal merges the two).
func issuerMember(p []byte) (raw []byte, settled bool) {
	s := scanner{p: p}
	s.space()
	if !s.next('{') {
		return nil, false
	}
	s.space()
	if !s.next('}') {
		for {
			s.space()
			start := s.i
			if !s.str() {
				return nil, false
			}
			name := p[start+1 : s.i-1]
			if s.escaped || !ascii(name) {
				return nil, false
			}
			s.space()
			if !s.next(':') {
				return nil, false
			}
			s.space()
			vstart := s.i
			if !s.value(0) {
				return nil, false
			}
			if len(name) == 6 && strings.EqualFold(string(name), "issuer") {
				if string(name) != "issuer" || raw != nil {
					return nil, false
				}
				raw = p[vstart:s.i]
			}
			s.space()
			if s.next(',') {
				continue
			}
			if !s.next('}') {
				return nil, false
			}
			break
		}
	}
	s.space()
	if s.i != len(p) {
		return nil, false
	}
	return raw, true
}

func ascii(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return false
		}
	}
	return true
}

// maxDepth bounds the nesting issuerMember follows; deeper values go to
// json.Unmarshal (which has its own bound).
const maxDepth = 64

// scanner checks JSON text by the grammar of RFC 8259, as encoding/json
// does; a method returns false where the text is not JSON.
type scanner struct {
	p []byte
	i int
	// escaped tells whether the last string read held an escape.
	escaped bool
}

func (s *scanner) space() {
	for s.i < len(s.p) {
		switch s.p[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) next(b byte) bool {
	if s.i < len(s.p) && s.p[s.i] == b {
		s.i++
		return true
	}
	return false
}

func (s *scanner) value(depth int) bool {
	if s.i >= len(s.p) || depth > maxDepth {
		return false
	}
	switch c := s.p[s.i]; {
	case c == '{':
		s.i++
		s.space()
		if s.next('}') {
			return true
		}
		for {
			s.space()
			if !s.str() {
				return false
			}
			s.space()
			if !s.next(':') {
				return false
			}
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.next(',') {
				continue
			}
			return s.next('}')
		}
	case c == '[':
		s.i++
		s.space()
		if s.next(']') {
			return true
		}
		for {
			s.space()
			if !s.value(depth + 1) {
				return false
			}
			s.space()
			if s.next(',') {
				continue
			}
			return s.next(']')
		}
	case c == '"':
		return s.str()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	}
	return false
}

func (s *scanner) literal(word string) bool {
	if len(s.p)-s.i >= len(word) && string(s.p[s.i:s.i+len(word)]) == word {
		s.i += len(word)
		return true
	}
	return false
}

// str reads a string; invalid UTF-8 is allowed (encoding/json replaces it),
// control characters and malformed escapes are not.
func (s *scanner) str() bool {
	if !s.next('"') {
		return false
	}
	s.escaped = false
	for s.i < len(s.p) {
		// Runs of plain characters (most of a credential) in one step.
		for s.i < len(s.p) && plain[s.p[s.i]] {
			s.i++
		}
		if s.i >= len(s.p) {
			return false
		}
		c := s.p[s.i]
		switch {
		case c == '"':
			s.i++
			return true
		case c < 0x20:
			return false
		case c == '\\':
			s.escaped = true
			s.i++
			if s.i >= len(s.p) {
				return false
			}
			switch s.p[s.i] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i++
			case 'u':
				if len(s.p)-s.i < 5 {
					return false
				}
				for _, h := range s.p[s.i+1 : s.i+5] {
					if !isHex(h) {
						return false
					}
				}
				s.i += 5
			default:
				return false
			}
		default:
			s.i++
		}
	}
	return false
}

// plain marks the bytes a string holds as they are: not a quote, a
// backslash or a control character.
var plain = func() (t [256]bool) {
	for c := 0x20; c < 256; c++ {
		t[c] = c != '"' && c != '\\'
	}
	return t
}()

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

// number reads -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?.
func (s *scanner) number() bool {
	s.next('-')
	switch {
	case s.next('0'):
	case s.i < len(s.p) && s.p[s.i] >= '1' && s.p[s.i] <= '9':
		s.digits()
	default:
		return false
	}
	if s.next('.') && !s.digits() {
		return false
	}
	if s.next('e') || s.next('E') {
		if !s.next('+') {
			s.next('-')
		}
		if !s.digits() {
			return false
		}
	}
	return true
}

// digits reads one digit or more.
func (s *scanner) digits() bool {
	start := s.i
	for s.i < len(s.p) && s.p[s.i] >= '0' && s.p[s.i] <= '9' {
		s.i++
	}
	return s.i > start
}
