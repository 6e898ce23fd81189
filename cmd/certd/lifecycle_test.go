package main

import (
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Mistakes in a schemes file are reported with the path of the field in
// the file, before anything starts.
func TestSchemesFileErrorsNameTheField(t *testing.T) {
	for _, tc := range []struct {
		name, file, want string
	}{
		{
			"fail/window past validity",
			`{"schemes": [{"id": "cmmi", "name": "CMMI", "validityMonths": 36, "surveillance": [{"open": 9, "close": 12}, {"open": 30, "close": 40}]}]}`,
			"schemes[0].surveillance[1]: must have 0 <= open < close <= validityMonths",
		},
		{
			"fail/second scheme of the file",
			`{"schemes": [{"id": "itss", "name": "ITSS", "validityMonths": 36}, {"id": "x", "name": "X", "validityMonths": 12, "maxSuspensionMonths": 2, "afterSuspension": "expired"}]}`,
			"schemes[1].afterSuspension: ",
		},
		{
			"fail/duplicate id",
			`{"schemes": [{"id": "x", "name": "X", "validityMonths": 12}, {"id": "x", "name": "X", "validityMonths": 12}]}`,
			`schemes[1].id: duplicate scheme id "x"`,
		},
		{"fail/unknown field", `{"schemes": [{"id": "x", "name": "X", "validity": 12}]}`, `unknown field "validity"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "schemes.json")
			if err := os.WriteFile(path, []byte(tc.file), 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := loadSchemes(path)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("loadSchemes() = %v, want an error saying %q", err, tc.want)
			}
		})
	}
	t.Run("ok/override and add", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "schemes.json")
		file := `{"schemes": [
			{"id": "itss", "name": "ITSS", "validityMonths": 36, "surveillance": [{"open": 10, "close": 12}], "maxSuspensionMonths": 2, "afterSuspension": "withdrawn", "renewalWindowMonths": 3, "levels": {"min": 1, "max": 4}},
			{"id": "cmmi", "name": "CMMI", "validityMonths": 36, "missedWindow": "withdrawn", "surveillance": [{"open": 0, "close": 18}]}]}`
		if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
			t.Fatal(err)
		}
		s, err := loadSchemes(path)
		if err != nil {
			t.Fatal(err)
		}
		if s["itss"].MaxSuspensionMonths != 2 || s["itss"].RenewalWindowMonths != 3 || s["cmmi"].MissedWindow != "withdrawn" || s["iso17021"] == nil {
			t.Errorf("schemes = itss %+v, cmmi %+v, iso17021 %v", s["itss"], s["cmmi"], s["iso17021"])
		}
	})
}

// The server records time-derived changes in the audit trail by itself.
func TestServerSweepsDerivedChanges(t *testing.T) {
	now := time.Date(2026, 6, 1, 2, 0, 0, 0, time.UTC)
	ts := startServer(t, "", withClock(func() time.Time { return now }), func(m *Main) { m.SweepInterval = 20 * time.Millisecond })
	req := sampleCertificate("default", testUSCC)
	req["validFrom"] = "2025-01-01" // window closed 2026-01-01, cancelled 2026-04-01
	r := ts.do("POST", "/api/v1/certificates", ts.Admin, req)
	if r.Status != http.StatusCreated {
		t.Fatalf("issue: %d %s", r.Status, r.Body)
	}
	id := r.JSON(t)["id"].(string)
	deadline := time.Now().Add(10 * time.Second)
	for {
		ev := ts.do("GET", "/api/v1/certificates/"+id+"/events", ts.Admin, nil).JSON(t)
		var derived []string
		for _, e := range ev["events"].([]any) {
			e := e.(map[string]any)
			if e["type"] == "status_changed" {
				derived = append(derived, e["status"].(string)+" "+e["reason"].(string)+" "+e["actor"].(string))
			}
		}
		got := strings.Join(derived, ", ")
		if got == "suspended surveillance_overdue system, cancelled suspension_limit system" {
			return
		}
		if got != "" || time.Now().After(deadline) {
			t.Fatalf("derived events = %q, want the suspension and the cancellation recorded once by the system", got)
		}
		time.Sleep(20 * time.Millisecond)
	}
}
