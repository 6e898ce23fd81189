package main

import (
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// watchResource is a watch as the API answers it.
type watchResource struct {
	ID          string `json:"id"`
	Certificate string `json:"certificate"`
	Issuer      string `json:"issuer"`
	Number      string `json:"number"`
	USCC        string `json:"uscc"`
	CreatedAt   string `json:"createdAt"`
}

func (w watchResource) target() string {
	switch {
	case w.USCC != "":
		return "uscc " + w.USCC
	case w.Number != "":
		return "number " + w.Number + " (" + w.Issuer + ")"
	}
	return "certificate " + w.Certificate
}

// watchCommands are the watchlist of a watcher key (role watcher).
func watchCommands() []*command {
	var (
		target   struct{ Certificate, Number, Issuer, USCC string }
		listArgs struct {
			limit  int
			cursor string
		}
		grp = "Watchlists (watcher API key)"
	)
	return []*command{
		{
			name: "watch add", group: grp, summary: "watch a certificate or every certificate of an organization; changes go to the key's webhooks",
			synopsis: "watch add --certificate ID | --number N --issuer I | --uscc U",
			example:  "  certctl watch add --uscc 91110108MA0123456G\n  certctl webhooks create --url https://erp.example.cn/certd   # with the same watcher key",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&target.Certificate, "certificate", "", "certificate `id` to watch (and its successors)")
				fs.StringVar(&target.Number, "number", "", "printed certificate `number` to watch, with --issuer")
				fs.StringVar(&target.Issuer, "issuer", "", "issuer `id` of --number")
				fs.StringVar(&target.USCC, "uscc", "", "unified social credit `code`: every certificate of the organization, present and future")
			},
			run: func(a *app, _ []string) int {
				named := 0
				for _, v := range []string{target.Certificate, target.Number + target.Issuer, target.USCC} {
					if v != "" {
						named++
					}
				}
				if named != 1 || (target.Number == "") != (target.Issuer == "") {
					fmt.Fprintln(a.stderr, "certctl watch add: name one target: --certificate ID, --number N with --issuer I, or --uscc U")
					return exitUsage
				}
				body := map[string]string{}
				for k, v := range map[string]string{"certificate": target.Certificate, "number": target.Number, "issuer": target.Issuer, "uscc": target.USCC} {
					if v != "" {
						body[k] = v
					}
				}
				var out watchResource
				return a.admin(request{method: http.MethodPost, path: "/api/v1/watches", body: body, retry: retryAlways}, &out, func() {
					printFields(a.stdout, [][2]string{{"id", out.ID}, {"watches", out.target()}, {"since", out.CreatedAt}})
				})
			},
		},
		{
			name: "watch list", group: grp, summary: "list the key's watches",
			synopsis: "watch list [--limit N] [--cursor C]",
			example:  "  certctl watch list",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.IntVar(&listArgs.limit, "limit", 100, "watches per page, 1-1000")
				fs.StringVar(&listArgs.cursor, "cursor", "", "the cursor a previous page printed")
			},
			run: func(a *app, _ []string) int {
				if listArgs.limit < 1 || listArgs.limit > 1000 {
					fmt.Fprintln(a.stderr, "certctl watch list: --limit: must be from 1 to 1000")
					return exitUsage
				}
				q := url.Values{"limit": {strconv.Itoa(listArgs.limit)}}
				if listArgs.cursor != "" {
					q.Set("cursor", listArgs.cursor)
				}
				var out struct {
					Items      []watchResource `json:"items"`
					NextCursor string          `json:"nextCursor"`
				}
				return a.admin(request{method: http.MethodGet, path: "/api/v1/watches", query: q}, &out, func() {
					rows := make([][]string, 0, len(out.Items))
					for _, w := range out.Items {
						rows = append(rows, []string{w.ID, w.target(), w.CreatedAt})
					}
					printTable(a.stdout, []string{"ID", "WATCHES", "SINCE"}, rows)
					if out.NextCursor != "" {
						fmt.Fprintf(a.stderr, "more: certctl watch list --cursor %s\n", out.NextCursor)
					}
				})
			},
		},
		{
			name: "watch rm", group: grp, summary: "stop watching",
			synopsis: "watch rm WATCH-ID",
			example:  "  certctl watch rm wa_3kq7...",
			args:     argCount{1, 1, "a WATCH-ID (from watch list)"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				return a.admin(request{method: http.MethodDelete, path: "/api/v1/watches/" + url.PathEscape(args[0]), retry: retryUnsent}, nil, func() {
					fmt.Fprintf(a.stdout, "removed watch %s\n", args[0])
				})
			},
		},
	}
}
