package cert

import (
	"encoding/json"
	"time"
)

// KeyState is the life stage of a signing key.
type KeyState string

// Key states: one active key signs; retired keys only verify; revoked keys
// (compromised) no longer verify anything.
const (
	KeyActive  KeyState = "active"
	KeyRetired KeyState = "retired"
	KeyRevoked KeyState = "revoked"
)

// KeyRecord is one key of a key ring as stored. Sealed holds the private key
// encrypted under the KEK; it never leaves the keys and store packages.
type KeyRecord struct {
	Kid       string          `json:"kid"`
	Alg       string          `json:"alg"`
	State     KeyState        `json:"state"`
	Public    json.RawMessage `json:"public"`
	Sealed    []byte          `json:"sealed"`
	CreatedAt time.Time       `json:"createdAt"`
	RetiredAt *time.Time      `json:"retiredAt,omitempty"`
	RevokedAt *time.Time      `json:"revokedAt,omitempty"`
}

// KeyRing is the set of keys of one issuer.
type KeyRing struct {
	Issuer  string      `json:"issuer"`
	Keys    []KeyRecord `json:"keys"`
	Version int64       `json:"version"`
}

// Active returns the active key, or nil.
func (r *KeyRing) Active() *KeyRecord {
	for i := range r.Keys {
		if r.Keys[i].State == KeyActive {
			return &r.Keys[i]
		}
	}
	return nil
}

// Find returns the key with the given kid, or nil.
func (r *KeyRing) Find(kid string) *KeyRecord {
	for i := range r.Keys {
		if r.Keys[i].Kid == kid {
			return &r.Keys[i]
		}
	}
	return nil
}

// KeyInfo is the public description of a key, for listings.
type KeyInfo struct {
	Kid       string          `json:"kid"`
	Alg       string          `json:"alg"`
	State     KeyState        `json:"state"`
	Public    json.RawMessage `json:"publicJwk"`
	CreatedAt time.Time       `json:"createdAt"`
	RetiredAt *time.Time      `json:"retiredAt,omitempty"`
	RevokedAt *time.Time      `json:"revokedAt,omitempty"`
}
