package console

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/importfile"
	"github.com/certd/certd/report"
)

// maxImport bounds an uploaded import file.
const maxImport = 16 << 20

// importJob is one import being issued: its rows, and each row's outcome
// as it arrives. Jobs live in this process (a reload of the progress page
// finds its job here; a restart loses the page but not a certificate:
// uploading the file again replays every row by its Idempotency-Key).
type importJob struct {
	ID      string
	Issuer  string
	Name    string
	Started time.Time

	mu      sync.Mutex
	rows    []importfile.Row
	results []importResult
	done    int
}

type importResult struct {
	Line     int
	RowID    string
	Status   string // issued, replayed, failed
	ID       string
	Number   string
	Message  string
	Replayed bool
}

func (j *importJob) snapshot() (done, total int, results []importResult) {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.done, len(j.rows), append([]importResult(nil), j.results...)
}

// imports holds the jobs of this process, at most maxJobs (the oldest
// finished ones are forgotten first).
type imports struct {
	mu   sync.Mutex
	jobs map[string]*importJob
}

const maxJobs = 50

func (im *imports) add(j *importJob) {
	im.mu.Lock()
	defer im.mu.Unlock()
	if im.jobs == nil {
		im.jobs = map[string]*importJob{}
	}
	for len(im.jobs) >= maxJobs {
		var oldest *importJob
		for _, o := range im.jobs {
			if d, t, _ := o.snapshot(); d == t && (oldest == nil || o.Started.Before(oldest.Started)) {
				oldest = o
			}
		}
		if oldest == nil {
			break
		}
		delete(im.jobs, oldest.ID)
	}
	im.jobs[j.ID] = j
}

func (im *imports) get(issuer, id string) *importJob {
	im.mu.Lock()
	defer im.mu.Unlock()
	if j := im.jobs[id]; j != nil && j.Issuer == issuer {
		return j
	}
	return nil
}

func (c *Console) importPage(q *request) error {
	if !q.principal().CanWrite(q.user.Issuer) {
		return errors.Join(errors.New("a viewer cannot import"), cert.ErrForbidden)
	}
	return c.page(q, http.StatusOK, "import", map[string]any{"Columns": importfile.Columns})
}

// upload reads an import file, checks every row, and shows every problem
// by row and column without issuing anything; a file without problems
// starts a job and goes to its progress page.
func (c *Console) upload(q *request) error {
	if !q.principal().CanWrite(q.user.Issuer) {
		return errors.Join(errors.New("a viewer cannot import"), cert.ErrForbidden)
	}
	again := func(status int, msg string, errs []importfile.RowError) error {
		return c.page(q, status, "import", map[string]any{"Columns": importfile.Columns, "Error": msg, "RowErrors": errs})
	}
	f, hdr, err := q.r.FormFile("file")
	if err != nil {
		return again(http.StatusUnprocessableEntity, "choose a CSV file to import (at most 16 MiB)", nil)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxImport))
	if err != nil {
		return err
	}
	if bytes.HasPrefix(data, []byte("PK\x03\x04")) { // an XLSX workbook: its first sheet, as CSV
		if data, err = xlsxAsCSV(data); err != nil {
			return again(http.StatusUnprocessableEntity, err.Error(), nil)
		}
	}
	file, err := importfile.Read(bytes.NewReader(data), importfile.Check{Schemes: c.iss.Schemes(), Now: c.now(), DefaultIssuer: q.user.Issuer})
	if err != nil {
		return again(http.StatusUnprocessableEntity, err.Error(), nil)
	}
	if len(file.Errs) > 0 {
		return again(http.StatusUnprocessableEntity, strconv.Itoa(file.Bad)+" rows have problems; nothing was issued. Correct them and upload the file again.", file.Errs)
	}
	for _, r := range file.Rows {
		if r.Req.Issuer != q.user.Issuer {
			return again(http.StatusUnprocessableEntity, "", []importfile.RowError{{Row: r.Line, Column: "issuer", Message: "must be empty or " + q.user.Issuer + ": you import for your own issuer"}})
		}
	}
	job := &importJob{ID: cert.NewID(), Issuer: q.user.Issuer, Name: hdr.Filename, Started: c.now(), rows: file.Rows}
	c.jobs.add(job)
	go c.run(job, q.principal())
	return seeOther(q.w, q.r, prefix+"/import/"+job.ID)
}

// xlsxAsCSV turns the first sheet of a workbook into the CSV the import
// reads, so that one set of rules checks both.
func xlsxAsCSV(data []byte) ([]byte, error) {
	rows, err := report.ReadTable(bytes.NewReader(data))
	if err != nil {
		return nil, err
	}
	width := 0
	for _, r := range rows {
		width = max(width, len(r))
	}
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	for _, r := range rows {
		full := make([]string, width)
		copy(full, r)
		if err := w.Write(full); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}

// run issues a job's rows, a few at a time, each with its row's
// Idempotency-Key: a row already issued (by an earlier upload, by certctl)
// is answered with its certificate and counted as replayed.
func (c *Console) run(job *importJob, p cert.Principal) {
	ctx := context.Background()
	sem := make(chan struct{}, 8)
	var wg sync.WaitGroup
	for _, row := range job.rows {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			res := importResult{Line: row.Line, RowID: row.RowID}
			crt, replayed, err := c.iss.Issue(ctx, p, row.Req, row.Key)
			switch {
			case err != nil:
				res.Status, res.Message = "failed", err.Error()
			case replayed:
				res.Status, res.ID, res.Number, res.Replayed = "replayed", crt.ID, crt.Number, true
			default:
				res.Status, res.ID, res.Number = "issued", crt.ID, crt.Number
			}
			job.mu.Lock()
			job.results = append(job.results, res)
			job.done++
			job.mu.Unlock()
		}()
	}
	wg.Wait()
	c.dash.invalidate(job.Issuer)
}

func (c *Console) importJobPage(q *request) error {
	job := c.jobs.get(q.user.Issuer, q.r.PathValue("job"))
	if job == nil {
		return cert.ErrNotFound
	}
	done, total, results := job.snapshot()
	counts := map[string]int{}
	for _, r := range results {
		counts[r.Status]++
	}
	failed := make([]importResult, 0)
	for _, r := range results {
		if r.Status == "failed" {
			failed = append(failed, r)
		}
	}
	pct := 100
	if total > 0 {
		pct = done * 100 / total
	}
	return c.page(q, http.StatusOK, "importjob", map[string]any{"Job": job, "Done": done, "Total": total, "Pct": pct,
		"Finished": done == total, "Counts": counts, "Failed": failed})
}

// importResultCSV is the result file: one line per row with its outcome.
func (c *Console) importResultCSV(q *request) error {
	job := c.jobs.get(q.user.Issuer, q.r.PathValue("job"))
	if job == nil {
		return cert.ErrNotFound
	}
	_, _, results := job.snapshot()
	var buf bytes.Buffer
	buf.WriteString("\ufeff")
	w := csv.NewWriter(&buf)
	_ = w.Write([]string{"row", "row_id", "status", "id", "number", "message"})
	for _, r := range results {
		_ = w.Write([]string{strconv.Itoa(r.Line), importfile.SafeCell(r.RowID), r.Status, r.ID, importfile.SafeCell(r.Number), importfile.SafeCell(r.Message)})
	}
	w.Flush()
	q.w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	q.w.Header().Set("Content-Disposition", `attachment; filename="import-result.csv"`)
	_, err := q.w.Write(buf.Bytes())
	return err
}
