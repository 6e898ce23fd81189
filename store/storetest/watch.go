package storetest

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store"
)

var watchTests = []test{
	{"watches/create-get-hidden-fields", testWatchCreateGet},
	{"watches/duplicate-id", testWatchDuplicate},
	{"watches/update-conflict-tokens", testWatchUpdateTokens},
	{"watches/delete", testWatchDelete},
	{"watches/lists", testWatchLists},
	{"watches/watcher-pages-and-count", testWatchWatcherPages},
	{"watches/client-count", testWatchClientCount},
	{"watches/watcher-webhooks", testWatcherWebhooks},
	{"watches/delete-expired", testWatchDeleteExpired},
}

func newEmailWatch(id, email, certID string) *cert.Watch {
	return &cert.Watch{
		ID: id, Email: email, Certificate: certID, Status: cert.WatchPending,
		ConfirmHash: "c-" + id, ClientKey: "client-1", SentAt: webhookTime,
		CreatedAt: webhookTime, ExpiresAt: webhookTime.Add(48 * time.Hour),
	}
}

func sameWatch(t testing.TB, what string, got, want *cert.Watch) {
	t.Helper()
	if d := fieldDiff(*got, *want); d != "" {
		t.Errorf("%s: watch differs (got, want):\n%s", what, d)
	}
}

func createWatch(t testing.TB, s store.Store, w *cert.Watch) {
	t.Helper()
	if err := s.CreateWatch(t.Context(), w); err != nil {
		t.Fatalf("CreateWatch %s: %v", w.ID, err)
	}
}

// Every field comes back, those hidden from JSON answers (address, token
// hashes, client key, version) included.
func testWatchCreateGet(t *testing.T, s store.Store) {
	confirmed := webhookTime.Add(time.Hour)
	w := &cert.Watch{
		ID: "w1", Watcher: "key-1", Certificate: "01JCERT", Issuer: "cesa-itss", Number: "ITSS-2026-000001",
		Status: cert.WatchConfirmed, ConfirmHash: "ch", UnsubscribeHashes: []string{"u1", "u2"}, ClientKey: "ck",
		SentAt: webhookTime, CreatedAt: webhookTime, ExpiresAt: webhookTime.Add(time.Hour), ConfirmedAt: &confirmed,
	}
	createWatch(t, s, w)
	if w.Version != 1 {
		t.Errorf("Version after create = %d, want 1", w.Version)
	}
	got, err := s.Watch(t.Context(), "w1")
	if err != nil {
		t.Fatal(err)
	}
	sameWatch(t, "Watch", got, w)
	e := newEmailWatch("w2", "reader@example.com", "01JCERT")
	createWatch(t, s, e)
	got, err = s.Watch(t.Context(), "w2")
	if err != nil {
		t.Fatal(err)
	}
	sameWatch(t, "Watch (e-mail)", got, e)
	if _, err := s.Watch(t.Context(), "absent"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Watch(absent) = %v, want ErrNotFound", err)
	}
}

func testWatchDuplicate(t *testing.T, s store.Store) {
	createWatch(t, s, newEmailWatch("w1", "a@example.com", "C1"))
	err := s.CreateWatch(t.Context(), newEmailWatch("w1", "b@example.com", "C2"))
	if !errors.Is(err, store.ErrAlreadyExists) {
		t.Fatalf("second CreateWatch = %v, want ErrAlreadyExists", err)
	}
	got, _ := s.Watch(t.Context(), "w1")
	if got.Email != "a@example.com" {
		t.Errorf("the duplicate changed the stored watch: %q", got.Email)
	}
	if ws, _ := s.WatchesOfCertificate(t.Context(), "C2"); len(ws) != 0 {
		t.Errorf("the duplicate left %d index entries", len(ws))
	}
}

// Tokens are found by their hashes; replaced hashes are found no more.
func testWatchUpdateTokens(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newEmailWatch("w1", "a@example.com", "C1")
	createWatch(t, s, w)
	if got, err := s.WatchByToken(ctx, "c-w1", true); err != nil || got.ID != "w1" {
		t.Fatalf("WatchByToken(confirm) = %v, %v", got, err)
	}
	if _, err := s.WatchByToken(ctx, "c-w1", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a confirmation hash found as an unsubscribe token: %v", err)
	}
	stale := *w
	now := webhookTime.Add(2 * time.Hour)
	w.Status, w.ConfirmHash, w.ConfirmedAt, w.ExpiresAt = cert.WatchConfirmed, "", &now, time.Time{}
	w.UnsubscribeHashes = []string{"u-1"}
	w.Email = "changed@example.com" // never changes
	if err := s.UpdateWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	if w.Version != 2 {
		t.Errorf("Version = %d, want 2", w.Version)
	}
	if err := s.UpdateWatch(ctx, &stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update from a stale version = %v, want ErrConflict", err)
	}
	missing := newEmailWatch("absent", "x@example.com", "C1")
	missing.Version = 1
	if err := s.UpdateWatch(ctx, missing); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("update of a missing watch = %v, want ErrNotFound", err)
	}
	if _, err := s.WatchByToken(ctx, "c-w1", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the used confirmation token still finds the watch: %v", err)
	}
	got, err := s.WatchByToken(ctx, "u-1", false)
	if err != nil || got.Status != cert.WatchConfirmed || got.Email != "a@example.com" {
		t.Fatalf("WatchByToken(unsubscribe) = %+v, %v", got, err)
	}
	w.UnsubscribeHashes = []string{"u-2", "u-3"}
	if err := s.UpdateWatch(ctx, w); err != nil {
		t.Fatal(err)
	}
	if _, err := s.WatchByToken(ctx, "u-1", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a dropped unsubscribe token still finds the watch: %v", err)
	}
	for _, h := range []string{"u-2", "u-3"} {
		if got, err := s.WatchByToken(ctx, h, false); err != nil || got.ID != "w1" {
			t.Errorf("WatchByToken(%s) = %v, %v", h, got, err)
		}
	}
}

func testWatchDelete(t *testing.T, s store.Store) {
	ctx := t.Context()
	w := newEmailWatch("w1", "a@example.com", "C1")
	w.UnsubscribeHashes = []string{"u-1"}
	createWatch(t, s, w)
	if err := s.DeleteWatch(ctx, "w1"); err != nil {
		t.Fatal(err)
	}
	if err := s.DeleteWatch(ctx, "w1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second delete = %v, want ErrNotFound", err)
	}
	if _, err := s.WatchByToken(ctx, "u-1", false); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("token of a deleted watch: %v", err)
	}
	for name, list := range map[string]func() ([]*cert.Watch, error){
		"certificate": func() ([]*cert.Watch, error) { return s.WatchesOfCertificate(ctx, "C1") },
		"email":       func() ([]*cert.Watch, error) { return s.WatchesOfEmail(ctx, "a@example.com") },
	} {
		if ws, err := list(); err != nil || len(ws) != 0 {
			t.Errorf("watches of %s after delete: %d, %v", name, len(ws), err)
		}
	}
}

func watchIDs(ws []*cert.Watch) []string {
	out := []string{}
	for _, w := range ws {
		out = append(out, w.ID)
	}
	return out
}

func testWatchLists(t *testing.T, s store.Store) {
	ctx := t.Context()
	createWatch(t, s, newEmailWatch("w3", "a@example.com", "C1"))
	createWatch(t, s, newEmailWatch("w1", "b@example.com", "C1"))
	createWatch(t, s, newEmailWatch("w2", "a@example.com", "C2"))
	createWatch(t, s, &cert.Watch{ID: "w4", Watcher: "k1", USCC: "91110108MA0123456G", Status: cert.WatchConfirmed, CreatedAt: webhookTime})
	createWatch(t, s, &cert.Watch{ID: "w5", Watcher: "k2", Certificate: "C1", Status: cert.WatchConfirmed, CreatedAt: webhookTime})
	for _, c := range []struct {
		name string
		list func() ([]*cert.Watch, error)
		want string
	}{
		{"certificate C1", func() ([]*cert.Watch, error) { return s.WatchesOfCertificate(ctx, "C1") }, "[w1 w3 w5]"},
		{"certificate C2", func() ([]*cert.Watch, error) { return s.WatchesOfCertificate(ctx, "C2") }, "[w2]"},
		{"certificate C", func() ([]*cert.Watch, error) { return s.WatchesOfCertificate(ctx, "C") }, "[]"},
		{"email a", func() ([]*cert.Watch, error) { return s.WatchesOfEmail(ctx, "a@example.com") }, "[w2 w3]"},
		{"email A", func() ([]*cert.Watch, error) { return s.WatchesOfEmail(ctx, "A@example.com") }, "[]"},
		{"uscc", func() ([]*cert.Watch, error) { return s.WatchesOfUSCC(ctx, "91110108MA0123456G") }, "[w4]"},
		{"uscc empty", func() ([]*cert.Watch, error) { return s.WatchesOfUSCC(ctx, "") }, "[]"},
	} {
		ws, err := c.list()
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if got := fmt.Sprint(watchIDs(ws)); got != c.want {
			t.Errorf("%s = %s, want %s", c.name, got, c.want)
		}
	}
}

func testWatchWatcherPages(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 5 {
		createWatch(t, s, &cert.Watch{ID: fmt.Sprintf("w%d", i), Watcher: "k1", Certificate: fmt.Sprintf("C%d", i), Status: cert.WatchConfirmed, CreatedAt: webhookTime})
	}
	createWatch(t, s, &cert.Watch{ID: "x", Watcher: "k2", Certificate: "C0", Status: cert.WatchConfirmed, CreatedAt: webhookTime})
	page, err := s.WatchesOfWatcher(ctx, "k1", "", 2)
	if err != nil || fmt.Sprint(watchIDs(page)) != "[w0 w1]" {
		t.Fatalf("first page = %v, %v", watchIDs(page), err)
	}
	page, err = s.WatchesOfWatcher(ctx, "k1", "w1", 2)
	if err != nil || fmt.Sprint(watchIDs(page)) != "[w2 w3]" {
		t.Fatalf("second page = %v, %v", watchIDs(page), err)
	}
	page, err = s.WatchesOfWatcher(ctx, "k1", "w3", 2)
	if err != nil || fmt.Sprint(watchIDs(page)) != "[w4]" {
		t.Fatalf("last page = %v, %v", watchIDs(page), err)
	}
	for watcher, want := range map[string]int{"k1": 5, "k2": 1, "k3": 0} {
		if n, err := s.CountWatches(ctx, watcher); err != nil || n != want {
			t.Errorf("CountWatches(%s) = %d, %v; want %d", watcher, n, err, want)
		}
	}
}

func testWatchClientCount(t *testing.T, s store.Store) {
	ctx := t.Context()
	for i := range 4 {
		w := newEmailWatch(fmt.Sprintf("w%d", i), fmt.Sprintf("r%d@example.com", i), "C1")
		w.SentAt = webhookTime.Add(time.Duration(i) * 20 * time.Minute)
		createWatch(t, s, w)
	}
	other := newEmailWatch("o", "o@example.com", "C1")
	other.ClientKey = "client-2"
	createWatch(t, s, other)
	for since, want := range map[time.Time]int{
		webhookTime:                       4,
		webhookTime.Add(20 * time.Minute): 3,
		webhookTime.Add(time.Hour):        1,
		webhookTime.Add(2 * time.Hour):    0,
	} {
		if n, err := s.CountWatchesSentSince(ctx, "client-1", since); err != nil || n != want {
			t.Errorf("CountWatchesSentSince(%v) = %d, %v; want %d", since, n, err, want)
		}
	}
}

func testWatcherWebhooks(t *testing.T, s store.Store) {
	ctx := t.Context()
	mine := newWebhook("wh-1", "")
	mine.Watcher = "k1"
	other := newWebhook("wh-2", "")
	other.Watcher = "k2"
	for _, w := range []*cert.Webhook{mine, other, newWebhook("wh-3", "cesa-itss")} {
		if err := s.CreateWebhook(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	got, err := s.WatcherWebhooks(ctx, "k1")
	if err != nil || len(got) != 1 {
		t.Fatalf("WatcherWebhooks(k1) = %v, %v", got, err)
	}
	sameWebhook(t, "watcher webhook", got[0], mine)
	// The owner never changes.
	got[0].Watcher, got[0].URL = "k2", "https://crm.example.cn/other"
	if err := s.UpdateWebhook(ctx, got[0]); err != nil {
		t.Fatal(err)
	}
	if again, _ := s.Webhook(ctx, "wh-1"); again.Watcher != "k1" || again.URL != "https://crm.example.cn/other" {
		t.Errorf("after update: watcher %q url %q", again.Watcher, again.URL)
	}
	if got, _ := s.WatcherWebhooks(ctx, ""); len(got) != 0 {
		t.Errorf("WatcherWebhooks(\"\") = %d webhooks, want none", len(got))
	}
}

// Expired pending subscriptions go, with their addresses; confirmed ones
// and pending ones still valid stay.
func testWatchDeleteExpired(t *testing.T, s store.Store) {
	ctx := t.Context()
	old := newEmailWatch("old", "old@example.com", "C1")
	fresh := newEmailWatch("fresh", "fresh@example.com", "C1")
	fresh.ExpiresAt = webhookTime.Add(72 * time.Hour)
	done := newEmailWatch("done", "done@example.com", "C1")
	createWatch(t, s, old)
	createWatch(t, s, fresh)
	createWatch(t, s, done)
	confirmedAt := webhookTime.Add(time.Hour)
	done.Status, done.ConfirmHash, done.ConfirmedAt, done.ExpiresAt = cert.WatchConfirmed, "", &confirmedAt, time.Time{}
	if err := s.UpdateWatch(ctx, done); err != nil {
		t.Fatal(err)
	}
	api := &cert.Watch{ID: "api", Watcher: "k1", Certificate: "C1", Status: cert.WatchConfirmed, CreatedAt: webhookTime}
	createWatch(t, s, api)
	n, err := s.DeleteExpiredWatches(ctx, webhookTime.Add(48*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("DeleteExpiredWatches = %d, %v; want 1", n, err)
	}
	ws, _ := s.WatchesOfCertificate(ctx, "C1")
	if got := fmt.Sprint(watchIDs(ws)); got != "[api done fresh]" {
		t.Errorf("left %s, want [api done fresh]", got)
	}
	if ws, _ := s.WatchesOfEmail(ctx, "old@example.com"); len(ws) != 0 {
		t.Errorf("the expired address is still stored")
	}
	if _, err := s.WatchByToken(ctx, "c-old", true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the expired token still finds a watch: %v", err)
	}
	if n, err := s.DeleteExpiredWatches(ctx, webhookTime.Add(48*time.Hour)); err != nil || n != 0 {
		t.Errorf("second call = %d, %v; want 0", n, err)
	}
}
