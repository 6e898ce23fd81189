package main

import (
	"context"
	"encoding/csv"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// importCSV writes an import file of n valid rows.
func importCSV(t testing.TB, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("row_id,issuer,scheme,number,standard,category,level,scope,scope_en,org_name,org_name_en,uscc,address,country\n")
	cats := []string{"运行维护", "咨询设计", "数据中心", "云计算"}
	for i := 1; i <= n; i++ {
		fmt.Fprintf(&b, "R%05d,default,itss,,GB/T 28827.1-2022,%s,%d,信息系统运行维护服务,IT operation and maintenance,测试企业%05d有限公司,Test Enterprise %05d Co. Ltd.,%s,北京市海淀区测试路%d号,CN\n",
			i, cats[i%4], 1+i%4, i, i, uscc(t, i), i)
	}
	return writeFile(t, "certificates.csv", b.String())
}

// process is a running certctl binary.
type process struct {
	cmd  *exec.Cmd
	out  *syncBuffer
	done chan struct{}
	err  error
}

// certctlProcess starts the certctl binary against s.
func certctlProcess(t testing.TB, s *testServer, args ...string) *process {
	t.Helper()
	_, certctl := binaries(t)
	p := &process{cmd: exec.Command(certctl, args...), out: &syncBuffer{}, done: make(chan struct{})}
	p.cmd.Env = append(os.Environ(), "CERTD_SERVER="+s.URL, "CERTD_TOKEN="+s.IssuerKey, "HOME="+t.TempDir(), "XDG_CONFIG_HOME=")
	p.cmd.Stdout, p.cmd.Stderr = p.out, p.out
	p.cmd.SysProcAttr = childAttr()
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { p.err = p.cmd.Wait(); close(p.done) }()
	t.Cleanup(func() {
		_ = p.cmd.Process.Kill()
		<-p.done
	})
	return p
}

// TestCSVImportResumesAfterKill issues 10,000 rows, kills certctl part way,
// runs the same file again, and checks that exactly 10,000 certificates
// exist, none twice, and that the result CSV accounts for every row.
func TestCSVImportResumesAfterKill(t *testing.T) {
	if testing.Short() {
		t.Skip("issues 10,000 certificates")
	}
	const rows = 10000
	s := startServer(t)
	file := importCSV(t, rows)
	resultPath := filepath.Join(t.TempDir(), "result.csv")
	args := []string{"issue", "--csv", file, "--result", resultPath, "--concurrency", "8"}

	// First run: killed with SIGKILL once the server has issued 2,000.
	p := certctlProcess(t, s, args...)
	deadline := time.Now().Add(5 * time.Minute)
	killedAt := -1
	for killedAt < 0 {
		select {
		case <-p.done:
			t.Fatalf("certctl ended before it could be interrupted (%v):\n%s", p.err, p.out.String())
		default:
		}
		if n := s.issuedCount(t); n >= 2000 {
			if err := p.cmd.Process.Kill(); err != nil {
				t.Fatal(err)
			}
			<-p.done
			killedAt = n
		} else if time.Now().After(deadline) {
			t.Fatalf("certd issued fewer than 2,000 certificates in 5 minutes:\n%s", p.out.String())
		} else {
			time.Sleep(10 * time.Millisecond)
		}
	}
	afterKill := s.issuedCount(t)
	if afterKill >= rows {
		t.Fatalf("all %d rows were issued before the kill: the test did not interrupt anything", afterKill)
	}
	t.Logf("killed certctl after %d certificates (%d issued once in-flight requests finished)", killedAt, afterKill)

	// Second run: the same command, to the end.
	p = certctlProcess(t, s, args...)
	select {
	case <-p.done:
		if p.err != nil {
			t.Fatalf("second run: %v\n%s", p.err, p.out.String())
		}
	case <-time.After(10 * time.Minute):
		t.Fatalf("second run did not finish in 10 minutes:\n%s", p.out.String())
	}
	t.Logf("second run:\n%s", lastLines(p.out.String(), 3))

	// Exactly 10,000 certificates, no id or number twice.
	all := s.allCertificates(t)
	if len(all) != rows {
		t.Fatalf("certd holds %d certificates, want exactly %d", len(all), rows)
	}
	ids, numbers, usccs := map[string]bool{}, map[string]bool{}, map[string]bool{}
	for _, c := range all {
		if ids[c.ID] || numbers[c.Number] || usccs[c.Organization.USCC] {
			t.Fatalf("certificate %s (number %s, uscc %s) appears twice", c.ID, c.Number, c.Organization.USCC)
		}
		ids[c.ID], numbers[c.Number], usccs[c.Organization.USCC] = true, true, true
	}
	if got := s.issuedCount(t); got != rows {
		t.Errorf("certd counted %d issuances, want %d", got, rows)
	}

	// The result CSV: one line per row, each row once, every id a
	// certificate of the server, every certificate in it.
	f, err := os.Open(resultPath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(recs[0], ","); got != "row,id,number,status,error,row_id" {
		t.Fatalf("result header = %q", got)
	}
	recs = recs[1:]
	if len(recs) != rows {
		t.Fatalf("result CSV has %d rows, want %d", len(recs), rows)
	}
	seenRow, seenID := map[int]bool{}, map[string]bool{}
	counts := map[string]int{}
	for _, r := range recs {
		row, err := strconv.Atoi(r[0])
		if err != nil || row < 2 || row > rows+1 || seenRow[row] {
			t.Fatalf("result row %q: not a row of the file, or twice", r[0])
		}
		seenRow[row] = true
		counts[r[3]]++
		if r[5] != fmt.Sprintf("R%05d", row-1) {
			t.Errorf("row %d has row_id %q", row, r[5])
		}
		if !ids[r[1]] || seenID[r[1]] {
			t.Fatalf("row %d: id %q is not a certificate of certd, or repeats", row, r[1])
		}
		seenID[r[1]] = true
		if r[2] == "" || r[4] != "" {
			t.Errorf("row %d: number %q, error %q", row, r[2], r[4])
		}
	}
	if counts[rowCreated]+counts[rowExisting] != rows {
		t.Fatalf("statuses %v: want every row created or existing", counts)
	}
	if counts[rowExisting] < killedAt {
		t.Errorf("%d rows existing, but %d were issued before the kill: they must be found, not issued again", counts[rowExisting], killedAt)
	}
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// BenchmarkCSVImport issues a 10,000-row CSV with the certctl binary into a
// fresh certd on the embedded store, with 8 (the default) and 32 requests
// in flight, and reports certificates per second.
// Run: go test -run '^$' -bench CSVImport -benchtime 1x ./cmd/certctl/
func BenchmarkCSVImport(b *testing.B) {
	const rows = 10000
	file := importCSV(b, rows)
	for _, conc := range []int{8, 32} {
		b.Run(fmt.Sprintf("concurrency=%d", conc), func(b *testing.B) {
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				s := startServer(b)
				resultPath := filepath.Join(b.TempDir(), "result.csv")
				_, certctl := binaries(b)
				ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
				cmd := exec.CommandContext(ctx, certctl, "issue", "--csv", file, "--result", resultPath, "--concurrency", strconv.Itoa(conc))
				cmd.Env = append(os.Environ(), "CERTD_SERVER="+s.URL, "CERTD_TOKEN="+s.IssuerKey, "HOME="+b.TempDir())
				cmd.SysProcAttr = childAttr()
				b.StartTimer()
				start := time.Now()
				out, err := cmd.CombinedOutput()
				elapsed := time.Since(start)
				b.StopTimer()
				cancel()
				if err != nil {
					b.Fatalf("import: %v\n%s", err, out)
				}
				if n := s.issuedCount(b); n != rows {
					b.Fatalf("issued %d, want %d", n, rows)
				}
				b.ReportMetric(rows/elapsed.Seconds(), "certs/s")
				s.stop(b)
				b.StartTimer()
			}
		})
	}
}
