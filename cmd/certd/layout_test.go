package main

import (
	"encoding/json"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The dependency direction of DESIGN.md section 3. Keys are package paths
// relative to the module; "std" is the standard library. A package may
// import only what its entry lists (prefix match for third-party modules).
var allowedImports = map[string][]string{
	"cert":                                 {"std"},
	"keys":                                 {"std", "cert", "github.com/lestrrat-go/jwx/v3"},
	"keys/keystest":                        {"std", "cert", "keys"},
	"store":                                {"std", "cert"},
	"store/storetest":                      {"std", "cert", "store"},
	"cert/certtest":                        {"std"},
	"templates/qrtest":                     {"std", "github.com/makiuchi-d/gozxing"},
	"store/bolt":                           {"std", "cert", "store", "go.etcd.io/bbolt"},
	"store/mongo":                          {"std", "cert", "store", "go.mongodb.org/mongo-driver/v2"},
	"store/mongo/mongotest":                {"std", "cert", "store", "store/mongo", "github.com/FerretDB/FerretDB", "go.mongodb.org/mongo-driver/v2"},
	"store/mongo/mongotest/cmd/mongotestd": {"std", "store/mongo/mongotest"},
	"templates":                            {"std", "cert", "github.com/skip2/go-qrcode", "github.com/go-pdf/fpdf"},
	"pdfattach":                            {"std"},
	"pdfattach/pdfattachtest":              {"std"},
	"issuer":                               {"std", "cert", "store", "keys"},
	"accounts":                             {"std", "cert", "store", "golang.org/x/crypto/argon2", "github.com/pquerna/otp"},
	"console":                              {"std", "cert", "accounts", "issuer", "importfile"},
	"importfile":                           {"std", "cert", "issuer"},
	"verifier":                             {"std", "cert", "store", "keys"},
	"profile":                              {"std", "cert", "store"},
	"notify":                               {"std", "cert", "store"},
	"api": {"std", "cert", "issuer", "verifier", "profile", "templates", "store", "pdfattach", "notify",
		"github.com/labstack/echo/v5", "github.com/prometheus/client_golang", "golang.org/x/time/rate"},
}

// Only cmd/* wires concrete backends; these third-party modules belong to
// exactly one package each (and the packages below it).
var owners = map[string]string{
	"github.com/lestrrat-go/jwx/v3":  "keys",
	"go.etcd.io/bbolt":               "store/bolt",
	"go.mongodb.org/mongo-driver/v2": "store/mongo",
	"github.com/go-pdf/fpdf":         "templates",
	"github.com/skip2/go-qrcode":     "templates",
	"github.com/labstack/echo/v5":    "api",
	"github.com/pquerna/otp":         "accounts",
	"golang.org/x/crypto/argon2":     "accounts",
}

type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

func TestImportGraph(t *testing.T) {
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	const module = "github.com/certd/certd"
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
		for _, imp := range p.Imports {
			if owner, ok := ownerOf(imp); ok && owner != rel && !strings.HasPrefix(rel, owner+"/") && !strings.HasPrefix(rel, "cmd/") && !strings.HasPrefix(rel, "bench/") {
				t.Errorf("%s imports %s, which only %s may use", rel, imp, owner)
			}
			if strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "bench/") {
				continue // programs wire whatever they need
			}
			allowed, ok := allowedImports[rel]
			if !ok {
				t.Errorf("package %s has no entry in allowedImports: add one that follows DESIGN.md section 3", rel)
				continue
			}
			if !importAllowed(imp, module, allowed) {
				t.Errorf("%s must not import %s (allowed: %v)", rel, imp, allowed)
			}
		}
	}
	if seen < 10 {
		t.Fatalf("go list returned only %d packages", seen)
	}
}

func ownerOf(imp string) (string, bool) {
	for mod, owner := range owners {
		if imp == mod || strings.HasPrefix(imp, mod+"/") {
			return owner, true
		}
	}
	return "", false
}

func importAllowed(imp, module string, allowed []string) bool {
	isStd := !strings.Contains(strings.SplitN(imp, "/", 2)[0], ".")
	for _, a := range allowed {
		switch {
		case a == "std" && isStd:
			return true
		case strings.Contains(strings.SplitN(a, "/", 2)[0], "."):
			if imp == a || strings.HasPrefix(imp, a+"/") {
				return true
			}
		case imp == module+"/"+a:
			return true
		}
	}
	return false
}

func moduleRoot(t testing.TB) string {
	t.Helper()
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		t.Fatal(err)
	}
	return filepath.Dir(strings.TrimSpace(string(out)))
}

// The guard itself must catch a wrong import.
func TestImportAllowed(t *testing.T) {
	const m = "github.com/certd/certd"
	cases := []struct {
		imp     string
		allowed []string
		want    bool
	}{
		{"fmt", allowedImports["cert"], true},
		{m + "/store", allowedImports["cert"], false},
		{m + "/api", allowedImports["issuer"], false},
		{m + "/verifier", allowedImports["issuer"], false},
		{m + "/store/bolt", allowedImports["api"], false},
		{"github.com/lestrrat-go/jwx/v3/jws", allowedImports["keys"], true},
		{"github.com/lestrrat-go/jwx/v3/jws", allowedImports["issuer"], false},
		{"go.etcd.io/bbolt", allowedImports["store/bolt"], true},
		{"go.etcd.io/bbolt", allowedImports["store/mongo"], false},
	}
	for _, tc := range cases {
		if got := importAllowed(tc.imp, m, tc.allowed); got != tc.want {
			t.Errorf("importAllowed(%s, %v) = %v, want %v", tc.imp, tc.allowed, got, tc.want)
		}
	}
}
