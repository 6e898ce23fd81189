package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// certID checks the shape of a certificate id argument; a verification URL
// is accepted too.
func certID(arg string) (string, error) {
	arg = strings.TrimSpace(arg)
	if _, id, ok := parseVerifyURL(arg); ok {
		return id, nil
	}
	id, ok := cert.NormalizeID(arg)
	if !ok {
		return "", fmt.Errorf("%q is not a certificate id (26 characters such as 6P74JZDPWJQBXSBR1AXDWR697C); find it with certctl list --number NUMBER", arg)
	}
	return id, nil
}

func certificateCommands() []*command {
	var (
		q       listQuery
		all     bool
		pdf, qr bool
		out     string
		qrSize  int
	)
	return []*command{
		{
			name: "get", group: "Certificates", summary: "show a certificate",
			synopsis: "get ID",
			example:  "  certctl get 6P74JZDPWJQBXSBR1AXDWR697C\n  certctl get 6P74JZDPWJQBXSBR1AXDWR697C --output json",
			args:     argCount{1, 1, "a certificate ID"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				id, err := certID(args[0])
				if err != nil {
					return a.report(err)
				}
				c, err := a.newClient(true)
				if err != nil {
					return a.report(err)
				}
				resp, err := c.call(a.ctx, request{method: http.MethodGet, path: "/api/v1/certificates/" + id, auth: true}, nil)
				if err != nil {
					return a.report(err)
				}
				if err := a.printCertificate(resp.body); err != nil {
					return a.report(err)
				}
				return exitOK
			},
		},
		{
			name: "list", group: "Certificates", summary: "list certificates, with filters",
			synopsis: "list [--issuer ID] [--scheme ID] [--uscc CODE] [--number N] [--limit N] [--all]",
			details:  "Lists one page (--limit, up to 1000) and prints the cursor of the next; --all follows\nthe cursor to the end.",
			example:  "  certctl list --uscc 91110108MA0123456G\n  certctl list --issuer default --all --output json > all.json",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&q.issuer, "issuer", "", "only this issuer `id`")
				fs.StringVar(&q.scheme, "scheme", "", "only this scheme `id`")
				fs.StringVar(&q.uscc, "uscc", "", "only this organization (unified social credit `code`)")
				fs.StringVar(&q.number, "number", "", "only this certificate `number`")
				fs.IntVar(&q.limit, "limit", 100, "certificates per page, 1 to 1000")
				fs.StringVar(&q.cursor, "cursor", "", "continue from this `cursor` (printed after a page)")
				fs.BoolVar(&all, "all", false, "follow the cursor to the last page")
			},
			run: func(a *app, _ []string) int { return a.list(q, all) },
		},
		{
			name: "events", group: "Certificates", summary: "show a certificate's events and status history",
			synopsis: "events ID",
			example:  "  certctl events 6P74JZDPWJQBXSBR1AXDWR697C",
			args:     argCount{1, 1, "a certificate ID"},
			setup:    func(*flag.FlagSet) {},
			run:      func(a *app, args []string) int { return a.events(args[0]) },
		},
		{
			name: "download", group: "Certificates", summary: "download a certificate's PDF or QR code",
			synopsis: "download ID (--pdf | --qr) [-o FILE]",
			details:  "Writes ID.pdf or ID.qr.png in the current directory unless -o names a file (- for stdout).",
			example:  "  certctl download 6P74JZDPWJQBXSBR1AXDWR697C --pdf -o certificate.pdf\n  certctl download 6P74JZDPWJQBXSBR1AXDWR697C --qr --size 1024",
			args:     argCount{1, 1, "a certificate ID"},
			setup: func(fs *flag.FlagSet) {
				fs.BoolVar(&pdf, "pdf", false, "the certificate PDF (GET /v/ID/certificate.pdf)")
				fs.BoolVar(&qr, "qr", false, "the QR code PNG (GET /v/ID/qr.png)")
				fs.IntVar(&qrSize, "size", 0, "QR code size in `pixels`, 64 to 2048 (default: the server's)")
				fs.StringVar(&out, "o", "", "output `FILE` (- for stdout)")
			},
			run: func(a *app, args []string) int { return a.download(args[0], pdf, qr, qrSize, out) },
		},
	}
}

type listQuery struct {
	issuer, scheme, uscc, number, cursor string
	limit                                int
}

func (a *app) list(q listQuery, all bool) int {
	if q.limit < 1 || q.limit > 1000 {
		return a.report(errors.New("--limit: must be from 1 to 1000"))
	}
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	var items []json.RawMessage
	cursor := q.cursor
	next := ""
	for {
		v := url.Values{}
		for k, s := range map[string]string{"issuer": q.issuer, "scheme": q.scheme, "uscc": q.uscc, "number": q.number, "cursor": cursor} {
			if s != "" {
				v.Set(k, s)
			}
		}
		v.Set("limit", strconv.Itoa(q.limit))
		var page struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next"`
		}
		if _, err := c.call(a.ctx, request{method: http.MethodGet, path: "/api/v1/certificates", query: v, auth: true}, &page); err != nil {
			return a.report(err)
		}
		items = append(items, page.Items...)
		next = page.Next
		if !all || next == "" {
			break
		}
		if next == cursor {
			return a.report(errors.New("certd returned the same cursor twice: stopping"))
		}
		cursor = next
	}
	if a.jsonOutput() {
		if items == nil {
			items = []json.RawMessage{}
		}
		out := struct {
			Items []json.RawMessage `json:"items"`
			Next  string            `json:"next,omitempty"`
		}{items, next}
		if err := printJSON(a.stdout, out); err != nil {
			return a.report(err)
		}
		return exitOK
	}
	rows := make([][]string, 0, len(items))
	for _, raw := range items {
		var c certificate
		if err := json.Unmarshal(raw, &c); err != nil {
			return a.report(fmt.Errorf("read certificate: %w", err))
		}
		rows = append(rows, []string{c.ID, c.Number, c.Issuer, c.Scheme, string(c.Status), inclusiveDay(c.ValidUntil), c.Organization.Name})
	}
	printTable(a.stdout, []string{"ID", "NUMBER", "ISSUER", "SCHEME", "STATUS", "VALID UNTIL", "ORGANIZATION"}, rows)
	if next != "" {
		fmt.Fprintf(a.stderr, "more: certctl list --cursor %s (or --all)\n", next)
	}
	return exitOK
}

func (a *app) events(arg string) int {
	id, err := certID(arg)
	if err != nil {
		return a.report(err)
	}
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	resp, err := c.call(a.ctx, request{method: http.MethodGet, path: "/api/v1/certificates/" + id + "/events", auth: true}, nil)
	if err != nil {
		return a.report(err)
	}
	if a.jsonOutput() {
		if err := printJSON(a.stdout, json.RawMessage(resp.body)); err != nil {
			return a.report(err)
		}
		return exitOK
	}
	var ev struct {
		ID      string        `json:"id"`
		Status  cert.Status   `json:"status"`
		Events  []cert.Event  `json:"events"`
		History []cert.Change `json:"history"`
	}
	if err := json.Unmarshal(resp.body, &ev); err != nil {
		return a.report(fmt.Errorf("read events: %w", err))
	}
	fmt.Fprintf(a.stdout, "certificate %s: %s\n\nevents:\n", ev.ID, ev.Status)
	rows := make([][]string, 0, len(ev.Events))
	for _, e := range ev.Events {
		detail := e.Reason
		if e.AuditRef != "" {
			detail = strings.TrimSpace(detail + " (audit " + e.AuditRef + ")")
		}
		if e.Until != nil {
			detail = strings.TrimSpace(detail + " until " + e.Until.Format(cert.DateLayout))
		}
		if e.Related != "" {
			detail = strings.TrimSpace(detail + " (related certificate " + e.Related + ")")
		}
		if e.Status != "" {
			detail = strings.TrimSpace(string(e.Status) + ": " + detail)
		}
		rows = append(rows, []string{strconv.Itoa(e.Seq), string(e.Type), e.At.Format(time.RFC3339), e.Actor, detail})
	}
	printTable(a.stdout, []string{"SEQ", "EVENT", "AT", "ACTOR", "DETAIL"}, rows)
	if len(ev.History) > 0 {
		fmt.Fprintf(a.stdout, "\nstatus history:\n")
		rows = rows[:0]
		for _, h := range ev.History {
			how := "recorded"
			if h.Derived {
				how = "derived"
			}
			rows = append(rows, []string{h.At.Format(time.RFC3339), string(h.Status), how, h.Reason})
		}
		printTable(a.stdout, []string{"AT", "STATUS", "HOW", "REASON"}, rows)
	}
	return exitOK
}

func (a *app) download(arg string, pdf, qr bool, size int, out string) int {
	if pdf == qr {
		return a.report(errors.New("give exactly one of --pdf and --qr"))
	}
	id, err := certID(arg)
	if err != nil {
		return a.report(err)
	}
	c, err := a.newClient(false)
	if err != nil {
		return a.report(err)
	}
	path, accept, ext := "/v/"+id+"/certificate.pdf", "application/pdf", ".pdf"
	var q url.Values
	if qr {
		path, accept, ext = "/v/"+id+"/qr.png", "image/png", ".qr.png"
		if size != 0 {
			q = url.Values{"size": {strconv.Itoa(size)}}
		}
	}
	resp, err := c.call(a.ctx, request{method: http.MethodGet, path: path, query: q,
		header: http.Header{"Accept": {accept + ", application/problem+json"}}}, nil)
	if err != nil {
		return a.report(err)
	}
	if ct := resp.header.Get("Content-Type"); !strings.HasPrefix(ct, accept) {
		return a.report(fmt.Errorf("certd answered %s instead of %s", ct, accept))
	}
	if out == "" {
		out = id + ext
	}
	if out == "-" {
		if isTerminal(a.stdout) {
			return a.report(errors.New("refusing to write binary data to a terminal: pass -o FILE"))
		}
		if _, err := rawWriter(a.stdout).Write(resp.body); err != nil {
			return a.report(err)
		}
		return exitOK
	}
	if err := os.WriteFile(out, resp.body, 0o644); err != nil {
		return a.report(fileError(err))
	}
	fmt.Fprintf(a.stderr, "wrote %s (%d bytes)\n", out, len(resp.body))
	return exitOK
}
