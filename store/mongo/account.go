package mongo

import (
	"context"
	"fmt"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Collections and indexes of the console's accounts (store.Accounts).
// Times are stored as BSON dates (milliseconds): the accounts use case
// truncates its times to the millisecond, so nothing is lost.
const (
	collUsers          = "users"
	collSessions       = "sessions"
	collAccountTokens  = "accounttokens"
	collAccountEvents  = "accountevents"
	idxUserEmail       = "uniq_email"
	idxUserIssuer      = "idx_issuer"
	idxSessionUser     = "idx_user"
	idxAccountEventsAt = "idx_issuer_at"
)

var _ store.Accounts = (*Store)(nil)

func (s *Store) coll(name string) *mongo.Collection { return s.db.Collection(name) }

func (s *Store) accountIndexes() []index {
	return []index{
		{coll: s.coll(collUsers), name: idxUserEmail, keys: keys("email"), unique: true},
		{coll: s.coll(collUsers), name: idxUserIssuer, keys: keys("issuer")},
		{coll: s.coll(collSessions), name: idxSessionUser, keys: keys("userId")},
		{coll: s.coll(collAccountEvents), name: idxAccountEventsAt, keys: keys("issuer", "at", "_id")},
	}
}

type userDoc struct {
	ID             string     `bson:"_id"`
	Issuer         string     `bson:"issuer"`
	Email          string     `bson:"email"`
	DisplayName    string     `bson:"displayName"`
	Role           string     `bson:"role"`
	Disabled       bool       `bson:"disabled"`
	PasswordHash   string     `bson:"passwordHash"`
	TOTPSecret     string     `bson:"totpSecret"`
	TOTPPending    string     `bson:"totpPending"`
	RecoveryCodes  []string   `bson:"recoveryCodes"`
	FailedSignIns  int        `bson:"failedSignIns"`
	ThrottledUntil *time.Time `bson:"throttledUntil"`
	CreatedAt      time.Time  `bson:"createdAt"`
	UpdatedAt      time.Time  `bson:"updatedAt"`
	Version        int64      `bson:"version"`
}

func toUserDoc(u *cert.User) *userDoc {
	return &userDoc{ID: u.ID, Issuer: u.Issuer, Email: u.Email, DisplayName: u.DisplayName, Role: string(u.Role),
		Disabled: u.Disabled, PasswordHash: u.PasswordHash, TOTPSecret: u.TOTPSecret, TOTPPending: u.TOTPPending,
		RecoveryCodes: u.RecoveryCodes, FailedSignIns: u.FailedSignIns, ThrottledUntil: u.ThrottledUntil,
		CreatedAt: u.CreatedAt, UpdatedAt: u.UpdatedAt, Version: u.Version}
}

func (d *userDoc) user() *cert.User {
	u := &cert.User{ID: d.ID, Issuer: d.Issuer, Email: d.Email, DisplayName: d.DisplayName, Role: cert.Role(d.Role),
		Disabled: d.Disabled, PasswordHash: d.PasswordHash, TOTPSecret: d.TOTPSecret, TOTPPending: d.TOTPPending,
		RecoveryCodes: d.RecoveryCodes, FailedSignIns: d.FailedSignIns, ThrottledUntil: utcPtrTime(d.ThrottledUntil),
		CreatedAt: d.CreatedAt.UTC(), UpdatedAt: d.UpdatedAt.UTC(), Version: d.Version}
	if len(u.RecoveryCodes) == 0 {
		u.RecoveryCodes = nil
	}
	return u
}

func utcPtrTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

// CreateUser stores a new user; see store.Accounts.
func (s *Store) CreateUser(ctx context.Context, u *cert.User) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	d := toUserDoc(u)
	d.Version = 1
	if _, err := s.coll(collUsers).InsertOne(ctx, d); err != nil {
		return translate("create user "+u.ID, err)
	}
	u.Version = 1
	return nil
}

// User returns the user with the id; see store.Accounts.
func (s *Store) User(ctx context.Context, id string) (*cert.User, error) {
	return s.findUser(ctx, "user "+id, bson.D{{Key: "_id", Value: id}})
}

// UserByEmail returns the user with the email; see store.Accounts.
func (s *Store) UserByEmail(ctx context.Context, email string) (*cert.User, error) {
	return s.findUser(ctx, "user with the email", bson.D{{Key: "email", Value: email}})
}

func (s *Store) findUser(ctx context.Context, op string, filter bson.D) (*cert.User, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d userDoc
	if err := s.coll(collUsers).FindOne(ctx, filter).Decode(&d); err != nil {
		return nil, translate(op, err)
	}
	return d.user(), nil
}

// UpdateUser replaces the user stored with u.Version, in one conditional
// update on the server; see store.Accounts.
func (s *Store) UpdateUser(ctx context.Context, u *cert.User) error {
	op := "update user " + u.ID
	d := toUserDoc(u)
	set := bson.D{
		{Key: "displayName", Value: d.DisplayName}, {Key: "role", Value: d.Role}, {Key: "disabled", Value: d.Disabled},
		{Key: "passwordHash", Value: d.PasswordHash}, {Key: "totpSecret", Value: d.TOTPSecret},
		{Key: "totpPending", Value: d.TOTPPending}, {Key: "recoveryCodes", Value: d.RecoveryCodes},
		{Key: "failedSignIns", Value: d.FailedSignIns}, {Key: "throttledUntil", Value: d.ThrottledUntil},
		{Key: "updatedAt", Value: d.UpdatedAt}, {Key: "version", Value: u.Version + 1},
	}
	cctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collUsers).UpdateOne(cctx, bson.D{{Key: "_id", Value: u.ID}, {Key: "version", Value: u.Version}}, bson.D{{Key: "$set", Value: set}})
	if err != nil {
		return translate(op, err)
	}
	if res.MatchedCount == 0 {
		if _, err := s.User(ctx, u.ID); err != nil {
			return err
		}
		return fmt.Errorf("%s: stored version is not %d: %w", op, u.Version, store.ErrConflict)
	}
	u.Version++
	return nil
}

// Users lists an issuer's users in id order; see store.Accounts.
func (s *Store) Users(ctx context.Context, issuer string) ([]*cert.User, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.coll(collUsers).Find(ctx, bson.D{{Key: "issuer", Value: issuer}}, options.Find().SetSort(bson.D{{Key: "_id", Value: 1}}))
	if err != nil {
		return nil, translate("users", err)
	}
	var docs []userDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("users", err)
	}
	out := make([]*cert.User, len(docs))
	for i := range docs {
		out[i] = docs[i].user()
	}
	return out, nil
}

type sessionDoc struct {
	ID        string    `bson:"_id"`
	UserID    string    `bson:"userId"`
	Issuer    string    `bson:"issuer"`
	CSRF      string    `bson:"csrf"`
	CreatedAt time.Time `bson:"createdAt"`
	LastSeen  time.Time `bson:"lastSeen"`
	IP        string    `bson:"ip"`
}

// CreateSession stores a session; see store.Accounts.
func (s *Store) CreateSession(ctx context.Context, se *cert.Session) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.coll(collSessions).InsertOne(ctx, sessionDoc{ID: se.ID, UserID: se.UserID, Issuer: se.Issuer,
		CSRF: se.CSRF, CreatedAt: se.CreatedAt, LastSeen: se.LastSeen, IP: se.IP})
	return translate("create session", err)
}

// Session returns the session with the id; see store.Accounts.
func (s *Store) Session(ctx context.Context, id string) (*cert.Session, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d sessionDoc
	if err := s.coll(collSessions).FindOne(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("session", err)
	}
	return &cert.Session{ID: d.ID, UserID: d.UserID, Issuer: d.Issuer, CSRF: d.CSRF,
		CreatedAt: d.CreatedAt.UTC(), LastSeen: d.LastSeen.UTC(), IP: d.IP}, nil
}

// TouchSession stores the session's LastSeen; see store.Accounts.
func (s *Store) TouchSession(ctx context.Context, se *cert.Session) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collSessions).UpdateOne(ctx, bson.D{{Key: "_id", Value: se.ID}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "lastSeen", Value: se.LastSeen}}}})
	if err != nil {
		return translate("touch session", err)
	}
	if res.MatchedCount == 0 {
		return fmt.Errorf("touch session: %w", store.ErrNotFound)
	}
	return nil
}

// DeleteSession removes a session; see store.Accounts.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.coll(collSessions).DeleteOne(ctx, bson.D{{Key: "_id", Value: id}})
	return translate("delete session", err)
}

// DeleteUserSessions removes every session of a user; see store.Accounts.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	res, err := s.coll(collSessions).DeleteMany(ctx, bson.D{{Key: "userId", Value: userID}})
	if err != nil {
		return 0, translate("delete sessions of user "+userID, err)
	}
	return int(res.DeletedCount), nil
}

type accountTokenDoc struct {
	ID        string    `bson:"_id"`
	Purpose   string    `bson:"purpose"`
	Issuer    string    `bson:"issuer"`
	Email     string    `bson:"email"`
	Role      string    `bson:"role"`
	CreatedBy string    `bson:"createdBy"`
	CreatedAt time.Time `bson:"createdAt"`
	ExpiresAt time.Time `bson:"expiresAt"`
}

// CreateAccountToken stores a one-time link; see store.Accounts.
func (s *Store) CreateAccountToken(ctx context.Context, t *cert.AccountToken) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.coll(collAccountTokens).InsertOne(ctx, accountTokenDoc{ID: t.ID, Purpose: string(t.Purpose), Issuer: t.Issuer,
		Email: t.Email, Role: string(t.Role), CreatedBy: t.CreatedBy, CreatedAt: t.CreatedAt, ExpiresAt: t.ExpiresAt})
	return translate("create account token", err)
}

// TakeAccountToken removes and returns a one-time link with one
// findOneAndDelete; see store.Accounts.
func (s *Store) TakeAccountToken(ctx context.Context, id string) (*cert.AccountToken, error) {
	ctx, cancel := s.call(ctx)
	defer cancel()
	var d accountTokenDoc
	if err := s.coll(collAccountTokens).FindOneAndDelete(ctx, bson.D{{Key: "_id", Value: id}}).Decode(&d); err != nil {
		return nil, translate("take account token", err)
	}
	return &cert.AccountToken{ID: d.ID, Purpose: cert.AccountTokenPurpose(d.Purpose), Issuer: d.Issuer, Email: d.Email,
		Role: cert.Role(d.Role), CreatedBy: d.CreatedBy, CreatedAt: d.CreatedAt.UTC(), ExpiresAt: d.ExpiresAt.UTC()}, nil
}

type accountEventDoc struct {
	ID      string    `bson:"_id"`
	Issuer  string    `bson:"issuer"`
	Type    string    `bson:"type"`
	Actor   string    `bson:"actor"`
	Subject string    `bson:"subject"`
	Detail  string    `bson:"detail"`
	IP      string    `bson:"ip"`
	At      time.Time `bson:"at"`
}

// AppendAccountEvent stores an audit event; see store.Accounts.
func (s *Store) AppendAccountEvent(ctx context.Context, e *cert.AccountEvent) error {
	ctx, cancel := s.call(ctx)
	defer cancel()
	_, err := s.coll(collAccountEvents).InsertOne(ctx, accountEventDoc{ID: e.ID, Issuer: e.Issuer, Type: e.Type,
		Actor: e.Actor, Subject: e.Subject, Detail: e.Detail, IP: e.IP, At: e.At})
	return translate("append account event "+e.ID, err)
}

// AccountEvents returns an issuer's newest events first; see
// store.Accounts.
func (s *Store) AccountEvents(ctx context.Context, issuer string, limit int) ([]*cert.AccountEvent, error) {
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	ctx, cancel := s.call(ctx)
	defer cancel()
	cur, err := s.coll(collAccountEvents).Find(ctx, bson.D{{Key: "issuer", Value: issuer}},
		options.Find().SetSort(bson.D{{Key: "at", Value: -1}, {Key: "_id", Value: -1}}).SetLimit(int64(limit)))
	if err != nil {
		return nil, translate("account events", err)
	}
	var docs []accountEventDoc
	if err := cur.All(ctx, &docs); err != nil {
		return nil, translate("account events", err)
	}
	out := make([]*cert.AccountEvent, len(docs))
	for i, d := range docs {
		out[i] = &cert.AccountEvent{ID: d.ID, Issuer: d.Issuer, Type: d.Type, Actor: d.Actor, Subject: d.Subject,
			Detail: d.Detail, IP: d.IP, At: d.At.UTC()}
	}
	return out, nil
}
