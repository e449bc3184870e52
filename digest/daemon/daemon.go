// Package daemon is `gull run`: the flow from feed to inbox kept going
// by itself. It holds the schedule (digest/schedule) and makes a send
// (digest/send) at each slot, catches up a slot missed while it was down,
// finishes a send left pending, refreshes the feeds between runs (for
// undated articles' first-seen times and the web preview), serves the web
// side (digest/web: archive, sign-up, preferences, preview, health,
// metrics) with the sign-up confirmation mailer, reloads the config on
// SIGHUP, and stops in order within a grace. It is the top of the flow:
// nothing but the command line imports it.
package daemon

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"gull/digest"
	"gull/digest/bouncebox"
	"gull/digest/config"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/schedule"
	"gull/digest/send"
	"gull/digest/store"
	"gull/digest/web"
)

// The daemon's pace. Variables, so tests can run a day in seconds.
var (
	// feedRefresh is how often the daemon looks at the feeds between
	// runs: often enough that an undated article's first-seen time is
	// honest to the hour, gently enough for any publisher (conditional
	// GETs, mostly answered 304). The same tick retries a run that
	// failed and finishes a send that left readers pending.
	feedRefresh = time.Hour
	// campaignEvery is how often a daemon that does not lead the
	// schedule (PostgreSQL) asks for the leader's lease; it is a third
	// of the lease, at most.
	campaignEvery = 10 * time.Second
)

// Options is what a daemon is made of. The command line loads the config
// and opens the store; the daemon runs on them until it is stopped.
type Options struct {
	Env      send.Env
	Store    *store.Store
	Config   *config.Config
	Renderer *render.Renderer
	// Reload reads the config and templates again (SIGHUP), checked as at
	// start; an error keeps the running ones in force.
	Reload func() (*config.Config, *render.Renderer, error)
	// Version is logged at start.
	Version string
}

// New makes the daemon of o.
func New(o Options) *Daemon {
	d := &Daemon{env: o.Env, st: o.Store, log: o.Env.Log, metrics: web.NewMetrics(), running: make(chan struct{}, 1),
		grace: o.Env.Grace, version: o.Version, reload: o.Reload, usedLinks: storeUsedLinks{o.Store}, instance: instanceName(),
		bouncesLeft: bouncebox.NewRemembered()}
	d.conf.Store(&daemonConfig{cfg: o.Config, r: o.Renderer})
	return d
}

// ErrNotAllSent: a run left readers failed or pending (its summary says
// which).
var ErrNotAllSent = errors.New("not every reader got the issue")

// ErrGraceExceeded: the run did not finish within the grace (the log
// says so, and what becomes of the messages on the wire).
var ErrGraceExceeded = errors.New("the run did not finish within the grace period")

// daemonConfig is the config in force and its renderer; SIGHUP swaps both
// at once.
type daemonConfig struct {
	cfg *config.Config
	r   *render.Renderer
}

// Daemon is one `gull run`.
type Daemon struct {
	env     send.Env
	version string
	// reload reads the config and templates again (SIGHUP).
	reload  func() (*config.Config, *render.Renderer, error)
	st      *store.Store
	log     *slog.Logger
	metrics *web.Metrics
	conf    atomic.Pointer[daemonConfig]
	sched   *schedule.Scheduler
	grace   time.Duration // from SIGTERM to exit, at most (send.Env.Grace)

	// running is held by the one piece of work that may touch the feeds
	// and the ledger at a time: a run, a resumed send or a refresh. A
	// channel, so a scheduled run can wait for its turn.
	running chan struct{}
	// work counts the runs going, so shutdown can wait for them.
	work sync.WaitGroup

	mu        sync.Mutex
	gathered  pipeline.Gathered // the latest fetch of the feeds, for /preview
	fetchedAt time.Time         // when a fetch last reached a feed
	// usedLinks records the desk's sign-in links used, in the store: a
	// link used at one daemon is refused at every other, and a restart
	// or a reload does not make it good again.
	usedLinks web.UsedLinks
	// bouncesLeft are the bounce mailbox's messages left alone, read
	// once for the daemon's life (bounces.go).
	bouncesLeft *bouncebox.Remembered

	// leader is the lease that lets this daemon run the schedule: the
	// store's "daemon" lease on SQLite (one daemon per store), the
	// leader's lease on PostgreSQL (several daemons, one leads). Set
	// once, before the schedule starts; nil while following.
	leader atomic.Pointer[store.Lease]
	// instance names this daemon's claims on the sign-ups it mails.
	instance string
	leadMu   sync.Mutex // orders the schedule's start against shutdown
	stopping bool       // shutdown has begun: no schedule starts
}

// instanceName is a daemon's name in the store's claims: its machine,
// its pid and a random part (a pid is reused, a container's host name
// too).
func instanceName() string {
	host, _ := os.Hostname()
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// storeUsedLinks is web.UsedLinks in the store, shared by every daemon.
type storeUsedLinks struct{ st *store.Store }

func (u storeUsedLinks) Use(ctx context.Context, id int64, expires, now time.Time) (bool, error) {
	return u.st.UseDeskLink(ctx, id, expires, now)
}

func (d *Daemon) config() *daemonConfig { return d.conf.Load() }

// Once is `gull run --once`: the job for now, its summary on w, and
// ErrNotAllSent when something was not sent.
func (d *Daemon) Once(ctx context.Context, w io.Writer) error {
	now := time.Now().Truncate(time.Second).In(d.config().cfg.Location)
	res, s, err := d.job(ctx, now, "once", "")
	if err != nil {
		return err
	}
	if s == nil {
		return nil
	}
	if !s.Summarize(w, res) {
		return ErrNotAllSent
	}
	return nil
}

// job makes one run: fetch, build (or reopen) the issue, send it. slot is
// the scheduled time it is for (it names the week); issueID, when set, is
// an issue to finish instead. It returns a nil Sender when another run
// held the store and this one was skipped.
func (d *Daemon) job(ctx context.Context, slot time.Time, trigger, issueID string) (send.Result, *send.Sender, error) {
	if !d.take(ctx, trigger == "schedule") {
		if ctx.Err() == nil {
			d.log.Warn("run skipped: another run is still going", "trigger", trigger, "slot", slot.Format(time.RFC3339))
		}
		return send.Result{}, nil, nil
	}
	defer d.release()
	d.work.Add(1)
	defer d.work.Done()
	// A store whose file was deleted under the daemon would take the
	// run's records with it: no run, and the log says why.
	if err := d.st.CheckFile(); err != nil {
		d.log.Error("run not made", "trigger", trigger, "slot", slot.Format(time.RFC3339), "err", err)
		return send.Result{}, nil, err
	}
	if trigger == "schedule" || trigger == "catch-up" {
		// While this run waited for its turn, another (a catch-up after
		// a suspend, racing the late cron fire; another daemon that led
		// before) may have made the slot. The slot is taken together
		// with the leader's lease, in one transaction: a leader paused
		// past its lease makes no run beside the one that took over.
		made, err := d.takeSlot(ctx, slot)
		if errors.Is(err, store.ErrLeaseLost) {
			d.log.Error("run not made: this daemon no longer leads the schedule (its lease lapsed)", "trigger", trigger, "slot", slot.Format(time.RFC3339))
			return send.Result{}, nil, err
		}
		if err == nil && made {
			d.log.Info("run skipped: its slot was made already", "trigger", trigger, "slot", slot.Format(time.RFC3339))
			return send.Result{}, nil, nil
		}
	}

	c := d.config()
	s := &send.Sender{Env: d.env, Config: c.cfg, Store: d.st, Renderer: c.r, Now: slot, Unattended: true, Metrics: d.metrics,
		CopiesFresh: d.copiesFresh()}
	start := time.Now()
	var res send.Result
	err := s.Open(ctx)
	if err == nil {
		defer s.Close()
		if issueID == "" {
			issueID = s.IssueID()
		}
		res, err = d.sendIssue(ctx, s, issueID)
	}
	if g := s.Gathered(); g.Feeds != nil {
		d.setGathered(g)
	}
	d.logRun(trigger, slot, issueID, s, res, err, time.Since(start))
	if err != nil {
		return res, s, err
	}
	if res.Held {
		// The slot stays owed: each hourly round makes it again, and the
		// first after an approval sends it (a new slot, next week's,
		// takes its place).
		d.held(ctx, issueID)
		return res, s, nil
	}
	if trigger != "resume" {
		// The slot's week is built (or quiet) and sent as far as it
		// could be; readers left pending are finished by resume. Only
		// this slot is done: one that came while this run went (a late
		// retry overlapping the next Monday) is still owed, and tick
		// makes it.
		if err := d.st.SetScheduleDoneThrough(context.WithoutCancel(ctx), slot); err != nil {
			d.log.Error("could not record the run in the store; it may run again at the next start", "err", err)
		}
	}
	if res.Quiet || res.Report.OK() {
		d.metrics.LastSuccess.Set(float64(time.Now().Unix()))
	}
	return res, s, nil
}

// takeSlot takes slot for a run (store.TakeSlot) with the leader's lease.
// A job made outside Serve (a test's) leads nothing: the done-through
// mark alone says whether the slot was made.
func (d *Daemon) takeSlot(ctx context.Context, slot time.Time) (made bool, err error) {
	if l := d.leader.Load(); l != nil {
		return d.st.TakeSlot(ctx, l, slot, time.Now())
	}
	done, ok, err := d.st.ScheduleDoneThrough(ctx)
	return ok && !done.Before(slot), err
}

// sendIssue sends the issue. On PostgreSQL the send's lease may still be
// held by a daemon that died mid-send (this one took the schedule over
// from it): the send waits for it to lapse, twice at most, rather than
// leave the issue for the next hourly round.
func (d *Daemon) sendIssue(ctx context.Context, s *send.Sender, issueID string) (send.Result, error) {
	for try := 0; ; try++ {
		res, err := s.SendIssue(ctx, issueID)
		var held *store.LeaseHeldError
		if try == 2 || !d.st.Postgres() || !errors.As(err, &held) || held.Name != "send" {
			return res, err
		}
		wait := min(time.Until(held.Expires)+time.Second, 2*d.env.LeaseTTL())
		d.log.Warn("another gull holds the send; waiting for its claim to lapse (a daemon that stopped, or a gull send still going)",
			"issue", issueID, "holder_host", held.Host, "holder_pid", held.PID, "wait", wait.Round(time.Millisecond).String())
		select {
		case <-ctx.Done():
			return res, err
		case <-time.After(wait):
		}
	}
}

// take takes the daemon's turn to work. A scheduled run waits for a
// refresh or a resumed send to end (a Monday run must not be put off by an
// hour's refresh); the other kinds of work give way at once.
func (d *Daemon) take(ctx context.Context, wait bool) bool {
	if wait {
		select {
		case d.running <- struct{}{}:
			return true
		case <-ctx.Done():
			return false
		}
	}
	select {
	case d.running <- struct{}{}:
		return true
	default:
		return false
	}
}

func (d *Daemon) release() { <-d.running }

// logRun writes the one line a run leaves in the log, with its figures.
func (d *Daemon) logRun(trigger string, slot time.Time, id string, s *send.Sender, res send.Result, err error, took time.Duration) {
	attrs := []any{"trigger", trigger, "slot", slot.Format(time.RFC3339), "issue", id}
	if g := s.Gathered(); g.Feeds != nil {
		attrs = append(attrs, "feeds", len(g.Feeds), "feeds_failed", g.Failed())
	}
	rep := res.Report
	attrs = append(attrs, "articles", res.Issue.Count(), "sent", rep.Sent, "failed", rep.Failed, "skipped", rep.Skipped,
		"deferred", rep.Deferred, "left", rep.Totals.Left(), "in_doubt", rep.InDoubt, "took", took.Round(time.Millisecond).String())
	level := slog.LevelInfo
	msg := "run"
	switch {
	case err != nil:
		level, msg = slog.LevelError, "run failed; it is tried again within "+feedRefresh.String()
		attrs = append(attrs, "err", err.Error())
	case res.Quiet:
		attrs = append(attrs, "quiet", true)
	case rep.Stopped != "":
		level = slog.LevelWarn
		attrs = append(attrs, "stopped", rep.Stopped)
	case !rep.OK():
		level = slog.LevelWarn
	}
	if rep.Done {
		attrs = append(attrs, "complete", true)
	}
	// What came back of the issue before, as send's summary gives it.
	var warnings []string
	if c := res.LastIssue; c != nil {
		attrs = append(attrs, "last_issue", c.IssueID, "last_issue_sent", c.Sent,
			"last_issue_bounce_rate", round4(c.BounceRate()), "last_issue_complaint_rate", round4(c.ComplaintRate()))
		d.metrics.SetLastIssueRates(c.BounceRate(), c.ComplaintRate())
		warnings = send.BounceWarnings(*c)
	}
	for _, w := range warnings {
		d.log.Warn(w, "issue", res.LastIssue.IssueID)
	}
	d.log.Log(context.Background(), level, msg, attrs...)
}

// round4 keeps a rate's first four decimals (0.1% is 0.001), so the log
// shows 0.0125, not 0.012500000000000001.
func round4(r float64) float64 { return math.Round(r*1e4) / 1e4 }

func (d *Daemon) setGathered(g pipeline.Gathered) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.gathered = g
	if g.Failed() < len(g.Feeds) {
		// Wall time: the monotonic clock stops while the machine sleeps,
		// and copies from before a week's suspend are not fresh.
		d.fetchedAt = time.Now().Round(0)
	}
}

// copiesFresh tells whether the daemon's last fetch that reached a feed is
// recent: then the feeds' stored copies are this hour's news, and an
// outage at the slot need not hold the week back.
func (d *Daemon) copiesFresh() bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	return !d.fetchedAt.IsZero() && time.Now().Round(0).Sub(d.fetchedAt) < 2*feedRefresh
}

// Serve is the daemon proper: the schedule and the web side until ctx
// ends (SIGTERM), reloading the config at each value of hup (SIGHUP).
func (d *Daemon) Serve(ctx context.Context, hup <-chan os.Signal) error {
	c := d.config()
	if !d.st.Postgres() {
		// SQLite: one daemon per store, and it leads the schedule.
		lease, err := d.st.AcquireLease(ctx, "daemon", d.env.LeaseTTL(), time.Now())
		var held *store.LeaseHeldError
		if errors.As(err, &held) {
			return fmt.Errorf("another gull run (pid %d on %s) is serving the store %s; stop it first (only one daemon may use a SQLite store: several need store.dsn, PostgreSQL), or point this one at another store.path",
				held.PID, held.Host, d.st.Path())
		}
		if err != nil {
			return err
		}
		d.leader.Store(lease)
	}
	// The lease goes last, once the run going has ended (shutdown): no
	// other daemon takes the schedule over while this one still sends.
	defer func() {
		if l := d.leader.Load(); l != nil {
			l.Release(context.WithoutCancel(ctx))
		}
	}()

	ln, err := net.Listen("tcp", c.cfg.HTTP.Listen)
	if err != nil {
		return fmt.Errorf("http.listen %s: %w; set http.listen to a free address", c.cfg.HTTP.Listen, err)
	}
	// The daemon's own context: a signal ends it, and so does losing the
	// store to another daemon (ours lapsed while the machine slept).
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)

	site := &siteHolder{}
	parts, handler, err := d.newSite(ctx, c.cfg, c.r)
	if err != nil {
		ln.Close()
		return err
	}
	site.swap(parts, handler)
	srv := &http.Server{
		Handler:           site,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    32 << 10,
		ErrorLog:          slog.NewLogLogger(d.log.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return context.WithoutCancel(ctx) },
	}
	served := make(chan error, 1)
	go func() { served <- srv.Serve(ln) }()

	if d.sched, err = schedule.New(c.cfg.Schedule, c.cfg.Location, d.log, d.scheduled(ctx)); err != nil {
		return err // validated at load: not reached
	}
	d.log.Info("gull run started", "version", d.version, "listen", ln.Addr().String(), "base_url", c.cfg.HTTP.BaseURL,
		"schedule", c.cfg.Schedule, "timezone", c.cfg.Location.String(),
		"next_run", d.sched.Next(time.Now()).Format(time.RFC3339), "store", d.st.Path())
	d.initMetrics(ctx)

	var bg sync.WaitGroup
	bg.Go(func() { d.sendOwed(ctx, site) })
	bg.Go(func() {
		// The web side serves from now on; the schedule waits for the
		// leader's lease (at once on SQLite).
		if !d.lead(ctx) {
			return
		}
		// If another daemon takes the lease over (ours lapsed while the
		// machine slept), this one stops rather than run the schedule
		// beside it; a supervisor starts it again, as a follower.
		stopLease := send.HoldLease(d.leader.Load(), d.env.LeaseTTL(), d.log, func(err error) {
			d.log.Error("another gull run took over the schedule; stopping this one", "store", d.st.Path())
			cancel(err)
		})
		defer stopLease()
		// The leader alone builds the draft and mails the editors, and
		// reads the bounce mailbox: each once, whatever the daemons.
		var lead sync.WaitGroup
		lead.Go(func() { d.draftTimer(ctx) })
		lead.Go(func() { d.bounceLoop(ctx) })
		d.checkMail(ctx)
		if err := d.startup(ctx); err != nil && ctx.Err() == nil {
			d.log.Error("could not read the schedule's state from the store", "err", err)
		}
		t := time.NewTicker(feedRefresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				lead.Wait()
				return
			case <-t.C:
				d.tick(ctx)
			}
		}
	})

	var serveErr error
loop:
	for {
		select {
		case <-ctx.Done():
			break loop
		case <-hup:
			d.reloadConfig(ctx, site)
		case serveErr = <-served:
			cancel(serveErr)
			break loop
		}
	}
	return d.shutdown(ctx, srv, site, &bg, serveErr)
}

// shutdown stops in order (ARCHITECTURE.md): the clock and the web intake,
// then the run going (its messages on the wire finish and are recorded;
// the rest stay pending for the next start), then the sign-ups still
// being mailed, all within the grace: the mail transports cut what is
// still on the wire at half of it, so a hung server holds nothing. The
// store is closed by the caller.
func (d *Daemon) shutdown(ctx context.Context, srv *http.Server, site *siteHolder, bg *sync.WaitGroup, serveErr error) error {
	why := context.Cause(ctx)
	deadline := time.Now().Add(d.grace)
	d.log.Info("stopping", "why", fmt.Sprint(why), "grace", d.grace.String(), "second_signal", "exits at once")
	d.leadMu.Lock()
	d.stopping = true
	cronDone := d.sched.Stop()
	d.leadMu.Unlock()
	httpCtx, cancelHTTP := context.WithDeadline(context.Background(), earliest(deadline, time.Now().Add(10*time.Second)))
	defer cancelHTTP()
	if err := srv.Shutdown(httpCtx); err != nil {
		d.log.Warn("web requests still open at shutdown were cut", "err", err)
	}
	drained := make(chan struct{})
	go func() {
		<-cronDone.Done()
		bg.Wait()
		d.work.Wait()
		close(drained)
	}()
	select {
	case <-drained:
	case <-time.After(time.Until(deadline)):
		select {
		case <-drained: // just in time
		default:
			d.log.Error("the run did not finish within the grace period; exiting anyway: messages still on the wire are sent again at the next start, with the same Message-ID",
				"grace", d.grace.String())
			return ErrGraceExceeded
		}
	}
	// Sign-ups answered already may still be mailing their confirmation.
	// Losing one loses nobody: the address is stored as pending, and
	// signing up again sends a new link.
	// Their transports are closed within the grace too: a confirmation
	// that a hung server holds keeps its connection, and Close waits for it.
	// The sign-ups get up to 10 s, ending early enough that cutting what
	// is left (confirmGrace for a message on the wire) still fits in the
	// grace.
	signUps := make(chan struct{})
	go func() { site.wait(); site.close(); close(signUps) }()
	select {
	case <-signUps:
	case <-time.After(time.Until(earliest(deadline.Add(-2*confirmGrace), time.Now().Add(10*time.Second)))):
		d.log.Warn("confirmation mails still being sent were cut; those readers can sign up again")
		site.stop()
		select { // the workers see the stop at once, unless a mail server holds them
		case <-signUps:
		case <-time.After(time.Until(deadline)):
		}
	}
	if errors.Is(why, store.ErrLeaseLost) {
		return why
	}
	if serveErr != nil && !errors.Is(serveErr, http.ErrServerClosed) {
		return fmt.Errorf("http: %w", serveErr)
	}
	d.log.Info("stopped")
	return nil
}

// sendOwed keeps this daemon's claims on the sign-ups it is mailing, and
// mails those a stopped daemon left, every third of the lease, until ctx
// ends.
func (d *Daemon) sendOwed(ctx context.Context, site *siteHolder) {
	t := time.NewTicker(min(time.Minute, d.env.LeaseTTL()/3))
	defer t.Stop()
	for {
		n, err := site.sendOwed(ctx)
		switch {
		case err != nil && ctx.Err() == nil:
			d.log.Warn("could not renew or take the owed confirmation mails; trying again", "err", err)
		case n > 0:
			d.log.Info("confirmation mails left by a stopped daemon: sending them", "sign_ups", n)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// lead waits until this daemon leads the schedule, then starts it. On
// SQLite the daemon's lease (taken at start) is the leader's. On
// PostgreSQL every daemon asks for the leader's lease every
// campaignEvery; the one that gets it leads until it stops or dies,
// when the lease lapses and another takes it within a lease (a minute
// by default, $GULL_LEASE). False when ctx ended first.
func (d *Daemon) lead(ctx context.Context) bool {
	told := false
	for d.leader.Load() == nil {
		lease, err := d.st.AcquireLease(ctx, store.LeaderLease, d.env.LeaseTTL(), time.Now())
		var held *store.LeaseHeldError
		switch {
		case err == nil:
			d.leader.Store(lease)
			d.log.Info("leading the schedule", "store", d.st.Path(), "next_run", d.sched.Next(time.Now()).Format(time.RFC3339))
			continue
		case errors.As(err, &held):
			if !told {
				d.log.Info("another gull run leads the schedule; this one serves the web side and takes over if it stops",
					"leader_host", held.Host, "leader_pid", held.PID)
				told = true
			}
		case ctx.Err() == nil:
			d.log.Warn("could not ask for the schedule's lease; trying again", "err", err)
		}
		select {
		case <-ctx.Done():
			return false
		case <-time.After(min(campaignEvery, d.env.LeaseTTL()/3)):
		}
	}
	d.leadMu.Lock()
	defer d.leadMu.Unlock()
	if d.stopping || ctx.Err() != nil {
		return false
	}
	d.sched.Start()
	return true
}

// confirmGrace is how long a confirmation mail on the wire may go on
// once the shutdown has cut the sign-ups short.
const confirmGrace = time.Second

func earliest(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// scheduled is the job cron runs at each slot.
func (d *Daemon) scheduled(ctx context.Context) func(slot time.Time, trigger string) {
	return func(slot time.Time, trigger string) {
		if ctx.Err() != nil {
			return
		}
		d.job(ctx, slot, trigger, "")
	}
}

// checkMail tries the mail server once at start (connect, TLS, login), so
// a wrong password shows in the log now and not on Monday morning. The
// daemon runs on either way: the server may just be down for a while.
func (d *Daemon) checkMail(ctx context.Context) {
	c := d.config()
	if c.cfg.Mail.SMTP.Host == "" {
		d.log.Info("mail goes to the outbox folder (no mail.smtp.host)", "outbox", c.cfg.Mail.Outbox)
		return
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	s := &send.Sender{Env: d.env, Config: c.cfg}
	if err := s.Open(ctx); err != nil {
		if ctx.Err() != nil {
			return // stopping: the server had no time to show what it is
		}
		d.log.Error("the mail server does not take gull's mail; runs will fail until it does", "err", err)
		return
	}
	d.log.Info("mail server checked", "server", s.Via())
	s.Close()
}

// startup accounts for the time the daemon was down: it finishes a send
// that was stopped, and makes the one run that was missed, if any.
func (d *Daemon) startup(ctx context.Context) error {
	if _, ok, err := d.st.ScheduleDoneThrough(ctx); err != nil {
		return err
	} else if !ok {
		// The first start on this store. Nothing was missed unless an
		// issue was made before (by gull send, or --once): then the
		// schedule counts from it.
		since := time.Now()
		recs, err := d.st.Issues(ctx, 1)
		if err != nil {
			return err
		}
		if len(recs) > 0 {
			since = recs[0].Created
		}
		if err := d.st.SetScheduleDoneThrough(ctx, since); err != nil {
			return err
		}
	}
	d.tick(ctx)
	return nil
}

// tick is the daemon's regular round: finish the latest issue's pending
// readers, make a run that was missed (or failed), else refresh the feeds.
func (d *Daemon) tick(ctx context.Context) {
	if ctx.Err() != nil {
		return
	}
	d.resume(ctx)
	done, _, err := d.st.ScheduleDoneThrough(ctx)
	if err != nil {
		d.log.Error("could not read the schedule's state from the store", "err", err)
		return
	}
	if slot, ok := d.sched.Missed(done, time.Now()); ok && ctx.Err() == nil {
		d.log.Info("a scheduled run was missed; making it now", "slot", slot.Format(time.RFC3339), "done_through", done.Format(time.RFC3339))
		if _, s, _ := d.job(ctx, slot, "catch-up", ""); s != nil && s.Gathered().Feeds != nil {
			return // the run fetched the feeds
		}
	}
	if d.draftRound(ctx, time.Now(), false) {
		return // the draft's rebuild fetched the feeds
	}
	d.refresh(ctx)
}

// resume finishes the latest issue when readers are left pending (a send
// stopped by SIGTERM, deferred by a mail server's temporary refusal).
func (d *Daemon) resume(ctx context.Context) {
	recs, err := d.st.Issues(ctx, 2)
	if err != nil {
		d.log.Error("could not read the latest issue", "err", err)
		return
	}
	if len(recs) == 2 && recs[1].Status == digest.IssueOpen {
		// Only the latest issue is finished by the daemon: last week's
		// news, mailed days late, would be worse than none. Say so.
		if counts, err := d.st.DeliveryCounts(ctx, recs[1].ID); err == nil && counts.Left() > 0 {
			d.log.Warn("an earlier issue still has readers pending; the daemon finishes only the latest: send it with gull send --all --now",
				"issue", recs[1].ID, "left", counts.Left(), "now", recs[1].Period.End.In(d.config().cfg.Location).Format(time.RFC3339))
		}
	}
	if len(recs) == 0 || recs[0].Status != digest.IssueOpen {
		return
	}
	rec := recs[0]
	counts, err := d.st.DeliveryCounts(ctx, rec.ID)
	if err != nil {
		d.log.Error("could not read the latest issue's ledger", "issue", rec.ID, "err", err)
		return
	}
	if counts.Left() == 0 {
		return
	}
	d.log.Info("finishing the send of the latest issue", "issue", rec.ID, "left", counts.Left())
	d.job(ctx, rec.Period.End.In(d.config().cfg.Location), "resume", rec.ID)
}

// refresh fetches the feeds between runs, so undated articles get an
// honest first-seen time and /preview shows the week so far.
func (d *Daemon) refresh(ctx context.Context) {
	if !d.take(ctx, false) {
		return // a run is fetching them anyway
	}
	defer d.release()
	if err := d.st.CheckFile(); err != nil {
		d.log.Error("feed refresh not made", "err", err)
		return
	}
	c := d.config()
	start := time.Now()
	g, err := d.env.Gather(ctx, c.cfg, d.st, time.Now())
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("feed refresh failed", "err", err)
		}
		return
	}
	d.metrics.CountFeeds(g.Feeds)
	d.env.LogFailedFeeds(g.Feeds)
	d.setGathered(g)
	d.log.Info("feeds refreshed", "feeds", len(g.Feeds), "feeds_failed", g.Failed(), "in_window", len(g.Articles),
		"took", time.Since(start).Round(time.Millisecond).String(), "next_run", d.sched.Next(time.Now()).Format(time.RFC3339))
}

// initMetrics sets what the store remembers: the last issue completed.
func (d *Daemon) initMetrics(ctx context.Context) {
	recs, err := d.st.Issues(ctx, 10)
	if err != nil {
		return
	}
	for _, rec := range recs {
		if !rec.Done.IsZero() {
			d.metrics.LastSuccess.Set(float64(rec.Done.Unix()))
			return
		}
	}
}

// reload is SIGHUP: the config and templates are read again and
// everything made from them is built before anything is swapped, so a bad
// config (or a DKIM key file that is gone) is reported and the running one
// stays in force, whole.
func (d *Daemon) reloadConfig(ctx context.Context, site *siteHolder) {
	old := d.config()
	cfg, r, err := d.reload()
	if err == nil {
		_, err = schedule.ParseSpec(cfg.Schedule, cfg.Location)
	}
	var parts *siteParts
	var handler http.Handler
	if err == nil {
		parts, handler, err = d.newSite(ctx, cfg, r)
	}
	if err != nil {
		d.log.Error("reload failed; the running config stays in force", "err", oneLine(err))
		return
	}
	if cfg.Store != old.cfg.Store || cfg.HTTP.Listen != old.cfg.HTTP.Listen {
		d.log.Warn("store.path and http.listen change only when gull run is restarted",
			"store", d.st.Path(), "listen", old.cfg.HTTP.Listen)
	}
	d.sched.Reschedule(cfg.Schedule, cfg.Location) // parsed above
	d.conf.Store(&daemonConfig{cfg: cfg, r: r})
	site.swap(parts, handler)
	d.log.Info("config reloaded", "schedule", cfg.Schedule, "timezone", cfg.Location.String(),
		"next_run", d.sched.Next(time.Now()).Format(time.RFC3339), "feeds", len(cfg.Feeds), "themes", len(cfg.Themes))
}

// oneLine is err as one log value: a config's problems joined.
func oneLine(err error) string {
	var ce *config.Error
	if errors.As(err, &ce) {
		return strings.Join(ce.Problems, "; ")
	}
	return err.Error()
}
