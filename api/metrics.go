package api

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics are the Prometheus series certd exports on /metrics.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	issued   prometheus.Counter
	verdicts *prometheus.CounterVec
	// watches counts public subscription requests: "accepted" (whatever
	// happened to the address: /metrics is public and must not tell
	// whether an address watches) or "limited_client".
	watches *prometheus.CounterVec
	handler http.Handler
	// routes are the route templates of the router: the only values of
	// the route label besides "unmatched".
	routes map[string]bool
	// counters and observers keep the series of requests resolved
	// (seriesKey → prometheus.Counter, route → prometheus.Observer):
	// WithLabelValues hashes its labels on every call. Their keys are
	// the closed sets of observe.
	counters  sync.Map
	observers sync.Map
}

// seriesKey names a series of certd_http_requests_total: the method's and
// the route's label values and the status code.
type seriesKey struct {
	method, route string
	code          int
}

func newMetrics() *metrics {
	m := &metrics{
		routes: map[string]bool{},
		reg:    prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_http_requests_total", Help: "HTTP requests by method, route and status code.",
		}, []string{"method", "route", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name: "certd_http_request_duration_seconds", Help: "HTTP request latency by route.",
			Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
		}, []string{"route"}),
		issued: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "certd_certificates_issued_total", Help: "Certificates issued by this instance.",
		}),
		verdicts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_verifications_total", Help: "Verifications by verdict.",
		}, []string{"verdict"}),
		watches: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "certd_watch_subscriptions_total", Help: "Public watch subscription requests: accepted (whatever the address's state) or limited_client.",
		}, []string{"outcome"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.issued, m.verdicts, m.watches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// observe counts one request. Every label value comes from a closed set, so
// that no request can add a series: the method is a standard one or
// "other", the route a registered template or "unmatched", the code one
// net/http knows or its class ("5xx").
func (m *metrics) observe(method, route string, status int, d time.Duration) {
	if !m.routes[route] {
		route = "unmatched"
	}
	if status < 100 || status > 599 {
		status = 0 // codeLabel's "other"
	}
	k := seriesKey{methodLabel(method), route, status}
	c, ok := m.counters.Load(k)
	if !ok {
		c, _ = m.counters.LoadOrStore(k, m.requests.WithLabelValues(k.method, route, codeLabel(status)))
	}
	c.(prometheus.Counter).Inc()
	o, ok := m.observers.Load(route)
	if !ok {
		o, _ = m.observers.LoadOrStore(route, m.duration.WithLabelValues(route))
	}
	o.(prometheus.Observer).Observe(d.Seconds())
}

// ObserveConnections exports the listener's figures on /metrics: open
// reports the connections open now; the function returned counts a
// connection refused by a cap, per client IP or in total. Call it once.
func (s *Server) ObserveConnections(open func() float64) (refused func(perIP bool)) {
	refusedTotal := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "certd_connections_refused_total", Help: "Connections closed unserved by a cap, by cap (per_ip or total).",
	}, []string{"cap"})
	s.metrics.reg.MustRegister(refusedTotal, prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "certd_connections_open", Help: "Connections open now, the health-only reserve included.",
	}, open))
	perIP, total := refusedTotal.WithLabelValues("per_ip"), refusedTotal.WithLabelValues("total")
	return func(byIP bool) {
		if byIP {
			perIP.Inc()
		} else {
			total.Inc()
		}
	}
}

func methodLabel(method string) string {
	switch method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return method
	}
	return "other"
}

func codeLabel(status int) string {
	if status < 100 || status > 599 {
		return "other"
	}
	if http.StatusText(status) == "" {
		return strconv.Itoa(status/100) + "xx"
	}
	return strconv.Itoa(status)
}

// keptVerdicts is what a verifier that keeps verdicts tells of them.
type keptVerdicts interface {
	KeptVerdicts() (answered, judged uint64)
}

// observeKept exports how many verdicts by id were answered from the
// verifier's cache and how many were judged from the store.
func (m *metrics) observeKept(k keptVerdicts) {
	series := func(result string, pick func(answered, judged uint64) uint64) prometheus.Collector {
		return prometheus.NewCounterFunc(prometheus.CounterOpts{
			Name: "certd_verdicts_by_id_total", Help: "Verdicts by id: answered from the verdicts kept in memory, or judged from the store.",
			ConstLabels: prometheus.Labels{"source": result},
		}, func() float64 { return float64(pick(k.KeptVerdicts())) })
	}
	m.reg.MustRegister(series("kept", func(a, _ uint64) uint64 { return a }), series("store", func(_, j uint64) uint64 { return j }))
}
