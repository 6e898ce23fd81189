package mongotest

import (
	"regexp"
	"strings"
	"testing"
)

func TestWithDatabase(t *testing.T) {
	cases := []struct{ name, uri, want string }{
		{"ok/plain", "mongodb://127.0.0.1:1234/", "mongodb://127.0.0.1:1234/db"},
		{"ok/no-slash", "mongodb://host", "mongodb://host/db"},
		{"ok/replace-path", "mongodb://host/old?tls=true", "mongodb://host/db?tls=true"},
		{"ok/credentials-admin", "mongodb://u:p@h1:1,h2:2/?replicaSet=rs", "mongodb://u:p@h1:1,h2:2/db?authSource=admin&replicaSet=rs"},
		{"ok/credentials-path", "mongodb://u:p@h/authdb?tls=true", "mongodb://u:p@h/db?authSource=authdb&tls=true"},
		{"ok/credentials-authsource", "mongodb+srv://u:p@cluster/?authSource=x", "mongodb+srv://u:p@cluster/db?authSource=x"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := WithDatabase(tc.uri, "db")
			if err != nil || got != tc.want {
				t.Errorf("WithDatabase(%s) = %q, %v; want %q", tc.uri, got, err, tc.want)
			}
		})
	}
	if _, err := WithDatabase("u:secret@host", "db"); err == nil || strings.Contains(err.Error(), "secret") {
		t.Errorf("WithDatabase(no scheme) error = %v; want one without the password", err)
	}
}

func TestDatabaseName(t *testing.T) {
	// What MongoDB and FerretDB accept, from a test name with slashes,
	// spaces and non-ASCII characters, longer than the limit.
	valid := regexp.MustCompile(`^[a-zA-Z0-9_-]{1,63}$`)
	t.Run("a very long/sub test name with spaces, 中文 and punctuation!!!", func(t *testing.T) {
		a, b := DatabaseName(t), DatabaseName(t)
		for _, n := range []string{a, b} {
			if !valid.MatchString(n) {
				t.Errorf("DatabaseName = %q, not a valid database name", n)
			}
		}
		if a == b {
			t.Errorf("two DatabaseName calls gave the same name %q", a)
		}
	})
}
