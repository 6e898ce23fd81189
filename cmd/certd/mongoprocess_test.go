package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Several certd processes on one MongoDB database are correct because
// every store operation is atomic on the server, never because of a lock
// inside one process: these tests run two certd binaries against the test
// server (mongotest: FerretDB behind a proxy that executes one command at a
// time, or the MongoDB of CERTD_TEST_MONGO_URI). With FerretDB alone
// (mongotestd -direct) they fail: its updates are not atomic.

// certdProcess is a certd binary running on a MongoDB database.
type certdProcess struct {
	*testServer
	cmd    *exec.Cmd
	stderr *syncBuffer
}

// listening matches the log line that gives the address certd listens on.
var listening = regexp.MustCompile(`msg="certd listening" addr=(\S+)`)

// runProcess starts certd on db with a data dir of its own, listening on a
// free port of 127.0.0.1, and returns once it listens; the process is
// killed when t ends. Failures are returned, so that it may run in any
// goroutine.
func runProcess(t testing.TB, bin string, db mongoDB, args ...string) (*certdProcess, error) {
	dataDir := t.TempDir()
	cmd := exec.Command(bin, append([]string{"--addr", "127.0.0.1:0", "--data-dir", dataDir,
		"--mongo-uri", db.uri, "--mongo-database", db.name, "--kek-file", db.kek,
		"--public-url", sharedPublicURL, "--rate-limit", "1000000",
		"--store-timeout", mongotestTimeout(), "--log-level", "info"}, args...)...)
	stdout, stderr := &syncBuffer{}, &syncBuffer{}
	cmd.Stdout = stdout
	pipe, err := cmd.StderrPipe()
	if err != nil {
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(pipe)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			line := sc.Text()
			fmt.Fprintln(stderr, line)
			if m := listening.FindStringSubmatch(line); m != nil {
				select {
				case addr <- m[1]:
				default:
				}
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		close(addr)
	}()
	a, ok := <-addr
	if !ok {
		return nil, fmt.Errorf("certd exited before listening: %s", stderr)
	}
	p := &certdProcess{
		testServer: &testServer{t: t, URL: "http://" + a, DataDir: dataDir, Stdout: stdout, Logs: stderr},
		cmd:        cmd, stderr: stderr,
	}
	return p, nil
}

// mongotestTimeout is the --store-timeout of the processes: the generous
// one of mongotest, for a loaded machine.
func mongotestTimeout() string { return (2 * time.Minute).String() }

// twoProcesses builds certd and starts two processes on one new database
// at the same moment, as a first start of a deployment. It checks that
// exactly one of them bootstrapped the database (one admin.token, one
// "first start" message) and sets that admin key on both.
func twoProcesses(t *testing.T, args ...string) (a, b *certdProcess, db mongoDB) {
	t.Helper()
	if testing.Short() {
		t.Skip("builds and runs the server binary")
	}
	bin, err := buildCertd()
	if err != nil {
		t.Fatal(err)
	}
	db = newMongoDB(t)
	var ps [2]*certdProcess
	var errs [2]error
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range ps {
		wg.Add(1)
		go func() { defer wg.Done(); <-start; ps[i], errs[i] = runProcess(t, bin, db, args...) }()
	}
	close(start)
	wg.Wait()
	if err := errors.Join(errs[:]...); err != nil {
		t.Fatalf("first start of two processes: %v", err)
	}
	admin, messages := "", 0
	// Standard output is copied from its own pipe: the message may arrive
	// after the log line that said the process listens.
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if strings.Count(ps[0].Stdout.String(), "first start")+strings.Count(ps[1].Stdout.String(), "first start") > 0 {
			break
		}
	}
	for _, p := range ps {
		messages += strings.Count(p.Stdout.String(), "first start")
		if b, err := os.ReadFile(filepath.Join(p.DataDir, "admin.token")); err == nil {
			if admin != "" {
				t.Errorf("both processes wrote an admin.token")
			}
			admin = strings.TrimSpace(string(b))
		}
	}
	if messages != 1 || admin == "" {
		t.Fatalf("%d first-start messages, admin.token written: %v; want exactly one of each", messages, admin != "")
	}
	for _, p := range ps {
		p.Admin = admin
	}
	return ps[0], ps[1], db
}

// openDB connects the test to the processes' database, to read what they
// stored.
func openDB(t testing.TB, db mongoDB) *driver.Database {
	t.Helper()
	client, err := driver.Connect(options.Client().ApplyURI(db.uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	return client.Database(db.name)
}

// Two processes started at the same moment on an empty database bootstrap
// it once: one default issuer, one key ring with one key, which both serve.
func TestMongoProcessesFirstStart(t *testing.T) {
	for round := range 3 {
		t.Run(fmt.Sprintf("round %d", round), func(t *testing.T) {
			a, b, db := twoProcesses(t)
			ctx := context.Background()
			store := openDB(t, db)
			for coll, want := range map[string]int64{"issuers": 1, "keyrings": 1} {
				if n, err := store.Collection(coll).CountDocuments(ctx, bson.D{}); err != nil || n != want {
					t.Errorf("%s: %d documents (%v), want %d", coll, n, err, want)
				}
			}
			var jwks [2]string
			for i, p := range []*certdProcess{a, b} {
				r := p.do("GET", "/.well-known/jwks.json", "", nil)
				var set struct{ Keys []struct{ Kid string } }
				if err := json.Unmarshal(r.Body, &set); err != nil || r.Status != http.StatusOK {
					t.Fatalf("JWKS of process %d: %d %v", i+1, r.Status, err)
				}
				if len(set.Keys) != 1 {
					t.Errorf("process %d publishes %d keys, want 1", i+1, len(set.Keys))
				}
				jwks[i] = string(r.Body)
				if ids := issuerIDs(t, p.do("GET", "/api/v1/issuers", p.Admin, nil)); len(ids) != 1 || ids[0] != DefaultIssuer {
					t.Errorf("process %d sees issuers %v, want only %s", i+1, ids, DefaultIssuer)
				}
			}
			if jwks[0] != jwks[1] {
				t.Errorf("the processes publish different keys:\n%s\n%s", jwks[0], jwks[1])
			}
			c := a.issue(t, DefaultIssuer)
			if code, v := b.verdict(t, c["id"].(string), c["credential"].(string)); code != http.StatusOK || v["verdict"] != "valid" {
				t.Errorf("a certificate of process 1 verifying on process 2: %d %v", code, v["verdict"])
			}
		})
	}
}

// Two processes issue 500 certificates each at the same time: 1,000 × 201,
// no id, number or status position twice, and the number counter at 1,000
// (no value handed out twice, none skipped).
func TestMongoProcessesIssueConcurrently(t *testing.T) {
	a, b, db := twoProcesses(t)
	const perProcess, clients = 500, 16
	client := &http.Client{Timeout: 5 * time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: clients}}
	body := sampleCertificate(DefaultIssuer, testUSCC)
	var (
		mu     sync.Mutex
		got    []issued
		codes  = map[int]int{}
		failed []string
		wg     sync.WaitGroup
	)
	start := make(chan struct{})
	for _, p := range []*certdProcess{a, b} {
		jobs := make(chan struct{}, perProcess)
		for range perProcess {
			jobs <- struct{}{}
		}
		close(jobs)
		for range clients {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				for range jobs {
					r, err := p.send(client, "POST", "/api/v1/certificates", p.Admin, body)
					var c issued
					if err == nil && r.Status == http.StatusCreated {
						err = json.Unmarshal(r.Body, &c)
					}
					mu.Lock()
					codes[r.Status]++
					switch {
					case err != nil:
						failed = append(failed, err.Error())
					case r.Status != http.StatusCreated:
						failed = append(failed, fmt.Sprintf("%d %s", r.Status, r.Body))
					default:
						got = append(got, c)
					}
					mu.Unlock()
				}
			}()
		}
	}
	close(start)
	wg.Wait()
	if len(failed) > 0 {
		t.Errorf("statuses %v; first failure: %s", codes, failed[0])
	}

	ids, numbers, positions := map[string]bool{}, map[string]string{}, map[string]string{}
	for _, c := range got {
		if ids[c.ID] {
			t.Errorf("id %s issued twice", c.ID)
		}
		ids[c.ID] = true
		if other, dup := numbers[c.Number]; dup {
			t.Errorf("number %s given to %s and %s", c.Number, other, c.ID)
		}
		numbers[c.Number] = c.ID
		pos := statusPosition(t, c.Credential)
		if other, dup := positions[pos]; dup {
			t.Errorf("status-list position %s given to %s and %s", pos, other, c.ID)
		}
		positions[pos] = c.ID
	}

	ctx := context.Background()
	store := openDB(t, db)
	if n, err := store.Collection("certificates").CountDocuments(ctx, bson.D{}); err != nil || n != 2*perProcess {
		t.Errorf("%d certificates stored (%v), want %d", n, err, 2*perProcess)
	}
	cur, err := store.Collection("counters").Find(ctx, bson.D{{Key: "_id", Value: bson.D{{Key: "$regex", Value: "^number/"}}}})
	if err != nil {
		t.Fatal(err)
	}
	var counters []struct {
		Name  string `bson:"_id"`
		Value int64  `bson:"value"`
	}
	if err := cur.All(ctx, &counters); err != nil {
		t.Fatal(err)
	}
	if len(counters) != 1 || counters[0].Value != 2*perProcess {
		t.Errorf("number counters %+v, want one at %d", counters, 2*perProcess)
	}
}

// 100 times, a suspension of one certificate reaches both processes at the
// same moment: exactly one is applied (200) and the other refused, 412
// when the clients sent If-Match with the version they read, 409 without
// (the certificate is suspended already). The certificate holds exactly one
// suspended event, the acknowledged one: no acknowledged update is lost.
func TestMongoProcessesSuspendOnce(t *testing.T) {
	a, b, _ := twoProcesses(t)
	const pairs, parallel = 100, 8
	ids := make([]string, pairs)
	for i := 0; i < pairs; i += 50 {
		items := make([]any, 50)
		for j := range items {
			items[j] = sampleCertificate(DefaultIssuer, testUSCC)
		}
		r := a.do("POST", "/api/v1/certificates/batch", a.Admin, map[string]any{"certificates": items})
		var res struct {
			Results []struct{ Certificate *struct{ ID string } }
		}
		if err := json.Unmarshal(r.Body, &res); err != nil || len(res.Results) != 50 {
			t.Fatalf("issue a batch: %d %s", r.Status, r.Body)
		}
		for j, it := range res.Results {
			if it.Certificate == nil {
				t.Fatalf("issue a batch: item %d failed: %s", j, r.Body)
			}
			ids[i+j] = it.Certificate.ID
		}
	}

	type outcome struct {
		codes   [2]int
		reasons [2]string
		errs    [2]error
	}
	outcomes := make([]outcome, pairs)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range parallel {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range jobs {
				var headers []string
				if i%2 == 0 {
					headers = []string{"If-Match", `"1"`}
				}
				o := &outcomes[i]
				var pair sync.WaitGroup
				start := make(chan struct{})
				for k, p := range []*certdProcess{a, b} {
					o.reasons[k] = fmt.Sprintf("holder request %d to process %d", i, k+1)
					pair.Add(1)
					go func() {
						defer pair.Done()
						<-start
						r, err := p.send(nil, "POST", "/api/v1/certificates/"+ids[i]+"/suspend", p.Admin,
							map[string]any{"reason": o.reasons[k]}, headers...)
						o.codes[k], o.errs[k] = r.Status, err
					}()
				}
				close(start)
				pair.Wait()
			}
		}()
	}
	for i := range pairs {
		jobs <- i
	}
	close(jobs)
	wg.Wait()

	bad := 0
	for i, o := range outcomes {
		if err := errors.Join(o.errs[:]...); err != nil {
			t.Fatal(err)
		}
		refused := http.StatusConflict
		if i%2 == 0 {
			refused = http.StatusPreconditionFailed
		}
		won := -1
		switch {
		case o.codes[0] == http.StatusOK && o.codes[1] == refused:
			won = 0
		case o.codes[1] == http.StatusOK && o.codes[0] == refused:
			won = 1
		}
		var ev struct {
			Events []struct{ Type, Reason string }
		}
		if err := json.Unmarshal(b.do("GET", "/api/v1/certificates/"+ids[i]+"/events", b.Admin, nil).Body, &ev); err != nil {
			t.Fatal(err)
		}
		var suspended []string
		for _, e := range ev.Events {
			if e.Type == "suspended" {
				suspended = append(suspended, e.Reason)
			}
		}
		if won < 0 || len(suspended) != 1 || suspended[0] != o.reasons[won] {
			if bad++; bad <= 5 {
				t.Errorf("pair %d (If-Match %v): statuses %d and %d, suspended events %q; want one 200 and one %d, and the acknowledged suspension recorded once",
					i, i%2 == 0, o.codes[0], o.codes[1], suspended, refused)
			}
		}
	}
	if bad > 0 {
		t.Errorf("%d of %d pairs went wrong", bad, pairs)
	}
}
