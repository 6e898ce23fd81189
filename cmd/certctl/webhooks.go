package main

import (
	"errors"
	"flag"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/certd/certd/cert"
)

// webhookInfo is the API's webhook resource.
type webhookInfo struct {
	ID             string    `json:"id"`
	Issuer         string    `json:"issuer"`
	URL            string    `json:"url"`
	Events         []string  `json:"events"`
	Active         bool      `json:"active"`
	DisabledReason string    `json:"disabledReason"`
	CreatedAt      time.Time `json:"createdAt"`
	UpdatedAt      time.Time `json:"updatedAt"`
	// Secret is answered once, by create.
	Secret string `json:"secret"`
}

// deliveryInfo is one entry of a webhook's delivery log.
type deliveryInfo struct {
	ID             string     `json:"id"`
	Type           string     `json:"type"`
	Status         string     `json:"status"`
	Attempts       int        `json:"attempts"`
	NextAttemptAt  time.Time  `json:"nextAttemptAt"`
	LastAttemptAt  *time.Time `json:"lastAttemptAt"`
	LastStatusCode int        `json:"lastStatusCode"`
	LastError      string     `json:"lastError"`
	CreatedAt      time.Time  `json:"createdAt"`
}

func eventsText(events []string) string {
	if len(events) == 0 {
		return "all"
	}
	return strings.Join(events, ", ")
}

func activeText(w webhookInfo) string {
	switch {
	case w.Active:
		return "yes"
	case w.DisabledReason != "":
		return "no (disabled by certd: " + w.DisabledReason + ")"
	}
	return "no"
}

func printWebhook(a *app, w webhookInfo) {
	printFields(a.stdout, [][2]string{{"id", w.ID}, {"issuer", w.Issuer}, {"url", w.URL}, {"events", eventsText(w.Events)},
		{"active", activeText(w)}, {"created", w.CreatedAt.Format(time.RFC3339)}, {"updated", w.UpdatedAt.Format(time.RFC3339)},
		{"secret", w.Secret}})
}

// checkEventTypes refuses an event type certd does not know before
// anything is sent.
func checkEventTypes(events []string) error {
	for _, e := range events {
		if !slices.Contains(cert.WebhookEventTypes, e) {
			return fmt.Errorf("--event %q: must be one of %s", e, strings.Join(cert.WebhookEventTypes, ", "))
		}
	}
	return nil
}

func webhookPath(id string) string { return "/api/v1/webhooks/" + url.PathEscape(id) }

func webhookCommands() []*command {
	var (
		issuer    string
		hookURL   string
		events    multiFlag
		inactive  bool
		allEvents bool
		active    string
		limit     int
		grp       = "Webhooks (admin API key)"
	)
	usage := func(a *app, name string, err error) int {
		fmt.Fprintf(a.stderr, "certctl %s: %v\n", name, err)
		return exitUsage
	}
	return []*command{
		{
			name: "webhooks create", group: grp, summary: "register an endpoint for an issuer's events; its signing secret is shown once",
			synopsis: "webhooks create --url URL [--event TYPE]... [--issuer ID] [--inactive]",
			details:  "Event types: " + strings.Join(cert.WebhookEventTypes, ", ") + ". Without --event the endpoint receives all of them.",
			example:  "  certctl webhooks create --url https://crm.example.cn/hooks/certd --event certificate.suspended --event certificate.withdrawn",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&hookURL, "url", "", "the endpoint's https `URL` (required)")
				fs.Var(&events, "event", "an event `type` to receive (repeat for several; default all)")
				fs.StringVar(&issuer, "issuer", "", "issuer `id` (default: the key's own issuer)")
				fs.BoolVar(&inactive, "inactive", false, "register the endpoint switched off")
			},
			run: func(a *app, _ []string) int {
				if hookURL == "" {
					return usage(a, "webhooks create", errors.New("--url: is required (https://...)"))
				}
				if err := checkEventTypes(events); err != nil {
					return usage(a, "webhooks create", err)
				}
				body := map[string]any{"url": hookURL, "active": !inactive}
				if issuer != "" {
					body["issuer"] = issuer
				}
				if len(events) > 0 {
					body["events"] = []string(events)
				}
				var out webhookInfo
				code := a.admin(request{method: http.MethodPost, path: "/api/v1/webhooks", body: body}, &out, func() { printWebhook(a, out) })
				if code == exitOK {
					fmt.Fprintln(a.stderr, "certctl: store the secret now: certd never shows it again; receivers check the webhook-signature header with it")
				}
				return code
			},
		},
		{
			name: "webhooks list", group: grp, summary: "list the webhooks: id, issuer, URL, events, active",
			synopsis: "webhooks list [--issuer ID]",
			example:  "  certctl webhooks list --issuer default",
			args:     argCount{0, 0, ""},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&issuer, "issuer", "", "only this issuer's (`id`)")
			},
			run: func(a *app, _ []string) int {
				var q url.Values
				if issuer != "" {
					q = url.Values{"issuer": {issuer}}
				}
				var out struct {
					Items []webhookInfo `json:"items"`
				}
				return a.admin(request{method: http.MethodGet, path: "/api/v1/webhooks", query: q}, &out, func() {
					rows := make([][]string, 0, len(out.Items))
					for _, w := range out.Items {
						rows = append(rows, []string{w.ID, w.Issuer, w.URL, eventsText(w.Events), activeText(w)})
					}
					printTable(a.stdout, []string{"ID", "ISSUER", "URL", "EVENTS", "ACTIVE"}, rows)
				})
			},
		},
		{
			name: "webhooks show", group: grp, summary: "show a webhook (never its secret)",
			synopsis: "webhooks show ID",
			example:  "  certctl webhooks show wh_01J8Z3M4...",
			args:     argCount{1, 1, "a webhook ID"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				var out webhookInfo
				return a.admin(request{method: http.MethodGet, path: webhookPath(args[0])}, &out, func() { printWebhook(a, out) })
			},
		},
		{
			name: "webhooks update", group: grp, summary: "change a webhook's URL, events or active flag (enabling clears the reason certd disabled it)",
			synopsis: "webhooks update ID [--url URL] [--event TYPE]... [--all-events] [--active true|false]",
			example:  "  certctl webhooks update wh_01J8Z3M4... --active true\n  certctl webhooks update wh_01J8Z3M4... --event certificate.expired --event reminder.expiry",
			args:     argCount{1, 1, "a webhook ID"},
			setup: func(fs *flag.FlagSet) {
				fs.StringVar(&hookURL, "url", "", "the new https `URL`")
				fs.Var(&events, "event", "receive only these event `type`s (repeat for several)")
				fs.BoolVar(&allEvents, "all-events", false, "receive all event types")
				fs.StringVar(&active, "active", "", "true to enable, false to disable")
			},
			run: func(a *app, args []string) int {
				patch := map[string]any{}
				if hookURL != "" {
					patch["url"] = hookURL
				}
				switch {
				case allEvents && len(events) > 0:
					return usage(a, "webhooks update", errors.New("--all-events and --event: give one of them"))
				case allEvents:
					patch["events"] = nil
				case len(events) > 0:
					if err := checkEventTypes(events); err != nil {
						return usage(a, "webhooks update", err)
					}
					patch["events"] = []string(events)
				}
				if active != "" {
					v, err := strconv.ParseBool(active)
					if err != nil {
						return usage(a, "webhooks update", errors.New("--active: must be true or false"))
					}
					patch["active"] = v
				}
				if len(patch) == 0 {
					return usage(a, "webhooks update", errors.New("nothing to change: give --url, --event, --all-events or --active"))
				}
				var out webhookInfo
				req := request{method: http.MethodPatch, path: webhookPath(args[0]), body: patch,
					contentType: "application/merge-patch+json", retry: retryUnsent}
				return a.admin(req, &out, func() { printWebhook(a, out) })
			},
		},
		{
			name: "webhooks delete", group: grp, summary: "remove a webhook; its delivery log stays",
			synopsis: "webhooks delete ID",
			example:  "  certctl webhooks delete wh_01J8Z3M4...",
			args:     argCount{1, 1, "a webhook ID"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				return a.admin(request{method: http.MethodDelete, path: webhookPath(args[0]), retry: retryUnsent}, nil, func() {
					fmt.Fprintf(a.stdout, "deleted webhook %s\n", args[0])
				})
			},
		},
		{
			name: "webhooks deliveries", group: grp, summary: "a webhook's delivery log, newest first: status, attempts, response code, last error",
			synopsis: "webhooks deliveries ID [--limit N]",
			example:  "  certctl webhooks deliveries wh_01J8Z3M4... --limit 20",
			args:     argCount{1, 1, "a webhook ID"},
			setup: func(fs *flag.FlagSet) {
				fs.IntVar(&limit, "limit", 0, "at most `N` deliveries, 1-1000 (default 100)")
			},
			run: func(a *app, args []string) int {
				if limit < 0 || limit > 1000 {
					return usage(a, "webhooks deliveries", errors.New("--limit: must be from 1 to 1000"))
				}
				var q url.Values
				if limit > 0 {
					q = url.Values{"limit": {strconv.Itoa(limit)}}
				}
				var out struct {
					Items []deliveryInfo `json:"items"`
				}
				return a.admin(request{method: http.MethodGet, path: webhookPath(args[0]) + "/deliveries", query: q}, &out, func() {
					rows := make([][]string, 0, len(out.Items))
					for _, d := range out.Items {
						last, next, code := "", "", ""
						if d.LastAttemptAt != nil {
							last = d.LastAttemptAt.Format(time.RFC3339)
						}
						if d.Status == "pending" && !d.NextAttemptAt.IsZero() {
							next = d.NextAttemptAt.Format(time.RFC3339)
						}
						if d.LastStatusCode != 0 {
							code = strconv.Itoa(d.LastStatusCode)
						}
						rows = append(rows, []string{d.ID, d.Type, d.Status, strconv.Itoa(d.Attempts), code, d.CreatedAt.Format(time.RFC3339), last, next, d.LastError})
					}
					printTable(a.stdout, []string{"ID", "TYPE", "STATUS", "ATTEMPTS", "CODE", "CREATED", "LAST ATTEMPT", "NEXT ATTEMPT", "LAST ERROR"}, rows)
				})
			},
		},
		{
			name: "webhooks redeliver", group: grp, summary: "attempt a delivery again now, with the same webhook-id",
			synopsis: "webhooks redeliver ID DELIVERY-ID",
			example:  "  certctl webhooks redeliver wh_01J8Z3M4... msg_k3x...",
			args:     argCount{2, 2, "a webhook ID and a DELIVERY-ID (from webhooks deliveries)"},
			setup:    func(*flag.FlagSet) {},
			run: func(a *app, args []string) int {
				path := webhookPath(args[0]) + "/deliveries/" + url.PathEscape(args[1]) + "/redeliver"
				return a.admin(request{method: http.MethodPost, path: path, retry: retryUnsent}, nil, func() {
					fmt.Fprintf(a.stdout, "delivery %s is due now\n", args[1])
				})
			},
		},
	}
}
