package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// certDoc is a certificate as stored: the fields that never change after
// creation (the contract's id, issuer, number, status position and
// idempotency key), and the body that UpdateCertificate replaces.
type certDoc struct {
	ID             string   `bson:"_id"`
	Issuer         string   `bson:"issuer"`
	Number         string   `bson:"number"`
	StatusList     int64    `bson:"statusList"`
	StatusIndex    int64    `bson:"statusIndex"`
	IdempotencyKey string   `bson:"idempotencyKey,omitempty"` // absent when unset: the unique index is partial
	Body           certBody `bson:",inline"`
}

// certBody holds the fields an update may change, with the version.
type certBody struct {
	BaseNumber     string     `bson:"baseNumber"`
	Revision       int64      `bson:"revision"`
	Scheme         string     `bson:"scheme"`
	Standard       string     `bson:"standard"`
	Category       string     `bson:"category"`
	Level          int64      `bson:"level"`
	Scope          string     `bson:"scope"`
	ScopeEn        string     `bson:"scopeEn"`
	Sites          []siteDoc  `bson:"sites"`
	AssessmentBody string     `bson:"assessmentBody"`
	Organization   orgDoc     `bson:"organization"`
	DecisionDate   string     `bson:"decisionDate"`
	OriginalDate   string     `bson:"originalDate"`
	ValidFrom      time.Time  `bson:"validFrom"`
	ValidFromNs    int32      `bson:"validFromNs"`
	ValidUntil     time.Time  `bson:"validUntil"`
	ValidUntilNs   int32      `bson:"validUntilNs"`
	TimeZone       string     `bson:"timeZone"`
	Credential     string     `bson:"credential"`
	Kid            string     `bson:"kid"`
	Supersedes     string     `bson:"supersedes"`
	SupersededBy   string     `bson:"supersededBy"`
	Confidential   bool       `bson:"confidential,omitempty"`
	Audit          *auditDoc  `bson:"audit,omitempty"`
	Events         []eventDoc `bson:"events"`
	RequestHash    string     `bson:"requestHash"`
	CreatedAt      time.Time  `bson:"createdAt"`
	CreatedAtNs    int32      `bson:"createdAtNs"`
	Version        int64      `bson:"version"`
	// StBits, StWatch and StSweep are the status mark (status.go), absent when the
	// certificate was written without a marker.
	StBits  *int32     `bson:"stBits,omitempty"`
	StWatch *time.Time `bson:"stWatch,omitempty"`
	// StSweep is the mark's sweep instant (noWatch: none).
	StSweep *time.Time `bson:"stSweep,omitempty"`
	// ObV marks the write for the outbox (outbox.go): every create and
	// update sets it to the version written.
	ObV int64 `bson:"obV"`
	// SearchTerms and SearchV are the search index (searchindex.go).
	SearchTerms []string `bson:"searchTerms"`
	SearchV     int32    `bson:"searchV"`
}

type orgDoc struct {
	Name    string `bson:"name"`
	NameEn  string `bson:"nameEn"`
	USCC    string `bson:"uscc"`
	Address string `bson:"address"`
	Country string `bson:"country"`
	// Email is absent in documents written before it existed.
	Email string `bson:"email,omitempty"`
}

type eventDoc struct {
	Seq          int64      `bson:"seq"`
	Type         string     `bson:"type"`
	At           time.Time  `bson:"at"`
	AtNs         int32      `bson:"atNs,omitempty"`
	RecordedAt   time.Time  `bson:"recordedAt"`
	RecordedAtNs int32      `bson:"recordedAtNs,omitempty"`
	Actor        string     `bson:"actor"`
	Reason       string     `bson:"reason,omitempty"`
	ReasonCode   string     `bson:"reasonCode,omitempty"`
	Until        *time.Time `bson:"until,omitempty"`
	UntilNs      int32      `bson:"untilNs,omitempty"`
	AuditRef     string     `bson:"auditRef,omitempty"`
	Related      string     `bson:"related,omitempty"`
	Status       string     `bson:"status,omitempty"`
	Audit        *auditDoc  `bson:"audit,omitempty"`
}

// auditDoc is a cert.Audit; documents written before audits have none.
type auditDoc struct {
	Type           string           `bson:"type,omitempty"`
	Mode           string           `bson:"mode,omitempty"`
	FirstDay       string           `bson:"firstDay,omitempty"`
	LastDay        string           `bson:"lastDay,omitempty"`
	Team           []auditMemberDoc `bson:"team,omitempty"`
	PersonDays     float64          `bson:"personDays,omitempty"`
	DecisionDate   string           `bson:"decisionDate,omitempty"`
	DecisionMakers []string         `bson:"decisionMakers,omitempty"`
	TechnicalAreas []string         `bson:"technicalAreas,omitempty"`
	Employees      int64            `bson:"employees,omitempty"`
}

type auditMemberDoc struct {
	Name string `bson:"name"`
	Role string `bson:"role"`
}

func toAuditDoc(a *cert.Audit) *auditDoc {
	if a == nil {
		return nil
	}
	d := &auditDoc{Type: a.Type, Mode: a.Mode, FirstDay: a.FirstDay, LastDay: a.LastDay, PersonDays: a.PersonDays,
		DecisionDate: a.DecisionDate, DecisionMakers: a.DecisionMakers, TechnicalAreas: a.TechnicalAreas, Employees: int64(a.Employees)}
	for _, m := range a.Team {
		d.Team = append(d.Team, auditMemberDoc{Name: m.Name, Role: m.Role})
	}
	return d
}

func (d *auditDoc) audit() *cert.Audit {
	if d == nil {
		return nil
	}
	a := &cert.Audit{Type: d.Type, Mode: d.Mode, FirstDay: d.FirstDay, LastDay: d.LastDay, PersonDays: d.PersonDays,
		DecisionDate: d.DecisionDate, DecisionMakers: d.DecisionMakers, TechnicalAreas: d.TechnicalAreas, Employees: int(d.Employees)}
	for _, m := range d.Team {
		a.Team = append(a.Team, cert.AuditMember{Name: m.Name, Role: m.Role})
	}
	return a
}

func toCertDoc(c *cert.Certificate) *certDoc {
	d := &certDoc{
		ID: c.ID, Issuer: c.Issuer, Number: c.Number,
		StatusList: int64(c.StatusList), StatusIndex: int64(c.StatusIndex),
		IdempotencyKey: c.IdempotencyKey,
		Body: certBody{
			BaseNumber: c.BaseNumber, Revision: int64(c.Revision),
			Scheme: c.Scheme, Standard: c.Standard, Category: c.Category, Level: int64(c.Level),
			Scope: c.Scope, ScopeEn: c.ScopeEn, Sites: toSiteDocs(c.Sites), AssessmentBody: c.AssessmentBody,
			Organization: orgDoc{
				Name: c.Organization.Name, NameEn: c.Organization.NameEn, USCC: c.Organization.USCC,
				Address: c.Organization.Address, Country: c.Organization.Country, Email: c.Organization.Email,
			},
			DecisionDate: c.DecisionDate, OriginalDate: c.OriginalDate,
			TimeZone: c.TimeZone, Credential: c.Credential, Kid: c.Kid,
			Supersedes: c.Supersedes, SupersededBy: c.SupersededBy, Confidential: c.Confidential,
			Audit:       toAuditDoc(c.Audit),
			RequestHash: c.RequestHash, Version: c.Version,
		},
	}
	d.Body.CreatedAt, d.Body.CreatedAtNs = splitTime(c.CreatedAt)
	d.Body.ValidFrom, d.Body.ValidFromNs = splitTime(c.ValidFrom)
	d.Body.ValidUntil, d.Body.ValidUntilNs = splitTime(c.ValidUntil)
	if c.Events != nil {
		d.Body.Events = make([]eventDoc, len(c.Events))
		for i, e := range c.Events {
			ed := eventDoc{
				Seq: int64(e.Seq), Type: string(e.Type), Actor: e.Actor, Reason: e.Reason, ReasonCode: e.ReasonCode,
				AuditRef: e.AuditRef, Related: e.Related, Status: string(e.Status), Audit: toAuditDoc(e.Audit),
			}
			ed.At, ed.AtNs = splitTime(e.At)
			ed.RecordedAt, ed.RecordedAtNs = splitTime(e.RecordedAt)
			ed.Until, ed.UntilNs = splitTimePtr(e.Until)
			d.Body.Events[i] = ed
		}
	}
	return d
}

// certificate converts a stored document; every time comes back in the
// certificate's time zone (UTC if the zone is unknown here).
func (d *certDoc) certificate() *cert.Certificate {
	b := &d.Body
	c := &cert.Certificate{
		ID: d.ID, Number: d.Number, BaseNumber: b.BaseNumber, Revision: int(b.Revision),
		Issuer: d.Issuer, Scheme: b.Scheme, Standard: b.Standard, Category: b.Category,
		Level: int(b.Level), Scope: b.Scope, ScopeEn: b.ScopeEn, Sites: fromSiteDocs(b.Sites),
		AssessmentBody: b.AssessmentBody,
		Organization: cert.Organization{
			Name: b.Organization.Name, NameEn: b.Organization.NameEn, USCC: b.Organization.USCC,
			Address: b.Organization.Address, Country: b.Organization.Country, Email: b.Organization.Email,
		},
		DecisionDate: b.DecisionDate, OriginalDate: b.OriginalDate,
		TimeZone: b.TimeZone, Credential: b.Credential, Kid: b.Kid,
		StatusList: int(d.StatusList), StatusIndex: int(d.StatusIndex),
		Supersedes: b.Supersedes, SupersededBy: b.SupersededBy, Confidential: b.Confidential,
		Audit:          b.Audit.audit(),
		IdempotencyKey: d.IdempotencyKey, RequestHash: b.RequestHash,
		Version: b.Version,
	}
	loc := c.Location()
	c.ValidFrom = joinTime(b.ValidFrom, b.ValidFromNs, loc)
	c.ValidUntil = joinTime(b.ValidUntil, b.ValidUntilNs, loc)
	c.CreatedAt = joinTime(b.CreatedAt, b.CreatedAtNs, loc)
	if b.Events != nil {
		c.Events = make([]cert.Event, len(b.Events))
		for i, e := range b.Events {
			c.Events[i] = cert.Event{
				Seq: int(e.Seq), Type: cert.EventType(e.Type), Actor: e.Actor, Reason: e.Reason, ReasonCode: e.ReasonCode,
				AuditRef: e.AuditRef, Related: e.Related, Status: cert.Status(e.Status), Audit: e.Audit.audit(),
				At:         joinTime(e.At, e.AtNs, loc),
				RecordedAt: joinTime(e.RecordedAt, e.RecordedAtNs, loc),
				Until:      joinTimePtr(e.Until, e.UntilNs, loc),
			}
		}
	}
	return c
}

// CreateCertificate stores c with Version 1 (set on c). A taken id, (issuer,
// number), (issuer, statusList, statusIndex) or (issuer, idempotencyKey)
// gives ErrAlreadyExists, with nothing stored: the insert is one document,
// checked by the unique indexes.
func (s *Store) CreateCertificate(ctx context.Context, c *cert.Certificate) error {
	d := toCertDoc(c)
	d.Body.Version, d.Body.ObV = 1, 1
	s.mark(c, &d.Body)
	setSearchTerms(&d.Body)
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.addWords(ctx, d.Body.SearchTerms); err != nil {
		return err
	}
	if _, err := s.certs.InsertOne(ctx, d); err != nil {
		return translate("create certificate "+c.ID, err)
	}
	c.Version = 1
	return nil
}

// CreateCertificates stores cs with one unordered insert: each certificate
// is stored or refused on its own, errs[i] being what CreateCertificate
// would give for cs[i]. Stored certificates get Version 1. err is set when
// the call as a whole failed (ErrUnavailable); some certificates may then
// have been stored, which a retry reports as ErrAlreadyExists.
func (s *Store) CreateCertificates(ctx context.Context, cs []*cert.Certificate) ([]error, error) {
	errs := make([]error, len(cs))
	if len(cs) == 0 {
		return errs, nil
	}
	docs := make([]any, len(cs))
	terms := make([][]string, len(cs))
	for i, c := range cs {
		d := toCertDoc(c)
		d.Body.Version, d.Body.ObV = 1, 1
		s.mark(c, &d.Body)
		setSearchTerms(&d.Body)
		docs[i], terms[i] = d, d.Body.SearchTerms
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.addWords(ctx, terms...); err != nil {
		return nil, err
	}
	_, err := s.certs.InsertMany(ctx, docs, options.InsertMany().SetOrdered(false))
	var bwe mongo.BulkWriteException
	if err != nil && (!errors.As(err, &bwe) || bwe.WriteConcernError != nil) {
		return nil, translate(fmt.Sprintf("create %d certificates", len(cs)), err)
	}
	for _, we := range bwe.WriteErrors {
		if we.Index < 0 || we.Index >= len(cs) {
			return nil, fmt.Errorf("create %d certificates: write error for item %d: %w", len(cs), we.Index, err)
		}
		errs[we.Index] = translate("create certificate "+cs[we.Index].ID, we.WriteError)
	}
	for i, c := range cs {
		if errs[i] == nil {
			c.Version = 1
		}
	}
	return errs, nil
}

// Certificate returns the certificate with the id, or ErrNotFound.
func (s *Store) Certificate(ctx context.Context, id string) (*cert.Certificate, error) {
	return s.findCertificate(ctx, "certificate "+id, bson.D{{Key: "_id", Value: id}})
}

// CertificateByNumber returns the certificate of issuer with the number, or
// ErrNotFound.
func (s *Store) CertificateByNumber(ctx context.Context, issuer, number string) (*cert.Certificate, error) {
	return s.findCertificate(ctx, "certificate "+issuer+" "+number,
		bson.D{{Key: "issuer", Value: issuer}, {Key: "number", Value: number}})
}

// CertificateByIdempotencyKey returns the certificate of issuer created with
// the key, or ErrNotFound. The empty key matches nothing. It reads the
// primary with read concern local: after an insert under the key failed
// on the unique index, the winner is on the primary but may not be
// majority-committed yet, and a majority read would not find it, making a
// replay look like a conflict.
func (s *Store) CertificateByIdempotencyKey(ctx context.Context, issuer, key string) (*cert.Certificate, error) {
	if key == "" {
		return nil, fmt.Errorf("certificate by empty idempotency key: %w", store.ErrNotFound)
	}
	return s.findCertificateIn(ctx, s.certsLatest, "certificate by idempotency key",
		bson.D{{Key: "issuer", Value: issuer}, {Key: "idempotencyKey", Value: key}})
}

func (s *Store) findCertificate(ctx context.Context, op string, filter bson.D) (*cert.Certificate, error) {
	return s.findCertificateIn(ctx, s.certs, op, filter)
}

func (s *Store) findCertificateIn(ctx context.Context, coll *mongo.Collection, op string, filter bson.D) (*cert.Certificate, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d certDoc
	if err := coll.FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, translate(op, err)
	}
	return d.certificate(), nil
}

// UpdateCertificate replaces the certificate stored with c.Version and
// stores Version+1 (set on c), in one conditional update of one document.
// The id, issuer, number, status position and idempotency key are kept as
// stored whatever c says. A different stored version gives ErrConflict, a
// missing certificate ErrNotFound; either way nothing changes.
func (s *Store) UpdateCertificate(ctx context.Context, c *cert.Certificate) error {
	body := toCertDoc(c).Body
	body.Version = c.Version + 1
	body.ObV = body.Version
	s.mark(c, &body)
	setSearchTerms(&body)
	op := "update certificate " + c.ID
	ctx, cancel := s.call(ctx)
	defer cancel()
	if err := s.addWords(ctx, body.SearchTerms); err != nil {
		return err
	}
	res, err := s.certs.UpdateOne(ctx,
		bson.D{{Key: "_id", Value: c.ID}, {Key: "version", Value: c.Version}},
		bson.D{{Key: "$set", Value: body}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.conflictOrNotFound(ctx, s.certs, op, c.ID)
	}
	c.Version = body.Version
	return nil
}

// conflictOrNotFound explains an update whose version filter matched
// nothing: ErrConflict when the document exists, ErrNotFound when not.
func (s *Store) conflictOrNotFound(ctx context.Context, coll *mongo.Collection, op, id string) error {
	err := coll.FindOne(ctx, bson.D{{Key: "_id", Value: id}},
		options.FindOne().SetProjection(bson.D{{Key: "_id", Value: 1}})).Err()
	if err != nil {
		return translate(op, err) // ErrNotFound when missing
	}
	return fmt.Errorf("%s: %w", op, store.ErrConflict)
}
