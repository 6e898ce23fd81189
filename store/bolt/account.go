package bolt

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"

	"go.etcd.io/bbolt"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

// Buckets of the console's accounts (store.Accounts).
var (
	bucketUsers         = []byte("users")
	bucketUserEmail     = []byte("users.email")   // email -> user id
	bucketSessions      = []byte("sessions")      // session id -> session
	bucketSessionUser   = []byte("sessions.user") // user id \0 session id -> nil
	bucketAccountTokens = []byte("accounttokens") // token id -> token
	bucketAccountEvents = []byte("accountevents") // issuer \0 at (ns, big endian) \0 id -> event
	accountBuckets      = [][]byte{bucketUsers, bucketUserEmail, bucketSessions, bucketSessionUser, bucketAccountTokens, bucketAccountEvents}
)

var _ store.Accounts = (*Store)(nil)

// update runs fn in a write transaction: fn's own error (a domain error:
// not found, conflict) is returned as it is, any other failure as
// unavailable.
func (s *Store) update(op string, fn func(tx *bbolt.Tx) (derr error, err error)) error {
	return s.write(op, fn, func(f func(*bbolt.Tx) error) error { return s.db.write(true, f) })
}

// batch is update through the committer (commit.go): concurrent callers share one
// commit. fn may run more than once and must write nothing when it
// returns a domain error.
func (s *Store) batch(op string, fn func(tx *bbolt.Tx) (derr error, err error)) error {
	return s.write(op, fn, func(f func(*bbolt.Tx) error) error { return s.commits.update(true, f) })
}

// updateBookkeeping and batchBookkeeping are update and batch for writes
// of nothing a verdict shows (the outbox and delivery buckets, the
// readiness probe), which Changes does not count.
func (s *Store) updateBookkeeping(op string, fn func(tx *bbolt.Tx) (derr error, err error)) error {
	return s.write(op, fn, func(f func(*bbolt.Tx) error) error { return s.db.write(false, f) })
}

func (s *Store) batchBookkeeping(op string, fn func(tx *bbolt.Tx) (derr error, err error)) error {
	return s.write(op, fn, func(f func(*bbolt.Tx) error) error { return s.commits.update(false, f) })
}

// write runs fn through run, keeping fn's domain error apart.
func (s *Store) write(op string, fn func(tx *bbolt.Tx) (derr error, err error), run func(func(*bbolt.Tx) error) error) error {
	var derr error
	err := run(func(tx *bbolt.Tx) error {
		var err error
		derr, err = fn(tx)
		if derr != nil {
			return nil
		}
		return err
	})
	if err != nil {
		return unavailable(op, err)
	}
	return derr
}

// CreateUser stores a new user; see store.Accounts.
func (s *Store) CreateUser(ctx context.Context, u *cert.User) error {
	if err := checkContext(ctx, "create user"); err != nil {
		return err
	}
	if err := checkKey("id", u.ID); err != nil {
		return err
	}
	if err := checkKey("email", u.Email); err != nil {
		return err
	}
	return s.update("create user "+u.ID, func(tx *bbolt.Tx) (error, error) {
		users, emails := tx.Bucket(bucketUsers), tx.Bucket(bucketUserEmail)
		if users.Get([]byte(u.ID)) != nil {
			return fmt.Errorf("user %s: %w", u.ID, store.ErrAlreadyExists), nil
		}
		if emails.Get([]byte(u.Email)) != nil {
			return fmt.Errorf("user with email %s: %w", u.Email, store.ErrAlreadyExists), nil
		}
		stored := *u
		stored.Version = 1
		v, err := json.Marshal(&stored)
		if err != nil {
			return nil, err
		}
		if err := users.Put([]byte(u.ID), v); err != nil {
			return nil, err
		}
		if err := emails.Put([]byte(u.Email), []byte(u.ID)); err != nil {
			return nil, err
		}
		u.Version = 1
		return nil, nil
	})
}

// User returns the user with the id; see store.Accounts.
func (s *Store) User(ctx context.Context, id string) (*cert.User, error) {
	if err := checkContext(ctx, "get user"); err != nil {
		return nil, err
	}
	return getJSON[cert.User](s, bucketUsers, nil, []byte(id), "user "+id)
}

// UserByEmail returns the user with the email; see store.Accounts.
func (s *Store) UserByEmail(ctx context.Context, email string) (*cert.User, error) {
	if err := checkContext(ctx, "get user by email"); err != nil {
		return nil, err
	}
	return getJSON[cert.User](s, bucketUsers, bucketUserEmail, []byte(email), "user with the email")
}

// UpdateUser replaces the user stored with u.Version; see store.Accounts.
func (s *Store) UpdateUser(ctx context.Context, u *cert.User) error {
	if err := checkContext(ctx, "update user"); err != nil {
		return err
	}
	return s.update("update user "+u.ID, func(tx *bbolt.Tx) (error, error) {
		users := tx.Bucket(bucketUsers)
		old := users.Get([]byte(u.ID))
		if old == nil {
			return fmt.Errorf("user %s: %w", u.ID, store.ErrNotFound), nil
		}
		var stored cert.User
		if err := json.Unmarshal(old, &stored); err != nil {
			return nil, fmt.Errorf("decode user %s: %w", u.ID, err)
		}
		if stored.Version != u.Version {
			return fmt.Errorf("user %s: stored version %d, not %d: %w", u.ID, stored.Version, u.Version, store.ErrConflict), nil
		}
		next := *u
		next.Issuer, next.Email = stored.Issuer, stored.Email
		next.Version = stored.Version + 1
		v, err := json.Marshal(&next)
		if err != nil {
			return nil, err
		}
		if err := users.Put([]byte(u.ID), v); err != nil {
			return nil, err
		}
		u.Version = next.Version
		return nil, nil
	})
}

// Users lists an issuer's users in id order; see store.Accounts.
func (s *Store) Users(ctx context.Context, issuer string) ([]*cert.User, error) {
	if err := checkContext(ctx, "list users"); err != nil {
		return nil, err
	}
	var out []*cert.User
	err := s.db.View(func(tx *bbolt.Tx) error {
		return tx.Bucket(bucketUsers).ForEach(func(id, v []byte) error {
			u := new(cert.User)
			if err := json.Unmarshal(v, u); err != nil {
				return fmt.Errorf("decode user %s: %w", id, err)
			}
			if u.Issuer == issuer {
				out = append(out, u)
			}
			return nil
		})
	})
	if err != nil {
		return nil, unavailable("list users", err)
	}
	return out, nil
}

func sessionUserKey(userID, id string) []byte {
	return []byte(userID + "\x00" + id)
}

// CreateSession stores a session; see store.Accounts.
func (s *Store) CreateSession(ctx context.Context, se *cert.Session) error {
	if err := checkContext(ctx, "create session"); err != nil {
		return err
	}
	if err := checkKey("id", se.ID); err != nil {
		return err
	}
	if err := checkKey("userId", se.UserID); err != nil {
		return err
	}
	return s.update("create session", func(tx *bbolt.Tx) (error, error) {
		sessions := tx.Bucket(bucketSessions)
		if sessions.Get([]byte(se.ID)) != nil {
			return fmt.Errorf("session: %w", store.ErrAlreadyExists), nil
		}
		v, err := json.Marshal(se)
		if err != nil {
			return nil, err
		}
		if err := sessions.Put([]byte(se.ID), v); err != nil {
			return nil, err
		}
		return nil, tx.Bucket(bucketSessionUser).Put(sessionUserKey(se.UserID, se.ID), nil)
	})
}

// Session returns the session with the id; see store.Accounts.
func (s *Store) Session(ctx context.Context, id string) (*cert.Session, error) {
	if err := checkContext(ctx, "get session"); err != nil {
		return nil, err
	}
	return getJSON[cert.Session](s, bucketSessions, nil, []byte(id), "session")
}

// TouchSession stores the session's LastSeen; see store.Accounts.
func (s *Store) TouchSession(ctx context.Context, se *cert.Session) error {
	if err := checkContext(ctx, "touch session"); err != nil {
		return err
	}
	return s.update("touch session", func(tx *bbolt.Tx) (error, error) {
		sessions := tx.Bucket(bucketSessions)
		old := sessions.Get([]byte(se.ID))
		if old == nil {
			return fmt.Errorf("session: %w", store.ErrNotFound), nil
		}
		var stored cert.Session
		if err := json.Unmarshal(old, &stored); err != nil {
			return nil, fmt.Errorf("decode session: %w", err)
		}
		stored.LastSeen = se.LastSeen
		v, err := json.Marshal(&stored)
		if err != nil {
			return nil, err
		}
		return nil, sessions.Put([]byte(se.ID), v)
	})
}

// DeleteSession removes a session; see store.Accounts.
func (s *Store) DeleteSession(ctx context.Context, id string) error {
	if err := checkContext(ctx, "delete session"); err != nil {
		return err
	}
	return s.update("delete session", func(tx *bbolt.Tx) (error, error) {
		sessions := tx.Bucket(bucketSessions)
		old := sessions.Get([]byte(id))
		if old == nil {
			return nil, nil
		}
		var stored cert.Session
		if err := json.Unmarshal(old, &stored); err != nil {
			return nil, fmt.Errorf("decode session: %w", err)
		}
		if err := tx.Bucket(bucketSessionUser).Delete(sessionUserKey(stored.UserID, id)); err != nil {
			return nil, err
		}
		return nil, sessions.Delete([]byte(id))
	})
}

// DeleteUserSessions removes every session of a user; see store.Accounts.
func (s *Store) DeleteUserSessions(ctx context.Context, userID string) (int, error) {
	if err := checkContext(ctx, "delete user sessions"); err != nil {
		return 0, err
	}
	n := 0
	err := s.update("delete sessions of user "+userID, func(tx *bbolt.Tx) (error, error) {
		n = 0
		byUser, sessions := tx.Bucket(bucketSessionUser), tx.Bucket(bucketSessions)
		prefix := []byte(userID + "\x00")
		var keys [][]byte
		c := byUser.Cursor()
		for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
			keys = append(keys, bytes.Clone(k))
		}
		for _, k := range keys {
			if err := sessions.Delete(k[len(prefix):]); err != nil {
				return nil, err
			}
			if err := byUser.Delete(k); err != nil {
				return nil, err
			}
			n++
		}
		return nil, nil
	})
	return n, err
}

// CreateAccountToken stores a one-time link; see store.Accounts.
func (s *Store) CreateAccountToken(ctx context.Context, t *cert.AccountToken) error {
	if err := checkContext(ctx, "create account token"); err != nil {
		return err
	}
	if err := checkKey("id", t.ID); err != nil {
		return err
	}
	return s.update("create account token", func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketAccountTokens)
		if b.Get([]byte(t.ID)) != nil {
			return fmt.Errorf("account token: %w", store.ErrAlreadyExists), nil
		}
		v, err := json.Marshal(t)
		if err != nil {
			return nil, err
		}
		return nil, b.Put([]byte(t.ID), v)
	})
}

// TakeAccountToken removes and returns a one-time link; see store.Accounts.
func (s *Store) TakeAccountToken(ctx context.Context, id string) (*cert.AccountToken, error) {
	if err := checkContext(ctx, "take account token"); err != nil {
		return nil, err
	}
	var t *cert.AccountToken
	err := s.update("take account token", func(tx *bbolt.Tx) (error, error) {
		t = nil
		b := tx.Bucket(bucketAccountTokens)
		v := b.Get([]byte(id))
		if v == nil {
			return fmt.Errorf("account token: %w", store.ErrNotFound), nil
		}
		t = new(cert.AccountToken)
		if err := json.Unmarshal(v, t); err != nil {
			return nil, fmt.Errorf("decode account token: %w", err)
		}
		return nil, b.Delete([]byte(id))
	})
	if err != nil {
		return nil, err
	}
	return t, nil
}

func accountEventKey(e *cert.AccountEvent) []byte {
	k := make([]byte, 0, len(e.Issuer)+len(e.ID)+10)
	k = append(k, e.Issuer...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(e.At.UnixNano()))
	k = append(k, 0)
	return append(k, e.ID...)
}

// AppendAccountEvent stores an audit event; see store.Accounts.
func (s *Store) AppendAccountEvent(ctx context.Context, e *cert.AccountEvent) error {
	if err := checkContext(ctx, "append account event"); err != nil {
		return err
	}
	if err := checkKey("id", e.ID); err != nil {
		return err
	}
	if err := checkKey("issuer", e.Issuer); err != nil {
		return err
	}
	v, err := json.Marshal(e)
	if err != nil {
		return fmt.Errorf("encode account event: %w", err)
	}
	return s.update("append account event", func(tx *bbolt.Tx) (error, error) {
		b := tx.Bucket(bucketAccountEvents)
		k := accountEventKey(e)
		if b.Get(k) != nil {
			return fmt.Errorf("account event %s: %w", e.ID, store.ErrAlreadyExists), nil
		}
		return nil, b.Put(k, v)
	})
}

// AccountEvents returns an issuer's newest events first; see
// store.Accounts.
func (s *Store) AccountEvents(ctx context.Context, issuer string, limit int) ([]*cert.AccountEvent, error) {
	if err := checkContext(ctx, "list account events"); err != nil {
		return nil, err
	}
	if limit < 1 || limit > 1000 {
		limit = 100
	}
	var out []*cert.AccountEvent
	err := s.db.View(func(tx *bbolt.Tx) error {
		prefix := []byte(issuer + "\x00")
		end := []byte(issuer + "\x01")
		c := tx.Bucket(bucketAccountEvents).Cursor()
		k, v := c.Seek(end)
		if k == nil {
			k, v = c.Last()
		} else {
			k, v = c.Prev()
		}
		for ; k != nil && bytes.HasPrefix(k, prefix) && len(out) < limit; k, v = c.Prev() {
			e := new(cert.AccountEvent)
			if err := json.Unmarshal(v, e); err != nil {
				return fmt.Errorf("decode account event: %w", err)
			}
			out = append(out, e)
		}
		return nil
	})
	if err != nil {
		return nil, unavailable("list account events", err)
	}
	return out, nil
}
