package bolt

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"math"
	"time"

	"github.com/certd/certd/cert"
)

// A stored certificate is a binary record: the byte certFormat, then every
// field of cert.Certificate in the order encodeCert writes them. Strings
// are a uvarint length and their bytes, integers varints, times
// time.Time.AppendBinary behind a length byte. Verification reads a
// certificate per request, and decoding this costs a fraction of
// encoding/json: one string allocation holds every text field.
//
// The creation time and the organization's names come first so that a
// search can read them without decoding the rest (searchFields), and the
// credential (most of the bytes) comes last.
//
// Values written by earlier versions are JSON without the credential, a
// NUL byte, then the credential; they start with '{' and still decode.
//
// Format 2 writes each site as its name, address and scope, the events'
// reason codes and the confidential flag; format 1 (still read) wrote a
// site as its name alone and had neither codes nor the flag.
//
// Format 3 adds the organization's e-mail after the confidential flag;
// records of format 2 (still read) have none.
//
// Format 4 adds the audit records (of the certificate, after the e-mail,
// and of each event, after its reason code) behind a presence byte;
// records of formats 1 to 3 (still read) have none.
//
// Format 5 stores the credential compressed (see writer.credential), which
// halves a record: a bbolt leaf then holds two or three certificates a
// page instead of one and a half. Records of formats 1 to 4 (still read)
// hold it as plain text.
const (
	certFormat   = certFormatV5
	certFormatV5 = 5
	certFormatV4 = 4
	certFormatV3 = 3
	certFormatV2 = 2
	certFormatV1 = 1
)

// knownFormat reports whether b is the format byte of a binary record.
func knownFormat(b byte) bool { return b >= certFormatV1 && b <= certFormat }

var errCorrupt = errors.New("invalid stored certificate")

// encodeCert encodes c for the certificates bucket.
func encodeCert(c *cert.Certificate) ([]byte, error) {
	w := writer{b: make([]byte, 0, 512+len(c.Credential))}
	w.b = append(w.b, certFormat)
	w.time(c.CreatedAt)
	w.str(c.Organization.Name)
	w.str(c.Organization.NameEn)

	w.str(c.ID)
	w.str(c.Number)
	w.str(c.BaseNumber)
	w.int(int64(c.Revision))
	w.str(c.Issuer)
	w.str(c.Scheme)
	w.str(c.Standard)
	w.str(c.Category)
	w.int(int64(c.Level))
	w.str(c.Scope)
	w.str(c.ScopeEn)
	w.uint(uint64(len(c.Sites)))
	for _, s := range c.Sites {
		w.str(s.Name)
		w.str(s.Address)
		w.str(s.Scope)
	}
	w.str(c.AssessmentBody)
	w.str(c.Organization.USCC)
	w.str(c.Organization.Address)
	w.str(c.Organization.Country)
	w.str(c.DecisionDate)
	w.str(c.OriginalDate)
	w.time(c.ValidFrom)
	w.time(c.ValidUntil)
	w.str(c.TimeZone)
	w.str(c.Kid)
	w.int(int64(c.StatusList))
	w.int(int64(c.StatusIndex))
	w.str(c.Supersedes)
	w.str(c.SupersededBy)
	// Events: count + 1, so that 0 keeps a nil list apart from an empty one.
	if c.Events == nil {
		w.uint(0)
	} else {
		w.uint(uint64(len(c.Events)) + 1)
	}
	for i := range c.Events {
		e := &c.Events[i]
		w.int(int64(e.Seq))
		w.str(string(e.Type))
		w.time(e.At)
		w.time(e.RecordedAt)
		w.str(e.Actor)
		w.str(e.Reason)
		if e.Until == nil {
			w.b = append(w.b, 0)
		} else {
			w.b = append(w.b, 1)
			w.time(*e.Until)
		}
		w.str(e.AuditRef)
		w.str(e.Related)
		w.str(string(e.Status))
		w.str(e.ReasonCode)
		w.audit(e.Audit)
	}
	if c.Confidential {
		w.b = append(w.b, 1)
	} else {
		w.b = append(w.b, 0)
	}
	w.str(c.Organization.Email)
	w.audit(c.Audit)
	w.str(c.IdempotencyKey)
	w.str(c.RequestHash)
	w.int(c.Version)
	w.credential(c.Credential)
	return w.b, w.err
}

// decodeCert decodes a stored certificate into c, copying everything out of
// v (bbolt values are valid only inside their transaction).
func decodeCert(v []byte, c *cert.Certificate) error { return decodeCertAs(v, c, nil) }

// decodeCertAs is decodeCert; with signed, the credential is left out of c
// and signed gets the issuer object it signed (cert.SignedIssuer of it)
// instead.
func decodeCertAs(v []byte, c *cert.Certificate, signed *signedIssuer) error {
	if len(v) > 0 && v[0] == '{' {
		err := decodeLegacy(v, c)
		if signed != nil {
			signed.is, signed.ok = cert.SignedIssuer(c.Credential)
			c.Credential = ""
		}
		return err
	}
	r, err := newReader(v)
	if err != nil {
		return err
	}
	c.CreatedAt = r.time()
	c.Organization.Name = r.str()
	c.Organization.NameEn = r.str()

	c.ID = r.str()
	c.Number = r.str()
	c.BaseNumber = r.str()
	c.Revision = r.int()
	c.Issuer = r.str()
	c.Scheme = r.str()
	c.Standard = r.str()
	c.Category = r.str()
	c.Level = r.int()
	c.Scope = r.str()
	c.ScopeEn = r.str()
	c.Sites = nil
	if n := r.count(); n > 0 {
		c.Sites = make([]cert.Site, n)
		for i := range c.Sites {
			c.Sites[i].Name = r.str()
			if r.format >= certFormatV2 {
				c.Sites[i].Address = r.str()
				c.Sites[i].Scope = r.str()
			}
		}
	}
	c.AssessmentBody = r.str()
	c.Organization.USCC = r.str()
	c.Organization.Address = r.str()
	c.Organization.Country = r.str()
	c.DecisionDate = r.str()
	c.OriginalDate = r.str()
	c.ValidFrom = r.time()
	c.ValidUntil = r.time()
	c.TimeZone = r.str()
	c.Kid = r.str()
	c.StatusList = r.int()
	c.StatusIndex = r.int()
	c.Supersedes = r.str()
	c.SupersededBy = r.str()
	c.Events = nil
	if n := r.count(); n > 0 {
		c.Events = make([]cert.Event, n-1)
		for i := range c.Events {
			e := &c.Events[i]
			e.Seq = r.int()
			e.Type = cert.EventType(r.str())
			e.At = r.time()
			e.RecordedAt = r.time()
			e.Actor = r.str()
			e.Reason = r.str()
			if r.byte() == 1 {
				t := r.time()
				e.Until = &t
			}
			e.AuditRef = r.str()
			e.Related = r.str()
			e.Status = cert.Status(r.str())
			if r.format >= certFormatV2 {
				e.ReasonCode = r.str()
			}
			e.Audit = r.audit()
		}
	}
	c.Confidential = r.format >= certFormatV2 && r.byte() == 1
	c.Organization.Email = ""
	if r.format >= certFormatV3 {
		c.Organization.Email = r.str()
	}
	c.Audit = r.audit()
	c.IdempotencyKey = r.str()
	c.RequestHash = r.str()
	c.Version = r.int64()
	switch {
	case signed != nil:
		c.Credential = ""
		signed.is, signed.ok = r.signedIssuer()
	case r.format >= certFormatV5:
		c.Credential = r.credential()
	default:
		c.Credential = r.str()
	}
	if r.err == nil && len(r.b) != 0 {
		r.err = errCorrupt
	}
	return r.err
}

// searchFields reads the creation time and the organization's names of a
// stored certificate without decoding the rest; the names alias v. ok is
// false for a value of an earlier version, which must be decoded.
func searchFields(v []byte) (created time.Time, name, nameEn []byte, ok bool) {
	if len(v) == 0 || !knownFormat(v[0]) {
		return time.Time{}, nil, nil, false
	}
	r := reader{b: v[1:]}
	created = r.time()
	name, nameEn = r.raw(), r.raw()
	return created, name, nameEn, r.err == nil
}

// decodeLegacy decodes a value written before certFormat: JSON without the
// credential, a NUL byte, then the credential.
func decodeLegacy(v []byte, c *cert.Certificate) error {
	doc, credential := v, []byte(nil)
	if i := bytes.IndexByte(v, 0); i >= 0 {
		doc, credential = v[:i], v[i+1:]
	}
	if err := json.Unmarshal(doc, c); err != nil {
		return err
	}
	if len(credential) > 0 {
		c.Credential = string(credential)
	}
	return nil
}

// audit writes an audit record: a presence byte, then its fields.
func (w *writer) audit(a *cert.Audit) {
	if a == nil {
		w.b = append(w.b, 0)
		return
	}
	w.b = append(w.b, 1)
	w.str(a.Type)
	w.str(a.Mode)
	w.str(a.FirstDay)
	w.str(a.LastDay)
	w.uint(uint64(len(a.Team)))
	for _, m := range a.Team {
		w.str(m.Name)
		w.str(m.Role)
	}
	w.uint(math.Float64bits(a.PersonDays))
	w.str(a.DecisionDate)
	w.strs(a.DecisionMakers)
	w.strs(a.TechnicalAreas)
	w.int(int64(a.Employees))
}

func (w *writer) strs(ss []string) {
	w.uint(uint64(len(ss)))
	for _, s := range ss {
		w.str(s)
	}
}

// audit reads what writer.audit wrote; records before format 4 have none.
func (r *reader) audit() *cert.Audit {
	if r.format < certFormatV4 || r.byte() != 1 {
		return nil
	}
	a := &cert.Audit{Type: r.str(), Mode: r.str(), FirstDay: r.str(), LastDay: r.str()}
	if n := r.count(); n > 0 {
		a.Team = make([]cert.AuditMember, n)
		for i := range a.Team {
			a.Team[i] = cert.AuditMember{Name: r.str(), Role: r.str()}
		}
	}
	a.PersonDays = math.Float64frombits(r.uint())
	a.DecisionDate = r.str()
	a.DecisionMakers = r.strs()
	a.TechnicalAreas = r.strs()
	a.Employees = r.int()
	return a
}

func (r *reader) strs() []string {
	n := r.count()
	if n == 0 {
		return nil
	}
	out := make([]string, n)
	for i := range out {
		out[i] = r.str()
	}
	return out
}

type writer struct {
	b   []byte
	err error
}

func (w *writer) uint(n uint64) { w.b = binary.AppendUvarint(w.b, n) }
func (w *writer) int(n int64)   { w.b = binary.AppendVarint(w.b, n) }

func (w *writer) str(s string) {
	w.uint(uint64(len(s)))
	w.b = append(w.b, s...)
}

func (w *writer) time(t time.Time) {
	at := len(w.b)
	w.b = append(w.b, 0)
	b, err := t.AppendBinary(w.b)
	if err != nil {
		w.err = errors.Join(w.err, err)
		return
	}
	w.b = b
	w.b[at] = byte(len(b) - at - 1)
}

// reader decodes a record. Strings are slices of s, one copy of the
// record, so a decoded certificate costs one allocation for all its text
// (searchFields reads raw bytes only and leaves s empty); the first error
// sticks and later reads return zero values.
type reader struct {
	b   []byte // what is left
	s   string // the whole record
	off int    // the offset of b in s
	err error
	// format is the record's format byte.
	format byte
}

func newReader(v []byte) (*reader, error) {
	if len(v) == 0 || !knownFormat(v[0]) {
		return nil, errCorrupt
	}
	return &reader{b: v[1:], s: string(v), off: 1, format: v[0]}, nil
}

func (r *reader) fail() {
	r.err = errCorrupt
	r.b = nil
}

func (r *reader) advance(n int) {
	r.b = r.b[n:]
	r.off += n
}

func (r *reader) uint() uint64 {
	n, k := binary.Uvarint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.advance(k)
	return n
}

func (r *reader) int64() int64 {
	n, k := binary.Varint(r.b)
	if k <= 0 {
		r.fail()
		return 0
	}
	r.advance(k)
	return n
}

func (r *reader) int() int { return int(r.int64()) }

// count reads a length that cannot exceed the bytes left (each element
// takes at least one), so a corrupt record cannot make a huge allocation.
func (r *reader) count() int {
	n := r.uint()
	if n > uint64(len(r.b))+1 {
		r.fail()
		return 0
	}
	return int(n)
}

func (r *reader) byte() byte {
	if len(r.b) == 0 {
		r.fail()
		return 0
	}
	c := r.b[0]
	r.advance(1)
	return c
}

// raw returns the bytes of the next string, aliasing the record.
func (r *reader) raw() []byte {
	n := r.uint()
	if n > uint64(len(r.b)) {
		r.fail()
		return nil
	}
	b := r.b[:n]
	r.advance(int(n))
	return b
}

func (r *reader) str() string {
	b := r.raw()
	return r.s[r.off-len(b) : r.off]
}

func (r *reader) time() time.Time {
	n := int(r.byte())
	if r.err != nil || n > len(r.b) {
		r.fail()
		return time.Time{}
	}
	var t time.Time
	if err := t.UnmarshalBinary(r.b[:n]); err != nil {
		r.fail()
		return time.Time{}
	}
	r.advance(n)
	return t
}
