package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
)

var monthPattern = regexp.MustCompile(`^\d{4}-(0[1-9]|1[0-2])$`)

func reportCommands() []*command {
	var month, out, format, issuer string
	return []*command{{
		name: "report", group: "Reports", summary: "download a monthly report to a regulator or registry",
		synopsis: "report (cnca | iafcertsearch) --month YYYY-MM [-o FILE] [--format xlsx|csv|json] [--issuer ID]",
		details: "Applies GET /api/v1/reports/TARGET/MONTH. The format follows --format, else the extension of\n" +
			"-o (.xlsx, .csv, .json), else JSON. Without -o, writes TARGET-MONTH.FORMAT in the current directory.",
		example: "  certctl report cnca --month 2026-11 -o report.xlsx",
		args:    argCount{1, 1, "a report target (cnca or iafcertsearch)"},
		setup: func(fs *flag.FlagSet) {
			fs.StringVar(&month, "month", "", "the `month` YYYY-MM, in the issuer's time zone (required)")
			fs.StringVar(&out, "o", "", "output `FILE` (- for stdout)")
			fs.StringVar(&format, "format", "", "xlsx, csv or json (default: from -o, else json)")
			fs.StringVar(&issuer, "issuer", "", "the issuer `ID` (admin keys only)")
		},
		run: func(a *app, args []string) int { return a.downloadReport(args[0], month, out, format, issuer) },
	}}
}

func (a *app) downloadReport(target, month, out, format, issuer string) int {
	var errs []error
	if !monthPattern.MatchString(month) {
		errs = append(errs, errors.New("--month: is required: a month YYYY-MM, e.g. 2026-11"))
	}
	if format == "" {
		format = strings.TrimPrefix(strings.ToLower(filepath.Ext(out)), ".")
		if format != "xlsx" && format != "csv" {
			format = "json"
		}
	}
	if format != "xlsx" && format != "csv" && format != "json" {
		errs = append(errs, errors.New(`--format: must be "xlsx", "csv" or "json"`))
	}
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(a.stderr, "certctl report: %v\n", err)
		return exitUsage
	}
	c, err := a.newClient(true)
	if err != nil {
		return a.report(err)
	}
	q := url.Values{"format": {format}}
	if issuer != "" {
		q.Set("issuer", issuer)
	}
	resp, err := c.call(a.ctx, request{method: http.MethodGet, path: "/api/v1/reports/" + url.PathEscape(target) + "/" + month, query: q, auth: true}, nil)
	if err != nil {
		return a.report(err)
	}
	if out == "" {
		out = target + "-" + month + "." + format
	}
	if out == "-" {
		if format == "xlsx" && isTerminal(a.stdout) {
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
