package console

import (
	"path"
	"slices"
	"strings"
	"testing"
)

// Every template file is a registered page (or the layout), so none is
// left unparsed until a request finds it.
func TestTemplatesRegistered(t *testing.T) {
	files, err := templateFiles()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name != "layout" && !slices.Contains(pageNames, name) {
			t.Errorf("template %s is not in pageNames", f)
		}
	}
	if len(files) != len(pageNames)+1 {
		t.Errorf("%d template files for %d pages and the layout", len(files), len(pageNames))
	}
}

func TestSafeNext(t *testing.T) {
	for in, want := range map[string]string{
		"/console/certificates?q=1": "/console/certificates?q=1",
		"https://evil.example/":     "/console/",
		"//evil.example/console/":   "/console/",
		"/console/\r\nX: y":         "/console/",
		"/v/ABC":                    "/console/",
	} {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
