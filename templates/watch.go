package templates

import "net/url"

// States of the watch pages (WatchPageData.State).
const (
	// WatchSent answers a subscription, whatever happened to it.
	WatchSent = "sent"
	// WatchConfirm asks to press the button that confirms.
	WatchConfirm = "confirm"
	// WatchConfirmed, WatchInvalid: the outcome of a confirmation.
	WatchConfirmed = "confirmed"
	WatchInvalid   = "invalid"
	// WatchUnsubscribe asks to press the button that unsubscribes;
	// WatchUnsubscribed says it is done.
	WatchUnsubscribe  = "unsubscribe"
	WatchUnsubscribed = "unsubscribed"
)

// WatchPageData is a page of the watchlist flow. It never shows the
// watcher's address.
type WatchPageData struct {
	Lang      string
	PublicURL string
	State     string
	// Token is the confirmation or unsubscribe token the page's button
	// posts back.
	Token string
	// CertURL links the certificate's verification page (WatchSent).
	CertURL string
}

type watchView struct {
	P                          page
	Lang, Text, Button, Action string
	Token, CertURL             string
}

// WatchPage renders a page of the watchlist flow.
func WatchPage(d WatchPageData) ([]byte, error) {
	lang := PickLanguage(d.Lang, "")
	key := map[string]string{
		WatchSent: "wp.sent", WatchConfirm: "wp.confirm", WatchConfirmed: "wp.confirmed", WatchInvalid: "wp.invalid",
		WatchUnsubscribe: "wp.unsub", WatchUnsubscribed: "wp.unsubbed",
	}[d.State]
	if key == "" {
		key = "wp.invalid"
	}
	v := &watchView{
		P:    newPage(lang, translate(lang, key+".title"), d.PublicURL, nil),
		Lang: lang, Text: translate(lang, key+".text"), CertURL: d.CertURL,
	}
	switch d.State {
	case WatchConfirm:
		v.Button, v.Token = translate(lang, key+".button"), d.Token
		v.Action = publicPath(d.PublicURL, "/watch/confirm") + "?lang=" + url.QueryEscape(lang)
	case WatchUnsubscribe:
		v.Button = translate(lang, key+".button")
		v.Action = publicPath(d.PublicURL, "/watch/unsubscribe") + "?" + url.Values{"token": {d.Token}, "lang": {lang}}.Encode()
	}
	return execute(lang, "watch.html", v)
}
