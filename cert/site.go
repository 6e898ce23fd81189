package cert

import (
	"bytes"
	"encoding/json"
)

// Site is one certified site of a certificate: where the certified
// activity takes place, and what of the scope it covers there.
type Site struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	Scope   string `json:"scope,omitempty"`
}

// UnmarshalJSON reads a site object, or a plain string as the site's name
// (what clients sent before sites had fields).
func (s *Site) UnmarshalJSON(b []byte) error {
	if b = bytes.TrimSpace(b); len(b) > 0 && b[0] == '"' {
		*s = Site{}
		return json.Unmarshal(b, &s.Name)
	}
	type plain Site
	var p plain
	if err := json.Unmarshal(b, &p); err != nil {
		return err
	}
	*s = Site(p)
	return nil
}
