package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/importfile"
	"github.com/certd/certd/issuer"
)

// issueRequest is the body of POST /api/v1/certificates: the server's own
// type, so that client and server cannot drift apart.
type issueRequest = issuer.Request

// validateRequest applies locally the rules certd applies to an issue
// request (the same code: issuer.Request.Check), so that mistakes are
// reported before anything is sent. certd remains the judge: it checks
// again, with the issuer's time zone and stored data.
func validateRequest(r *issueRequest, schemes cert.Schemes, now time.Time) *cert.ValidationError {
	return importfile.ValidateRequest(r, schemes, now)
}

// loadSchemes returns the built-in schemes, overridden by a certd schemes
// file ({"schemes": [...]}, the format of certd --schemes-file) when path
// is set.
func loadSchemes(path string) (cert.Schemes, error) {
	defs := cert.BuiltinSchemes()
	if path != "" {
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, fmt.Errorf("--schemes-file: %w", fileError(err))
		}
		var file struct {
			Schemes []cert.Scheme `json:"schemes"`
		}
		dec := json.NewDecoder(bytes.NewReader(b))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&file); err != nil {
			return nil, fmt.Errorf("--schemes-file %s: %v (expected {\"schemes\": [ ... ]})", path, err)
		}
		idx := map[string]int{}
		for i, s := range defs {
			idx[s.ID] = i
		}
		for _, s := range file.Schemes {
			if i, ok := idx[s.ID]; ok {
				defs[i] = s
			} else {
				defs = append(defs, s)
			}
		}
	}
	s, err := cert.NewSchemes(defs)
	if err != nil {
		return nil, fmt.Errorf("--schemes-file %s: %w", path, err)
	}
	return s, nil
}

// certificate is the part of the API's certificate resource certctl shows.
type certificate struct {
	ID             string             `json:"id"`
	Number         string             `json:"number"`
	Revision       int                `json:"revision"`
	Issuer         string             `json:"issuer"`
	Scheme         string             `json:"scheme"`
	Standard       string             `json:"standard"`
	Category       string             `json:"category"`
	Level          int                `json:"level"`
	Scope          string             `json:"scope"`
	AssessmentBody string             `json:"assessmentBody"`
	Organization   cert.Organization  `json:"organization"`
	Status         cert.Status        `json:"status"`
	StatusReason   string             `json:"statusReason"`
	Surveillance   *cert.Surveillance `json:"surveillance"`
	ValidFrom      string             `json:"validFrom"`
	ValidUntil     string             `json:"validUntil"`
	Supersedes     string             `json:"supersedes"`
	SupersededBy   string             `json:"supersededBy"`
	Version        int64              `json:"version"`
	Kid            string             `json:"kid"`
	Credential     string             `json:"credential"`
	Links          struct {
		Verify string `json:"verify"`
		QR     string `json:"qr"`
		PDF    string `json:"pdf"`
	} `json:"links"`
}

// printCertificate shows one certificate resource: raw JSON, or its main
// fields.
func (a *app) printCertificate(body []byte) error {
	if a.jsonOutput() {
		return printJSON(a.stdout, json.RawMessage(body))
	}
	var c certificate
	if err := json.Unmarshal(body, &c); err != nil {
		return fmt.Errorf("read certificate: %w", err)
	}
	org := c.Organization.Name
	if c.Organization.NameEn != "" {
		org += " (" + c.Organization.NameEn + ")"
	}
	status := string(c.Status)
	if c.StatusReason != "" {
		status += ": " + c.StatusReason
	}
	level := ""
	if c.Level != 0 {
		level = strconv.Itoa(c.Level)
	}
	surv := ""
	if s := c.Surveillance; s != nil && s.State != "" {
		surv = string(s.State)
		if s.WindowStart != "" || s.WindowEnd != "" {
			surv += fmt.Sprintf(" (window %s to %s)", s.WindowStart, s.WindowEnd)
		}
	}
	printFields(a.stdout, [][2]string{
		{"id", c.ID}, {"number", c.Number}, {"issuer", c.Issuer}, {"scheme", c.Scheme},
		{"standard", c.Standard}, {"category", c.Category}, {"level", level}, {"scope", c.Scope},
		{"organization", org}, {"uscc", c.Organization.USCC},
		{"valid", dayOf(c.ValidFrom) + " to " + inclusiveDay(c.ValidUntil)},
		{"status", status}, {"surveillance", surv},
		{"supersedes", c.Supersedes}, {"superseded by", c.SupersededBy},
		{"version", strconv.FormatInt(c.Version, 10)}, {"verify", c.Links.Verify},
	})
	return nil
}

// dayOf returns the calendar day of an RFC 3339 time, as written.
func dayOf(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.Format(cert.DateLayout)
	}
	return s
}

// inclusiveDay returns the last day of validity of an exclusive end time,
// as printed on the certificate.
func inclusiveDay(s string) string {
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t.AddDate(0, 0, -1).Format(cert.DateLayout)
	}
	return s
}

func issueCommands() []*command {
	var (
		file, csvFile, key, schemesFile, result string
		concurrency                             int
		dryRun                                  bool
		req                                     issueRequest
		sites                                   multiFlag
	)
	return []*command{{
		name:     "issue",
		group:    "Issue certificates",
		summary:  "issue a certificate from flags or a JSON file, or many from a CSV file",
		synopsis: "issue [--file REQUEST.json | --csv FILE.csv | flags]",
		details: `Flags build the request of POST /api/v1/certificates; --file sends a JSON
request as it is (- reads stdin). Every request is checked locally first.

--csv issues one certificate per row. Every row is validated before
anything is sent; when any row is wrong, every bad row is listed (row,
column, reason) and nothing is sent. Rows are then sent concurrently, each
with an Idempotency-Key derived from its content and row_id, so running the
same file again after an interruption issues nothing twice. A result CSV
(row, id, number, status, error, row_id) accounts for every row; status is
created, existing (issued by an earlier run of the file), failed,
interrupted (outcome unknown: run the file again) or not_sent.

` + csvColumnsHelp(),
		example: `  certctl issue --issuer default --scheme itss --standard "GB/T 28827.1-2022" \
    --category 运行维护 --level 3 --scope 信息系统运行维护服务 \
    --org-name 北京示例科技有限公司 --uscc 91110108MA0123456G
  certctl issue --file request.json
  certctl issue --csv testdata/certificates.csv --concurrency 32`,
		args: argCount{0, 0, ""},
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&file, "file", "", "JSON request `FILE` (- for stdin)")
			fs.StringVar(&csvFile, "csv", "", "issue one certificate per row of this CSV `FILE`")
			fs.IntVar(&concurrency, "concurrency", 32, "CSV: requests in flight (certd groups the commits of concurrent requests)")
			fs.StringVar(&result, "result", "", "CSV: result `FILE` (default FILE.result.csv)")
			fs.BoolVar(&dryRun, "dry-run", false, "validate only; send nothing")
			fs.StringVar(&key, "idempotency-key", "", "Idempotency-Key of a single request (default: random, so retries of this run are safe)")
			fs.StringVar(&schemesFile, "schemes-file", "", "the `FILE` given to certd --schemes-file, when the server uses one, for local validation")
			fs.StringVar(&req.Issuer, "issuer", "", "issuer `id` (required with an admin key); with --csv, the default of rows without one")
			fs.StringVar(&req.Scheme, "scheme", "", "scheme `id`: itss, iso17021")
			fs.StringVar(&req.Number, "number", "", "certificate `number` (default: from the issuer's pattern)")
			fs.StringVar(&req.Standard, "standard", "", "`standard`, e.g. GB/T 28827.1-2022")
			fs.StringVar(&req.Category, "category", "", "`category` (itss: 运行维护, 咨询设计, 数据中心, 云计算)")
			fs.IntVar(&req.Level, "level", 0, "`level` (itss: 1-4)")
			fs.StringVar(&req.Scope, "scope", "", "certified `scope` (Chinese)")
			fs.StringVar(&req.ScopeEn, "scope-en", "", "certified `scope` in English")
			fs.Var(&sites, "site", "a certified `site` (repeat for several)")
			fs.StringVar(&req.AssessmentBody, "assessment-body", "", "`name` of the body that audited, when not the issuer")
			fs.StringVar(&req.DecisionDate, "decision-date", "", "certification decision `date` YYYY-MM-DD")
			fs.StringVar(&req.ValidFrom, "valid-from", "", "first `day` of validity YYYY-MM-DD (default today; may be past, for imports)")
			fs.StringVar(&req.OriginalDate, "original-date", "", "original certification `date` YYYY-MM-DD")
			fs.StringVar(&req.Organization.Name, "org-name", "", "legal `name` of the organization (Chinese)")
			fs.StringVar(&req.Organization.NameEn, "org-name-en", "", "English `name`")
			fs.StringVar(&req.Organization.USCC, "uscc", "", "unified social credit `code` (18 characters)")
			fs.StringVar(&req.Organization.Address, "address", "", "`address`")
			fs.StringVar(&req.Organization.Country, "country", "", "ISO 3166-1 alpha-2 `code` (default CN)")
			fs.StringVar(&req.Organization.Email, "org-email", "", "contact e-mail `address` of the organization for notifications (private)")
		},
		run: func(a *app, _ []string) int {
			schemes, err := loadSchemes(schemesFile)
			if err != nil {
				return a.report(err)
			}
			if csvFile != "" {
				if file != "" {
					return a.report(errors.New("--csv and --file exclude each other"))
				}
				return a.importCSV(csvFile, csvOptions{
					result: result, concurrency: concurrency, dryRun: dryRun, schemes: schemes, defaultIssuer: req.Issuer,
				})
			}
			for _, name := range sites {
				req.Sites = append(req.Sites, cert.Site{Name: name})
			}
			if file != "" {
				r, err := a.readRequestFile(file)
				if err != nil {
					return a.report(err)
				}
				req = r
			}
			return a.issueOne(req, key, schemes, dryRun)
		},
	}}
}

// readRequestFile reads a JSON issue request, strictly.
func (a *app) readRequestFile(path string) (issueRequest, error) {
	var b []byte
	var err error
	if path == "-" {
		b, err = io.ReadAll(io.LimitReader(a.stdin, 1<<20))
	} else {
		b, err = os.ReadFile(path)
	}
	if err != nil {
		return issueRequest{}, fmt.Errorf("--file: %w", fileError(err))
	}
	var r issueRequest
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&r); err != nil {
		return r, fmt.Errorf("--file %s: %v (expected the JSON body of POST /api/v1/certificates)", path, err)
	}
	return r, nil
}

func (a *app) issueOne(req issueRequest, key string, schemes cert.Schemes, dryRun bool) int {
	if v := validateRequest(&req, schemes, a.now()); v.Err() != nil {
		fmt.Fprintf(a.stderr, "certctl: the request has invalid fields; nothing was sent:\n")
		for _, f := range v.Fields {
			fmt.Fprintf(a.stderr, "  - %s: %s\n", f.Field, f.Message)
		}
		return exitFailure
	}
	if dryRun {
		fmt.Fprintln(a.stdout, "the request is valid (--dry-run: nothing sent)")
		return exitOK
	}
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	if key == "" {
		key = newRequestID()
	}
	resp, err := c.call(a.ctx, request{
		method: http.MethodPost, path: "/api/v1/certificates", body: req, auth: true, retry: retryAlways,
		header: http.Header{"Idempotency-Key": {key}},
	}, nil)
	if err != nil {
		return a.report(err)
	}
	if err := a.printCertificate(resp.body); err != nil {
		return a.report(err)
	}
	return exitOK
}

// multiFlag is a repeatable string flag.
type multiFlag []string

func (m *multiFlag) String() string { return strings.Join(*m, ", ") }

func (m *multiFlag) Set(v string) error {
	*m = append(*m, v)
	return nil
}
