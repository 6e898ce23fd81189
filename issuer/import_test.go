package issuer_test

import (
	"context"
	"errors"
	"testing"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
)

// A CB adopting certd imports a certificate it issued years ago and then
// records its past surveillance audits: the status follows the audits,
// although without them the certificate would be cancelled today.
func TestImportThenRecordPastAudits(t *testing.T) {
	e := newEnv(t, "2026-11-27")
	c := e.issue(t, "itss", "2024-01-15")
	if st := e.status(t, c.ID); st.Status != cert.StatusCancelled {
		t.Fatalf("imported certificate without audits: %s, want cancelled (windows missed)", st.Status)
	}
	e.act(t, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: "2024-11-20", Result: issuer.ResultPassed, Reason: "first audit"})
	e.act(t, c.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: "2025-11-18", Result: issuer.ResultPassed, Reason: "second audit"})
	st := e.status(t, c.ID)
	if st.Status != cert.StatusActive || st.Surveillance.State != cert.SurveillanceNone {
		t.Errorf("after the past audits: %s/%s, want active/none", st.Status, st.Surveillance.State)
	}

	// An audit dated after the certificate had ended is refused.
	w := e.issue(t, "itss", "2026-01-10")
	e.act(t, w.ID, issuer.ActionWithdraw, issuer.ActionRequest{Reason: "misuse"})
	_, err := e.svc.Act(context.Background(), e.cb, w.ID, issuer.ActionSurveillance, issuer.ActionRequest{Date: e.clock.Now().Format(cert.DateLayout), Result: issuer.ResultPassed}, 0)
	if !errors.Is(err, cert.ErrTransition) {
		t.Errorf("audit after withdrawal: %v, want ErrTransition", err)
	}
}
