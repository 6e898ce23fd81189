package main

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/notify"
	"github.com/certd/certd/store/bolt"
)

// hookReceiver records the webhook-ids it receives and whether each
// signature verifies, by the Standard Webhooks algorithm written here.
type hookReceiver struct {
	mu     sync.Mutex
	secret string
	ids    []string
	bad    int
}

func (h *hookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.mu.Lock()
	defer h.mu.Unlock()
	key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(h.secret, "whsec_"))
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(r.Header.Get("webhook-id") + "." + r.Header.Get("webhook-timestamp") + "." + string(body)))
	if r.Header.Get("webhook-signature") != "v1,"+base64.StdEncoding.EncodeToString(mac.Sum(nil)) {
		h.bad++
	}
	h.ids = append(h.ids, r.Header.Get("webhook-id"))
	w.WriteHeader(http.StatusOK)
}

func (h *hookReceiver) seen() ([]string, int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...), h.bad
}

// TestWebhooks: certctl webhooks against a real certd: create (the secret
// once), list, show, update, the delivery log of a real delivery to a
// receiver that checks its signature, a redelivery, delete.
func TestWebhooks(t *testing.T) {
	certd, _ := binaries(t)
	recv := &hookReceiver{}
	srv := httptest.NewServer(recv)
	t.Cleanup(srv.Close)
	flags := []string{"--allow-http-webhooks", "--allow-private-webhooks"}
	dir := filepath.Join(t.TempDir(), "data")
	s, err := tryStartIn(t, certd, dir, flags...)
	if err != nil {
		t.Fatal(err)
	}
	admin := s.as(s.Admin)
	s.IssuerKey = s.createKey(t, "issuer", "default")

	t.Run("usage errors", func(t *testing.T) {
		expectRun(t, cli(t, admin, "webhooks", "create"), exitUsage, "", "--url: is required")
		expectRun(t, cli(t, admin, "webhooks", "create", "--url", srv.URL, "--event", "certificate.lost"), exitUsage, "", `--event "certificate.lost": must be one of`)
		expectRun(t, cli(t, admin, "webhooks", "update", "wh_x"), exitUsage, "", "nothing to change")
		expectRun(t, cli(t, admin, "webhooks", "update", "wh_x", "--all-events", "--event", "certificate.issued"), exitUsage, "", "give one of them")
		expectRun(t, cli(t, admin, "webhooks", "update", "wh_x", "--active", "maybe"), exitUsage, "", "--active: must be true or false")
		expectRun(t, cli(t, admin, "webhooks", "redeliver", "wh_x"), exitUsage, "", "needs a webhook ID and a DELIVERY-ID")
		expectRun(t, cli(t, admin, "webhooks"), exitUsage, "", "give one of: create, list, show, update, delete, deliveries, redeliver")
	})

	r := cli(t, admin, "webhooks", "create", "--url", srv.URL+"/hook", "--event", "certificate.withdrawn", "--event", "certificate.suspended",
		"--issuer", "default", "--output", "json")
	var created webhookInfo
	if err := json.Unmarshal([]byte(r.stdout), &created); r.code != exitOK || err != nil || created.ID == "" || !strings.HasPrefix(created.Secret, "whsec_") {
		t.Fatalf("create: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	if !strings.Contains(r.stderr, "store the secret now") {
		t.Errorf("create does not say the secret is shown once: %s", r.stderr)
	}
	recv.mu.Lock()
	recv.secret = created.Secret
	recv.mu.Unlock()
	// An inactive endpoint, in the table form: never delivered to.
	expectRun(t, cli(t, admin, "webhooks", "create", "--url", "https://crm.example.cn/hooks/certd", "--issuer", "default", "--inactive"), exitOK, "secret:  whsec_", "store the secret now")
	expectRun(t, cli(t, s.as(s.IssuerKey), "webhooks", "list"), exitFailure, "", "(HTTP 403)")

	t.Run("list and show", func(t *testing.T) {
		r := cli(t, admin, "webhooks", "list", "--issuer", "default")
		for _, want := range []string{created.ID, "certificate.withdrawn, certificate.suspended", "https://crm.example.cn/hooks/certd", "ACTIVE"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("list lacks %q:\n%s", want, r.stdout)
			}
		}
		for _, args := range [][]string{{"webhooks", "show", created.ID}, {"webhooks", "show", created.ID, "--output", "json"}, {"webhooks", "list", "--output", "json"}} {
			r := cli(t, admin, args...)
			if r.code != exitOK || !strings.Contains(r.stdout, created.ID) || strings.Contains(r.stdout, "secret") || strings.Contains(r.stdout, created.Secret[6:]) {
				t.Errorf("%v: exit %d, shows the secret or not the webhook:\n%s%s", args, r.code, r.stdout, r.stderr)
			}
		}
		expectRun(t, cli(t, admin, "webhooks", "show", "wh_nope"), exitFailure, "", "(HTTP 404)")
	})

	t.Run("update", func(t *testing.T) {
		expectRun(t, cli(t, admin, "webhooks", "update", created.ID, "--active", "false"), exitOK, "active:  no", "")
		expectRun(t, cli(t, admin, "webhooks", "update", created.ID, "--all-events", "--active", "true"), exitOK, "events:  all", "")
		expectRun(t, cli(t, admin, "webhooks", "update", created.ID, "--url", "ftp://x"), exitFailure, "", "url")
		expectRun(t, cli(t, admin, "webhooks", "update", created.ID, "--event", "certificate.withdrawn"), exitOK, "events:  certificate.withdrawn", "")
		expectRun(t, cli(t, admin, "webhooks", "show", created.ID), exitOK, "active:  yes", "")
	})

	expectRun(t, cli(t, admin, "webhooks", "deliveries", created.ID), exitOK, "LAST ERROR", "")
	// A delivery in the outbox, as the dispatcher writes it, while certd
	// is stopped (the embedded store admits one process); certd delivers
	// it after the restart.
	s.stop(t)
	st, err := bolt.Open(filepath.Join(dir, "certd.db"))
	if err != nil {
		t.Fatal(err)
	}
	hook, err := st.Webhook(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	d, err := notify.NewDelivery(hook, "evt-1", notify.Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: time.Now(), Data: map[string]string{"id": "X"}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := st.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if s, err = tryStartIn(t, certd, dir, flags...); err != nil {
		t.Fatal(err)
	}
	admin = s.as(s.Admin)
	deliveries := func() []deliveryInfo {
		t.Helper()
		r := cli(t, admin, "webhooks", "deliveries", created.ID, "--output", "json")
		var out struct{ Items []deliveryInfo }
		if err := json.Unmarshal([]byte(r.stdout), &out); err != nil {
			t.Fatalf("deliveries: %v\n%s%s", err, r.stdout, r.stderr)
		}
		return out.Items
	}
	waitUntil(t, "the delivery", func() bool {
		ds := deliveries()
		return len(ds) == 1 && ds[0].Status == "delivered" && ds[0].Attempts == 1
	})
	expectRun(t, cli(t, admin, "webhooks", "deliveries", created.ID), exitOK, d.ID+"  certificate.withdrawn  delivered  1         200", "")

	expectRun(t, cli(t, admin, "webhooks", "redeliver", created.ID, d.ID), exitOK, "delivery "+d.ID+" is due now", "")
	waitUntil(t, "the redelivery", func() bool {
		ds := deliveries()
		return len(ds) == 1 && ds[0].Status == "delivered" && ds[0].Attempts == 2 && ds[0].LastStatusCode == 200
	})
	ids, bad := recv.seen()
	if len(ids) != 2 || ids[0] != d.ID || ids[1] != d.ID || bad != 0 {
		t.Errorf("receiver saw %v (%d bad signatures), want %s twice, all valid", ids, bad, d.ID)
	}
	expectRun(t, cli(t, admin, "webhooks", "redeliver", created.ID, "msg_nope"), exitFailure, "", "(HTTP 404)")

	expectRun(t, cli(t, admin, "webhooks", "delete", created.ID), exitOK, "deleted webhook "+created.ID, "")
	expectRun(t, cli(t, admin, "webhooks", "show", created.ID), exitFailure, "", "(HTTP 404)")
}

// waitUntil polls cond until it holds, failing after a generous bound.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatalf("timed out waiting for %s", what)
}
