package main

import (
	"os"
	"strings"
	"testing"
)

// The README's configuration table documents every flag with its
// environment twin and default.
func TestREADMEDocumentsEveryFlag(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	readme := string(b)
	for _, f := range flagSpecs {
		row := "| `--" + f.name + "` | `" + f.env + "` | "
		i := strings.Index(readme, row)
		if i < 0 {
			t.Errorf("README has no row %q", row)
			continue
		}
		if f.def != "" {
			line := readme[i:]
			line = line[:strings.IndexByte(line, '\n')]
			if !strings.Contains(line, "`"+f.def+"`") {
				t.Errorf("README row of --%s does not give the default %q: %s", f.name, f.def, line)
			}
		}
	}
}
