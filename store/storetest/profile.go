package storetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var profileTests = []test{
	{"issuers/update", testIssuerUpdate},
	{"issuers/update-clears-fields", testIssuerUpdateClears},
	{"issuers/update-conflict", testIssuerUpdateConflict},
	{"issuers/update-not-found", testIssuerUpdateNotFound},
	{"issuers/update-version-0", testIssuerUpdateVersionZero},
	{"issuers/update-concurrent", testIssuerUpdateConcurrent},
	{"issuers/images", testIssuerImages},
	{"certificates/by-number-across-issuers", testByNumberAcrossIssuers},
}

// fullProfile sets every profile field of is.
func fullProfile(t testing.TB, is *cert.Issuer) {
	t.Helper()
	is.Address, is.AddressEn = "北京市朝阳区示例路1号", "1 Example Road, Chaoyang, Beijing"
	is.Website, is.Email, is.Phone = "https://cert.example.cn", "cert@example.cn", "+86 10 1234 5678"
	is.Accreditation = []cert.Accreditation{{Body: "CNAS", Number: "CNAS C001-M"}, {Body: "UKAS", Number: "1234"}}
	is.ApprovalNumber = "CNCA-R-2002-001"
	is.Signatory = &cert.Signatory{Name: "张三", Title: "总经理"}
	is.NumberPatterns = map[string]string{"itss": "ITSS-{YYYY}-{SEQ:6}", "iso17021": "QMS-{YYYY}-{SEQ:6}"}
	is.Reminders = &cert.Reminders{SurveillanceOpen: true, SurveillanceCloseDays: []int{60, 14}, ExpiryDays: []int{120, 30}}
	is.Logo = &cert.ImageRef{SHA256: "ab12", Width: 200, Height: 100, Size: 1234}
	is.Seal = &cert.ImageRef{SHA256: "cd34", Width: 300, Height: 300, Size: 4321}
	is.AppendEvent(cert.IssuerEvent{Type: cert.IssuerProfileUpdated, At: time.Date(2026, 3, 4, 5, 6, 7, 800900100, time.UTC), Actor: "apikey:abc (ops)", Fields: []string{"name", "website"}, Detail: "a sentence"})
}

func testIssuerUpdate(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	is.Name = "Renamed Certification Centre"
	fullProfile(t, is)
	if err := s.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatalf("UpdateIssuer: %v", err)
	}
	if is.Version != 2 {
		t.Errorf("UpdateIssuer set Version %d, want 2", is.Version)
	}
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	sameIssuer(t, "issuer after UpdateIssuer", got, is)
}

func testIssuerUpdateClears(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	fullProfile(t, is)
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	is.Address, is.AddressEn, is.Website, is.Email, is.Phone = "", "", "", "", ""
	is.Accreditation, is.ApprovalNumber, is.Signatory, is.NumberPatterns = nil, "", nil, nil
	is.Logo, is.Seal = nil, nil
	// Lead times that send nothing are not the defaults (a nil Reminders).
	is.Reminders = &cert.Reminders{}
	if err := s.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatalf("UpdateIssuer: %v", err)
	}
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	if r := got.Reminders; r == nil || r.SurveillanceOpen || len(r.SurveillanceCloseDays) != 0 || len(r.ExpiryDays) != 0 {
		t.Errorf("reminders that send nothing came back as %+v, want an empty Reminders (not nil: nil means the defaults)", r)
	}
	is.Reminders = nil
	if err := s.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatalf("UpdateIssuer: %v", err)
	}
	if got, err = s.Issuer(t.Context(), "cesa-itss"); err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	if got.Reminders != nil {
		t.Errorf("reminders cleared by UpdateIssuer came back: %+v", got.Reminders)
	}
	if got.Website != "" || got.Signatory != nil || len(got.Accreditation) != 0 || len(got.NumberPatterns) != 0 || got.Logo != nil || got.Seal != nil || got.ApprovalNumber != "" {
		t.Errorf("fields cleared by UpdateIssuer came back: website %q, signatory %v, accreditation %v, patterns %v, logo %v, seal %v, approval %q",
			got.Website, got.Signatory, got.Accreditation, got.NumberPatterns, got.Logo, got.Seal, got.ApprovalNumber)
	}
}

func testIssuerUpdateConflict(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	stale := *is
	is.Name = "First writer"
	if err := s.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatalf("UpdateIssuer: %v", err)
	}
	stale.Name = "Second writer"
	wantErr(t, "UpdateIssuer(stale version)", s.UpdateIssuer(t.Context(), &stale), store.ErrConflict)
	if stale.Version != 1 {
		t.Errorf("a refused UpdateIssuer changed Version to %d", stale.Version)
	}
	got, err := s.Issuer(t.Context(), "cesa-itss")
	if err != nil {
		t.Fatalf("Issuer: %v", err)
	}
	if got.Name != "First writer" || got.Version != 2 {
		t.Errorf("after the refused update: name %q version %d, want %q 2", got.Name, got.Version, "First writer")
	}
}

func testIssuerUpdateNotFound(t *testing.T, s store.Store) {
	is := newIssuer(t, "absent")
	wantErr(t, "UpdateIssuer(absent)", s.UpdateIssuer(t.Context(), is), store.ErrNotFound)
	if _, err := s.Issuer(t.Context(), "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("UpdateIssuer of a missing issuer created it (err %v)", err)
	}
}

// testIssuerUpdateVersionZero: issuers stored before versions existed
// have version 0 and can be updated from it.
func testIssuerUpdateVersionZero(t *testing.T, s store.Store) {
	is := newIssuer(t, "old-issuer")
	is.Version = 0
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	is.Name = "Updated"
	if err := s.UpdateIssuer(t.Context(), is); err != nil {
		t.Fatalf("UpdateIssuer from version 0: %v", err)
	}
	got, err := s.Issuer(t.Context(), "old-issuer")
	if err != nil || got.Name != "Updated" || got.Version != 1 {
		t.Errorf("Issuer after update from 0 = %v, %v; want name Updated, version 1", got, err)
	}
}

// testIssuerUpdateConcurrent: of several writers starting from the same
// version, exactly one succeeds.
func testIssuerUpdateConcurrent(t *testing.T, s store.Store) {
	is := newIssuer(t, "cesa-itss")
	if err := s.CreateIssuer(t.Context(), is); err != nil {
		t.Fatalf("CreateIssuer: %v", err)
	}
	const writers = 8
	var wg sync.WaitGroup
	errs := make([]error, writers)
	for i := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			w := *is
			w.Name = "writer"
			errs[i] = s.UpdateIssuer(t.Context(), &w)
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		switch {
		case err == nil:
			ok++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("UpdateIssuer: %v, want nil or ErrConflict", err)
		}
	}
	if ok != 1 {
		t.Errorf("%d of %d concurrent updates from one version succeeded, want 1", ok, writers)
	}
	if got, err := s.Issuer(t.Context(), "cesa-itss"); err != nil || got.Version != 2 {
		t.Errorf("version after the concurrent updates = %v (%v), want 2", got, err)
	}
}

func testIssuerImages(t *testing.T, s store.Store) {
	img := &cert.Image{Issuer: "cesa-itss", SHA256: "00ff", PNG: []byte("\x89PNG\r\n\x1a\nfake")}
	if err := s.PutImage(t.Context(), img); err != nil {
		t.Fatalf("PutImage: %v", err)
	}
	if err := s.PutImage(t.Context(), img); err != nil {
		t.Errorf("PutImage of the same image again: %v, want nil", err)
	}
	img.PNG[0] = 'X'
	got, err := s.Image(t.Context(), "cesa-itss", "00ff")
	if err != nil {
		t.Fatalf("Image: %v", err)
	}
	if !bytes.Equal(got.PNG, []byte("\x89PNG\r\n\x1a\nfake")) || got.Issuer != "cesa-itss" || got.SHA256 != "00ff" {
		t.Errorf("Image = %+v, want the stored bytes", got)
	}
	_, err = s.Image(t.Context(), "other", "00ff")
	wantErr(t, "Image(other issuer)", err, store.ErrNotFound)
	_, err = s.Image(t.Context(), "cesa-itss", "1234")
	wantErr(t, "Image(absent)", err, store.ErrNotFound)
}

// testByNumberAcrossIssuers: a number query without an issuer finds the
// certificates of every issuer with that number (verification by the
// printed number).
func testByNumberAcrossIssuers(t *testing.T, s store.Store) {
	a, b, other := NewCertificate(t, "issuer-a"), NewCertificate(t, "issuer-b"), NewCertificate(t, "issuer-a")
	a.Number, b.Number = "QMS-2026-000001", "QMS-2026-000001"
	a.BaseNumber, b.BaseNumber = a.Number, b.Number
	for _, c := range []*cert.Certificate{a, b, other} {
		create(t, s, c)
	}
	got, _, err := s.ListCertificates(t.Context(), store.Query{Number: "QMS-2026-000001"})
	if err != nil {
		t.Fatalf("ListCertificates(number): %v", err)
	}
	ids := map[string]bool{}
	for _, c := range got {
		ids[c.ID] = true
	}
	if len(got) != 2 || !ids[a.ID] || !ids[b.ID] {
		t.Errorf("ListCertificates(number across issuers) = %d certificates, want %s and %s", len(got), a.ID, b.ID)
	}
}
