package web

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"gull/digest"
)

// Metrics are what `gull run` tells Prometheus (GET /metrics). Counters
// start at zero with each process, as Prometheus expects; the last
// successful run's time is read back from the store at start.
type Metrics struct {
	FeedsFetched prometheus.Counter // feed fetches that worked (ok or not modified)
	FeedsFailed  prometheus.Counter // feed fetches that failed
	Articles     prometheus.Counter // articles read from the feeds (each fetch that returned one)
	Issues       prometheus.Counter // issues built (frozen) and sent to
	Sent         prometheus.Counter // messages accepted by the server
	Failed       prometheus.Counter // messages refused for good
	Retried      prometheus.Counter // messages left for a later try (temporary failures, stops)
	SendDuration prometheus.Histogram
	LastSuccess  prometheus.Gauge // Unix time of the last run that sent everything it had to

	reg *prometheus.Registry
}

// NewMetrics makes the metrics on a registry of their own (with the Go
// runtime's and the process's), so tests and two daemons in one process
// never share counters.
func NewMetrics() *Metrics {
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	counter := func(name, help string) prometheus.Counter {
		c := prometheus.NewCounter(prometheus.CounterOpts{Namespace: "gull", Name: name, Help: help})
		reg.MustRegister(c)
		return c
	}
	m := &Metrics{
		FeedsFetched: counter("feeds_fetched_total", "Feed fetches that worked (ok or not modified)."),
		FeedsFailed:  counter("feeds_failed_total", "Feed fetches that failed."),
		Articles:     counter("articles_total", "Articles read from the feeds: the items of each fetch that returned a feed (a 304 or a failure brings none)."),
		Issues:       counter("issues_total", "Issues built and sent to readers."),
		Sent:         counter("messages_sent_total", "Messages the mail server accepted."),
		Failed:       counter("messages_failed_total", "Messages refused for good (the address does not exist, ...)."),
		Retried:      counter("messages_retried_total", "Messages left for a later try: temporary failures, or a send that was stopped."),
		SendDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: "gull", Name: "send_duration_seconds", Help: "How long each send of an issue took.",
			Buckets: prometheus.ExponentialBuckets(1, 4, 8), // 1 s to 4.5 h
		}),
		LastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: "gull", Name: "last_success_timestamp_seconds",
			Help: "Unix time of the last scheduled run that sent everything it had to (0: none yet).",
		}),
		reg: reg,
	}
	reg.MustRegister(m.SendDuration, m.LastSuccess)
	return m
}

// Handler serves the metrics in Prometheus' text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// The counting helpers below do nothing on a nil *Metrics, so the
// commands that keep no metrics (gull send) share the daemon's code.

// CountFeeds counts a fetch of the feeds and the articles it read. The
// daemon's hourly refresh is most of its fetching, so the articles are
// counted here and not only when an issue is built: a counter that
// stayed 0 all week would read as feeds that bring nothing. A feed that
// failed or answered 304 stands in with its stored copy, which is not
// read again.
func (m *Metrics) CountFeeds(feeds []digest.FeedResult) {
	if m == nil {
		return
	}
	for _, f := range feeds {
		switch f.Status {
		case digest.FeedError:
			m.FeedsFailed.Inc()
		case digest.FeedOK:
			m.Articles.Add(float64(len(f.Articles)))
			fallthrough
		default:
			m.FeedsFetched.Inc()
		}
	}
}

// CountIssue counts an issue built.
func (m *Metrics) CountIssue(is digest.Issue) {
	if m == nil {
		return
	}
	m.Issues.Inc()
}

// CountOutcome counts what became of one message.
func (m *Metrics) CountOutcome(st digest.DeliveryStatus) {
	if m == nil {
		return
	}
	switch st {
	case digest.DeliverySent:
		m.Sent.Inc()
	case digest.DeliveryFailed:
		m.Failed.Inc()
	case digest.DeliveryPending:
		m.Retried.Inc()
	}
}

// ObserveSend records how long a send took.
func (m *Metrics) ObserveSend(d time.Duration) {
	if m != nil {
		m.SendDuration.Observe(d.Seconds())
	}
}
