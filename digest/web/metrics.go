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
	// SignUpsRefused are sign-ups turned away (503) or whose confirmation
	// was dropped, by reason: pending_cap, queue_full, confirmation_budget.
	SignUpsRefused *prometheus.CounterVec
	// ConfirmationsDelayed are confirmation mails the hourly budget held
	// back, to go when it allows.
	ConfirmationsDelayed prometheus.Counter
	// PendingExpired are pending sign-ups deleted after http.pending_ttl.
	PendingExpired prometheus.Counter
	// Bounces are the bounces handled (the mailbox, the webhooks), by
	// kind: hard, soft, delayed. Complaints are the spam reports.
	Bounces    *prometheus.CounterVec
	Complaints prometheus.Counter
	// LastIssueBounceRate and LastIssueComplaintRate are the shares of
	// the last issue's readers that bounced for good and complained, as
	// of the latest run (a send warns past 0.02 and 0.001).
	LastIssueBounceRate, LastIssueComplaintRate prometheus.Gauge

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
		ConfirmationsDelayed: counter("confirmations_delayed_total", "Confirmation mails held back by the hourly confirmation budget, sent when it allows."),
		PendingExpired:       counter("pending_expired_total", "Pending sign-ups deleted after http.pending_ttl."),
		SignUpsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gull", Name: "signups_refused_total",
			Help: "Sign-ups turned away with 503 (reason pending_cap, queue_full, confirmation_budget) or whose held-back confirmation was dropped (confirmation_budget).",
		}, []string{"reason"}),
		Bounces: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "gull", Name: "bounces_total",
			Help: "Bounces handled (bounce mailbox, provider webhooks), by kind: hard (the address does not work), soft (mailbox full, greylisting), delayed (still trying). A report handled twice counts once.",
		}, []string{"kind"}),
		Complaints: counter("complaints_total", "Complaints handled: readers who marked the digest as spam (ARF, provider webhooks). A report handled twice counts once."),
		LastIssueBounceRate: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "gull", Name: "last_issue_bounce_rate",
			Help: "Share (0-1) of the last issue's readers whose copy bounced for good, as of the latest run; relays suspend senders past a few percent."}),
		LastIssueComplaintRate: prometheus.NewGauge(prometheus.GaugeOpts{Namespace: "gull", Name: "last_issue_complaint_rate",
			Help: "Share (0-1) of the last issue's readers who marked it as spam, as of the latest run; providers act past 0.001."}),
		reg: reg,
	}
	reg.MustRegister(m.SendDuration, m.LastSuccess, m.SignUpsRefused, m.Bounces, m.LastIssueBounceRate, m.LastIssueComplaintRate)
	for _, k := range []string{"hard", "soft", "delayed"} {
		m.Bounces.WithLabelValues(k) // shown at 0 from the start
	}
	for _, r := range []string{"pending_cap", "queue_full", "confirmation_budget"} {
		m.SignUpsRefused.WithLabelValues(r) // shown at 0 from the start
	}
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

// CountSignUpRefused counts a sign-up turned away, or a confirmation
// dropped, for reason.
func (m *Metrics) CountSignUpRefused(reason string) {
	if m != nil {
		m.SignUpsRefused.WithLabelValues(reason).Inc()
	}
}

// CountConfirmationDelayed counts a confirmation mail held back by the
// hourly budget.
func (m *Metrics) CountConfirmationDelayed() {
	if m != nil {
		m.ConfirmationsDelayed.Inc()
	}
}

// CountPendingExpired counts pending sign-ups deleted after their time.
func (m *Metrics) CountPendingExpired(n int64) {
	if m != nil {
		m.PendingExpired.Add(float64(n))
	}
}

// CountBounce counts one bounce or complaint handled, by its kind
// (subscribers.BounceKind: hard, soft, delayed or complaint). Count a
// report once: not when the store says it was recorded before.
func (m *Metrics) CountBounce(kind string) {
	switch {
	case m == nil:
	case kind == "complaint":
		m.Complaints.Inc()
	case kind == "hard" || kind == "soft" || kind == "delayed":
		m.Bounces.WithLabelValues(kind).Inc()
	}
}

// SetLastIssueRates sets the last issue's bounce and complaint rates.
func (m *Metrics) SetLastIssueRates(bounces, complaints float64) {
	if m != nil {
		m.LastIssueBounceRate.Set(bounces)
		m.LastIssueComplaintRate.Set(complaints)
	}
}
