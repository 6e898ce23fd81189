package api

import (
	"encoding/json"
	"regexp"
	"sort"
	"strings"
	"testing"
)

var echoParam = regexp.MustCompile(`:([A-Za-z]+)`)

// Every registered route is documented in openapi.json, and every
// documented operation is registered.
func TestOpenAPICoversRoutes(t *testing.T) {
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(openapiJSON, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if doc.OpenAPI != "3.1.0" {
		t.Errorf("openapi = %q, want 3.1.0", doc.OpenAPI)
	}
	documented := map[string]bool{}
	for path, ops := range doc.Paths {
		for method := range ops {
			documented[strings.ToUpper(method)+" "+path] = true
		}
	}
	registered := map[string]bool{}
	for _, r := range New(Config{}).Routes() {
		if !isHTTPMethod(r.Method) || strings.HasSuffix(r.Path, "*") {
			continue // echo's own not-found routes
		}
		registered[r.Method+" "+echoParam.ReplaceAllString(r.Path, "{$1}")] = true
	}
	if len(registered) < 20 {
		t.Fatalf("only %d routes registered; the test would prove nothing", len(registered))
	}
	for _, k := range sorted(registered) {
		if !documented[k] {
			t.Errorf("route %s is not documented in openapi.json", k)
		}
	}
	for _, k := range sorted(documented) {
		if !registered[k] {
			t.Errorf("openapi.json documents %s, which is not registered", k)
		}
	}
}

func isHTTPMethod(m string) bool {
	switch m {
	case "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS":
		return true
	}
	return false
}

func sorted(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}
