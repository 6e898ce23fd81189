package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/pdfattach"
)

func verifyCommands() []*command {
	var (
		offline bool
		jwks    string
	)
	return []*command{{
		name: "verify", group: "Verify", verdict: true,
		summary:  "verify a certificate: id, URL, number, token, .jwt, PDF or QR image",
		synopsis: "verify ARG [--offline --jwks FILE|URL]",
		details: `ARG is one of:
  an id or a verification URL   checked online: GET /api/v1/verify/ID on --server
  a certificate number          checked online: POST /api/v1/verify/batch
  a token, a .jwt file, a PDF   (the PDF's credential.jwt attachment) checked online by
                                POST /api/v1/verify, or with --offline --jwks locally
  a QR image (.png, .jpg)       decoded; the verification URL it holds is checked online
                                against --server; a warning is printed when its host is
                                not --server's (a look-alike site?)

Offline (--offline, or --jwks alone), the signature is checked against the JWK Set you
trust (a file, or a URL such as https://verify.example.cn/issuers/ISSUER/jwks.json, which
also binds the keys to that issuer) by certd's strict rules: alg from the pinned key (never
none or HS*), typ vc+jwt, no crit/jku/x5u/jwk/x5c, exp and iat required (2 minutes skew),
no vc/vp claims, iss = issuer.id; then the validity dates; then the revocation and
suspension status lists the credential names, fetched and verified with the same keys.
When a status list cannot be read, the verdict is unknown (exit 2): certctl never calls a
certificate valid without knowing it is not revoked or suspended.

Exit status: 0 valid, 1 invalid, 2 unknown or error.`,
		example: `  certctl verify 6P74JZDPWJQBXSBR1AXDWR697C
  certctl verify https://verify.example.cn/v/6P74JZDPWJQBXSBR1AXDWR697C
  certctl verify ITSS-2026-000123
  certctl verify certificate.pdf --offline --jwks https://verify.example.cn/issuers/default/jwks.json
  certctl verify photo-of-qr.jpg --output json`,
		args: argCount{1, 1, "one ARG to verify"},
		setup: func(fs *flag.FlagSet) {
			fs.BoolVar(&offline, "offline", false, "verify the signature locally against --jwks instead of asking the server")
			fs.StringVar(&jwks, "jwks", "", "trusted JWK Set: a `FILE` or an http(s) URL (implies --offline)")
		},
		run: func(a *app, args []string) int {
			return a.verify(args[0], offline || jwks != "", jwks)
		},
	}}
}

// verifyInput is what an ARG turned out to be.
type verifyInput struct {
	// Exactly one of token, id and item is set.
	token string
	id    string
	item  string
	// what describes the input for messages.
	what string
	// urlHost is the host of a verification URL given or scanned.
	urlHost string
	// fromQR marks a URL read from a QR image.
	fromQR bool
}

// maxInputFile bounds a file given to verify.
const maxInputFile = 64 << 20

// classify decides what ARG is.
func (a *app) classify(arg string) (*verifyInput, []string, error) {
	arg = strings.TrimSpace(arg)
	var notes []string
	st, statErr := os.Stat(arg)
	if statErr == nil && st.Mode().IsRegular() {
		if st.Size() > maxInputFile {
			return nil, nil, fmt.Errorf("%s: larger than %d MB", arg, maxInputFile>>20)
		}
		b, err := os.ReadFile(arg)
		if err != nil {
			return nil, nil, fileError(err)
		}
		switch {
		case bytes.HasPrefix(b, []byte("%PDF-")):
			token, checksumOK, err := pdfattach.Credential(b)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", arg, err)
			}
			if !checksumOK {
				notes = append(notes, fmt.Sprintf("the checksum of the %s attachment of %s does not match its content: the PDF was changed after it was made", pdfattach.CredentialName, arg))
			}
			return &verifyInput{token: token, what: "the credential attached to " + arg}, notes, nil
		case isImage(b):
			text, err := decodeQR(b)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %v", arg, err)
			}
			if host, id, ok := parseVerifyURL(text); ok {
				return &verifyInput{id: id, urlHost: host, fromQR: true, what: "the QR code of " + arg + " (" + text + ")"}, nil, nil
			}
			if looksLikeToken(text) {
				return &verifyInput{token: text, what: "the credential in the QR code of " + arg}, nil, nil
			}
			return nil, nil, fmt.Errorf("the QR code of %s does not hold a certd verification link (it holds %q): it cannot be verified against certd; do not rely on it", arg, truncate(text, 200))
		}
		text := strings.TrimSpace(string(b))
		if looksLikeToken(text) {
			return &verifyInput{token: text, what: arg}, nil, nil
		}
		return nil, nil, fmt.Errorf("%s is neither a PDF, an image nor a credential (a compact JWS)", arg)
	}
	if statErr == nil && st.IsDir() {
		return nil, nil, fmt.Errorf("%s is a directory", arg)
	}
	if looksLikeToken(arg) {
		return &verifyInput{token: arg, what: "the token"}, nil, nil
	}
	if host, id, ok := parseVerifyURL(arg); ok {
		return &verifyInput{id: id, urlHost: host, what: arg}, nil, nil
	}
	if id, ok := cert.NormalizeID(arg); ok {
		return &verifyInput{id: id, what: "certificate " + id}, nil, nil
	}
	switch strings.ToLower(filepath.Ext(arg)) {
	case ".pdf", ".jwt", ".png", ".jpg", ".jpeg", ".gif", ".txt":
		if errors.Is(statErr, fs.ErrNotExist) {
			return nil, nil, fmt.Errorf("%s: no such file", arg)
		}
		return nil, nil, fileError(statErr)
	}
	if strings.Contains(arg, "://") {
		return nil, nil, fmt.Errorf("%q is not a certd verification URL ({server}/v/{ID})", truncate(arg, 200))
	}
	if err := cert.CheckNumber(arg); err != nil {
		return nil, nil, fmt.Errorf("%q is not an id, a verification URL, a certificate number, a token or a file", truncate(arg, 100))
	}
	return &verifyInput{item: arg, what: "certificate number " + arg}, nil, nil
}

func isImage(b []byte) bool {
	return bytes.HasPrefix(b, []byte("\x89PNG\r\n\x1a\n")) || bytes.HasPrefix(b, []byte("\xff\xd8\xff")) ||
		bytes.HasPrefix(b, []byte("GIF87a")) || bytes.HasPrefix(b, []byte("GIF89a"))
}

// looksLikeToken reports a compact JWS with a JSON header.
func looksLikeToken(s string) bool {
	return strings.HasPrefix(s, "eyJ") && strings.Count(s, ".") == 2 && len(s) > 100 && !strings.ContainsAny(s, " \t\r\n")
}

func (a *app) verify(arg string, offline bool, jwksSrc string) int {
	in, notes, err := a.classify(arg)
	if err != nil {
		a.printErr(err)
		return exitUnknown
	}
	for _, n := range notes {
		fmt.Fprintf(a.stderr, "certctl: warning: %s\n", n)
	}
	if in.urlHost != "" && in.urlHost != hostKey(a.g.Server) {
		src := "the URL"
		if in.fromQR {
			src = "the QR code"
		}
		fmt.Fprintf(a.stderr, "certctl: warning: %s points to %s, not to the certd server you trust (%s): it may be a look-alike verification site. Verified against %s.\n",
			src, in.urlHost, hostKey(a.g.Server), a.g.Server)
	}
	if offline {
		if in.token == "" {
			a.printErr(fmt.Errorf("--offline needs the credential itself (a token, a .jwt file or the certificate PDF); %s can only be checked online", in.what))
			return exitUnknown
		}
		if jwksSrc == "" {
			a.printErr(errors.New("--offline needs --jwks FILE|URL: the issuer's published keys you trust, e.g. https://verify.example.cn/issuers/ISSUER/jwks.json or a saved copy"))
			return exitUnknown
		}
		ks, err := a.loadJWKS(a.ctx, jwksSrc)
		if err != nil {
			a.printErr(err)
			return exitUnknown
		}
		v := verifyOffline(a.ctx, in.token, ks, a.now(), a.g.Timeout)
		return a.showVerdict(nil, v, "offline, keys from "+ks.source)
	}
	c, err := a.newClient(false)
	if err != nil {
		a.printErr(err)
		return exitUnknown
	}
	var r request
	batch := false
	switch {
	case in.id != "":
		r = request{method: http.MethodGet, path: "/api/v1/verify/" + in.id}
	case in.token != "":
		r = request{method: http.MethodPost, path: "/api/v1/verify", raw: []byte(in.token), contentType: "application/vc+jwt"}
	default:
		r = request{method: http.MethodPost, path: "/api/v1/verify/batch", body: map[string][]string{"items": {in.item}}}
		batch = true
	}
	// Verification changes nothing: retry what did not answer. A 503 with a
	// verdict is certd's answer "unknown", shown at once.
	r.retry, r.answer503 = retryAlways, true
	resp, err := c.do(a.ctx, r)
	if err != nil {
		a.printErr(err)
		return exitUnknown
	}
	raw, v, err := readVerdict(resp, batch)
	if err != nil {
		if resp.isProblem() || resp.status >= 400 {
			a.printErr(newAPIError(r.method, c.url(r.path, nil), resp))
		} else {
			a.printErr(err)
		}
		return exitUnknown
	}
	return a.showVerdict(raw, v, "online, "+a.g.Server.String())
}

// readVerdict reads the verdict of a verification answer: certd answers a
// verdict as JSON with 200, 404 (no such certificate) or 503 (unknown).
func readVerdict(resp *response, batch bool) (json.RawMessage, cert.Verdict, error) {
	var v cert.Verdict
	if resp.isProblem() || !strings.HasPrefix(resp.header.Get("Content-Type"), "application/json") {
		return nil, v, fmt.Errorf("HTTP %d without a verdict", resp.status)
	}
	raw := json.RawMessage(resp.body)
	if batch {
		var out struct {
			Results []json.RawMessage `json:"results"`
		}
		if err := json.Unmarshal(resp.body, &out); err != nil || len(out.Results) != 1 {
			return nil, v, errors.New("the batch answer does not hold one verdict")
		}
		raw = out.Results[0]
	}
	if err := json.Unmarshal(raw, &v); err != nil || v.Verdict == "" {
		return nil, v, errors.New("the answer is not a verdict")
	}
	return raw, v, nil
}

// showVerdict prints a verdict (raw, as certd sent it, when given) and
// returns its exit code.
func (a *app) showVerdict(raw json.RawMessage, v cert.Verdict, how string) int {
	if a.jsonOutput() {
		var err error
		if raw != nil {
			err = printJSON(a.stdout, raw)
		} else {
			err = printJSON(a.stdout, v)
		}
		if err != nil {
			a.printErr(err)
			return exitUnknown
		}
	} else {
		printVerdict(a.stdout, v, how)
	}
	switch v.Verdict {
	case cert.VerdictValid:
		return exitValid
	case cert.VerdictInvalid:
		return exitInvalid
	}
	return exitUnknown
}
