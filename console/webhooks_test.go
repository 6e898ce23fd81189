package console_test

import (
	"encoding/base64"
	"html"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/notify"
)

var (
	secretRE = regexp.MustCompile(`value="(whsec_[^"]+)"`)
	hookIDRE = regexp.MustCompile(`/console/settings/webhooks/(wh_[A-Z0-9]+)`)
)

// TestWebhooksPage walks the console's webhooks page through the real
// router: admins only, create (the secret once), the list, an endpoint's
// page with its delivery log, edit, redeliver, delete, the tenant rule,
// and the dashboard's note of a disabled webhook.
func TestWebhooksPage(t *testing.T) {
	e := newEnv(t)
	admin := e.signUp(t, "a", "admin@a.cn", cert.RoleAdmin)
	viewer := e.signUp(t, "a", "viewer@a.cn", cert.RoleViewer)
	other := e.signUp(t, "b", "admin@b.cn", cert.RoleAdmin)
	const list = "/console/settings/webhooks"

	if code, _, _ := viewer.get(list); code != http.StatusForbidden {
		t.Errorf("a viewer opened the webhooks page: %d", code)
	}
	if code, body, _ := viewer.get("/console/"); code != 200 || strings.Contains(body, "/console/settings/webhooks") {
		t.Errorf("a viewer's menu offers webhooks: %d", code)
	}
	code, body, _ := admin.get(list + "?lang=en")
	if code != 200 || !strings.Contains(body, "No webhook registered yet.") || !strings.Contains(body, `value="certificate.withdrawn"`) {
		t.Fatalf("empty list: %d\n%s", code, body)
	}
	csrf := admin.csrf(list)

	t.Run("create refused", func(t *testing.T) {
		form := url.Values{"csrf": {csrf}, "url": {"http://crm.example.cn/h"}, "active": {"yes"}}
		if code, body, _ := admin.post(list, form); code != http.StatusUnprocessableEntity || !strings.Contains(body, "<strong>url</strong>") || strings.Contains(body, "whsec_") {
			t.Errorf("http URL: %d\n%s", code, body)
		}
		form.Set("csrf", "wrong")
		form.Set("url", "https://crm.example.cn/h")
		if code, _, _ := admin.post(list, form); code != http.StatusForbidden {
			t.Errorf("without the form token: %d, want 403", code)
		}
		req, _ := http.NewRequest("POST", e.srv.URL+list, strings.NewReader(url.Values{"csrf": {csrf}, "url": {"https://evil.example/h"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "cross-site")
		resp, err := admin.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusForbidden {
			t.Errorf("cross-origin create: %d, want 403", resp.StatusCode)
		}
	})

	code, body, _ = admin.post(list, url.Values{"csrf": {csrf}, "url": {"https://crm.example.cn/hooks/certd?t=<b>x</b>"},
		"events": {"certificate.withdrawn", "certificate.suspended"}, "active": {"yes"}})
	secret, id := secretRE.FindStringSubmatch(body), hookIDRE.FindStringSubmatch(body)
	if code != http.StatusCreated || secret == nil || id == nil || !strings.Contains(body, "Ctrl&#43;A") {
		t.Fatalf("create: %d\n%s", code, body)
	}
	secret[1] = html.UnescapeString(secret[1])
	if strings.Contains(body, "<b>x</b>") {
		t.Error("the URL is not escaped")
	}
	hookID := id[1]
	stored, err := e.st.Webhook(t.Context(), hookID)
	if err != nil || stored.Issuer != "a" || len(stored.Events) != 2 || !stored.Active || stored.Secret != "" {
		t.Fatalf("stored webhook: %+v, %v", stored, err)
	}
	if opened, err := notify.OpenSecret(testKEK(t), stored); err != nil || opened != secret[1] {
		t.Errorf("the secret shown is not the one stored (%v)", err)
	}

	page := list + "/" + hookID
	for _, path := range []string{list, page} {
		code, body, _ := admin.get(path)
		if code != 200 || !strings.Contains(body, "crm.example.cn/hooks/certd") || strings.Contains(body, "whsec_") || strings.Contains(body, secret[1][6:20]) {
			t.Errorf("GET %s: %d, shows the secret or not the webhook\n%s", path, code, body)
		}
	}
	if code, _, _ := other.get(page); code != http.StatusNotFound {
		t.Errorf("another issuer's admin opened the webhook: %d, want 404", code)
	}
	if code, _, _ := other.post(page, url.Values{"csrf": {other.csrf(list)}, "do": {"delete"}, "confirm": {"yes"}}); code != http.StatusNotFound {
		t.Errorf("another issuer's admin deleted the webhook: %d, want 404", code)
	}

	t.Run("edit", func(t *testing.T) {
		code, _, h := admin.post(page, url.Values{"csrf": {csrf}, "do": {"update"}, "url": {"https://crm.example.cn/v2"}})
		if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "?done=saved") {
			t.Fatalf("update: %d → %s", code, h.Get("Location"))
		}
		w, _ := e.st.Webhook(t.Context(), hookID)
		if w.URL != "https://crm.example.cn/v2" || len(w.Events) != 0 || w.Active {
			t.Errorf("after the edit (no event ticked, active unticked): %+v", w)
		}
		_, body, _ := admin.get(page + "?done=saved&lang=en")
		if !strings.Contains(body, "Saved.") || !strings.Contains(body, "<strong>Off</strong>") {
			t.Errorf("the page after saving:\n%s", body)
		}
		if code, body, _ := admin.post(page, url.Values{"csrf": {csrf}, "do": {"update"}, "url": {"ftp://x"}, "active": {"yes"}}); code != http.StatusUnprocessableEntity || !strings.Contains(body, `value="ftp://x"`) {
			t.Errorf("a bad URL: %d, the form not kept\n%s", code, body)
		}
	})

	// A delivery that failed, in the endpoint's log.
	now := e.clock.Now()
	w, _ := e.st.Webhook(t.Context(), hookID)
	d, _ := notify.NewDelivery(w, "evt-1", notify.Message{Type: cert.WebhookCertificateWithdrawn, Timestamp: now, Data: map[string]string{}}, now)
	d.Status, d.Attempts, d.LastStatusCode, d.LastError = cert.DeliveryFailed, 18, 503, "server <overloaded>"
	last := now.Add(time.Hour)
	d.LastAttemptAt = &last
	if err := e.st.EnqueueDelivery(t.Context(), d); err != nil {
		t.Fatal(err)
	}
	t.Run("delivery log and redelivery", func(t *testing.T) {
		_, body, _ := admin.get(page + "?lang=en")
		for _, want := range []string{d.ID, "certificate.withdrawn", "Failed", "<td>18</td>", "<td>503</td>", "server &lt;overloaded&gt;", last.Format("2006-01-02 15:04")} {
			if !strings.Contains(body, want) {
				t.Errorf("the log lacks %q", want)
			}
		}
		if strings.Contains(body, `value="redeliver"`) {
			t.Error("a disabled webhook offers a redelivery")
		}
		_, listBody, _ := admin.get(list + "?lang=en")
		if !strings.Contains(listBody, "Failed (503)") {
			t.Errorf("the list does not show the last delivery:\n%s", listBody)
		}
		if code, _, _ := admin.post(page, url.Values{"csrf": {csrf}, "do": {"update"}, "url": {"https://crm.example.cn/v2"}, "active": {"yes"}}); code != http.StatusSeeOther {
			t.Fatalf("enable: %d", code)
		}
		if _, body, _ := admin.get(page); !strings.Contains(body, `value="redeliver"`) {
			t.Error("no redeliver button")
		}
		code, _, h := admin.post(page, url.Values{"csrf": {csrf}, "do": {"redeliver"}, "delivery": {d.ID}})
		if code != http.StatusSeeOther || !strings.HasSuffix(h.Get("Location"), "?done=redelivered") {
			t.Fatalf("redeliver: %d → %s", code, h.Get("Location"))
		}
		if got, _ := e.st.Delivery(t.Context(), d.ID); got.Status != cert.DeliveryPending || got.Attempts != 18 {
			t.Errorf("after redeliver: %s, %d attempts", got.Status, got.Attempts)
		}
		// A worker takes it; a second redelivery now is refused.
		if _, err := e.st.LeaseDeliveries(t.Context(), "w1", e.clock.Now(), e.clock.Now().Add(time.Minute), 5); err != nil {
			t.Fatal(err)
		}
		if code, body, _ := admin.post(page+"?lang=en", url.Values{"csrf": {csrf}, "do": {"redeliver"}, "delivery": {d.ID}}); code != http.StatusConflict || !strings.Contains(body, "being attempted right now") {
			t.Errorf("redeliver in flight: %d\n%s", code, body)
		}
	})

	t.Run("dashboard shows a disabled webhook", func(t *testing.T) {
		w, _ := e.st.Webhook(t.Context(), hookID)
		w.Active, w.DisabledReason = false, "gone"
		if err := e.st.UpdateWebhook(t.Context(), w); err != nil {
			t.Fatal(err)
		}
		_, body, _ := admin.get("/console/?lang=en")
		if !strings.Contains(body, "Disabled webhooks") || !strings.Contains(body, "the receiver answered 410 Gone") || !strings.Contains(body, page) {
			t.Errorf("the admin's dashboard does not show the disabled webhook:\n%s", body)
		}
		if _, body, _ := admin.get("/console/?lang=zh-CN"); !strings.Contains(body, "已停用的 Webhook") {
			t.Error("no Chinese note of the disabled webhook")
		}
		if _, body, _ := viewer.get("/console/"); strings.Contains(body, "crm.example.cn") {
			t.Error("a viewer's dashboard shows webhooks")
		}
		if _, body, _ := other.get("/console/"); strings.Contains(body, "crm.example.cn") {
			t.Error("another issuer's dashboard shows the webhook")
		}
	})

	t.Run("delete", func(t *testing.T) {
		if code, _, _ := admin.post(page, url.Values{"csrf": {csrf}, "do": {"delete"}}); code != http.StatusUnprocessableEntity {
			t.Errorf("delete without confirming: %d, want 422", code)
		}
		code, _, h := admin.post(page, url.Values{"csrf": {csrf}, "do": {"delete"}, "confirm": {"yes"}})
		if code != http.StatusSeeOther || h.Get("Location") != list {
			t.Fatalf("delete: %d → %s", code, h.Get("Location"))
		}
		if code, _, _ := admin.get(page); code != http.StatusNotFound {
			t.Errorf("the deleted webhook's page: %d", code)
		}
		if _, body, _ := admin.get(list); strings.Contains(body, hookID) {
			t.Error("the list still shows the deleted webhook")
		}
	})
}

// testKEK is the KEK newEnv wires (bytes 7, 8, 9, ...).
func testKEK(t testing.TB) keys.KEK {
	t.Helper()
	raw := make([]byte, 32)
	for i := range raw {
		raw[i] = byte(i + 7)
	}
	k, err := keys.ParseKEK([]byte(base64.StdEncoding.EncodeToString(raw)))
	if err != nil {
		t.Fatal(err)
	}
	return k
}
