package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
)

// A W3C Bitstring Status List (DESIGN.md section 7): a vc+jwt
// BitstringStatusListCredential whose credentialSubject.encodedList is the
// multibase base64url ('u' prefix) of the GZIP of the bitstring; index 0 is
// the left-most bit of the first byte.

// maxStatusList bounds a fetched status list credential and its
// decompressed bitstring.
const (
	maxStatusList     = 4 << 20
	maxStatusListBits = 16 << 20
)

// statusLists fetches and checks the status lists of one verification,
// each URL once.
type statusLists struct {
	ks      *keySet
	now     time.Time
	timeout time.Duration
	lists   map[string]*bitstring
	errs    map[string]error
}

// bitstring is a verified, decoded status list.
type bitstring struct {
	purpose string
	bits    []byte
}

func newStatusLists(ks *keySet, now time.Time, timeout time.Duration) *statusLists {
	return &statusLists{ks: ks, now: now, timeout: timeout, lists: map[string]*bitstring{}, errs: map[string]error{}}
}

// check returns whether the entry's bit is set. An error means the status
// could not be determined (the list is unreachable, not genuine, stale or
// malformed): the caller fails closed.
func (s *statusLists) check(ctx context.Context, e cert.StatusEntry, issuerURL string) (bool, error) {
	if e.Type != "BitstringStatusListEntry" {
		return false, fmt.Errorf("status entry of type %q is not supported", e.Type)
	}
	idx, err := strconv.Atoi(e.StatusListIndex)
	if err != nil || idx < 0 || strconv.Itoa(idx) != e.StatusListIndex {
		return false, fmt.Errorf("statusListIndex %q is not a non-negative integer", e.StatusListIndex)
	}
	list, err := s.get(ctx, e.StatusListCredential, issuerURL)
	if err != nil {
		return false, err
	}
	if list.purpose != e.StatusPurpose {
		return false, fmt.Errorf("the list at %s is a %s list, not a %s list", e.StatusListCredential, list.purpose, e.StatusPurpose)
	}
	if idx >= len(list.bits)*8 {
		return false, fmt.Errorf("index %d lies beyond the %d entries of %s", idx, len(list.bits)*8, e.StatusListCredential)
	}
	return list.bits[idx/8]&(0x80>>(idx%8)) != 0, nil
}

func (s *statusLists) get(ctx context.Context, rawURL, issuerURL string) (*bitstring, error) {
	key := rawURL + "\x00" + issuerURL
	if l, ok := s.lists[key]; ok {
		return l, nil
	}
	if err, ok := s.errs[key]; ok {
		return nil, err
	}
	l, err := s.load(ctx, rawURL, issuerURL)
	if err != nil {
		s.errs[key] = err
		return nil, err
	}
	s.lists[key] = l
	return l, nil
}

// statusListCredential is the payload of a status list vc+jwt.
type statusListCredential struct {
	ID                string          `json:"id"`
	Type              []string        `json:"type"`
	Issuer            json.RawMessage `json:"issuer"`
	ValidFrom         string          `json:"validFrom"`
	ValidUntil        string          `json:"validUntil"`
	Iss               string          `json:"iss"`
	Exp               *int64          `json:"exp"`
	CredentialSubject struct {
		Type          string          `json:"type"`
		StatusPurpose string          `json:"statusPurpose"`
		EncodedList   string          `json:"encodedList"`
		StatusSize    json.RawMessage `json:"statusSize"`
	} `json:"credentialSubject"`
}

func (s *statusLists) load(ctx context.Context, rawURL, issuerURL string) (*bitstring, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("statusListCredential %q is not an http(s) URL", truncate(rawURL, 100))
	}
	body, err := fetch(ctx, s.timeout, rawURL, "application/vc+jwt, application/jwt", maxStatusList)
	if err != nil {
		return nil, fmt.Errorf("the status list could not be read: %v", err)
	}
	payload, _, err := verifyJWS(strings.TrimSpace(string(body)), s.ks, maxStatusList)
	if err != nil {
		return nil, fmt.Errorf("the status list at %s is not genuine: %v", rawURL, err)
	}
	var c statusListCredential
	if err := keys.UnmarshalStrict(payload, &c); err != nil {
		return nil, fmt.Errorf("the status list at %s is malformed: %v", rawURL, err)
	}
	// A genuine list of the issuer served at another list's URL (of
	// another purpose, or an older one) must not answer for it.
	if c.ID != rawURL {
		return nil, fmt.Errorf("the status list at %s cannot be used: its id %q is not the URL it was fetched from", rawURL, truncate(c.ID, 100))
	}
	if err := c.check(issuerURL, s.now); err != nil {
		return nil, fmt.Errorf("the status list at %s cannot be used: %v", rawURL, err)
	}
	bits, err := decodeBitstring(c.CredentialSubject.EncodedList)
	if err != nil {
		return nil, fmt.Errorf("the status list at %s: %v", rawURL, err)
	}
	return &bitstring{purpose: c.CredentialSubject.StatusPurpose, bits: bits}, nil
}

// check applies the rules of a status list credential: issued by the
// certificate's issuer, of the right types, within its validity.
func (c *statusListCredential) check(issuerURL string, now time.Time) error {
	issuer := ""
	if err := json.Unmarshal(c.Issuer, &issuer); err != nil {
		var obj struct {
			ID string `json:"id"`
		}
		if json.Unmarshal(c.Issuer, &obj) == nil {
			issuer = obj.ID
		}
	}
	switch {
	case issuer != issuerURL:
		return fmt.Errorf("it is issued by %q, not by the certificate's issuer %s", truncate(issuer, 100), issuerURL)
	case c.Iss != "" && c.Iss != issuerURL:
		return fmt.Errorf("iss %q is not the certificate's issuer %s", truncate(c.Iss, 100), issuerURL)
	case !slices.Contains(c.Type, "BitstringStatusListCredential"):
		return errors.New("type must include BitstringStatusListCredential")
	case c.CredentialSubject.Type != "BitstringStatusList":
		return errors.New("credentialSubject.type must be BitstringStatusList")
	case len(c.CredentialSubject.StatusSize) > 0 && string(c.CredentialSubject.StatusSize) != "1":
		return errors.New("statusSize other than 1 is not supported")
	case c.Exp != nil && !time.Unix(*c.Exp, 0).After(now.Add(-clockSkew)):
		return fmt.Errorf("it expired at %s (a stale list)", time.Unix(*c.Exp, 0).UTC().Format(time.RFC3339))
	}
	if c.ValidUntil != "" {
		t, err := time.Parse(time.RFC3339, c.ValidUntil)
		if err != nil || !t.After(now.Add(-clockSkew)) {
			return fmt.Errorf("validUntil %q has passed or is malformed (a stale list)", c.ValidUntil)
		}
	}
	if c.ValidFrom != "" {
		t, err := time.Parse(time.RFC3339, c.ValidFrom)
		if err != nil || t.After(now.Add(clockSkew)) {
			return fmt.Errorf("validFrom %q lies in the future or is malformed", c.ValidFrom)
		}
	}
	return nil
}

// decodeBitstring decodes an encodedList: multibase base64url ('u') of
// the GZIP of the bitstring.
func decodeBitstring(enc string) ([]byte, error) {
	rest, ok := strings.CutPrefix(enc, "u")
	if !ok {
		return nil, errors.New("encodedList must be multibase base64url (starting with 'u')")
	}
	gz, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(rest, "="))
	if err != nil {
		return nil, errors.New("encodedList is not base64url")
	}
	zr, err := gzip.NewReader(bytes.NewReader(gz))
	if err != nil {
		return nil, errors.New("encodedList is not GZIP data")
	}
	bits, err := io.ReadAll(io.LimitReader(zr, maxStatusListBits+1))
	if err != nil {
		return nil, fmt.Errorf("encodedList: %v", err)
	}
	if len(bits) > maxStatusListBits {
		return nil, errors.New("encodedList is larger than certctl accepts")
	}
	return bits, nil
}
