package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gull/subscribers"
)

// metricsText is what /metrics shows of gull's own series.
func metricsText(m *Metrics) string {
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	return grepGull(rec.Body.String())
}

func checkMetric(t *testing.T, m *Metrics, want string) {
	t.Helper()
	if got := metricsText(m); !strings.Contains(got+"\n", want+"\n") {
		t.Errorf("/metrics lacks %q:\n%s", want, got)
	}
}

// checkBusy checks the answer to a sign-up the site cannot take now.
func checkBusy(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	checkPage(t, what, rec, 503, "지금은 신청을 받을 수 없습니다", "지금은 신청을 받을 수 없습니다", "메일도 보내지 않았습니다")
	if rec.Header().Get("Retry-After") == "" {
		t.Errorf("%s: no Retry-After", what)
	}
	if strings.Contains(rec.Body.String(), "check your inbox") {
		t.Errorf("%s: the refusal promises a mail", what)
	}
}

// A flood of sign-ups that nobody confirms stops at http.max_pending:
// past it the page says to try later (503, Retry-After), logged at WARN
// and counted. Pending sign-ups older than http.pending_ttl are deleted
// and their links stop working, which makes room again.
func TestSignUpPendingCapAndExpiry(t *testing.T) {
	m := NewMetrics()
	f := newFixture(t, func(p *SubscriberPages) {
		p.MaxPending, p.PendingTTL, p.Metrics = 3, 24*time.Hour, m
	})
	for _, e := range []string{"a@example.org", "b@example.org", "c@example.org"} {
		checkPage(t, e, f.signUp(e), 200, "메일함을 확인해 주세요")
	}
	checkBusy(t, "the fourth pending sign-up", f.signUp("d@example.org"))
	if _, err := f.store.SubscriberByEmail(context.Background(), "d@example.org"); err == nil {
		t.Error("the refused sign-up was stored")
	}
	if n := len(f.mailer.mails()); n != 3 {
		t.Errorf("%d confirmation mails, want 3", n)
	}
	if log := f.log.String(); !strings.Contains(log, "level=WARN") || !strings.Contains(log, "too many pending sign-ups") {
		t.Errorf("the refusal is not a WARN:\n%s", log)
	}
	checkMetric(t, m, `gull_signups_refused_total{reason="pending_cap"} 1`)

	// Confirming makes room: only pending rows count.
	mails := f.mailer.mails()
	f.confirm(mails[0].url)
	f.clock.add(time.Hour)
	checkPage(t, "after a confirmation", f.signUp("e@example.org"), 200, "메일함을 확인해 주세요")

	// A day later the three still pending are gone, with their links.
	f.clock.add(24*time.Hour + time.Minute)
	checkPage(t, "after the pending ones expired", f.signUp("f@example.org"), 200, "메일함을 확인해 주세요")
	checkPage(t, "an expired sign-up's link", f.confirm(mails[1].url), 404, "구독 정보를 찾을 수 없습니다")
	for _, e := range []string{"b@example.org", "c@example.org", "e@example.org"} {
		if _, err := f.store.SubscriberByEmail(context.Background(), e); err == nil {
			t.Errorf("%s is still stored after http.pending_ttl", e)
		}
	}
	if s := f.byEmail("a@example.org"); s.Status != subscribers.Active {
		t.Errorf("the confirmed one: %+v", s)
	}
	checkMetric(t, m, "gull_pending_expired_total 3")
}

// gateMailer holds every confirmation until the gate opens or its
// context ends, as a mail server that accepts and never answers would.
type gateMailer struct {
	gate chan struct{}
	mu   sync.Mutex
	sent int
	cut  int
	// entered counts the confirmations on the wire (waiting at the gate).
	entered atomic.Int32
}

// The welcome and manage mails do not wait for the gate: only the
// confirmations are counted.
func (g *gateMailer) SendWelcome(context.Context, subscribers.Subscriber, Welcome) error { return nil }

func (g *gateMailer) SendManageLink(context.Context, subscribers.Subscriber, string) error {
	return nil
}

func (g *gateMailer) SendConfirmation(ctx context.Context, _ subscribers.Subscriber, _ string) error {
	g.entered.Add(1)
	select {
	case <-g.gate:
		g.mu.Lock()
		g.sent++
		g.mu.Unlock()
		return nil
	case <-ctx.Done():
		g.mu.Lock()
		g.cut++
		g.mu.Unlock()
		return ctx.Err()
	}
}

// serve sends a request without waiting for the sign-up work.
func (f *fixture) serve(form url.Values, remote string) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", "/subscribe", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.RemoteAddr = remote
	rec := httptest.NewRecorder()
	f.h.ServeHTTP(rec, req)
	return rec
}

// With the mail server hung, every sign-up is still answered at once (the
// mail is queued for a few workers); a full queue is refused like the
// cap, and the queued mails go when the server answers.
func TestSignUpAnswersWhateverTheMailServerDoes(t *testing.T) {
	m := NewMetrics()
	g := &gateMailer{gate: make(chan struct{})}
	f := newFixture(t, func(p *SubscriberPages) {
		p.Mailer, p.Metrics, p.SubscribeBurst, p.ConfirmPerHour = g, m, 1000, 1000
	})
	answered := make(chan int)
	total := signUpWorkers + signUpQueue + 1
	go func() {
		// Answers are counted while the server still hangs: none waits
		// for a mail.
		for i := range total {
			rec := f.serve(url.Values{"email": {fmt.Sprintf("r%d@example.org", i)}}, "192.0.2.1:1")
			answered <- rec.Code
		}
		close(answered)
	}()
	codes := map[int]int{}
	timeout := time.After(30 * time.Second) // a hung request fails the test, not CI
	for done := false; !done; {
		select {
		case c, ok := <-answered:
			if !ok {
				done = true
				break
			}
			codes[c]++
		case <-timeout:
			t.Fatalf("sign-ups hang on the mail server: answered %v of %d", codes, total)
		}
	}
	// The workers take a job each before the queue fills; the rest of a
	// queue's worth waits, and what is beyond is refused.
	if codes[200] != signUpWorkers+signUpQueue || codes[503] != 1 {
		t.Errorf("answers %v; want %d × 200 and one 503", codes, signUpWorkers+signUpQueue)
	}
	checkBusy(t, "a sign-up past the queue", f.serve(url.Values{"email": {"late@example.org"}}, "192.0.2.1:1"))
	checkMetric(t, m, `gull_signups_refused_total{reason="queue_full"} 2`)
	if !strings.Contains(f.log.String(), "confirmation queue is full") {
		t.Errorf("the log does not say the queue is full:\n%s", f.log.String())
	}
	close(g.gate)
	f.pages.Wait()
	if g.sent != signUpWorkers+signUpQueue {
		t.Errorf("%d mails sent once the server answered, want %d", g.sent, signUpWorkers+signUpQueue)
	}
}

// At shutdown the sign-up work stops: the mail on the wire is cut, the
// queued ones are dropped (their readers can sign up again), and Wait
// returns.
func TestSignUpStopsAtShutdown(t *testing.T) {
	g := &gateMailer{gate: make(chan struct{})}
	f := newFixture(t, func(p *SubscriberPages) { p.Mailer, p.SubscribeBurst = g, 1000 })
	for i := range 20 {
		checkPage(t, "sign-up", f.serve(url.Values{"email": {fmt.Sprintf("r%d@example.org", i)}}, "192.0.2.1:1"), 200)
	}
	// Stop once a mail is on the wire: before that there is nothing to cut.
	for deadline := time.Now().Add(30 * time.Second); g.entered.Load() == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("no worker took a sign-up")
		}
	}
	f.pages.Stop()
	waited := make(chan struct{})
	go func() { f.pages.Wait(); close(waited) }()
	select {
	case <-waited:
	case <-time.After(30 * time.Second):
		t.Fatal("Wait did not return after Stop with the mail server hung")
	}
	if g.sent != 0 || g.cut == 0 || g.cut > signUpWorkers {
		t.Errorf("sent %d, cut %d; want 0 sent and at most a worker's each cut", g.sent, g.cut)
	}
	if !strings.Contains(f.log.String(), "confirmation mails not sent") {
		t.Errorf("the log does not say what was dropped:\n%s", f.log.String())
	}
	checkBusy(t, "a sign-up after Stop", f.serve(url.Values{"email": {"late@example.org"}}, "192.0.2.1:1"))
}

// Past the site's hourly budget a confirmation is not lost in silence:
// the page says the mail is delayed, it is a WARN and counted, and it goes
// when the budget allows. Past an hour's worth waiting, the page says to
// try later.
func TestConfirmationBudgetDelaysThenSends(t *testing.T) {
	m := NewMetrics()
	f := newFixture(t, func(p *SubscriberPages) { p.ConfirmPerHour, p.Metrics = 2, m })
	for _, e := range []string{"a@example.org", "b@example.org"} {
		rec := f.signUp(e)
		checkPage(t, e, rec, 200, "메일함을 확인해 주세요")
		if strings.Contains(rec.Body.String(), "delayed") {
			t.Errorf("%s: the page says delayed within the budget", e)
		}
	}
	for _, e := range []string{"c@example.org", "d@example.org"} {
		checkPage(t, e, f.signUp(e), 200, "메일함을 확인해 주세요", "확인 메일이 늦어집니다", "확인 메일이 늦어집니다")
	}
	checkBusy(t, "past an hour's worth waiting", f.signUp("e@example.org"))
	if n := len(f.mailer.mails()); n != 2 {
		t.Fatalf("%d mails within the budget, want 2", n)
	}
	if log := f.log.String(); !strings.Contains(log, `level=WARN msg="confirmation mail delayed`) {
		t.Errorf("the held-back mail is not a WARN:\n%s", log)
	}
	checkMetric(t, m, "gull_confirmations_delayed_total 2")
	checkMetric(t, m, `gull_signups_refused_total{reason="confirmation_budget"} 1`)

	f.clock.add(time.Hour)
	f.pages.st.signUps.retryHeld(f.clock.now())
	f.pages.Wait()
	mails := f.mailer.mails()
	if len(mails) != 4 || !slices.Contains([]string{mails[2].to.Email, mails[3].to.Email}, "d@example.org") ||
		!slices.Contains([]string{mails[2].to.Email, mails[3].to.Email}, "c@example.org") {
		t.Fatalf("after the hour: %d mails %+v", len(mails), mails)
	}
	for _, m := range mails[2:] {
		f.confirm(m.url)
	}
	if s := f.byEmail("d@example.org"); s.Status != subscribers.Active {
		t.Errorf("the delayed link does not confirm: %+v", s)
	}
}

// A reload (SIGHUP) makes new pages and a new site; they carry the old
// ones' caps over, so a reload does not reset the hourly budget or the
// rate limits.
func TestContinueKeepsTheCaps(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) { s.WriteBurst, s.WriteEvery = 1, time.Hour })
	sf.pages.ConfirmPerHour, sf.pages.SubscribeBurst, sf.pages.SubscribeEvery = 1, 1, time.Hour
	sf.pages.st = nil
	sf.sh = sf.site.Handler()
	checkPage(t, "first sign-up", sf.submit("/subscribe", url.Values{"email": {"a@example.org"}}, "192.0.2.1:1"), 200)

	pages := &SubscriberPages{Store: sf.store, Signer: sf.pages.Signer, Mailer: sf.mailer, BaseURL: baseURL,
		Title: sf.pages.Title, Language: sf.pages.Language, Now: sf.clock.now, Log: sf.pages.Log, ConfirmPerHour: 1, SubscribeBurst: 1, SubscribeEvery: time.Hour}
	site := *sf.site
	site.Pages, site.st = pages, nil
	h := site.Handler()
	pages.Continue(sf.pages)
	site.Continue(sf.site)
	sf.sh, sf.pages = h, pages

	if rec := sf.submit("/subscribe", url.Values{"email": {"a@example.org"}}, "192.0.2.1:1"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("the same client after a reload: %d, want 429", rec.Code)
	}
	checkPage(t, "another client after a reload", sf.submit("/subscribe", url.Values{"email": {"b@example.org"}}, "192.0.2.2:1"),
		200, "확인 메일이 늦어집니다")
	if n := len(sf.mailer.mails()); n != 1 {
		t.Errorf("%d confirmation mails with a budget of 1 an hour across a reload", n)
	}
}

// Confirmations the hourly budget holds back are dropped at a stop like
// the queued ones, and the log says how many, not silence.
func TestStopLogsHeldBackConfirmations(t *testing.T) {
	f := newFixture(t, func(p *SubscriberPages) { p.ConfirmPerHour = 2 })
	for _, e := range []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org"} {
		checkPage(t, e, f.signUp(e), 200, "메일함을 확인해 주세요")
	}
	f.pages.Stop()
	f.pages.Wait()
	if log := f.log.String(); !strings.Contains(log, "confirmation mails not sent") || !strings.Contains(log, "held_back=2") {
		t.Errorf("the log does not say two held-back confirmations were dropped:\n%s", log)
	}
}
