package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os/exec"
	"path/filepath"
	"slices"
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
	"store/bolt":                           {"std", "cert", "store", "go.etcd.io/bbolt", "github.com/klauspost/compress/s2"},
	"store/mongo":                          {"std", "cert", "store", "go.mongodb.org/mongo-driver/v2"},
	"store/mongo/mongotest":                {"std", "cert", "store", "store/mongo", "github.com/FerretDB/FerretDB", "go.mongodb.org/mongo-driver/v2"},
	"store/mongo/mongotest/cmd/mongotestd": {"std", "store/mongo/mongotest"},
	"templates":                            {"std", "cert", "github.com/skip2/go-qrcode", "templates/internal/fpdf"},
	"templates/internal/fpdf":              {"std"},
	"pdfattach":                            {"std"},
	"pdfattach/pdfattachtest":              {"std"},
	"issuer":                               {"std", "cert", "store", "keys"},
	"accounts":                             {"std", "cert", "store", "golang.org/x/crypto/argon2", "github.com/pquerna/otp"},
	"console":                              {"std", "cert", "accounts", "issuer", "importfile", "report", "notify"},
	"importfile":                           {"std", "cert", "issuer"},
	"verifier":                             {"std", "cert", "store", "keys"},
	"profile":                              {"std", "cert", "store"},
	"notify":                               {"std", "cert", "store"},
	"mail":                                 {"std", "cert", "notify", "github.com/wneessen/go-mail"},
	"mail/mailtest":                        {"std", "github.com/emersion/go-smtp", "github.com/emersion/go-sasl"},
	"watch":                                {"std", "cert", "store", "notify"},
	"remind":                               {"std", "cert", "store", "notify"},
	"report":                               {"std", "cert", "github.com/xuri/excelize/v2"},
	"deadlines":                            {"std", "cert", "report", "notify", "store"},
	"api": {"std", "cert", "issuer", "verifier", "profile", "templates", "store", "pdfattach", "report", "notify", "watch",
		"github.com/labstack/echo/v5", "github.com/prometheus/client_golang", "golang.org/x/time/rate"},
}

// Only cmd/* wires concrete backends; these third-party modules belong to
// exactly one package each (and the packages below it).
var owners = map[string]string{
	"github.com/lestrrat-go/jwx/v3":  "keys",
	"go.etcd.io/bbolt":               "store/bolt",
	"github.com/klauspost/compress":  "store/bolt",
	"go.mongodb.org/mongo-driver/v2": "store/mongo",
	"codeberg.org/go-pdf/fpdf":       "templates",
	"github.com/skip2/go-qrcode":     "templates",
	"github.com/labstack/echo/v5":    "api",
	"github.com/pquerna/otp":         "accounts",
	"golang.org/x/crypto/argon2":     "accounts",
	"github.com/xuri/excelize/v2":    "report",
	"github.com/wneessen/go-mail":    "mail",
	"github.com/emersion/go-smtp":    "mail/mailtest",
	"github.com/emersion/go-sasl":    "mail/mailtest",
}

// Test files wire real parts (DESIGN.md: bbolt in a temp dir, the real
// use cases), so a package's tests may also import the package itself and
// what is listed here; the arrows still point inward (a test of issuer
// never imports verifier or api) and third-party modules stay with their
// owners in test files too, unless listed here by name.
var testImports = map[string][]string{
	"cert":            {"cert/certtest"},
	"keys":            {"cert/certtest", "keys/keystest", "store", "store/bolt"},
	"store/bolt":      {"cert/certtest", "store/storetest"},
	"store/mongo":     {"cert/certtest", "store/storetest", "store/mongo/mongotest"},
	"store/storetest": {"cert/certtest"},
	"templates":       {"cert/certtest", "templates/qrtest", "github.com/makiuchi-d/gozxing"},
	// The PDF reader is tested on files of an independent writer.
	"pdfattach": {"pdfattach/pdfattachtest", "codeberg.org/go-pdf/fpdf"},
	"issuer":    {"cert/certtest", "store/storetest", "store/bolt"},
	"accounts":  {"cert/certtest", "store/storetest", "store/bolt", "store/mongo/mongotest"},
	"console":   {"cert/certtest", "keys", "profile", "store/bolt", "deadlines"},
	"deadlines": {"issuer", "store/storetest", "store/bolt"},
	// Secrets are sealed with the real KEK, on both backends.
	"notify": {"cert/certtest", "store/storetest", "store/bolt", "keys", "store/mongo/mongotest"},
	// The mailer is tested against the test SMTP server, through the
	// real outbox and worker.
	"mail":  {"cert/certtest", "mail/mailtest", "store", "store/bolt"},
	"watch": {"cert/certtest", "store/storetest", "store/bolt"},
	// The reminders are tested over a certificate's life with the real
	// use cases changing it; the sweep benchmark seeds with storetest.
	"remind": {"cert/certtest", "issuer", "keys", "profile", "store/bolt", "store/storetest"},
	// A verifier test issues its certificates through the real use case.
	"verifier": {"cert/certtest", "keys/keystest", "issuer", "store/bolt"},
	// The reports are read back with the XLSX library that wrote them (and,
	// independently, as zip + XML).
	"api": {"cert/certtest", "templates/qrtest", "pdfattach/pdfattachtest", "keys", "store/bolt", "github.com/xuri/excelize/v2"},
}

type listedPackage struct {
	ImportPath   string
	Imports      []string
	TestImports  []string
	XTestImports []string
}

const module = "github.com/certd/certd"

func TestImportGraph(t *testing.T) {
	root := moduleRoot(t)
	cmd := exec.Command("go", "list", "-json", "./...")
	cmd.Dir = root
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen, tests := 0, 0
	for {
		var p listedPackage
		if err := dec.Decode(&p); err == io.EOF {
			break
		} else if err != nil {
			t.Fatal(err)
		}
		seen++
		tests += len(p.TestImports) + len(p.XTestImports)
		for _, v := range violations(p) {
			t.Error(v)
		}
	}
	if seen < 10 || tests < 10 {
		t.Fatalf("go list returned only %d packages with %d test imports", seen, tests)
	}
}

// violations lists the imports of p, its test files' included, that break
// the dependency direction.
func violations(p listedPackage) []string {
	rel := strings.TrimPrefix(strings.TrimPrefix(p.ImportPath, module), "/")
	program := strings.HasPrefix(rel, "cmd/") || strings.HasPrefix(rel, "bench/")
	allowed, known := allowedImports[rel]
	if !known && !program {
		return []string{fmt.Sprintf("package %s has no entry in allowedImports: add one that follows DESIGN.md section 3", rel)}
	}
	var out []string
	for _, set := range []struct {
		what    string
		imports []string
	}{{"", p.Imports}, {" (in a test file)", p.TestImports}, {" (in a test file)", p.XTestImports}} {
		for _, imp := range set.imports {
			granted := set.what != "" && slices.ContainsFunc(testImports[rel], func(a string) bool { return imp == a || strings.HasPrefix(imp, a+"/") })
			if owner, ok := ownerOf(imp); ok && owner != rel && !strings.HasPrefix(rel, owner+"/") && !program && !granted {
				out = append(out, fmt.Sprintf("%s imports %s%s, which only %s may use", rel, imp, set.what, owner))
			}
			if program {
				continue // programs wire whatever they need
			}
			ok := allowed
			if set.what != "" {
				ok = append(append(slices.Clip(allowed), rel), testImports[rel]...)
			}
			if !importAllowed(imp, module, ok) {
				out = append(out, fmt.Sprintf("%s must not import %s%s (allowed: %v)", rel, imp, set.what, ok))
			}
		}
	}
	return out
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

// The guard reads test files too: a forbidden import in a test of a
// package fails it like one in the package.
func TestViolationsCoverTestFiles(t *testing.T) {
	const m = module + "/"
	cases := []struct {
		name string
		p    listedPackage
		want string
	}{
		{"fail/echo in a keys test", listedPackage{ImportPath: m + "keys", XTestImports: []string{"github.com/labstack/echo/v5"}}, "only api may use"},
		{"fail/api in an issuer test", listedPackage{ImportPath: m + "issuer", TestImports: []string{m + "api"}}, "issuer must not import " + m + "api (in a test file)"},
		{"fail/verifier in an issuer test", listedPackage{ImportPath: m + "issuer", XTestImports: []string{m + "verifier"}}, "must not import " + m + "verifier (in a test file)"},
		{"fail/bbolt in an api test", listedPackage{ImportPath: m + "api", XTestImports: []string{"go.etcd.io/bbolt"}}, "only store/bolt may use"},
		{"fail/store in a cert test", listedPackage{ImportPath: m + "cert", TestImports: []string{m + "store"}}, "cert must not import"},
		{"ok/bolt and keys in an api test", listedPackage{ImportPath: m + "api", XTestImports: []string{m + "api", m + "store/bolt", m + "keys", "testing"}}, ""},
		{"ok/storetest in a bolt test", listedPackage{ImportPath: m + "store/bolt", TestImports: []string{m + "store/storetest", "go.etcd.io/bbolt"}}, ""},
		{"fail/storetest in bolt itself", listedPackage{ImportPath: m + "store/bolt", Imports: []string{m + "store/storetest"}}, "store/bolt must not import"},
		{"ok/fpdf granted to the pdfattach tests", listedPackage{ImportPath: m + "pdfattach", XTestImports: []string{"codeberg.org/go-pdf/fpdf"}}, ""},
		{"fail/fpdf in pdfattach itself", listedPackage{ImportPath: m + "pdfattach", Imports: []string{"codeberg.org/go-pdf/fpdf"}}, "only templates may use"},
		{"fail/a package without an entry", listedPackage{ImportPath: m + "nosuchpackage", TestImports: []string{"fmt"}}, "no entry in allowedImports"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := strings.Join(violations(tc.p), "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("violations = %q, want %q", got, tc.want)
			}
		})
	}
}
