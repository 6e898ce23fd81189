package cert

import "time"

// Role is what an API key may do.
type Role string

// Roles. An admin key acts for the whole deployment; issuer and viewer keys
// are bound to one issuer; a watcher key (RoleWatcher) to none.
const (
	RoleAdmin  Role = "admin"
	RoleIssuer Role = "issuer"
	RoleViewer Role = "viewer"
)

// APIKey is a stored API key. The token itself is never stored: Hash is its
// SHA-256, hex-encoded.
type APIKey struct {
	ID        string     `json:"id"`
	Hash      string     `json:"hash"`
	Issuer    string     `json:"issuer,omitempty"`
	Role      Role       `json:"role"`
	Name      string     `json:"name,omitempty"`
	CreatedAt time.Time  `json:"createdAt"`
	RevokedAt *time.Time `json:"revokedAt,omitempty"`
	// LastUsedAt is when the key last authenticated a request, recorded at
	// most about once a minute per key; nil when never used.
	LastUsedAt *time.Time `json:"lastUsedAt,omitempty"`
}

// ActiveAdmin reports whether k is an admin key that is not revoked.
func (k *APIKey) ActiveAdmin() bool {
	return k.Role == RoleAdmin && k.RevokedAt == nil
}

// Principal is the authenticated caller of a request.
type Principal struct {
	KeyID  string
	Issuer string
	Role   Role
	Name   string
	// User is true for a console user (KeyID "user:{id}"): its admin role
	// is bound to its issuer, unlike an admin API key's.
	User bool
}

// Actor names the principal in events.
func (p Principal) Actor() string {
	if p.User {
		return p.KeyID + " (" + p.Name + ")"
	}
	if p.Name != "" {
		return "apikey:" + p.KeyID + " (" + p.Name + ")"
	}
	return "apikey:" + p.KeyID
}

// CanRead reports whether p may read issuer's data. A key bound to no
// issuer (a watcher's) reads no issuer's data.
func (p Principal) CanRead(issuer string) bool {
	return p.DeploymentAdmin() || (p.Issuer != "" && p.Issuer == issuer && p.Role != RoleWatcher)
}

// DeploymentAdmin reports whether p acts for every issuer: an admin API
// key, never a console user.
func (p Principal) DeploymentAdmin() bool { return p.Role == RoleAdmin && !p.User }

// CanWrite reports whether p may change issuer's certificates.
func (p Principal) CanWrite(issuer string) bool {
	return p.DeploymentAdmin() || ((p.Role == RoleIssuer || p.Role == RoleAdmin) && p.Issuer == issuer)
}
