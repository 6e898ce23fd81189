package main

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/importfile"
)

// issuerRequest is the body of POST /api/v1/issuers.
type issuerRequest struct {
	ID                  string `json:"id"`
	Name                string `json:"name"`
	NameZh              string `json:"nameZh,omitempty"`
	AccreditationBody   string `json:"accreditationBody,omitempty"`
	AccreditationNumber string `json:"accreditationNumber,omitempty"`
	Contact             string `json:"contact,omitempty"`
	TimeZone            string `json:"timeZone,omitempty"`
	NumberPattern       string `json:"numberPattern,omitempty"`
	NumberPrefix        string `json:"numberPrefix,omitempty"`
	KeyType             string `json:"keyType,omitempty"`
}

// issuerInfo is the API's issuer resource.
type issuerInfo struct {
	ID            string `json:"id"`
	Name          string `json:"name"`
	NameZh        string `json:"nameZh"`
	TimeZone      string `json:"timeZone"`
	NumberPattern string `json:"numberPattern"`
	NumberPrefix  string `json:"numberPrefix"`
	KeyType       string `json:"keyType"`
	URL           string `json:"url"`
	JWKS          string `json:"jwks"`
	// The profile (issuers show, issuers update).
	Website        string               `json:"website"`
	ApprovalNumber string               `json:"approvalNumber"`
	Accreditation  []cert.Accreditation `json:"accreditation"`
	NumberPatterns map[string]string    `json:"numberPatterns"`
	Version        int64                `json:"version"`
}

// printIssuer prints an issuer's profile.
func printIssuer(w io.Writer, is issuerInfo) {
	patterns := make([]string, 0, len(is.NumberPatterns))
	for id, p := range is.NumberPatterns {
		patterns = append(patterns, id+": "+p)
	}
	sort.Strings(patterns)
	printFields(w, [][2]string{{"id", is.ID}, {"name", is.Name}, {"name (zh)", is.NameZh},
		{"accreditation", cert.AccreditationText(is.Accreditation)}, {"approval number", is.ApprovalNumber},
		{"website", is.Website}, {"time zone", is.TimeZone}, {"number patterns", strings.Join(patterns, ", ")},
		{"version", strconv.FormatInt(is.Version, 10)}, {"issuer URL", is.URL}})
}

func adminCommands() []*command {
	var (
		is       issuerRequest
		keyType  string
		patch    string
		keyReq   struct{ Issuer, Role, Name string }
		adminGrp = "Administration (admin API key)"
	)
	return []*command{
		{
			name: "issuers create", group: adminGrp, summary: "create an issuer (a certification body) and its key ring",
			synopsis: "issuers create ID --name NAME [--name-zh NAME] [--key-type Ed25519|ES256] ...",
			example:  "  certctl issuers create cesa-itss --name \"CESA Certification\" --name-zh 中电标协认证中心 \\\n    --number-prefix CESA --key-type Ed25519",
			args:     argCount{1, 1, "the new issuer's ID (lower-case letters, digits, '-')"},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&is.Name, "name", "", "legal `name` in English (required)")
				fs.StringVar(&is.NameZh, "name-zh", "", "legal `name` in Chinese")
				fs.StringVar(&is.AccreditationBody, "accreditation-body", "", "accreditation `body`, e.g. CNAS")
				fs.StringVar(&is.AccreditationNumber, "accreditation-number", "", "accreditation `number`")
				fs.StringVar(&is.Contact, "contact", "", "`contact` shown to verifiers")
				fs.StringVar(&is.TimeZone, "time-zone", "", "IANA `zone` (default Asia/Shanghai)")
				fs.StringVar(&is.NumberPattern, "number-pattern", "", "certificate number `pattern` (default {PREFIX}-{YYYY}-{SEQ:6})")
				fs.StringVar(&is.NumberPrefix, "number-prefix", "", "{PREFIX} of the pattern (default: the id in upper case)")
				fs.StringVar(&is.KeyType, "key-type", "", "signing key `type`: Ed25519 (default) or ES256")
			},
			run: func(a *app, args []string) int {
				is.ID = args[0]
				if !importfile.IssuerIDShape(is.ID) {
					return a.report(fmt.Errorf("%q: an issuer id is 1-64 lower-case letters, digits and '-'", is.ID))
				}
				if is.Name == "" {
					return a.report(errors.New("--name: is required (the legal name in English)"))
				}
				var out issuerInfo
				return a.admin(request{method: http.MethodPost, path: "/api/v1/issuers", body: is, retry: retryUnsent}, &out, func() {
					printFields(a.stdout, [][2]string{{"id", out.ID}, {"name", out.Name}, {"name (zh)", out.NameZh},
						{"time zone", out.TimeZone}, {"number pattern", out.NumberPattern}, {"number prefix", out.NumberPrefix},
						{"key type", out.KeyType}, {"issuer URL", out.URL}, {"JWKS", out.JWKS}})
				})
			},
		},
		{
			name: "issuers list", group: adminGrp, summary: "list the issuers",
			synopsis: "issuers list",
			example:  "  certctl issuers list",
			args:     argCount{0, 0, ""},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, _ []string) int {
				var out struct {
					Items []issuerInfo `json:"items"`
				}
				return a.admin(request{method: http.MethodGet, path: "/api/v1/issuers"}, &out, func() {
					rows := make([][]string, 0, len(out.Items))
					for _, is := range out.Items {
						rows = append(rows, []string{is.ID, is.Name, is.NameZh, is.KeyType, is.NumberPattern, is.JWKS})
					}
					printTable(a.stdout, []string{"ID", "NAME", "NAME (ZH)", "KEY TYPE", "NUMBER PATTERN", "JWKS"}, rows)
				})
			},
		},
		{
			name: "issuers show", group: adminGrp, summary: "show an issuer's profile",
			synopsis: "issuers show ID",
			example:  "  certctl issuers show default",
			args:     argCount{1, 1, "an issuer ID"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				var out issuerInfo
				return a.admin(request{method: http.MethodGet, path: "/api/v1/issuers/" + url.PathEscape(args[0])}, &out, func() { printIssuer(a.stdout, out) })
			},
		},
		{
			name: "issuers update", group: adminGrp, summary: "change an issuer's profile with a JSON merge patch",
			synopsis: "issuers update ID --patch JSON",
			example:  "  certctl issuers update default --patch '{\"nameZh\": \"华信认证中心\", \"approvalNumber\": \"CNCA-R-2002-001\"}'",
			args:     argCount{1, 1, "an issuer ID"},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&patch, "patch", "", "JSON merge `patch` of the profile (name, nameZh, address, website, accreditation, approvalNumber, signatory, timeZone, numberPatterns, ...)")
			},
			run: func(a *app, args []string) int {
				if !json.Valid([]byte(patch)) {
					return a.report(errors.New("--patch: must be a JSON object, e.g. '{\"nameZh\": \"华信认证中心\"}'"))
				}
				var out issuerInfo
				req := request{method: http.MethodPatch, path: "/api/v1/issuers/" + url.PathEscape(args[0]), raw: []byte(patch),
					contentType: "application/merge-patch+json", retry: retryUnsent}
				return a.admin(req, &out, func() { printIssuer(a.stdout, out) })
			},
		},
		{
			name: "keys rotate", group: adminGrp, summary: "make a new signing key active; the old one is retired (verify only)",
			synopsis: "keys rotate ISSUER [--key-type Ed25519|ES256]",
			example:  "  certctl keys rotate default\n  certctl keys rotate default --key-type ES256",
			args:     argCount{1, 1, "an ISSUER id"},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&keyType, "key-type", "", "`type` of the new key (default: the current one)")
			},
			run: func(a *app, args []string) int {
				var body any
				if keyType != "" {
					body = map[string]string{"keyType": keyType}
				}
				var out cert.KeyInfo
				return a.admin(request{method: http.MethodPost, path: "/api/v1/issuers/" + url.PathEscape(args[0]) + "/keys/rotate", body: body, retry: retryUnsent}, &out, func() {
					printKeys(a, []cert.KeyInfo{out})
				})
			},
		},
		{
			name: "keys list", group: adminGrp, summary: "list an issuer's keys and their states",
			synopsis: "keys list ISSUER",
			example:  "  certctl keys list default",
			args:     argCount{1, 1, "an ISSUER id"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				var out struct {
					Keys []cert.KeyInfo `json:"keys"`
				}
				return a.admin(request{method: http.MethodGet, path: "/api/v1/issuers/" + url.PathEscape(args[0]) + "/keys"}, &out, func() {
					printKeys(a, out.Keys)
				})
			},
		},
		{
			name: "apikeys create", group: adminGrp, summary: "create an API key; its token is shown once",
			synopsis: "apikeys create --role issuer|viewer|watcher|admin [--issuer ID] [--name TEXT]",
			example:  "  certctl apikeys create --role issuer --issuer default --name \"ERP integration\"",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&keyReq.Role, "role", "", "issuer (issue and manage one issuer's certificates), viewer (read them), watcher (a verifier's watchlist, no issuer) or admin (required)")
				fs.StringVar(&keyReq.Issuer, "issuer", "", "issuer `id` the key is bound to (issuer and viewer roles)")
				fs.StringVar(&keyReq.Name, "name", "", "what the key is for, recorded in events")
			},
			run: func(a *app, _ []string) int {
				switch cert.Role(keyReq.Role) {
				case cert.RoleAdmin, cert.RoleIssuer, cert.RoleViewer, cert.RoleWatcher:
				default:
					return a.report(errors.New("--role: must be issuer, viewer, watcher or admin"))
				}
				body := map[string]string{"role": keyReq.Role}
				if keyReq.Issuer != "" {
					body["issuer"] = keyReq.Issuer
				}
				if keyReq.Name != "" {
					body["name"] = keyReq.Name
				}
				var out struct {
					ID     string `json:"id"`
					Issuer string `json:"issuer"`
					Role   string `json:"role"`
					Name   string `json:"name"`
					Token  string `json:"token"`
				}
				code := a.admin(request{method: http.MethodPost, path: "/api/v1/apikeys", body: body}, &out, func() {
					printFields(a.stdout, [][2]string{{"id", out.ID}, {"role", out.Role}, {"issuer", out.Issuer}, {"name", out.Name}, {"token", out.Token}})
				})
				if code == exitOK {
					fmt.Fprintln(a.stderr, "certctl: store the token now: certd keeps only its hash and never shows it again")
				}
				return code
			},
		},
		{
			name: "apikeys list", group: adminGrp, summary: "list the API keys: id, name, role, issuer, created, last used, revoked",
			synopsis: "apikeys list",
			example:  "  certctl apikeys list",
			args:     argCount{0, 0, ""},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, _ []string) int {
				var out struct {
					Items []struct {
						ID         string     `json:"id"`
						Name       string     `json:"name"`
						Role       string     `json:"role"`
						Issuer     string     `json:"issuer"`
						CreatedAt  time.Time  `json:"createdAt"`
						LastUsedAt *time.Time `json:"lastUsedAt"`
						Revoked    bool       `json:"revoked"`
					} `json:"items"`
				}
				return a.admin(request{method: http.MethodGet, path: "/api/v1/apikeys"}, &out, func() {
					rows := make([][]string, 0, len(out.Items))
					for _, k := range out.Items {
						used, revoked := "never", ""
						if k.LastUsedAt != nil {
							used = k.LastUsedAt.Format(time.RFC3339)
						}
						if k.Revoked {
							revoked = "revoked"
						}
						rows = append(rows, []string{k.ID, k.Name, k.Role, k.Issuer, k.CreatedAt.Format(time.RFC3339), used, revoked})
					}
					printTable(a.stdout, []string{"ID", "NAME", "ROLE", "ISSUER", "CREATED", "LAST USED", "REVOKED"}, rows)
				})
			},
		},
		{
			name: "apikeys revoke", group: adminGrp, summary: "revoke an API key",
			synopsis: "apikeys revoke KEY-ID",
			example:  "  certctl apikeys revoke 01J8Z3M4",
			args:     argCount{1, 1, "a KEY-ID (the id shown by apikeys create, not the token)"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				return a.admin(request{method: http.MethodDelete, path: "/api/v1/apikeys/" + url.PathEscape(args[0]), retry: retryUnsent}, nil, func() {
					fmt.Fprintf(a.stdout, "revoked API key %s\n", args[0])
				})
			},
		},
	}
}

// admin sends an authenticated request, decodes the answer into out and
// prints it: as JSON with --output json, else with table.
func (a *app) admin(r request, out any, table func()) int {
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	r.auth = true
	resp, err := c.call(a.ctx, r, out)
	if err != nil {
		return a.report(err)
	}
	if a.jsonOutput() {
		if len(resp.body) == 0 {
			return exitOK
		}
		if err := printJSON(a.stdout, json.RawMessage(resp.body)); err != nil {
			return a.report(err)
		}
		return exitOK
	}
	table()
	return exitOK
}

func printKeys(a *app, ks []cert.KeyInfo) {
	rows := make([][]string, 0, len(ks))
	day := func(t *time.Time) string {
		if t == nil {
			return ""
		}
		return t.Format(time.RFC3339)
	}
	for _, k := range ks {
		rows = append(rows, []string{k.Kid, k.Alg, string(k.State), k.CreatedAt.Format(time.RFC3339), day(k.RetiredAt), day(k.RevokedAt)})
	}
	printTable(a.stdout, []string{"KID", "ALG", "STATE", "CREATED", "RETIRED", "REVOKED"}, rows)
}
