// Command load measures certd under load on this machine, next to a bare
// echo baseline in the same run (see bench/README.md).
//
//	go run ./bench/load -certs 100000 -conns 64 -duration 10s
//	go run ./bench/load -mongo -certs 10000                   # embedded FerretDB
//	go run ./bench/load -mongo -mongo-uri 'mongodb://h1,h2,h3/?replicaSet=rs0'
//
// It builds and starts certd and the baseline as separate processes on
// loopback, seeds the store through the batch API, and prints one table.
// With -mongo, certd keeps everything in MongoDB: the deployment of
// -mongo-uri (a new database, dropped at the end unless -keep), or else an
// embedded FerretDB v1 (SQLite, in the temporary directory) that this
// program runs on the same cores. FerretDB is a test server: its figures
// say what the tests cost, not what a replica set would do.
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"log"
	"log/slog"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/FerretDB/FerretDB/ferretdb"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

var (
	certs     = flag.Int("certs", 100000, "certificates to seed")
	conns     = flag.Int("conns", 64, "concurrent connections for the read benchmarks")
	writers   = flag.Int("writers", 32, "concurrent clients for single issuance")
	duration  = flag.Duration("duration", 10*time.Second, "length of each timed run")
	batchers  = flag.Int("batch-clients", 4, "concurrent clients sending the batches that seed the store")
	rounds    = flag.Int("rounds", 3, "rounds of each side-by-side comparison, its runs taking turns; the median round is reported")
	keep      = flag.Bool("keep", false, "keep the data directory (and the MongoDB database)")
	useMongo  = flag.Bool("mongo", false, "run certd on MongoDB: -mongo-uri, or else an embedded FerretDB")
	mongoURI  = flag.String("mongo-uri", "", "with -mongo, the MongoDB deployment to use (a new database is created in it)")
	issueOnly = flag.Bool("issue-only", false, "measure issuance only (batches and single issues), not the read scenarios")
)

func main() {
	flag.Parse()
	log.SetFlags(0)
	tmp, err := os.MkdirTemp("", "certd-load")
	check(err)
	tmpDir = tmp
	if !*keep {
		defer os.RemoveAll(tmp)
	}
	root := moduleRoot()
	certd := build(root, tmp, "./cmd/certd")
	bare := build(root, tmp, "./bench/bare")

	addr := freeAddr()
	data := filepath.Join(tmp, "data")
	args := []string{"--addr", addr, "--data-dir", data, "--log-level", "error"}
	backend := "bbolt"
	if *useMongo {
		var cleanup func()
		backend, cleanup = mongoBackend(tmp, &args)
		defer cleanup()
	}
	srv := start(certd, args...)
	defer stop(srv)
	base := "http://" + addr
	waitReady(base + "/readyz")
	token := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(data, "admin.token")))))

	generator := "Go HTTP client"
	if haveWrk() {
		generator = fmt.Sprintf("wrk, %d threads, for the read scenarios", *wrkThreads)
	}
	fmt.Printf("certd load benchmark: %d CPUs, store %s, %d certificates, %d connections, %s per run, %d rounds of each comparison; load generator: %s\n\n", runtime.NumCPU(), backend, *certs, *conns, *duration, *rounds, generator)
	fmt.Printf("%-44s %12s %10s %10s\n", "scenario", "ops/s", "p50", "p99")

	// Batch issuance: seed the store with batches of 1,000.
	cpu := startCPU(srv.Process.Pid)
	ids, rate := seed(base, token, *certs)
	fmt.Printf("%-44s %12.0f %10s %10s\n", fmt.Sprintf("issue: batches of 1,000, %d clients (certs/s)", *batchers), rate, "-", "-")
	cpu.print()

	// Single issuance with concurrent writers.
	body := must(json.Marshal(sample()))
	cpu = startCPU(srv.Process.Pid)
	res := run(*writers, *duration, func(c *http.Client) bool {
		return post(c, base+"/api/v1/certificates", token, "application/json", body) == http.StatusCreated
	})
	res.print(fmt.Sprintf("issue: single, %d clients (certificates/s)", *writers))
	cpu.print()
	if *issueOnly {
		return
	}

	// Verify by id against the bare JSON handler.
	pub := jwkX(fetch(base + "/issuers/default/jwks.json"))
	bareAddr := freeAddr()
	b := start(bare, "--addr", bareAddr, "--ed25519-public", pub)
	defer stop(b)
	waitReady("http://" + bareAddr + "/json/x")

	idFile := writeLines(tmp, "ids.txt", ids)
	const browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
	reads := compare([]scenario{
		{"bare echo JSON handler", func(c *http.Client) bool {
			return get(c, "http://"+bareAddr+"/json/"+ids[mathrand.IntN(len(ids))]) == 200
		}, &wrkSpec{url: "http://" + bareAddr + "/json/", file: idFile, mode: "path"}},
		{"GET /api/v1/verify/{id}", func(c *http.Client) bool {
			return get(c, base+"/api/v1/verify/"+ids[mathrand.IntN(len(ids))]) == 200
		}, &wrkSpec{url: base + "/api/v1/verify/", file: idFile, mode: "path"}},
		{"GET /v/{id} (HTML page)", func(c *http.Client) bool {
			return getHTML(c, base+"/v/"+ids[mathrand.IntN(len(ids))]+"?lang=zh-CN") == 200
		}, &wrkSpec{url: base + "/v/", file: idFile, mode: "path", accept: browser}},
	})
	reads.ratio(1, 0, "  verify by id / bare JSON")
	reads.ratio(2, 0, "  verification page / bare JSON")
	printKept(base)

	// Cached PDFs: each of a few certificates rendered once, then served
	// from the cache.
	pdfIDs := ids[:min(16, len(ids))]
	for _, id := range pdfIDs {
		if code := get(http.DefaultClient, base+"/v/"+id+"/certificate.pdf"); code != 200 {
			log.Printf("certificate.pdf answers %d (no CJK font installed?): skipping the PDF scenario", code)
			pdfIDs = nil
			break
		}
	}
	if len(pdfIDs) > 0 {
		pdf := run(*conns, *duration, func(c *http.Client) bool {
			return get(c, base+"/v/"+pdfIDs[mathrand.IntN(len(pdfIDs))]+"/certificate.pdf") == 200
		})
		pdf.print("GET /v/{id}/certificate.pdf (cached)")
	}
	qr := run(*conns, *duration, func(c *http.Client) bool {
		return get(c, base+"/v/"+ids[mathrand.IntN(len(ids))]+"/qr.png") == 200
	})
	qr.print("GET /v/{id}/qr.png (encodes/s)")
	toks := credentials(base, ids[:min(*tokenCount, len(ids))])
	tokFile := writeLines(tmp, "tokens.txt", toks)
	tokens := compare([]scenario{
		{"bare handler: ed25519.Verify only", func(c *http.Client) bool {
			return post(c, "http://"+bareAddr+"/ed25519", "", "text/plain", []byte(toks[mathrand.IntN(len(toks))])) == 200
		}, &wrkSpec{url: "http://" + bareAddr + "/ed25519", file: tokFile, mode: "body"}},
		{fmt.Sprintf("POST /api/v1/verify (%d distinct tokens)", len(toks)), func(c *http.Client) bool {
			return post(c, base+"/api/v1/verify", "", "application/vc+jwt", []byte(toks[mathrand.IntN(len(toks))])) == 200
		}, &wrkSpec{url: base + "/api/v1/verify", file: tokFile, mode: "body"}},
	})
	tokens.ratio(1, 0, "  verify token / ed25519.Verify only")

	// Last: on FerretDB a search scans every certificate, and the scans
	// outlive the requests that time out, slowing whatever runs next.
	search := run(*conns, *duration, func(c *http.Client) bool {
		return get(c, base+"/api/v1/search?q=%E4%B8%8D%E5%AD%98%E5%9C%A8%E7%9A%84%E5%85%AC%E5%8F%B8") == 200
	})
	search.print(fmt.Sprintf("GET /api/v1/search, no match in %d", len(ids)))
}

// mongoBackend adds the MongoDB flags to certd's args: a new database in
// the deployment of -mongo-uri, or in an embedded FerretDB started here,
// and a KEK file. It returns the name of the store and what to do at the
// end.
func mongoBackend(tmp string, args *[]string) (string, func()) {
	kek := filepath.Join(tmp, "kek")
	k := make([]byte, 32)
	_, _ = rand.Read(k)
	check(os.WriteFile(kek, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600))
	db := fmt.Sprintf("certd_load_%d", time.Now().Unix())
	*args = append(*args, "--mongo-database", db, "--kek-file", kek)
	if *mongoURI != "" {
		*args = append(*args, "--mongo-uri", *mongoURI)
		return "MongoDB database " + db, func() {
			if !*keep {
				dropDatabase(*mongoURI, db)
			}
		}
	}
	dir := filepath.Join(tmp, "ferretdb")
	check(os.MkdirAll(dir, 0o700))
	f := must(ferretdb.New(&ferretdb.Config{
		Listener: ferretdb.ListenerConfig{TCP: "127.0.0.1:0"},
		Logger:   slog.New(slog.DiscardHandler),
		Handler:  "sqlite",
		// As in store/mongo/mongotest: no fsync per commit.
		SQLiteURL: (&url.URL{Scheme: "file", Opaque: dir + "/", RawQuery: "_pragma=synchronous(off)"}).String(),
	}))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = f.Run(ctx) }()
	*args = append(*args, "--mongo-uri", f.MongoDBURI())
	return "embedded FerretDB (SQLite)", func() { cancel(); <-done }
}

func dropDatabase(uri, db string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c, err := mongo.Connect(options.Client().ApplyURI(uri))
	if err != nil {
		log.Printf("drop database %s: %v", db, err)
		return
	}
	defer func() { _ = c.Disconnect(ctx) }()
	if err := c.Database(db).Drop(ctx); err != nil {
		log.Printf("drop database %s: %v", db, err)
	}
}

type result struct {
	rate     float64
	p50, p99 time.Duration
	errors   int
	lats     []time.Duration
}

func (r *result) setPercentiles() {
	slices.Sort(r.lats)
	if len(r.lats) > 0 {
		r.p50, r.p99 = r.lats[len(r.lats)/2], r.lats[len(r.lats)*99/100]
	}
}

func (r result) print(name string) {
	fmt.Printf("%-44s %12.0f %10s %10s", name, r.rate, r.p50.Round(time.Microsecond), r.p99.Round(time.Microsecond))
	if r.errors > 0 {
		fmt.Printf("  (%d failed)", r.errors)
	}
	fmt.Println()
}

type scenario struct {
	name string
	op   func(*http.Client) bool
	// wrk, when set and wrk is installed, is how wrk runs the same scenario.
	wrk *wrkSpec
}

// tmpDir holds the run's files (data, id and token lists, the wrk script).
var tmpDir string

// comparison holds the rounds of scenarios measured side by side.
type comparison [][]result // [scenario][round]

// compare runs the scenarios in turn, -rounds times, so that a drift of
// the machine (another tenant, a frequency change) touches all of them
// alike, and prints each scenario's median round with the latencies of
// all its rounds.
func compare(scs []scenario) comparison {
	out := make(comparison, len(scs))
	for range *rounds {
		for i, sc := range scs {
			if sc.wrk != nil && haveWrk() {
				out[i] = append(out[i], runWrk(tmpDir, *sc.wrk, *conns, *duration))
			} else {
				out[i] = append(out[i], run(*conns, *duration, sc.op))
			}
		}
	}
	for i, sc := range scs {
		rates := make([]float64, 0, len(out[i]))
		var all result
		for _, r := range out[i] {
			rates = append(rates, r.rate)
			all.lats = append(all.lats, r.lats...)
			all.errors += r.errors
		}
		all.rate = median(rates)
		all.setPercentiles()
		if len(all.lats) == 0 { // wrk reports percentiles per run, not latencies
			var p50s, p99s []float64
			for _, r := range out[i] {
				p50s, p99s = append(p50s, float64(r.p50)), append(p99s, float64(r.p99))
			}
			all.p50, all.p99 = time.Duration(median(p50s)), time.Duration(median(p99s))
		}
		all.print(sc.name)
	}
	return out
}

// ratio prints the median over the rounds of the ratio of scenario a's
// rate to b's, with the lowest and highest round.
func (c comparison) ratio(a, b int, name string) {
	rs := make([]float64, len(c[a]))
	for i := range rs {
		rs[i] = 100 * c[a][i].rate / c[b][i].rate
	}
	fmt.Printf("%-44s %11.0f%%", name, median(rs))
	if len(rs) > 1 {
		fmt.Printf("  (rounds: %.0f%%–%.0f%%)", slices.Min(rs), slices.Max(rs))
	}
	fmt.Println()
}

func median(xs []float64) float64 {
	s := slices.Clone(xs)
	slices.Sort(s)
	if n := len(s); n%2 == 0 {
		return (s[n/2-1] + s[n/2]) / 2
	}
	return s[len(s)/2]
}

// run calls op from n goroutines, each with its own keep-alive connection,
// for d, and reports the rate of successful calls and their latency.
func run(n int, d time.Duration, op func(*http.Client) bool) result {
	var (
		mu   sync.Mutex
		lats []time.Duration
		errs int
		wg   sync.WaitGroup
	)
	deadline := time.Now().Add(d)
	start := time.Now()
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 1, DisableCompression: true}, Timeout: 30 * time.Second}
			var local []time.Duration
			bad := 0
			for time.Now().Before(deadline) {
				t0 := time.Now()
				if op(c) {
					local = append(local, time.Since(t0))
				} else {
					bad++
				}
			}
			mu.Lock()
			lats = append(lats, local...)
			errs += bad
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	r := result{rate: float64(len(lats)) / elapsed.Seconds(), errors: errs, lats: lats}
	r.setPercentiles()
	return r
}

// seed issues n certificates in batches of 1,000 from -batch-clients
// clients, so that the server always has a batch to work on while a client
// reads an answer (a client alone leaves the server idle while it decodes
// 3 MB of JSON, and a batch's commit runs on one core while the next one
// is signed on all), and returns their ids and the certificates issued per
// second.
func seed(base, token string, n int) ([]string, float64) {
	items := make([]any, 1000)
	for i := range items {
		items[i] = sample()
	}
	body := must(json.Marshal(map[string]any{"certificates": items}))
	batches := (n + 999) / 1000
	jobs := make(chan int, batches)
	for b := range batches {
		jobs <- min(1000, n-b*1000)
	}
	close(jobs)
	var (
		mu  sync.Mutex
		ids []string
		wg  sync.WaitGroup
	)
	start := time.Now()
	for range *batchers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := &http.Client{Timeout: 5 * time.Minute}
			for size := range jobs {
				b := body
				if size < 1000 {
					b = must(json.Marshal(map[string]any{"certificates": items[:size]}))
				}
				req := must(http.NewRequest("POST", base+"/api/v1/certificates/batch", bytes.NewReader(b)))
				req.Header.Set("Authorization", "Bearer "+token)
				req.Header.Set("Content-Type", "application/json")
				resp := must(c.Do(req))
				var out struct {
					Results []struct {
						Status      int
						Certificate struct{ ID string }
					}
				}
				check(json.NewDecoder(resp.Body).Decode(&out))
				resp.Body.Close()
				mu.Lock()
				for _, r := range out.Results {
					if r.Status != 201 {
						log.Fatalf("batch item failed with %d", r.Status)
					}
					ids = append(ids, r.Certificate.ID)
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return ids, float64(len(ids)) / time.Since(start).Seconds()
}

func sample() map[string]any {
	return map[string]any{
		"issuer": "default", "scheme": "itss", "standard": "GB/T 28827.1-2022", "category": "运行维护", "level": 3,
		"scope": "信息系统运行维护服务", "scopeEn": "IT operation and maintenance services",
		"organization": map[string]any{"name": "北京示例科技有限公司", "nameEn": "Beijing Example Technology Co., Ltd.",
			"uscc": "91110108MA0123456G", "address": "北京市海淀区中关村大街1号", "country": "CN"},
	}
}

func get(c *http.Client, url string) int {
	resp, err := c.Get(url)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// getHTML is get with the Accept header of a browser.
func getHTML(c *http.Client, url string) int {
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8")
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func post(c *http.Client, url, token, contentType string, body []byte) int {
	req, _ := http.NewRequest("POST", url, bytes.NewReader(body))
	req.Header.Set("Content-Type", contentType)
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := c.Do(req)
	if err != nil {
		return 0
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// credentials fetches the credential of each id, eight at a time.
func credentials(base string, ids []string) []string {
	out := make([]string, len(ids))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				out[i] = strings.TrimSpace(fetch(base + "/v/" + ids[i] + "/credential.jwt"))
			}
		}()
	}
	for i := range ids {
		next <- i
	}
	close(next)
	wg.Wait()
	return out
}

// printKept prints how many verdicts by id certd answered from the
// verdicts it keeps (--verdict-cache), as its /metrics counts them.
func printKept(base string) {
	var kept, judged float64
	for _, line := range strings.Split(fetch(base+"/metrics"), "\n") {
		var v float64
		switch {
		case strings.HasPrefix(line, `certd_verdicts_by_id_total{source="kept"} `):
			_, _ = fmt.Sscan(strings.Fields(line)[1], &v)
			kept = v
		case strings.HasPrefix(line, `certd_verdicts_by_id_total{source="store"} `):
			_, _ = fmt.Sscan(strings.Fields(line)[1], &v)
			judged = v
		}
	}
	if kept+judged > 0 {
		fmt.Printf("  verdicts by id answered from memory: %.0f%% of %.0f (--verdict-cache)\n", 100*kept/(kept+judged), kept+judged)
	}
}

func fetch(url string) string {
	resp := must(http.Get(url))
	defer resp.Body.Close()
	return string(must(io.ReadAll(resp.Body)))
}

func jwkX(jwks string) string {
	var set struct{ Keys []struct{ X string } }
	check(json.Unmarshal([]byte(jwks), &set))
	if _, err := base64.RawURLEncoding.DecodeString(set.Keys[0].X); err != nil {
		log.Fatal(err)
	}
	return set.Keys[0].X
}

func build(root, dir, pkg string) string {
	out := filepath.Join(dir, filepath.Base(pkg))
	cmd := exec.Command("go", "build", "-o", out, pkg)
	cmd.Dir = root
	cmd.Stderr = os.Stderr
	check(cmd.Run())
	return out
}

func start(bin string, args ...string) *exec.Cmd {
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	// The rate limits of public routes and renders, and the cap on
	// connections per client, would cap a load test from one IP.
	cmd.Env = append(os.Environ(), "CERTD_RATE_LIMIT=1000000", "CERTD_RENDER_RATE=1000000", "CERTD_MAX_CONNS_PER_IP=4096")
	check(cmd.Start())
	return cmd
}

func stop(cmd *exec.Cmd) { _ = cmd.Process.Kill(); _, _ = cmd.Process.Wait() }

func waitReady(url string) {
	for i := 0; i < 300; i++ {
		if resp, err := http.Get(url); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	log.Fatalf("%s never became ready", url)
}

func freeAddr() string {
	l := must(net.Listen("tcp", "127.0.0.1:0"))
	defer l.Close()
	return l.Addr().String()
}

func moduleRoot() string {
	out := must(exec.Command("go", "env", "GOMOD").Output())
	return filepath.Dir(strings.TrimSpace(string(out)))
}

func check(err error) {
	if err != nil {
		log.Fatal(err)
	}
}

func must[T any](v T, err error) T {
	check(err)
	return v
}
