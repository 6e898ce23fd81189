package main

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"sync"
	"time"

	"github.com/certd/certd/cert"
)

// csvOptions are the flags of "issue --csv".
type csvOptions struct {
	result        string
	concurrency   int
	dryRun        bool
	schemes       cert.Schemes
	defaultIssuer string
}

// Row outcomes in the result CSV.
const (
	rowCreated     = "created"
	rowExisting    = "existing"
	rowFailed      = "failed"
	rowInterrupted = "interrupted"
	rowNotSent     = "not_sent"
)

// rowResult is one line of the result CSV.
type rowResult struct {
	Row    int    `json:"row"`
	RowID  string `json:"rowId,omitempty"`
	ID     string `json:"id,omitempty"`
	Number string `json:"number,omitempty"`
	Status string `json:"status"`
	Error  string `json:"error,omitempty"`
}

// importSummary is what an import prints at the end.
type importSummary struct {
	Rows        int     `json:"rows"`
	Created     int     `json:"created"`
	Existing    int     `json:"existing"`
	Failed      int     `json:"failed"`
	Interrupted int     `json:"interrupted"`
	NotSent     int     `json:"notSent"`
	Seconds     float64 `json:"seconds"`
	PerSecond   float64 `json:"perSecond"`
	Result      string  `json:"result"`
}

func (a *app) importCSV(path string, opts csvOptions) int {
	if opts.concurrency < 1 || opts.concurrency > 256 {
		return a.report(errors.New("--concurrency: must be from 1 to 256"))
	}
	f, err := os.Open(path)
	if err != nil {
		return a.report(fmt.Errorf("--csv: %w", fileError(err)))
	}
	defer f.Close()
	chk := csvCheck{Schemes: opts.schemes, Now: a.now(), DefaultIssuer: opts.defaultIssuer}
	var c *client
	if !opts.dryRun && a.g.Token != "" {
		if c, err = a.newClient(true); err != nil {
			return a.report(err)
		}
		// An admin key must name the issuer on every row: learn whether the
		// key is one, and which issuers exist, before validating.
		var list struct {
			Items []struct {
				ID string `json:"id"`
			} `json:"items"`
		}
		_, err := c.call(a.ctx, request{method: http.MethodGet, path: "/api/v1/issuers", auth: true}, &list)
		var ae *apiError
		switch {
		case err == nil:
			chk.Issuers = map[string]bool{}
			for _, is := range list.Items {
				chk.Issuers[is.ID] = true
			}
		case errors.As(err, &ae) && ae.status == http.StatusForbidden:
			// An issuer key: certd fills in its issuer.
		default:
			return a.report(err)
		}
	}
	file, err := readCSV(f, chk)
	if err != nil {
		return a.report(fmt.Errorf("%s: %w", path, err))
	}
	if len(file.Errs) > 0 {
		if a.jsonOutput() {
			_ = printJSON(a.stdout, struct {
				Errors []rowError `json:"errors"`
			}{file.Errs})
		}
		fmt.Fprintf(a.stderr, "certctl: %s: %d of %d rows are invalid; nothing was sent:\n", path, file.Bad, len(file.Rows)+file.Bad)
		for _, e := range file.Errs {
			fmt.Fprintf(a.stderr, "  %s\n", e)
		}
		return exitFailure
	}
	rows := file.Rows
	if opts.dryRun {
		fmt.Fprintf(a.stdout, "%s: %d rows are valid (--dry-run: nothing sent)\n", path, len(rows))
		return exitOK
	}
	if c == nil {
		// No API key: newClient says where to set one.
		_, err := a.newClient(true)
		return a.report(err)
	}
	resultPath := opts.result
	if resultPath == "" {
		resultPath = path + ".result.csv"
	}
	// Fail before sending when the result cannot be written.
	if err := checkWritable(resultPath); err != nil {
		return a.report(fmt.Errorf("--result: %w", err))
	}

	// An import rides out a restart of certd: every request carries its
	// Idempotency-Key, so a retry never issues twice.
	c.retries, c.dialRetries = 8, 8
	start := time.Now()
	prog := newProgress(rawWriter(a.stderr), len(rows))
	results := sendRows(a.ctx, c, rows, opts.concurrency, prog)
	prog.finish()
	elapsed := time.Since(start)

	sum := importSummary{Rows: len(results), Seconds: elapsed.Seconds(), Result: resultPath}
	// fatal is why the import stopped: the reason given to the rows not
	// sent, else the error of a row cut off in flight.
	var fatal, cutOff string
	for _, r := range results {
		switch r.Status {
		case rowCreated:
			sum.Created++
		case rowExisting:
			sum.Existing++
		case rowFailed:
			sum.Failed++
		case rowInterrupted:
			sum.Interrupted++
			cutOff = r.Error
		case rowNotSent:
			sum.NotSent++
			fatal = r.Error
		}
	}
	if fatal == "" {
		fatal = cutOff
	}
	if elapsed > 0 {
		sum.PerSecond = float64(sum.Created+sum.Existing) / elapsed.Seconds()
	}
	if err := writeResults(resultPath, results); err != nil {
		a.printErr(fmt.Errorf("write result CSV: %w", err))
		return exitFailure
	}
	if a.jsonOutput() {
		_ = printJSON(a.stdout, sum)
	} else {
		fmt.Fprintf(a.stdout, "%d rows: %d created, %d already issued by an earlier run, %d failed", sum.Rows, sum.Created, sum.Existing, sum.Failed)
		if n := sum.Interrupted + sum.NotSent; n > 0 {
			fmt.Fprintf(a.stdout, ", %d not done", n)
		}
		fmt.Fprintf(a.stdout, "\nin %.1fs (%.0f certificates/s); results in %s\n", sum.Seconds, sum.PerSecond, resultPath)
	}
	if sum.Failed > 0 {
		fmt.Fprintf(a.stderr, "certctl: %d rows failed: see the error column of %s; fix them and run the same file again (rows already issued are not issued twice)\n", sum.Failed, resultPath)
	}
	if fatal != "" {
		fmt.Fprintf(a.stderr, "certctl: stopped: %s\ncertctl: run the same command again to finish: rows already issued are not issued twice\n", fatal)
	}
	if sum.Failed+sum.Interrupted+sum.NotSent > 0 {
		return exitFailure
	}
	return exitOK
}

// sendRows issues every row with up to concurrency requests in flight and
// returns one result per row, in row order. An error that no other row can
// escape (a refused API key, an unreachable server after retries, an
// interrupt) stops the import: rows in flight are "interrupted", rows not
// yet sent "not_sent".
func sendRows(ctx context.Context, c *client, rows []csvRow, concurrency int, prog *progress) []rowResult {
	ctx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	results := make([]rowResult, len(rows))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(concurrency, len(rows)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = sendRow(ctx, c, rows[i], stop)
				prog.add(results[i].Status == rowFailed)
			}
		}()
	}
	i := 0
feed:
	for ; i < len(rows); i++ {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	reason := "the import stopped before this row was sent"
	if cause := context.Cause(ctx); cause != nil && !errors.Is(cause, context.Canceled) {
		reason = cause.Error()
	} else if ctx.Err() != nil {
		reason = "interrupted"
	}
	for ; i < len(rows); i++ {
		results[i] = rowResult{Row: rows[i].Line, RowID: rows[i].RowID, Status: rowNotSent, Error: reason}
	}
	return results
}

// sendRow issues one row; stop ends the whole import on an error that
// would fail every row.
func sendRow(ctx context.Context, c *client, r csvRow, stop context.CancelCauseFunc) rowResult {
	res := rowResult{Row: r.Line, RowID: r.RowID}
	if ctx.Err() != nil {
		res.Status, res.Error = rowNotSent, "the import stopped before this row was sent"
		return res
	}
	resp, err := c.call(ctx, request{
		method: http.MethodPost, path: "/api/v1/certificates", body: r.Req, auth: true, retry: retryAlways,
		header: http.Header{"Idempotency-Key": {r.Key}},
	}, nil)
	var ae *apiError
	var ce *connError
	switch {
	case errors.As(err, &ae):
		res.Status, res.Error = rowFailed, rowMessage(ae)
		if ae.status == http.StatusUnauthorized {
			stop(errors.New("the API key was refused (HTTP 401): check --token, $CERTD_TOKEN or the config file"))
		}
		return res
	case errors.As(err, &ce):
		// The request may have been handled before the connection broke.
		res.Status, res.Error = rowInterrupted, ce.Error()+"; it may or may not have been issued: run the file again"
		if ctx.Err() == nil {
			stop(errors.New(ce.Error()))
		}
		return res
	case err != nil:
		res.Status, res.Error = rowFailed, err.Error()
		return res
	}
	var crt struct {
		ID     string `json:"id"`
		Number string `json:"number"`
	}
	if err := json.Unmarshal(resp.body, &crt); err != nil || crt.ID == "" {
		res.Status, res.Error = rowFailed, "certd answered 201 without a certificate"
		return res
	}
	res.ID, res.Number, res.Status = crt.ID, crt.Number, rowCreated
	if resp.header.Get("Idempotent-Replayed") == "true" {
		res.Status = rowExisting
	}
	return res
}

// rowMessage is the error column of a failed row: the problem's detail and
// each field error, named by its CSV column.
func rowMessage(e *apiError) string {
	if e.problem == nil {
		return e.Error()
	}
	msg := e.problem.Title
	if e.problem.Detail != "" && len(e.problem.Errors) == 0 {
		msg += ": " + e.problem.Detail
	}
	for _, f := range e.problem.Errors {
		msg += "; " + columnOf(f.Field) + ": " + f.Message
	}
	msg += fmt.Sprintf(" (HTTP %d", e.status)
	if e.requestID != "" {
		msg += ", request id " + e.requestID
	}
	return msg + ")"
}

func checkWritable(path string) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, ".certctl-*")
	if err != nil {
		return fileError(err)
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

// writeResults writes the result CSV atomically (a temporary file renamed
// over the target), rows in file order.
func writeResults(path string, results []rowResult) error {
	sort.Slice(results, func(i, j int) bool { return results[i].Row < results[j].Row })
	f, err := os.CreateTemp(filepath.Dir(path), ".certctl-result-*")
	if err != nil {
		return fileError(err)
	}
	defer os.Remove(f.Name())
	w := csv.NewWriter(f)
	_ = w.Write([]string{"row", "id", "number", "status", "error", "row_id"})
	for _, r := range results {
		_ = w.Write(csvSafeRow([]string{strconv.Itoa(r.Row), r.ID, r.Number, r.Status, r.Error, r.RowID}))
	}
	w.Flush()
	if err := w.Error(); err != nil {
		f.Close()
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	return os.Rename(f.Name(), path)
}
