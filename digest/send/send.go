// Package send is one send of the week's issue, from the config to the
// ledger: it fetches the feeds and builds the issue (or reopens the one an
// earlier run froze), claims the store with a lease, renders each reader's
// copy and hands it to the transport through pipeline's workers, and
// sums up what became of it. It is where the stages of the flow meet
// (collect -> pipeline -> render -> deliver, with store holding the state):
// `gull send` runs it once, the daemon (digest/daemon) at each slot, and
// `gull preview` shares its wiring but stops before the ledger.
//
// It lives beside pipeline rather than in it: pipeline is the order of the
// steps and the ledger protocol against small interfaces, and imports no
// stage; a send needs the concrete ones (the SQLite store, the templates,
// the SMTP pool, the config).
package send

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/deliver"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// Lease is how long a send's claim on the store lasts without renewal;
// it is renewed at a third of that.
const Lease = time.Minute

// Sender is one send: the config, the store, the renderer and the
// transport it was given.
type Sender struct {
	Env
	Config   *config.Config
	Store    *store.Store
	Renderer *render.Renderer
	// Now is the time the week ends (it names the issue).
	Now    time.Time
	DryRun bool
	// TestLang, when set ("ko" or "en"), is the language of a test send's
	// mail (send --to --lang); "" is each address's own when it is on the
	// list, else the config's.
	TestLang string
	// Unattended: the daemon's run; failed feeds are logged, and its
	// progress is logged too.
	Unattended bool
	// Metrics, when set, count feeds, issues and messages (the daemon).
	Metrics *web.Metrics
	// CopiesFresh: the feeds' stored copies are recent (the daemon
	// fetched them within the last two hours), so an issue may be built
	// from them when every feed fails at the slot.
	CopiesFresh bool
	// Confirm, when set, is asked before the list is mailed, with the
	// number of readers who would get the issue; false sends nothing.
	Confirm func(is digest.Issue, readers int) bool
	// Bar, when set, is the terminal the send's progress bar is drawn on;
	// without it, progress goes to the log.
	Bar io.Writer
	// FailedFeeds, when set, is told of the feeds that failed (a person
	// reads it); without it they are logged.
	FailedFeeds func([]digest.FeedReport)

	tr       deliver.Transport
	composer deliver.Composer
	// gathered is the last fetch of the feeds build made (Feeds nil when
	// the issue was frozen already and nothing was fetched).
	gathered pipeline.Gathered
}

// Open picks SMTP when mail.smtp.host is set, else (and for a dry run)
// the outbox folder, and checks the server now: a wrong password should
// stop the send before anything is claimed.
func (s *Sender) Open(ctx context.Context) error {
	cfg := s.Config
	var err error
	if s.composer, err = NewComposer(cfg); err != nil {
		return err
	}
	sc := cfg.Mail.SMTP
	if sc.Host == "" || s.DryRun {
		out, err := deliver.NewOutbox(cfg.Mail.Outbox)
		if err != nil {
			return err
		}
		s.tr = out
		return nil
	}
	opts, err := s.SMTPOptions(cfg)
	if err != nil {
		return err
	}
	if sc.Username != "" && opts.Password == "" {
		return fmt.Errorf("mail.smtp.username is %q but $%s is empty; export the password in it (it never goes in the config)", sc.Username, sc.PasswordEnv)
	}
	smtp, err := deliver.NewSMTP(opts)
	if err != nil {
		return err
	}
	if err := smtp.Check(ctx); err != nil {
		smtp.Close()
		return err
	}
	s.tr = smtp
	return nil
}

// Close closes the transport Open made.
func (s *Sender) Close() error { return s.tr.Close() }

// Via names the transport: the server or the outbox folder.
func (s *Sender) Via() string { return fmt.Sprint(s.tr) }

// Gathered is the fetch of the feeds the send made, if it made one.
func (s *Sender) Gathered() pipeline.Gathered { return s.gathered }

// WarnWhenStopping logs, when ctx ends (Ctrl-C or SIGTERM), what happens
// now and how to quit at once. The returned function stops the watch.
func (s *Sender) WarnWhenStopping(ctx context.Context) (stop func() bool) {
	return context.AfterFunc(ctx, func() {
		s.Log.Warn("stopping: no new message starts; those on the wire get a moment to finish and be recorded (a second Ctrl-C or SIGTERM quits at once)",
			"grace", s.Grace.String())
	})
}

// workers is how many messages are worked on at once: two per SMTP
// connection, so one is rendered, composed and recorded while the other
// is on the wire (a connection spends most of a message waiting for the
// server's replies).
func (s *Sender) workers() int {
	if s.Config.Mail.SMTP.Host == "" || s.DryRun {
		return 2 // the outbox: writing files, one per core
	}
	return 2 * s.Config.Mail.SMTP.Connections
}

// IssueID names the week the send is for.
func (s *Sender) IssueID() string {
	return digest.IssueID(digest.WeekEnding(s.Now, time.Duration(s.Config.Window), s.Config.Location))
}

// build fetches the feeds and builds the issue; failed feeds are reported
// and the issue is built from the others (and from the failed ones' last
// good copies). When every feed failed, nothing is built unless the copies
// are the daemon's of the last hours: a week frozen from older copies
// would lose its latest days, and an empty one would pass for quiet.
func (s *Sender) build(ctx context.Context) (digest.Issue, error) {
	g, err := s.Gather(ctx, s.Config, s.Store, s.Now)
	if err != nil {
		return digest.Issue{}, err
	}
	s.gathered = g
	s.Metrics.CountFeeds(g.Feeds)
	is := pipeline.BuildIssue(s.Config.Title.In(s.Config.Language), g, s.Config.Grouper())
	if s.FailedFeeds != nil {
		s.FailedFeeds(is.Feeds)
	} else {
		s.LogFailedFeeds(g.Feeds)
	}
	if n := g.Failed(); n > 0 && n == len(g.Feeds) && (!s.CopiesFresh || is.Count() == 0) {
		all := fmt.Sprintf("all %d failed", n)
		if n == 1 {
			all = "the only feed failed"
		}
		return is, fmt.Errorf("%w: %s; the issue is not built from old copies, which would freeze the week without its latest days, or pass an outage for a quiet week; run again when they answer", ErrNoFeeds, all)
	}
	return is, nil
}

// ErrNoFeeds: not one feed could be fetched.
var ErrNoFeeds = errors.New("no feed could be fetched")

// deliver composes m and hands it to the transport.
func (s *Sender) deliver(ctx context.Context, m digest.Message) (string, error) {
	out, err := s.composer.Compose(m, time.Now())
	if err != nil {
		return "", err
	}
	return out.MessageID, s.tr.Send(ctx, out)
}

// deliverOnce is deliver for the week's send: over SMTP, a temporary
// failure comes back as a *deliver.Retry instead of holding the worker
// through the backoff, and the Sender retries it when it is due.
func (s *Sender) deliverOnce(ctx context.Context, m digest.Message) (string, error) {
	smtp, ok := s.tr.(*deliver.SMTP)
	if !ok {
		return s.deliver(ctx, m) // the outbox does not retry
	}
	out, err := s.composer.Compose(m, time.Now())
	if err != nil {
		return "", err
	}
	return out.MessageID, smtp.TrySend(ctx, out)
}

// Test sends the current digest to each address, marked as a test, and
// touches no ledger: the week's real send is still to come. Each address
// gets its line on w, each problem on notes; false means one failed.
func (s *Sender) Test(ctx context.Context, to []string, w, notes io.Writer) (bool, error) {
	is, err := pipeline.CurrentIssue(ctx, s.Store, s.IssueID(), s.previewBuild(s.IssueID()))
	if err != nil {
		return false, err
	}
	links, err := s.Links(ctx, s.Config, s.Store)
	if err != nil {
		return false, err
	}
	// An issue not yet published has no public page: the test's "view
	// in browser" link carries a signed view token instead.
	_, rec, err := s.Store.Issue(ctx, is.ID)
	if err != nil && !errors.Is(err, digest.ErrNoIssue) {
		return false, err
	}
	published := err == nil && (rec.Status == digest.IssueOpen || rec.Status == digest.IssueDone) && !rec.Awaiting
	failed := 0
	for _, addr := range to {
		rcpt := render.Recipient{Email: addr}
		sub, err := s.Store.SubscriberByEmail(ctx, addr)
		switch {
		case err == nil:
			// A subscriber sees their own copy, with links that work.
			rcpt = ReaderOf(ThemeIDs(s.Config), links, sub, is.ID)
		case !errors.Is(err, subscribers.ErrNotFound):
			return false, err
		}
		rcpt.Test = true
		if !published {
			rcpt.ViewURL = links.View(is.ID, time.Now()) // the wall clock: --now names the week
		}
		if s.TestLang != "" {
			rcpt.Lang = s.TestLang
		}
		m, err := s.Renderer.Render(is, rcpt)
		if errors.Is(err, render.ErrNothingToSend) {
			fmt.Fprintf(notes, "gull: %s chose %s with no article this week and would get nothing; the test shows the whole issue\n", addr, choiceOf(rcpt))
			rcpt.Themes, rcpt.Articles = nil, ""
			m, err = s.Renderer.Render(is, rcpt)
		}
		if err != nil {
			return false, err
		}
		if _, err := s.deliver(ctx, m); err != nil {
			failed++
			fmt.Fprintf(notes, "gull: test to %s failed: %v\n", addr, err)
			continue
		}
		// What this address got: a subscriber's copy holds their themes only.
		n := is.For(rcpt.Themes).ForReader(rcpt.Lang, rcpt.Articles).Count()
		fmt.Fprintf(w, "test of issue %s (%d %s) sent to %s via %s\n", is.ID, n, render.Plural(n, "article", "articles"), addr, s.tr)
	}
	if is.Count() == 0 {
		fmt.Fprintf(notes, "gull: note: the week has no new articles; with quiet_week: %s the real send would %s\n", s.Config.QuietWeek,
			map[string]string{"skip": "mail nothing", "send": "mail this quiet-week note"}[s.Config.QuietWeek])
	}
	return failed == 0, nil
}

// choiceOf names what a reader chose that can leave them nothing: their
// themes ("themes (compute, other)") and their article languages ("and
// articles in ko").
func choiceOf(to render.Recipient) string {
	out := "themes (" + subscribers.FormatThemes(to.Themes) + ")"
	if len(to.Themes) == 0 {
		out = "every theme"
	}
	if to.Articles == "ko" || to.Articles == "en" {
		out += " and articles in " + to.Articles + " only"
	}
	return out
}

// Result is what became of one send of an issue.
type Result struct {
	Issue  digest.Issue
	Report pipeline.SendReport
	// Quiet: no articles and quiet_week: skip. NobodyLeft: everyone had
	// it. Declined: the operator said no. Held: review.required with
	// unapproved: hold, and nobody approved the issue. In each case
	// nothing was sent.
	Quiet, NobodyLeft, Declined, Held bool
	// LastIssue is what came back of the issue sent before this one
	// (bounces, complaints), nil when there is none.
	LastIssue *store.BounceCounts
}

// SendIssue sends the issue called id (built now, or the one frozen by an
// earlier run) to every active subscriber who does not have it yet. The
// command and the daemon share it.
// errHeld stops the build of an issue held for approval.
var errHeld = errors.New("send: the issue is held for approval")

// errLeaseLost ends a send whose lease on the store another gull took.
var errLeaseLost = errors.New("send: another gull took over this send (our lease on the store lapsed: was the machine asleep, or the store out of reach?); the readers not yet mailed stay for it or the next run")

func (s *Sender) SendIssue(ctx context.Context, id string) (Result, error) {
	var res Result
	var ledger pipeline.Ledger = s.Store
	var err error
	releaseLease := func() {}
	if s.DryRun {
		// The dry run says what the real one would: nothing, when held.
		if held, err := s.held(ctx, id, false); err != nil || held {
			res.Held, res.Issue.ID = held, id
			return res, err
		}
		if res.Issue, err = pipeline.CurrentIssue(ctx, s.Store, id, s.previewBuild(id)); err != nil {
			return res, err
		}
		if ledger, err = newDryLedger(ctx, s.Store, id); err != nil {
			return res, err
		}
	} else {
		// The store's send lease: on SQLite one send at a time, for the
		// whole send (a second is refused: LeaseHeldError). On PostgreSQL
		// it covers the setup alone (freezing the issue, making the
		// ledger's rows), which the first sender does while the others
		// wait; then they share the rows through their claims.
		ttl, err := s.claimTTL()
		if err != nil {
			return res, err
		}
		lease, err := s.takeSendLease(ctx, ttl)
		if err != nil {
			return res, err
		}
		// A sender that lost the lease (it lapsed: the machine slept, the
		// store was out of reach) stops as at Ctrl-C: on SQLite the new
		// holder, running alone, voids our claims and sends what we
		// hold; sending on beside it would mail readers twice.
		var lostLease context.CancelCauseFunc
		ctx, lostLease = context.WithCancelCause(ctx)
		defer lostLease(nil)
		stopRenew := HoldLease(lease, ttl, s.Log, func(err error) {
			s.Log.Error("another gull took over the store's send lease (ours lapsed); this send starts no new message", "err", err)
			lostLease(errLeaseLost)
		})
		var once sync.Once
		releaseLease = func() {
			once.Do(func() {
				stopRenew()
				lease.Release(context.WithoutCancel(ctx))
			})
		}
		defer releaseLease()
		held, err := s.held(ctx, id, true)
		if err != nil || held {
			res.Held, res.Issue.ID = held, id
			return res, err
		}
		build := s.build
		if _, open, err := s.openDraft(ctx, id); err != nil {
			return res, err
		} else if open {
			build = s.draftBuild(id)
		}
		if r := s.Config.Review; r.Required && r.Unapproved == "hold" {
			// Held: only an approval freezes the issue. A reopen since
			// held() looked finds nothing frozen, and the send builds
			// nothing (it would freeze the unapproved draft).
			build = func(context.Context) (digest.Issue, error) { return digest.Issue{}, errHeld }
		}
		res.Issue, _, err = pipeline.OpenIssue(ctx, s.Store, id, build, s.Config.QuietWeek == "send", time.Now())
		if errors.Is(err, errHeld) {
			res.Held, res.Issue = true, digest.Issue{ID: id}
			return res, nil
		}
		if err != nil {
			return res, err
		}
		if s.gathered.Feeds != nil && res.Issue.Count() > 0 {
			s.Metrics.CountIssue(res.Issue)
		}
	}
	is := res.Issue
	if is.Count() == 0 && s.Config.QuietWeek != "send" {
		res.Quiet = true
		return res, nil
	}

	links, err := s.Links(ctx, s.Config, s.Store)
	if err != nil {
		return res, err
	}
	batch := s.Renderer.Batch(is)
	ids := ThemeIDs(s.Config)
	// The config was checked, so an unset key is the only zero here.
	returnPath, _ := subscribers.ParseReturnPath(s.Config.Mail.ReturnPath)
	progress := s.progress(is)
	sender := &pipeline.Sender{
		Ledger: ledger,
		Render: func(d digest.Delivery) (digest.Message, error) {
			sub := subscribers.Subscriber{ID: d.SubscriberID, Email: d.Email, Name: d.Name, Themes: d.Themes, Language: d.Language, Articles: d.Articles}
			m, err := batch.Render(ReaderOf(ids, links, sub, is.ID))
			if errors.Is(err, render.ErrNothingToSend) {
				return m, pipeline.ErrNothingForReader
			}
			if !returnPath.IsZero() {
				m.ReturnPath = returnPath.Address(links.Signer, d.SubscriberID, is.ID)
			}
			return m, err
		},
		Deliver: s.deliverOnce,
		Workers: s.workers(),
		Log:     s.Log,
		OnStart: progress.start,
		OnOutcome: func(o pipeline.Outcome) {
			s.Metrics.CountOutcome(o.Delivery.Status)
			progress.outcome(o)
		},
		Alone:     !s.Store.Postgres() || s.DryRun,
		Transient: store.Transient,
	}
	if sender.ClaimTTL, err = s.claimTTL(); err != nil {
		return res, err
	}
	if !sender.Alone {
		// Small batches: the senders sharing the send share its tail
		// too, and a killed one strands few readers until its claim
		// lapses.
		sender.PageSize = 16 * sender.Workers
	}
	prep, err := sender.Prepare(ctx, id)
	if err != nil {
		return res, err
	}
	if !sender.Alone {
		releaseLease() // the setup is done: other senders may join now
	}
	if s.Confirm != nil && !s.Unattended {
		total := prep.Left
		if total == 0 {
			res.NobodyLeft = true
			return res, nil
		}
		if !s.Confirm(is, total) {
			res.Declined = true
			return res, nil
		}
	}
	// A send allocates several copies of each 30 KB message and keeps
	// little: at the default GOGC the collector runs every few
	// milliseconds, and its marking takes the core the SMTP server and
	// the kernel need. bench/send.sh at 4 connections: 0.60 of
	// smtp-source's rate at GOGC=100, 0.66-0.68 at 200 (39 MB), 0.71-0.72
	// at 400 (49 MB). The heap stays flat in the list's length either way.
	if os.Getenv("GOGC") == "" {
		defer debug.SetGCPercent(debug.SetGCPercent(200))
	}
	res.Report, err = sender.Run(ctx, is, prep)
	progress.finish()
	if err != nil {
		return res, err
	}
	if errors.Is(context.Cause(ctx), errLeaseLost) {
		return res, errLeaseLost
	}
	s.Metrics.ObserveSend(res.Report.Duration)
	if c, ok, err := s.Store.LastIssueBounces(ctx, is.ID); err != nil {
		s.Log.Warn("could not count the last issue's bounces", "err", err)
	} else if ok {
		res.LastIssue = &c
	}
	st := batch.Stats()
	s.Log.Debug("rendered", "frames", st.Frames, "substituted", st.Substituted, "full_renders", st.FullRenders)
	return res, nil
}

// takeSendLease takes the store's send lease. On PostgreSQL a held one
// is waited for (another sender is freezing the issue and making its
// rows: this one joins its send after); on SQLite it is refused.
func (s *Sender) takeSendLease(ctx context.Context, ttl time.Duration) (*store.Lease, error) {
	said := false
	for {
		lease, err := s.Store.AcquireLease(ctx, "send", ttl, time.Now())
		var held *store.LeaseHeldError
		if !s.Store.Postgres() || !errors.As(err, &held) {
			return lease, err
		}
		if !said {
			s.Log.Info("another gull is preparing this send (freezing the issue, making the ledger's rows); waiting to share it",
				"host", held.Host, "pid", held.PID)
			said = true
		}
		t := time.NewTimer(min(ttl/20, 250*time.Millisecond))
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, ctx.Err()
		}
	}
}

// claimTTL is how long a send's claims (its lease, its ledger rows) hold
// without renewal: Env.Lease when set (gull run's), else $GULL_LEASE, else
// Lease (LeaseFromEnv): one variable for every lease and claim, so a
// daemon that takes over the schedule in 3 s also takes over its dead
// leader's readers in 3 s. A sender killed on PostgreSQL leaves its
// readers to the others for that long.
func (s *Sender) claimTTL() (time.Duration, error) {
	if s.Env.Lease > 0 || s.Getenv == nil {
		return s.Env.LeaseTTL(), nil
	}
	return LeaseFromEnv(s.Getenv)
}

// Summarize writes what a send did, and is false when something failed
// or was left for the next run.
func (s *Sender) Summarize(w io.Writer, res Result) bool {
	switch {
	case res.Quiet:
		fmt.Fprintf(w, "issue %s: no new articles this week; nothing sent (quiet_week: skip)\n", res.Issue.ID)
	case res.NobodyLeft:
		fmt.Fprintf(w, "issue %s: every subscriber has it already; nothing to send\n", res.Issue.ID)
	case res.Declined:
		fmt.Fprintln(w, "nothing sent")
	case res.Held:
		fmt.Fprintf(w, "issue %s: nothing sent: it is not approved (review.required, unapproved: hold); approve it on the desk or with gull issue approve, and it goes out at the next run\n", res.Issue.ID)
		return false
	default:
		s.report(w, res.Issue, res.Report)
		if res.LastIssue != nil {
			writeBounceRates(w, *res.LastIssue)
		}
		return res.Report.OK()
	}
	return true
}

// report writes the run's summary.
func (s *Sender) report(w io.Writer, is digest.Issue, rep pipeline.SendReport) {
	rate := ""
	if secs := rep.Duration.Seconds(); rep.Sent > 0 && secs > 0 {
		rate = fmt.Sprintf(", %.0f messages/s", float64(rep.Sent)/secs)
	}
	dry := ""
	if s.DryRun {
		dry = " (dry run: written to the outbox, nothing recorded)"
	}
	fmt.Fprintf(w, "issue %s%s via %s: %d sent, %d skipped, %d failed, %d left for the next run; %s%s\n",
		is.ID, dry, s.tr, rep.Sent, rep.Skipped, rep.Failed, rep.Totals.Left(), rep.Duration.Round(time.Millisecond), rate)
	if rep.InDoubt > 0 {
		fmt.Fprintf(w, "  %d %s in flight when an earlier send stopped; sent again, with the same Message-ID\n",
			rep.InDoubt, render.Plural(rep.InDoubt, "message was", "messages were"))
	}
	if rep.Stopped != "" {
		fmt.Fprintf(w, "  stopped early (%s); run gull send --all again to send the rest\n", rep.Stopped)
	}
	for _, d := range rep.Failures {
		note := ""
		if d.Bounced {
			note = " (marked bounced: they get no more issues)"
		}
		fmt.Fprintf(w, "  failed: %s: %s%s\n", d.Email, d.Error, note)
	}
	for _, d := range rep.DeferredRows {
		fmt.Fprintf(w, "  left for the next run: %s: %s\n", d.Email, d.Error)
	}
	if rep.Done {
		t := rep.Totals
		fmt.Fprintf(w, "issue %s is complete: %d sent, %d skipped (no article in their themes, or left the list), %d failed\n",
			is.ID, t[digest.DeliverySent], t[digest.DeliverySkipped], t[digest.DeliveryFailed])
	}
}
