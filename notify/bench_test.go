package notify

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"

	"github.com/certd/certd/cert"
	"github.com/certd/certd/store/bolt"
)

// BenchmarkWorkerDeliveries measures deliveries per second from a bbolt
// outbox to a fast receiver on 127.0.0.1 (signing, posting, recording the
// result): b.N deliveries are enqueued, then one worker delivers them all.
//
//	go test -run '^$' -bench WorkerDeliveries -benchtime 5000x ./notify
func BenchmarkWorkerDeliveries(b *testing.B) {
	s, err := bolt.Open(filepath.Join(b.TempDir(), "certd.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var got atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		got.Add(1)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	secret, _ := NewSecret()
	now := time.Now().UTC().Truncate(time.Millisecond)
	hook := &cert.Webhook{ID: "wh1", Issuer: "cb", URL: srv.URL + "/h", Active: true, Secret: secret, CreatedAt: now}
	if err := s.CreateWebhook(b.Context(), hook); err != nil {
		b.Fatal(err)
	}
	for i := range b.N {
		d, err := NewDelivery(hook, fmt.Sprintf("cert%d/1", i), Message{Type: cert.WebhookCertificateIssued, Timestamp: now,
			Data: map[string]string{"id": fmt.Sprint(i), "number": "ITSS-2026-000001"}}, now)
		if err != nil {
			b.Fatal(err)
		}
		d.Certificate = fmt.Sprintf("cert%d", i)
		if err := s.EnqueueDelivery(b.Context(), d); err != nil {
			b.Fatal(err)
		}
	}
	w := &Worker{Store: s, Owner: "bench", Client: NewClient(ClientOptions{AllowHTTP: true, AllowPrivate: true})}
	b.ResetTimer()
	start := time.Now()
	for got.Load() < int64(b.N) {
		if _, err := w.RunOnce(b.Context()); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "deliveries/s")
}
