package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestWatch: a watcher key adds watches by id, number and USCC, lists
// them and removes one; other keys cannot.
func TestWatch(t *testing.T) {
	s := startServer(t)
	c := s.issue(t, "北京观察科技有限公司", uscc(t, 91))
	watcher := s.as(s.createKey(t, "watcher", ""))

	expectRun(t, cli(t, watcher, "watch", "add", "--certificate", c.ID), exitOK, "certificate "+c.ID, "")
	expectRun(t, cli(t, watcher, "watch", "add", "--number", c.Number, "--issuer", "default"), exitOK, "certificate "+c.ID, "")
	expectRun(t, cli(t, watcher, "watch", "add", "--uscc", uscc(t, 92)), exitOK, "uscc "+uscc(t, 92), "")
	expectRun(t, cli(t, watcher, "watch", "add"), exitUsage, "", "name one target")
	expectRun(t, cli(t, watcher, "watch", "add", "--number", c.Number), exitUsage, "", "name one target")
	expectRun(t, cli(t, watcher, "watch", "add", "--certificate", "00000000000000000000000000"), exitFailure, "", "certificate")
	expectRun(t, cli(t, s.as(s.IssuerKey), "watch", "add", "--certificate", c.ID), exitFailure, "", "HTTP 403")

	r := cli(t, watcher, "watch", "list", "--output", "json")
	var out struct {
		Items []watchResource `json:"items"`
	}
	if err := json.Unmarshal([]byte(r.stdout), &out); r.code != exitOK || err != nil || len(out.Items) != 2 {
		t.Fatalf("watch list: exit %d %v\n%s%s", r.code, err, r.stdout, r.stderr)
	}
	expectRun(t, cli(t, watcher, "watch", "list", "--limit", "1"), exitOK, "WATCHES", "more: certctl watch list --cursor")
	expectRun(t, cli(t, s.as(s.createKey(t, "watcher", "")), "watch", "rm", out.Items[0].ID), exitFailure, "", "HTTP 404")
	expectRun(t, cli(t, watcher, "watch", "rm", out.Items[0].ID), exitOK, "removed watch "+out.Items[0].ID, "")
	r = cli(t, watcher, "watch", "list")
	if r.code != exitOK || strings.Contains(r.stdout, out.Items[0].ID) || !strings.Contains(r.stdout, out.Items[1].ID) {
		t.Errorf("after rm:\n%s%s", r.stdout, r.stderr)
	}
}
