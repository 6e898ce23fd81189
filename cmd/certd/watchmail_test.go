package main

import (
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/mail/mailtest"
)

// linkIn finds the first absolute link of the public URL with path in a
// mail's text and returns it on the test server.
func linkIn(t *testing.T, ts *testServer, text, path string) string {
	t.Helper()
	m := regexp.MustCompile(regexp.QuoteMeta(ts.m.Config.PublicURL+path) + `\?token=[A-Za-z0-9_\-%]+`).FindString(text)
	if m == "" {
		t.Fatalf("no %s link in:\n%s", path, text)
	}
	return ts.URL + strings.TrimPrefix(m, ts.m.Config.PublicURL)
}

// waitMails waits until the address has received n messages.
func waitMails(t *testing.T, srv *mailtest.Server, to string, n int) []mailtest.Message {
	t.Helper()
	var got []mailtest.Message
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = srv.To(to); len(got) >= n {
			return got
		}
	}
	t.Fatalf("%s received %d messages, want %d", to, len(got), n)
	return nil
}

// TestWatchlistMailThroughMain: the watchlist flow with a real SMTP
// server: subscribe on the public page → a confirmation mail → confirm →
// a suspension → exactly one notification, with RFC 8058 headers → the
// one-click unsubscribe → no more mail for the reinstatement.
func TestWatchlistMailThroughMain(t *testing.T) {
	srv := mailtest.Start(t, mailtest.Options{})
	ts := startServer(t, "", func(m *Main) {
		m.Config.SMTPURL, m.Config.MailFrom = srv.URL(), "certd <certd@cb.example.cn>"
	})
	id := issueOne(t, ts, 0)
	const reader = "buyer@customer.example.com"
	form := url.Values{"email": {reader}}.Encode()
	if r := ts.do("POST", "/v/"+id+"/watch", "", form, "Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"); r.Status != http.StatusOK {
		t.Fatalf("subscribe: %d %s", r.Status, r.Body)
	}
	confirm := mailtest.Parse(t, waitMails(t, srv, reader, 1)[0].Data)
	link := linkIn(t, ts, confirm.Text, "/watch/confirm")
	u, _ := url.Parse(link)
	// The link shows a button; the GET confirms nothing.
	if r := ts.do("GET", u.Path+"?"+u.RawQuery, "", nil, "Accept", "text/html"); r.Status != http.StatusOK {
		t.Fatalf("confirmation page: %d", r.Status)
	}
	if r := ts.do("POST", "/watch/confirm", "", url.Values{"token": {u.Query().Get("token")}}.Encode(),
		"Content-Type", "application/x-www-form-urlencoded", "Accept", "text/html"); r.Status != http.StatusOK {
		t.Fatalf("confirm: %d %s", r.Status, r.Body)
	}

	if r := ts.do("POST", "/api/v1/certificates/"+id+"/suspend", ts.Admin, map[string]any{"reason": "overdue surveillance fee"}); r.Status != http.StatusOK {
		t.Fatalf("suspend: %d %s", r.Status, r.Body)
	}
	msgs := waitMails(t, srv, reader, 2)
	note := mailtest.Parse(t, msgs[1].Data)
	unsub := note.Header.Get("List-Unsubscribe")
	if note.Header.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" || !strings.HasPrefix(unsub, "<"+ts.m.Config.PublicURL+"/watch/unsubscribe?token=") {
		t.Fatalf("RFC 8058 headers: List-Unsubscribe %q, List-Unsubscribe-Post %q", unsub, note.Header.Get("List-Unsubscribe-Post"))
	}
	if !strings.Contains(note.Text, ts.m.Config.PublicURL+"/v/"+id) {
		t.Errorf("the notification lacks the verification link:\n%s", note.Text)
	}
	time.Sleep(time.Second) // a second notification would come now
	if got := srv.To(reader); len(got) != 2 {
		t.Fatalf("%d messages after the suspension, want the confirmation and one notification", len(got))
	}

	// The mail client's one-click unsubscribe (RFC 8058): a POST of
	// List-Unsubscribe=One-Click to the header's URL, no form token.
	target, _ := url.Parse(strings.Trim(unsub, "<>"))
	if r := ts.do("POST", target.Path+"?"+target.RawQuery, "", "List-Unsubscribe=One-Click", "Content-Type", "application/x-www-form-urlencoded"); r.Status != http.StatusOK {
		t.Fatalf("one-click unsubscribe: %d %s", r.Status, r.Body)
	}
	if r := ts.do("POST", "/api/v1/certificates/"+id+"/reinstate", ts.Admin, map[string]any{"reason": "fee paid"}); r.Status != http.StatusOK {
		t.Fatalf("reinstate: %d %s", r.Status, r.Body)
	}
	// The reinstatement is dispatched (a webhook-less issuer: the outbox
	// empties) and nothing is sent to the former watcher.
	waitFor(t, "the outbox to empty", func() bool {
		es, err := ts.m.store.LeaseOutbox(t.Context(), "probe", time.Now(), time.Now().Add(-time.Millisecond), 1)
		return err == nil && len(es) == 0
	})
	time.Sleep(time.Second)
	if got := srv.To(reader); len(got) != 2 {
		t.Errorf("%d messages after unsubscribing, want still 2", len(got))
	}
}
