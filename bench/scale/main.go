// Command scale seeds certd's embedded store with many certificates and
// measures certd on it (see bench/README.md):
//
//	go run ./bench/scale -certs 10000,1000000
//	go run ./bench/scale -certs 1000000 -dir /var/tmp/scale -keep   # keep the data to measure again
//	go run ./bench/scale -backends bbolt,mongo -certs 1000,10000     # bbolt and the MongoDB test server side by side
//
// For each count it makes a data directory (a first start of certd creates
// the KEK, the default issuer and the admin token), adds three issuers,
// and issues the certificates in this process through the real use case
// (issuer.Service.IssueBatch: numbers, status positions, Ed25519 and ES256
// signatures, stored with the store's CreateCertificates in batches of
// 1,000), then suspends 3% and withdraws 1% of them through
// issuer.Service.Act. The only shortcut is the transport: no HTTP, no API
// key check, no PDF printability check (no fonts). Then it starts certd on
// the directory as a separate process and measures, one thing at a time:
// start time (after a clean stop, and after kill -9, which makes certd
// check every page), verify by id (wrk when installed, else the Go
// client), the status list, a single issue, a lifecycle action, a search,
// resident memory (from /proc) and bytes on disk per certificate, with
// where the bytes go (bbolt's statistics of each bucket).
package main

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"flag"
	"fmt"
	"io/fs"
	"log"
	mathrand "math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"go.etcd.io/bbolt"
	"go.mongodb.org/mongo-driver/v2/bson"
	driver "go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"

	"github.com/certd/certd/bench/internal/proc"
	"github.com/certd/certd/bench/internal/wrk"
	"github.com/certd/certd/cert"
	"github.com/certd/certd/issuer"
	"github.com/certd/certd/keys"
	"github.com/certd/certd/store"
	"github.com/certd/certd/store/bolt"
	"github.com/certd/certd/store/mongo"
	"github.com/certd/certd/store/mongo/mongotest"
)

var (
	counts   = flag.String("certs", "10000,1000000", "certificate counts to measure, separated by commas")
	baseDir  = flag.String("dir", "", "directory for the data directories (default: a new temporary one)")
	keep     = flag.Bool("keep", false, "keep the data directories; a later run with the same -dir measures them again without seeding")
	workers  = flag.Int("workers", 2, "batches issued at once while seeding")
	conns    = flag.Int("conns", 16, "connections of the verify-by-id run")
	duration = flag.Duration("duration", 5*time.Second, "length of the verify-by-id run")
	noWrk    = flag.Bool("no-wrk", false, "use the Go client even when wrk is installed")
	rounds   = flag.Int("rounds", 3, "rounds of the side-by-side verify-by-id runs (bbolt)")
	backends = flag.String("backends", "bbolt", "stores to measure, separated by commas, reported side by side: bbolt (the embedded store), mongo (the MongoDB test server of store/mongo/mongotest: FerretDB behind its serializing proxy, started here)")
	useMongo = flag.Bool("mongo", false, "the same as -backends mongo")
	verdicts = flag.Int("verdict-cache", 0, "certd's --verdict-cache: 0 (the default here) measures the store path of every verdict; with a cache, ids verified again are answered from memory whatever the store's size, and a run over 10,000 ids would compare the cache with the store")
	cpuProf  = flag.String("cpuprofile", "", "write a CPU profile of this process (seeding, and the MongoDB test server with -mongo) to the file")
)

// backend is where certd keeps the certificates of one data directory.
type backend struct {
	name string
	// mongo is the MongoDB test server (see bench/README.md for what that
	// changes).
	mongo bool
	// args are certd's flags for it, besides --data-dir.
	args []string
	open func() store.Store
	// disk returns the bytes the store takes on disk.
	disk func() int64
	// boltFile is the bbolt file, "" on MongoDB.
	boltFile string
	// dbStats returns the sizes the MongoDB server counts (nil on bbolt).
	dbStats func() mongoSizes
}

// mongoSizes are the sizes of dbStats: the documents, the storage they
// take and the indexes.
type mongoSizes struct {
	Data    int64 `bson:"dataSize"`
	Storage int64 `bson:"storageSize"`
	Indexes int64 `bson:"indexSize"`
	Total   int64 `bson:"totalSize"`
}

// newBackend returns the backend of data (and what stops it): bbolt, or
// with mongo the MongoDB test server.
func newBackend(mongoTest bool, dir, data string, n int) (backend, func()) {
	if !mongoTest {
		file := filepath.Join(data, "certd.db")
		return backend{name: "embedded store (bbolt)", open: func() store.Store { return must(bolt.Open(file)) },
			disk: func() int64 { return must(os.Stat(file)).Size() }, boltFile: file}, func() {}
	}
	mdir := filepath.Join(dir, fmt.Sprintf("mongo-%d", n))
	srv := must(mongotest.Listen(mdir, "127.0.0.1:0", false))
	db := fmt.Sprintf("certd_scale_%d", n)
	kek := filepath.Join(data, "kek")
	check(os.MkdirAll(data, 0o700))
	if _, err := os.Stat(kek); err != nil {
		k := make([]byte, 32)
		_, _ = rand.Read(k)
		check(os.WriteFile(kek, []byte(base64.StdEncoding.EncodeToString(k)+"\n"), 0o600))
	}
	return backend{
		name:  "MongoDB test server (FerretDB v1, SQLite, serializing proxy)",
		mongo: true,
		// Every filter but {_id} reads the whole collection there, so a
		// call takes seconds at 10,000 certificates: the timeout of the
		// tests' certd processes (cmd/certd), not the default 5 s.
		args: []string{"--mongo-uri", srv.URI(), "--mongo-database", db, "--kek-file", kek, "--store-timeout", "2m"},
		open: func() store.Store {
			return must(mongo.Open(context.Background(), srv.URI(), db, mongo.WithTimeout(time.Minute)))
		},
		disk: func() int64 {
			var total int64
			_ = filepath.WalkDir(mdir, func(_ string, d fs.DirEntry, err error) error {
				if err == nil && !d.IsDir() {
					if fi, err := d.Info(); err == nil {
						total += fi.Size()
					}
				}
				return nil
			})
			return total
		},
		dbStats: func() mongoSizes {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
			defer cancel()
			client := must(driver.Connect(options.Client().ApplyURI(srv.URI())))
			defer client.Disconnect(ctx)
			var st mongoSizes
			check(client.Database(db).RunCommand(ctx, bson.D{{Key: "dbStats", Value: 1}}).Decode(&st))
			return st
		},
	}, srv.Stop
}

const publicURL = "http://certd.test"

// issuers are the issuers of the seeded certificates: the default one of
// the first start and three more, one of them signing with ES256.
var issuers = []issuer.IssuerRequest{
	{ID: "default"},
	{ID: "cesa-itss", Name: "CESA Certification Centre", NameZh: "中国电子工业标准化技术协会认证中心", NumberPrefix: "CESA"},
	{ID: "cqc-ms", Name: "CQC Management Systems", NameZh: "中质协质量保证中心", NumberPrefix: "CQC", KeyType: "ES256"},
	{ID: "bj-cert", Name: "Beijing Example Certification", NameZh: "北京示例认证有限公司", NumberPrefix: "BJC"},
}

func main() {
	flag.Parse()
	log.SetFlags(0)
	if *cpuProf != "" {
		f := must(os.Create(*cpuProf))
		check(pprof.StartCPUProfile(f))
		defer pprof.StopCPUProfile()
	}
	dir := *baseDir
	if dir == "" {
		dir = must(os.MkdirTemp("", "certd-scale"))
		if !*keep {
			defer os.RemoveAll(dir)
		}
	}
	root := strings.TrimSpace(string(must(exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output())))
	bin := filepath.Join(dir, "certd")
	if out, err := exec.Command("go", "build", "-o", bin, filepath.Join(root, "cmd/certd")).CombinedOutput(); err != nil {
		log.Fatalf("go build: %v\n%s", err, out)
	}
	kinds := strings.Split(*backends, ",")
	if *useMongo {
		kinds = []string{"mongo"}
	}
	var results, boltResults []*figures
	for _, kind := range kinds {
		kind = strings.TrimSpace(kind)
		if kind != "bbolt" && kind != "mongo" {
			log.Fatalf("-backends: %q is not a store (bbolt, mongo)", kind)
		}
		for _, s := range strings.Split(*counts, ",") {
			n := must(strconv.Atoi(strings.TrimSpace(s)))
			f := measureCount(root, bin, dir, kind == "mongo", n)
			results = append(results, f)
			if kind == "bbolt" {
				boltResults = append(boltResults, f)
			}
		}
	}
	if len(boltResults) > 0 {
		compareVerify(root, bin, boltResults)
	}
	if !*keep && *baseDir != "" {
		for _, f := range results {
			check(os.RemoveAll(f.data))
		}
	}
	report(results)
}

// measureCount seeds (or finds seeded) a store of n certificates and
// measures certd on it.
func measureCount(root, bin, dir string, mongoTest bool, n int) *figures {
	data := filepath.Join(dir, fmt.Sprintf("data-%d", n))
	if mongoTest {
		data += "-mongo"
	}
	f := &figures{n: n}
	seeded := true
	if _, err := os.Stat(filepath.Join(data, "seeded.json")); err != nil {
		check(os.RemoveAll(data))
		if mongoTest {
			check(os.RemoveAll(filepath.Join(dir, fmt.Sprintf("mongo-%d", n))))
		}
		seeded = false
	}
	be, stopBackend := newBackend(mongoTest, dir, data, n)
	f.backend = be.name
	if !seeded {
		seedDir(bin, data, n, be, f)
	} else {
		log.Printf("%d: measuring the data seeded before in %s", n, data)
		check(json.Unmarshal(must(os.ReadFile(filepath.Join(data, "seeded.json"))), &f.seed))
	}
	if be.boltFile != "" {
		f.buckets = bucketStats(be.boltFile)
	}
	measure(root, bin, data, be, f)
	if be.dbStats != nil {
		f.mongoSizes = be.dbStats()
	}
	stopBackend()
	f.data, f.be = data, be
	return f
}

// verifyRun measures verify by id with wrk over the active ids of data,
// or with the Go client when wrk is missing.
func verifyRun(root, data, base string, ids []string, client *http.Client) (latency, string) {
	if _, err := exec.LookPath("wrk"); err == nil && !*noWrk {
		out, err := exec.Command("wrk", "-t", "2", "-c", strconv.Itoa(*conns), "-d", fmt.Sprintf("%ds", int(duration.Seconds())),
			"--latency", "-s", filepath.Join(root, "bench/load/pick.lua"), base+"/api/v1/verify/", "--",
			filepath.Join(data, "ids.txt"), "path").CombinedOutput()
		if err != nil {
			log.Fatalf("wrk: %v\n%s", err, out)
		}
		return parseWrk(string(out)), fmt.Sprintf("wrk, %d connections, 2 threads", *conns)
	}
	return loop(*conns, *duration, func() int { return get(client, base+"/api/v1/verify/"+ids[mathrand.IntN(len(ids))]) }),
		fmt.Sprintf("Go client, %d connections", *conns)
}

// compareVerify starts certd on every data directory at once and measures
// verify by id on each in turn, -rounds times, so that what else the
// machine does touches every count alike; each count gets its median
// round, and ratio the median of the rounds' ratios of the last count's
// p50 to the first's.
func compareVerify(root, bin string, fs []*figures) {
	type server struct {
		cmd  *certdProcess
		base string
		ids  []string
		runs []latency
	}
	servers := make([]*server, len(fs))
	client := &http.Client{Timeout: time.Minute}
	for i, f := range fs {
		cmd, base := startCertd(bin, f.data, f.be, "")
		waitIdle(cmd.Process.Pid)
		servers[i] = &server{cmd: cmd, base: base, ids: strings.Fields(string(must(os.ReadFile(filepath.Join(f.data, "ids.txt")))))}
	}
	var ratios []float64
	for range *rounds {
		for i, sv := range servers {
			l, tool := verifyRun(root, fs[i].data, sv.base, sv.ids, client)
			sv.runs = append(sv.runs, l)
			fs[i].verifyTool = tool
		}
		last, first := servers[len(servers)-1].runs, servers[0].runs
		ratios = append(ratios, float64(last[len(last)-1].p50)/float64(first[len(first)-1].p50))
	}
	for i, sv := range servers {
		runs := slices.Clone(sv.runs)
		slices.SortFunc(runs, func(a, b latency) int { return int(a.p50 - b.p50) })
		fs[i].verify = runs[len(runs)/2]
		fs[i].verifyRounds = sv.runs
		stopCertd(sv.cmd, syscall.SIGTERM)
	}
	slices.Sort(ratios)
	fs[len(fs)-1].verifyRatio = ratios
}

// seedFigures are kept in the data directory for later runs.
type seedFigures struct {
	Took      time.Duration `json:"took"`
	Lifecycle time.Duration `json:"lifecycle"`
	IDs       []string      `json:"-"`
}

type figures struct {
	n                   int
	backend             string
	seed                seedFigures
	buckets             []bucket
	fileBytes           int64
	startClean          time.Duration
	startUnclean        time.Duration
	rssStart, rssAfter  procMem
	rssIdle             procMem
	firstIdle           time.Duration // the first start after seeding, until idle
	afterStart          time.Duration // until certd is idle after its start
	afterStartCPU       time.Duration // the CPU it used meanwhile
	verify              latency
	verifyTool          string
	verifyRounds        []latency
	verifyRatio         []float64 // of the last count to the first, one a round, sorted
	data                string
	be                  backend
	statusFirst, status latency
	issue, action       latency
	searchHit, miss     latency
	missCommon          latency
	missCommonZh        latency
	mongoSizes          mongoSizes
}

type latency struct {
	rate     float64
	p50, p99 time.Duration
	errors   int
}

// seedDir makes a data directory with n certificates (see the package
// documentation).
func seedDir(bin, data string, n int, be backend, f *figures) {
	check(os.MkdirAll(data, 0o700))
	// The first start: KEK, default issuer, admin token.
	cmd, _ := startCertd(bin, data, be, "")
	stopCertd(cmd, syscall.SIGTERM)

	ctx := context.Background()
	st := be.open()
	kek := must(keys.LoadKEK(filepath.Join(data, "kek")))
	ks := keys.NewService(st, kek, time.Now)
	schemes := must(cert.NewSchemes(cert.BuiltinSchemes()))
	// Wired as cmd/certd wires it: the status lists set the store's status
	// marker, so that every write also records the certificate's status
	// marks.
	lists := issuer.NewStatusLists(issuer.StatusListConfig{Store: st, Signer: ks, Schemes: schemes, PublicURL: publicURL})
	check(lists.PrepareIndex(ctx))
	svc := issuer.New(issuer.Config{Store: st, Signer: ks, Rings: ks, Schemes: schemes, PublicURL: publicURL, OnChange: lists.Invalidate})
	admin := cert.Principal{Role: cert.RoleAdmin}
	for _, is := range issuers[1:] {
		if _, err := svc.CreateIssuer(ctx, admin, is); err != nil {
			log.Fatalf("create issuer %s: %v", is.ID, err)
		}
	}

	ids := make([]string, 0, n)
	var took time.Duration
	rng := mathrand.New(mathrand.NewPCG(uint64(n), 15))
	// issue issues the certificates from and up to to, in batches.
	issue := func(from, to int) {
		start := time.Now()
		defer func() { took += time.Since(start) }()
		var mu sync.Mutex
		batches := make(chan []issuer.Request)
		var wg sync.WaitGroup
		var failed atomic.Int64
		for range *workers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for reqs := range batches {
					res, err := svc.IssueBatch(ctx, admin, reqs)
					if err != nil {
						log.Fatalf("IssueBatch: %v", err)
					}
					mu.Lock()
					for _, r := range res {
						if r.Err != nil {
							if failed.Add(1) <= 3 {
								log.Printf("issue: %v", r.Err)
							}
							continue
						}
						ids = append(ids, r.Certificate.ID)
					}
					done := len(ids)
					mu.Unlock()
					if done%100000 < len(reqs) {
						log.Printf("%d: %d issued, %.0f/s", n, done, float64(done)/(took+time.Since(start)).Seconds())
					}
				}
			}()
		}
		for i := from; i < to; i += issuer.MaxBatch {
			reqs := make([]issuer.Request, min(issuer.MaxBatch, to-i))
			is := issuers[(i/issuer.MaxBatch)%len(issuers)].ID
			for j := range reqs {
				reqs[j] = request(rng, is, schemes)
			}
			batches <- reqs
		}
		close(batches)
		wg.Wait()
		if failed.Load() > 0 {
			log.Fatalf("%d certificates were refused", failed.Load())
		}
	}

	// 3% suspended, 1% withdrawn: distinct certificates, by the use case.
	// On the MongoDB test server every conditional update reads the whole
	// collection (see bench/README.md), so there they are certificates of
	// the first batches, acted on before the rest is issued.
	nSusp, nWd := n*3/100, n/100
	first := n
	if be.mongo {
		first = min(n, (nSusp+nWd+issuer.MaxBatch-1)/issuer.MaxBatch*issuer.MaxBatch)
	}
	issue(0, first)
	perm := rng.Perm(len(ids))
	start := time.Now()
	jobs := make(chan [2]string)
	actors := 8
	if be.mongo {
		actors = 1 // the test server runs one command at a time
	}
	var wg sync.WaitGroup
	for range actors {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range jobs {
				req := issuer.ActionRequest{Reason: "scale benchmark", ReasonCode: "0113"}
				if j[1] == issuer.ActionWithdraw {
					req.ReasonCode = "0102"
				}
				if _, err := svc.Act(ctx, admin, j[0], j[1], req, 0); err != nil {
					log.Fatalf("%s %s: %v", j[1], j[0], err)
				}
			}
		}()
	}
	acted := map[string]bool{}
	for k, i := range perm[:nSusp+nWd] {
		action := issuer.ActionSuspend
		if k >= nSusp {
			action = issuer.ActionWithdraw
		}
		acted[ids[i]] = true
		jobs <- [2]string{ids[i], action}
	}
	close(jobs)
	wg.Wait()
	f.seed.Lifecycle = time.Since(start)
	issue(first, n)
	f.seed.Took = took
	check(st.Close())
	log.Printf("%d: seeded in %s, lifecycle actions in %s", n, f.seed.Took.Round(time.Second), f.seed.Lifecycle.Round(time.Second))

	// Ids for the measurements: active ones (not touched above), in a
	// random order.
	active := make([]string, 0, len(ids))
	for _, i := range rng.Perm(len(ids)) {
		if !acted[ids[i]] {
			active = append(active, ids[i])
		}
	}
	check(os.WriteFile(filepath.Join(data, "ids.txt"), []byte(strings.Join(active[:min(len(active), 100000)], "\n")+"\n"), 0o644))
	check(os.WriteFile(filepath.Join(data, "seeded.json"), must(json.Marshal(f.seed)), 0o644))
}

// request is a realistic, random issue request of issuer is: a Chinese
// company with a valid USCC, ITSS (70%) or ISO/IEC 17021-1, issued on a
// day of the last 240 (before the first surveillance window opens).
func request(rng *mathrand.Rand, is string, schemes cert.Schemes) issuer.Request {
	cities := []string{"北京", "上海", "广州", "深圳", "杭州", "成都", "武汉", "南京", "西安", "天津", "重庆", "苏州"}
	words := []string{"华信", "中科", "东方", "新维", "联创", "数智", "恒通", "博远", "天成", "安泰", "云图", "智联", "合众", "星河", "正元", "金桥"}
	trades := []string{"信息技术", "软件", "数据服务", "网络科技", "系统集成", "电子", "云计算", "智能科技"}
	city, w1, w2, trade := cities[rng.IntN(len(cities))], words[rng.IntN(len(words))], words[rng.IntN(len(words))], trades[rng.IntN(len(trades))]
	name := city + w1 + w2 + trade + "有限公司"
	const alphabet = "0123456789ABCDEFGHJKLMNPQRTUWXY"
	b := []byte("91" + fmt.Sprintf("%06d", 110000+rng.IntN(540000)))
	for range 9 {
		b = append(b, alphabet[rng.IntN(len(alphabet))])
	}
	c, err := cert.USCCCheckChar(string(b))
	check(err)
	day := time.Now().AddDate(0, 0, -rng.IntN(240)).Format("2006-01-02")
	req := issuer.Request{
		Issuer: is, Scheme: "itss", Standard: "GB/T 28827.1-2022", Level: 1 + rng.IntN(4),
		Scope:          "信息系统运行维护服务，包括基础环境、硬件、软件及数据的例行操作、响应支持和优化改善",
		ScopeEn:        "IT operation and maintenance services",
		AssessmentBody: "中国电子技术标准化研究院", DecisionDate: day, ValidFrom: day,
		Organization: cert.Organization{Name: name, NameEn: fmt.Sprintf("%s %s%s Technology Co., Ltd.", city, w1, w2),
			USCC: string(append(b, c)), Address: city + "市示例区科技路" + strconv.Itoa(1+rng.IntN(999)) + "号", Country: "CN"},
	}
	if rng.IntN(10) < 3 {
		req.Scheme, req.Standard, req.Level = "iso17021", "ISO/IEC 27001:2022", 0
		req.Scope, req.ScopeEn = "计算机信息系统集成及运维服务相关的信息安全管理活动", "Information security management of IT integration and operation services"
	}
	if cats := schemes[req.Scheme].Categories; len(cats) > 0 {
		req.Category = cats[rng.IntN(len(cats))]
	}
	return req
}

type bucket struct {
	name                 string
	keys                 int
	alloc, inuse         int64
	leafPages, overflows int
}

// bucketStats reads bbolt's statistics of every top-level bucket (read
// only: the clean-close marker stays valid).
func bucketStats(path string) []bucket {
	db := must(bbolt.Open(path, 0o600, &bbolt.Options{ReadOnly: true}))
	defer db.Close()
	var out []bucket
	check(db.View(func(tx *bbolt.Tx) error {
		return tx.ForEach(func(name []byte, b *bbolt.Bucket) error {
			s := b.Stats()
			out = append(out, bucket{name: string(name), keys: s.KeyN,
				alloc: int64(s.BranchAlloc + s.LeafAlloc), inuse: int64(s.BranchInuse + s.LeafInuse),
				leafPages: s.LeafPageN, overflows: s.LeafOverflowN})
			return nil
		})
	}))
	sort.Slice(out, func(i, j int) bool { return out[i].alloc > out[j].alloc })
	return out
}

// measure starts certd on data and takes the figures, one at a time.
func measure(root, bin, data string, be backend, f *figures) {
	f.fileBytes = be.disk()
	ids := strings.Fields(string(must(os.ReadFile(filepath.Join(data, "ids.txt")))))
	token := strings.TrimSpace(string(must(os.ReadFile(filepath.Join(data, "admin.token")))))
	// Started is ready on bbolt, and on the MongoDB test server answering
	// a verdict: there /readyz reads the issuers and key rings within 2 s,
	// which fails as long as every command waits behind the full reads of
	// certd's outbox polls (see bench/README.md).
	ready := ""
	if be.mongo {
		ready = "/api/v1/verify/" + ids[0]
	}

	// A first start after seeding (or after an upgrade) may have work of
	// its own to do in the background; let it finish and stop cleanly.
	cmd, _ := startCertd(bin, data, be, ready)
	f.firstIdle, _ = waitIdle(cmd.Process.Pid)
	stopCertd(cmd, syscall.SIGTERM)

	cmd, base := startCertd(bin, data, be, ready)
	f.startClean = cmd.took
	f.rssStart = readMem(cmd.Process.Pid)
	// certd sweeps time-derived status changes in the background after it
	// starts (every certificate is read): measure once it is done.
	f.afterStart, f.afterStartCPU = waitIdle(cmd.Process.Pid)
	f.rssIdle = readMem(cmd.Process.Pid)
	client := &http.Client{Timeout: 5 * time.Minute}

	// Verify by id: on bbolt after every count is measured, with the
	// stores side by side (compareVerify); on the MongoDB test server
	// here, one request at a time (it runs one command at a time, and a
	// verdict there waits behind whatever full read runs: wrk's
	// connections would only queue).
	if be.mongo {
		rng := mathrand.New(mathrand.NewPCG(uint64(f.n), 6))
		f.verify = sequential(10, func() int { return get(client, base+"/api/v1/verify/"+ids[rng.IntN(len(ids))]) })
		f.verifyTool = "Go client, one request at a time, 10 random ids"
	}

	// The status list: the first fetch (built from the index) and then
	// fetches one after another.
	statusURL := base + "/status/default/revocation/1"
	f.statusFirst = sequential(1, func() int { return get(client, statusURL) })
	f.status = sequential(50, func() int { return get(client, statusURL) })

	// A single issue and a lifecycle action (suspend, then reinstate),
	// one after another.
	body := must(json.Marshal(request(mathrand.New(mathrand.NewPCG(1, 2)), "default", must(cert.NewSchemes(cert.BuiltinSchemes())))))
	writes := 50
	if be.mongo {
		writes = 5 // each conditional update reads the whole collection there
	}
	f.issue = sequential(writes, func() int {
		return post(client, base+"/api/v1/certificates", token, body)
	})
	k := 0
	f.action = sequential(writes, func() int {
		id := ids[k]
		k++
		if code := post(client, base+"/api/v1/certificates/"+id+"/suspend", token, []byte(`{"reason":"scale benchmark","reasonCode":"0113"}`)); code != 200 {
			return code
		}
		return post(client, base+"/api/v1/certificates/"+id+"/reinstate", token, []byte(`{"reason":"scale benchmark"}`))
	})

	// Search as it is now: a name that exists and a text that matches
	// nothing, a few times each.
	searches := 20
	if be.mongo {
		searches = 3 // about a second each there
	}
	f.searchHit = sequential(searches, func() int {
		return get(client, base+"/api/v1/search?q="+url.QueryEscape("北京华信中科"))
	})
	f.miss = sequential(searches, func() int {
		return get(client, base+"/api/v1/search?q="+url.QueryEscape("不存在的公司名称"))
	})
	// Misses of common terms only: English words of every name in an
	// order no name has, and Chinese pairs of characters that many names
	// have, never in this sequence (a name has two trade words, not
	// three).
	f.missCommon = sequential(searches, func() int {
		return get(client, base+"/api/v1/search?q="+url.QueryEscape("Technology Ltd"))
	})
	f.missCommonZh = sequential(searches, func() int {
		return get(client, base+"/api/v1/search?q="+url.QueryEscape("北京中科中科中科"))
	})
	f.rssAfter = readMem(cmd.Process.Pid)

	// kill -9, then the start that checks every page.
	stopCertd(cmd, syscall.SIGKILL)
	cmd, _ = startCertd(bin, data, be, ready)
	f.startUnclean = cmd.took
	stopCertd(cmd, syscall.SIGTERM)
}

type certdProcess struct {
	*exec.Cmd
	took time.Duration
}

// startCertd starts certd on data and waits until ready (a path, "" for
// /readyz) answers 200; took is the time from exec to that answer.
func startCertd(bin, data string, be backend, ready string) (*certdProcess, string) {
	if ready == "" {
		ready = "/readyz"
	}
	l := must(net.Listen("tcp", "127.0.0.1:0"))
	addr := l.Addr().String()
	l.Close()
	args := append([]string{"--addr", addr, "--data-dir", data, "--public-url", publicURL, "--log-level", "warn",
		"--rate-limit", "1000000", "--verdict-cache", strconv.Itoa(*verdicts)}, be.args...) // the load comes from one address
	cmd := exec.Command(bin, args...)
	var stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stderr, &stderr
	start := time.Now()
	check(cmd.Start())
	base := "http://" + addr
	for deadline := start.Add(10 * time.Minute); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		if r, err := http.Get(base + ready); err == nil {
			r.Body.Close()
			if r.StatusCode == 200 {
				return &certdProcess{cmd, time.Since(start)}, base
			}
		}
	}
	log.Fatalf("certd did not answer %s with 200 within 10 minutes:\n%s", ready, stderr.String())
	return nil, ""
}

func stopCertd(cmd *certdProcess, sig syscall.Signal) {
	check(cmd.Process.Signal(sig))
	_ = cmd.Wait()
}

// waitIdle waits until the process uses less than 5% of a core over a
// second, and returns how long that took and the CPU it used meanwhile.
func waitIdle(pid int) (time.Duration, time.Duration) {
	cpu := func() time.Duration { return max(proc.CPU(pid), 0) }
	start, first := time.Now(), cpu()
	prev := first
	for time.Since(start) < 10*time.Minute {
		time.Sleep(time.Second)
		now := cpu()
		if now-prev < 50*time.Millisecond {
			return time.Since(start), now - first
		}
		prev = now
	}
	return time.Since(start), prev - first
}

// procMem is the resident memory of a process: anonymous (the heap), and
// file pages (the mapped store, which is the page cache).
type procMem struct{ anon, file int64 }

func readMem(pid int) procMem {
	var m procMem
	for _, line := range strings.Split(string(must(os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)))), "\n") {
		fields := strings.Fields(line)
		if len(fields) < 2 {
			continue
		}
		kb, _ := strconv.ParseInt(fields[1], 10, 64)
		switch fields[0] {
		case "RssAnon:":
			m.anon = kb << 10
		case "RssFile:":
			m.file = kb << 10
		}
	}
	return m
}

func get(c *http.Client, u string) int {
	r, err := c.Get(u)
	if err != nil {
		return 0
	}
	defer r.Body.Close()
	_, _ = new(bytes.Buffer).ReadFrom(r.Body)
	return r.StatusCode
}

func post(c *http.Client, u, token string, body []byte) int {
	req := must(http.NewRequest("POST", u, bytes.NewReader(body)))
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Content-Type", "application/json")
	r, err := c.Do(req)
	if err != nil {
		return 0
	}
	defer r.Body.Close()
	_, _ = new(bytes.Buffer).ReadFrom(r.Body)
	return r.StatusCode
}

// sequential runs op n times one after another; codes other than 200 and
// 201 count as errors.
func sequential(n int, op func() int) latency {
	var took []time.Duration
	var errs int
	for range n {
		start := time.Now()
		if code := op(); code != 200 && code != 201 {
			errs++
		}
		took = append(took, time.Since(start))
	}
	return summarize(took, errs, 0)
}

// loop runs op from n goroutines for d (the Go client, without wrk).
func loop(n int, d time.Duration, op func() int) latency {
	var mu sync.Mutex
	var took []time.Duration
	var errs int
	var wg sync.WaitGroup
	end := time.Now().Add(d)
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(end) {
				start := time.Now()
				code := op()
				mu.Lock()
				took = append(took, time.Since(start))
				if code != 200 {
					errs++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	return summarize(took, errs, float64(len(took))/d.Seconds())
}

func summarize(took []time.Duration, errs int, rate float64) latency {
	slices.Sort(took)
	return latency{rate: rate, p50: took[len(took)/2], p99: took[len(took)*99/100], errors: errs}
}

func parseWrk(out string) latency {
	r, err := wrk.Parse(out)
	check(err)
	return latency{rate: r.Rate, p50: r.P50, p99: r.P99, errors: r.Errors}
}

func report(fs []*figures) {
	fmt.Printf("\ncertd at scale: %d CPUs (shared)\n", runtime.NumCPU())
	var names []string
	for _, f := range fs {
		if !slices.Contains(names, f.backend) {
			names = append(names, f.backend)
			fmt.Printf("  %s: %s\n", storeName(f.be), f.backend)
		}
	}
	fmt.Println()
	row := func(name string, v func(*figures) string) {
		fmt.Printf("%-44s", name)
		for _, f := range fs {
			fmt.Printf(" %22s", v(f))
		}
		fmt.Println()
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2f ms", float64(d.Microseconds())/1000) }
	lat := func(l latency) string {
		s := ms(l.p50) + " / " + ms(l.p99)
		if l.errors > 0 {
			s += fmt.Sprintf(" (%d errors)", l.errors)
		}
		return s
	}
	mb := func(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/(1<<20)) }
	row("store", func(f *figures) string { return storeName(f.be) })
	row("certificates", func(f *figures) string { return strconv.Itoa(f.n) })
	row("seeding (in process), certificates/s", func(f *figures) string {
		return fmt.Sprintf("%.0f in %s", float64(f.n)/f.seed.Took.Seconds(), f.seed.Took.Round(time.Second))
	})
	row("suspend 3% + withdraw 1% (use case)", func(f *figures) string { return f.seed.Lifecycle.Round(time.Second).String() })
	row("first start after seeding: busy for", func(f *figures) string { return f.firstIdle.Round(time.Second).String() })
	row("start after a clean stop (*: to a verdict)", func(f *figures) string {
		if f.be.mongo {
			return "*" + ms(f.startClean)
		}
		return ms(f.startClean)
	})
	row("start after kill -9 (bbolt: full check)", func(f *figures) string {
		if f.be.mongo {
			return "*" + ms(f.startUnclean)
		}
		return ms(f.startUnclean)
	})
	row("busy after start (status sweep): wall / CPU", func(f *figures) string {
		return f.afterStart.Round(time.Second).String() + " / " + f.afterStartCPU.Round(100*time.Millisecond).String()
	})
	row("verify by id, requests/s", func(f *figures) string {
		if f.verify.rate == 0 {
			return "(one at a time)"
		}
		return fmt.Sprintf("%.0f", f.verify.rate)
	})
	row("verify by id, p50 / p99", func(f *figures) string { return lat(f.verify) })
	row("status list, first fetch", func(f *figures) string { return ms(f.statusFirst.p50) })
	row("status list, p50 / p99 (sequential)", func(f *figures) string { return lat(f.status) })
	row("single issue, p50 / p99 (sequential)", func(f *figures) string { return lat(f.issue) })
	row("suspend + reinstate, p50 / p99", func(f *figures) string { return lat(f.action) })
	row("search, a name with hits, p50 / p99", func(f *figures) string { return lat(f.searchHit) })
	row("search, no match, p50 / p99", func(f *figures) string { return lat(f.miss) })
	row("search, no match, common words", func(f *figures) string { return lat(f.missCommon) })
	row("search, no match, common Chinese pairs", func(f *figures) string { return lat(f.missCommonZh) })
	row("RSS after start: heap / mapped file", func(f *figures) string { return mb(f.rssStart.anon) + " / " + mb(f.rssStart.file) })
	row("RSS after the sweep: heap / mapped file", func(f *figures) string { return mb(f.rssIdle.anon) + " / " + mb(f.rssIdle.file) })
	row("RSS after the runs: heap / mapped file", func(f *figures) string { return mb(f.rssAfter.anon) + " / " + mb(f.rssAfter.file) })
	row("store on disk", func(f *figures) string { return mb(f.fileBytes) })
	row("bytes on disk per certificate", func(f *figures) string { return fmt.Sprintf("%d", f.fileBytes/int64(f.n)) })
	if slices.ContainsFunc(fs, func(f *figures) bool { return f.be.mongo }) {
		sizes := func(v func(mongoSizes) int64) func(*figures) string {
			return func(f *figures) string {
				if !f.be.mongo {
					return "-"
				}
				return fmt.Sprintf("%s, %d B/cert", mb(v(f.mongoSizes)), v(f.mongoSizes)/int64(f.n))
			}
		}
		row("dbStats: documents (dataSize)", sizes(func(m mongoSizes) int64 { return m.Data }))
		row("dbStats: storageSize", sizes(func(m mongoSizes) int64 { return m.Storage }))
		row("dbStats: indexSize", sizes(func(m mongoSizes) int64 { return m.Indexes }))
		row("dbStats: totalSize", sizes(func(m mongoSizes) int64 { return m.Total }))
	}
	var bolts []*figures
	for _, f := range fs {
		if !f.be.mongo {
			bolts = append(bolts, f)
		}
	}
	if len(bolts) > 1 && len(bolts[len(bolts)-1].verifyRatio) > 0 {
		r := bolts[len(bolts)-1].verifyRatio
		fmt.Printf("\nbbolt: verify by id p50 at %d / at %d: %.2fx (median of %d alternating rounds; lowest %.2fx, highest %.2fx)\n",
			bolts[len(bolts)-1].n, bolts[0].n, r[len(r)/2], len(r), r[0], r[len(r)-1])
		for _, f := range bolts {
			fmt.Printf("  rounds at %d:", f.n)
			for _, l := range f.verifyRounds {
				fmt.Printf("  %.0f/s p50 %s", l.rate, ms(l.p50))
			}
			fmt.Println()
		}
	}
	for i, f := range fs {
		if i == 0 || f.be.mongo != fs[i-1].be.mongo {
			fmt.Printf("%s: verify by id measured with %s\n", storeName(f.be), f.verifyTool)
		}
	}
	if slices.ContainsFunc(fs, func(f *figures) bool { return f.be.mongo }) {
		fmt.Println("MongoDB test server: FerretDB v1 on SQLite in this process, behind a proxy that runs one command at a time;",
			"every filter but {_id} reads the whole collection, and each certd instance polls its outbox with such a read",
			"every 250 ms, so every request waits behind one: for reference, not a measure of MongoDB (see bench/README.md).",
			"* start to the first verdict answered (/readyz needs its reads within 2 s).")
	}
	for _, f := range fs {
		if len(f.buckets) == 0 {
			continue
		}
		fmt.Printf("\nwhere the bytes go at %d certificates (bbolt buckets: allocated pages, bytes in use, keys):\n", f.n)
		var total int64
		for _, b := range f.buckets {
			total += b.alloc
		}
		for _, b := range f.buckets {
			if b.alloc < total/200 {
				continue
			}
			fmt.Printf("  %-28s %9s %5.1f%%  in use %3.0f%%  %9d keys  %6.0f B/cert  %d overflow pages\n", b.name, mb(b.alloc),
				100*float64(b.alloc)/float64(total), 100*float64(b.inuse)/float64(max(b.alloc, 1)), b.keys, float64(b.alloc)/float64(f.n), b.overflows)
		}
		fmt.Printf("  %-28s %9s (the rest of the file: free pages, meta, freelist, growth ahead of the data)\n", "buckets together", mb(total))
	}
}

// storeName is the short name of a column's store.
func storeName(be backend) string {
	if be.mongo {
		return "MongoDB test"
	}
	return "bbolt"
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
