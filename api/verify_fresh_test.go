package api_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// A withdrawal is seen by the very next verification on this instance, by
// id, on the page and for a presented token, after each was answered (and
// whatever the read path keeps) while the certificate was valid.
func TestWithdrawalSeenByNextVerification(t *testing.T) {
	a := newPageAPI(t, "https://verify.example.cn", 1e6)
	c := a.issue("北京示例科技有限公司", "", "91110108MA0123456G")
	token := func() *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, "/api/v1/verify", strings.NewReader(c.Credential))
		req.Header.Set("Content-Type", "application/vc+jwt")
		req.RemoteAddr = "192.0.2.20:40000"
		rec := httptest.NewRecorder()
		a.srv.ServeHTTP(rec, req)
		return rec
	}
	answers := func() map[string]string {
		return map[string]string{
			"by id": a.get("/api/v1/verify/" + c.ID).Body.String(),
			"page":  a.get("/v/"+c.ID, "Accept", "text/html", "Accept-Language", "en").Body.String(),
			"token": token().Body.String(),
		}
	}
	for range 3 {
		for what, body := range answers() {
			if !strings.Contains(body, `"verdict":"valid"`) && !strings.Contains(body, `data-verdict>Valid<`) {
				t.Fatalf("%s before the withdrawal: %.300s", what, body)
			}
		}
	}
	if _, err := a.svc.Act(context.Background(), cert.Principal{Role: cert.RoleAdmin, KeyID: "test"}, c.ID, "withdraw",
		issuer.ActionRequest{Reason: "obtained by fraud", ReasonCode: "0103"}, 0); err != nil {
		t.Fatal(err)
	}
	for what, body := range answers() {
		if !strings.Contains(body, `"status":"withdrawn"`) && !strings.Contains(body, `data-verdict>Withdrawn<`) {
			t.Errorf("%s right after the withdrawal: %.300s", what, body)
		}
	}
}
