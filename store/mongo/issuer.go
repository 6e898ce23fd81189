package mongo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// issuerDoc is an issuer. The id and status key are written once; the
// rest is issuerBody, which UpdateIssuer replaces with one conditional
// update on version.
type issuerDoc struct {
	ID        string `bson:"_id"`
	StatusKey []byte `bson:"statusKey"`
	// AccreditationBody and AccreditationNumber are read from documents
	// written before accreditation was a list, and never written.
	AccreditationBody   string `bson:"accreditationBody,omitempty"`
	AccreditationNumber string `bson:"accreditationNumber,omitempty"`
	IssuerBody          `bson:",inline"`
}

// IssuerBody is what UpdateIssuer replaces; no field is omitempty, so
// that $set clears a field that became empty.
type IssuerBody struct {
	Name           string            `bson:"name"`
	NameZh         string            `bson:"nameZh"`
	Address        string            `bson:"address"`
	AddressEn      string            `bson:"addressEn"`
	Website        string            `bson:"website"`
	Email          string            `bson:"email"`
	Phone          string            `bson:"phone"`
	Accreditation  []accDoc          `bson:"accreditation"`
	ApprovalNumber string            `bson:"approvalNumber"`
	Signatory      *sigDoc           `bson:"signatory"`
	Contact        string            `bson:"contact"`
	TimeZone       string            `bson:"timeZone"`
	NumberPattern  string            `bson:"numberPattern"`
	NumberPrefix   string            `bson:"numberPrefix"`
	NumberPatterns map[string]string `bson:"numberPatterns"`
	KeyType        string            `bson:"keyType"`
	Logo           *imageRefDoc      `bson:"logo"`
	Seal           *imageRefDoc      `bson:"seal"`
	Events         []issuerEventDoc  `bson:"events"`
	CreatedAt      time.Time         `bson:"createdAt"`
	CreatedAtNs    int32             `bson:"createdAtNs"`
	Version        int64             `bson:"version"`

	// Reminders is null for an issuer that follows the defaults.
	Reminders *remindersDoc `bson:"reminders"`
}

type remindersDoc struct {
	SurveillanceOpen      bool    `bson:"surveillanceOpen"`
	SurveillanceCloseDays []int64 `bson:"surveillanceCloseDays"`
	ExpiryDays            []int64 `bson:"expiryDays"`
}

func toRemindersDoc(r *cert.Reminders) *remindersDoc {
	if r == nil {
		return nil
	}
	d := &remindersDoc{SurveillanceOpen: r.SurveillanceOpen, SurveillanceCloseDays: []int64{}, ExpiryDays: []int64{}}
	for _, n := range r.SurveillanceCloseDays {
		d.SurveillanceCloseDays = append(d.SurveillanceCloseDays, int64(n))
	}
	for _, n := range r.ExpiryDays {
		d.ExpiryDays = append(d.ExpiryDays, int64(n))
	}
	return d
}

func (d *remindersDoc) reminders() *cert.Reminders {
	if d == nil {
		return nil
	}
	r := &cert.Reminders{SurveillanceOpen: d.SurveillanceOpen}
	for _, n := range d.SurveillanceCloseDays {
		r.SurveillanceCloseDays = append(r.SurveillanceCloseDays, int(n))
	}
	for _, n := range d.ExpiryDays {
		r.ExpiryDays = append(r.ExpiryDays, int(n))
	}
	return r
}

type accDoc struct {
	Body   string `bson:"body"`
	Number string `bson:"number"`
}

type sigDoc struct {
	Name  string `bson:"name"`
	Title string `bson:"title,omitempty"`
}

type imageRefDoc struct {
	SHA256 string `bson:"sha256"`
	Width  int64  `bson:"width"`
	Height int64  `bson:"height"`
	Size   int64  `bson:"size"`
}

type issuerEventDoc struct {
	Seq    int64     `bson:"seq"`
	Type   string    `bson:"type"`
	At     time.Time `bson:"at"`
	AtNs   int32     `bson:"atNs,omitempty"`
	Actor  string    `bson:"actor"`
	Fields []string  `bson:"fields,omitempty"`
	Detail string    `bson:"detail,omitempty"`
}

func toIssuerDoc(is *cert.Issuer) *issuerDoc {
	b := IssuerBody{
		Name: is.Name, NameZh: is.NameZh, Address: is.Address, AddressEn: is.AddressEn,
		Website: is.Website, Email: is.Email, Phone: is.Phone, ApprovalNumber: is.ApprovalNumber,
		Contact: is.Contact, TimeZone: is.TimeZone, NumberPattern: is.NumberPattern,
		NumberPrefix: is.NumberPrefix, NumberPatterns: is.NumberPatterns, KeyType: is.KeyType,
		Logo: toImageRefDoc(is.Logo), Seal: toImageRefDoc(is.Seal), Version: is.Version,
		Reminders: toRemindersDoc(is.Reminders),
	}
	for _, a := range is.Accreditation {
		b.Accreditation = append(b.Accreditation, accDoc(a))
	}
	if is.Signatory != nil {
		b.Signatory = &sigDoc{Name: is.Signatory.Name, Title: is.Signatory.Title}
	}
	for _, e := range is.Events {
		ed := issuerEventDoc{Seq: int64(e.Seq), Type: string(e.Type), Actor: e.Actor, Fields: e.Fields, Detail: e.Detail}
		ed.At, ed.AtNs = splitTime(e.At)
		b.Events = append(b.Events, ed)
	}
	b.CreatedAt, b.CreatedAtNs = splitTime(is.CreatedAt)
	return &issuerDoc{ID: is.ID, StatusKey: is.StatusKey, IssuerBody: b}
}

func toImageRefDoc(r *cert.ImageRef) *imageRefDoc {
	if r == nil {
		return nil
	}
	return &imageRefDoc{SHA256: r.SHA256, Width: int64(r.Width), Height: int64(r.Height), Size: int64(r.Size)}
}

func (d *imageRefDoc) ref() *cert.ImageRef {
	if d == nil {
		return nil
	}
	return &cert.ImageRef{SHA256: d.SHA256, Width: int(d.Width), Height: int(d.Height), Size: int(d.Size)}
}

func (d *issuerDoc) issuer() *cert.Issuer {
	b := &d.IssuerBody
	is := &cert.Issuer{
		ID: d.ID, Name: b.Name, NameZh: b.NameZh, Address: b.Address, AddressEn: b.AddressEn,
		Website: b.Website, Email: b.Email, Phone: b.Phone, ApprovalNumber: b.ApprovalNumber,
		Contact: b.Contact, TimeZone: b.TimeZone, NumberPattern: b.NumberPattern,
		NumberPrefix: b.NumberPrefix, NumberPatterns: b.NumberPatterns, KeyType: b.KeyType,
		StatusKey: d.StatusKey, Logo: b.Logo.ref(), Seal: b.Seal.ref(), Version: b.Version,
		CreatedAt: joinTime(b.CreatedAt, b.CreatedAtNs, time.UTC), Reminders: b.Reminders.reminders(),
	}
	for _, a := range b.Accreditation {
		is.Accreditation = append(is.Accreditation, cert.Accreditation(a))
	}
	is.MigrateAccreditation(d.AccreditationBody, d.AccreditationNumber)
	if b.Signatory != nil {
		is.Signatory = &cert.Signatory{Name: b.Signatory.Name, Title: b.Signatory.Title}
	}
	for _, e := range b.Events {
		is.Events = append(is.Events, cert.IssuerEvent{
			Seq: int(e.Seq), Type: cert.IssuerEventType(e.Type), At: joinTime(e.At, e.AtNs, time.UTC),
			Actor: e.Actor, Fields: e.Fields, Detail: e.Detail,
		})
	}
	return is
}

// CreateIssuer stores a new issuer; ErrAlreadyExists when the id is taken.
func (s *Store) CreateIssuer(ctx context.Context, is *cert.Issuer) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.issuers.InsertOne(ctx, toIssuerDoc(is))
	return translate("create issuer "+is.ID, err)
}

// Issuer returns the issuer with the id, or ErrNotFound.
func (s *Store) Issuer(ctx context.Context, id string) (*cert.Issuer, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d issuerDoc
	if err := s.issuers.FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("issuer "+id, err)
	}
	return d.issuer(), nil
}

// Issuers returns every issuer ordered by id.
func (s *Store) Issuers(ctx context.Context) ([]*cert.Issuer, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.issuers.Find(ctx, bson.D{}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("issuers", err)
	}
	var docs []issuerDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("issuers", err)
	}
	out := make([]*cert.Issuer, len(docs))
	for i := range docs {
		out[i] = docs[i].issuer()
	}
	return out, nil
}

// UpdateIssuer replaces the issuer stored with is.Version and stores
// Version+1 (set on is) in one conditional update of one document: the
// filter names the version, so of concurrent writers on any number of
// instances one matches. Documents written before versions existed have
// no version field and match version 0.
func (s *Store) UpdateIssuer(ctx context.Context, is *cert.Issuer) error {
	d := toIssuerDoc(is)
	d.Version = is.Version + 1
	op := "update issuer " + is.ID
	version := bson.D{{Key: "version", Value: is.Version}}
	if is.Version == 0 {
		version = bson.D{{Key: "$or", Value: bson.A{
			bson.D{{Key: "version", Value: int64(0)}},
			bson.D{{Key: "version", Value: bson.D{{Key: "$exists", Value: false}}}},
		}}}
	}
	filter := append(bson.D{{Key: "_id", Value: is.ID}}, version...)
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.issuers.UpdateOne(ctx, filter, bson.D{
		{Key: "$set", Value: d.IssuerBody},
		{Key: "$unset", Value: bson.D{{Key: "accreditationBody", Value: ""}, {Key: "accreditationNumber", Value: ""}}},
	})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		return s.conflictOrNotFound(ctx, s.issuers, op, is.ID)
	}
	is.Version = d.Version
	return nil
}

type imageDoc struct {
	ID     string `bson:"_id"`
	Issuer string `bson:"issuer"`
	SHA256 string `bson:"sha256"`
	PNG    []byte `bson:"png"`
}

// PutImage stores an issuer's image; see store.IssuerImages.
func (s *Store) PutImage(ctx context.Context, img *cert.Image) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.images.InsertOne(ctx, imageDoc{ID: img.Issuer + "/" + img.SHA256, Issuer: img.Issuer, SHA256: img.SHA256, PNG: img.PNG})
	if err = translate("put image of "+img.Issuer, err); err != nil && !isAlreadyExists(err) {
		return err
	}
	return nil
}

// Image returns an issuer's image; see store.IssuerImages.
func (s *Store) Image(ctx context.Context, issuer, sha256 string) (*cert.Image, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d imageDoc
	if err := s.images.FindOne(ctx, bson.D{{Key: "_id", Value: issuer + "/" + sha256}}).Decode(&d); err != nil {
		return nil, translate(fmt.Sprintf("image %s of issuer %s", sha256, issuer), err)
	}
	return &cert.Image{Issuer: d.Issuer, SHA256: d.SHA256, PNG: d.PNG}, nil
}

func isAlreadyExists(err error) bool { return errors.Is(err, store.ErrAlreadyExists) }
