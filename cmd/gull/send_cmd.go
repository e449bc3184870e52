package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"os"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/schollz/progressbar/v3"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/deliver"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// addrList is --to, given once per address or as a comma-separated list.
type addrList []string

func (l *addrList) String() string { return strings.Join(*l, ",") }
func (l *addrList) Set(s string) error {
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*l = append(*l, a)
		}
	}
	return nil
}

// smtpBackoff is the wait between tries of a temporary failure; nil is
// deliver's default. Tests shorten it.
var smtpBackoff func(attempt int) time.Duration

// sendLease is how long a send's claim on the store lasts without renewal;
// it is renewed at a third of that.
const sendLease = time.Minute

func (a *app) send(ctx context.Context, args []string) error {
	fs := a.flagSet("send")
	var to addrList
	fs.Var(&to, "to", "send a test of the current digest to this address (repeatable)")
	all := fs.Bool("all", false, "send the week's issue to every active subscriber")
	nowFlag := fs.String("now", "", "the time the week ends; default now")
	dryRun := fs.Bool("dry-run", false, "write .eml files to the outbox instead of sending; the ledger is not touched")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(to) > 0 {
		to = append(to, pos...) // --to a@x b@y
	} else if len(pos) > 0 {
		return usageError{fmt.Sprintf("send takes no arguments, got %q; did you mean --to %s?", pos, pos[0])}
	}
	if len(to) > 0 && *all {
		return usageError{"--all and --to cannot be combined: --all mails the week's issue to every subscriber, --to a test to the addresses given; give one of them"}
	}
	if (len(to) > 0) == *all {
		return usageError{"send needs either --to EMAIL (a test) or --all (the week's issue to every subscriber)"}
	}
	for i, addr := range to {
		norm, err := subscribers.NormalizeEmail(addr)
		if err != nil {
			return usageError{fmt.Sprintf("--to %q: %v", addr, err)}
		}
		to[i] = norm
	}
	if _, err := parseNow(*nowFlag, time.UTC); err != nil { // the form, before the store is opened
		return err
	}
	grace, err := a.stopGrace()
	if err != nil {
		return err
	}
	cfg, r, st, err := a.openForSending(ctx)
	if err != nil {
		return err
	}
	defer st.Close()
	// A test send or a dry run mails no reader: warned, not refused.
	if err := a.checkMailSetup(cfg, *all && !*dryRun); err != nil {
		return err
	}
	now, err := parseNow(*nowFlag, cfg.Location)
	if err != nil {
		return err
	}
	s := &sender{a: a, cfg: cfg, st: st, r: r, now: now, dryRun: *dryRun, yes: *yes}
	if err := s.openTransport(ctx); err != nil {
		if ctx.Err() != nil {
			return errors.New("stopped while connecting to the mail server; nothing was sent")
		}
		return err
	}
	defer s.tr.Close()
	// Ctrl-C or SIGTERM: say what happens now, and how to quit at once.
	defer context.AfterFunc(ctx, func() {
		a.log.Warn("stopping: no new message starts; those on the wire get a moment to finish and be recorded (a second Ctrl-C or SIGTERM quits at once)",
			"grace", grace.String())
	})()
	if len(to) > 0 {
		return s.test(ctx, to)
	}
	return s.all(ctx)
}

// openForSending loads what a send needs, in the order that reports a
// problem before anything is opened: the config, the templates (parsed and
// tried), the store.
func (a *app) openForSending(ctx context.Context) (*config.Config, *render.Renderer, *store.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, nil, err
	}
	r, err := newRenderer(cfg, "")
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return nil, nil, nil, err
	}
	return cfg, r, st, nil
}

// sender is one `gull send`: the config, the store, the renderer and the
// transport it was given.
type sender struct {
	a      *app
	cfg    *config.Config
	st     *store.Store
	r      *render.Renderer
	now    time.Time
	dryRun bool
	yes    bool
	// unattended: the daemon's run; no question, no progress bar, and the
	// summary is logged rather than printed.
	unattended bool
	// metrics, when set, count feeds, issues and messages (the daemon).
	metrics *web.Metrics
	// copiesFresh: the feeds' stored copies are recent (the daemon
	// fetched them within the last two hours), so an issue may be built
	// from them when every feed fails at the slot.
	copiesFresh bool

	tr       deliver.Transport
	composer deliver.Composer
	// gathered is the last fetch of the feeds build made (Feeds nil when
	// the issue was frozen already and nothing was fetched).
	gathered pipeline.Gathered
}

// openTransport picks SMTP when mail.smtp.host is set, else (and for
// --dry-run) the outbox folder, and checks the server now: a wrong
// password should stop the send before anything is claimed.
func (s *sender) openTransport(ctx context.Context) error {
	cfg := s.cfg
	var err error
	if s.composer, err = newComposer(cfg); err != nil {
		return err
	}
	sc := cfg.Mail.SMTP
	if sc.Host == "" || s.dryRun {
		out, err := deliver.NewOutbox(cfg.Mail.Outbox)
		if err != nil {
			return err
		}
		s.tr = out
		return nil
	}
	opts, err := s.a.smtpOptions(cfg)
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

// smtpOptions is mail.smtp as deliver takes it, with the password from
// the environment variable the config names.
func (a *app) smtpOptions(cfg *config.Config) (deliver.SMTPOptions, error) {
	sc := cfg.Mail.SMTP
	from, err := mail.ParseAddress(cfg.Mail.From)
	if err != nil {
		return deliver.SMTPOptions{}, fmt.Errorf("mail.from %q: %w", cfg.Mail.From, err)
	}
	grace, err := a.stopGrace()
	if err != nil {
		return deliver.SMTPOptions{}, err
	}
	return deliver.SMTPOptions{
		From: from.Address, Host: sc.Host, Port: sc.Port, TLS: sc.TLS, Username: sc.Username, Password: a.getenv(sc.PasswordEnv),
		Connections: sc.Connections, Rate: sc.Rate, Logger: a.log, Backoff: smtpBackoff,
		// Messages on the wire get half the grace to finish once gull is
		// stopping; the rest is for recording them and closing.
		Grace: grace / 2,
	}, nil
}

// stopGrace is how long gull may take from SIGTERM or Ctrl-C to exit:
// stopGrace, or $GULL_STOP_GRACE for a supervisor that waits less before
// SIGKILL (and for tests).
func (a *app) stopGrace() (time.Duration, error) {
	v := a.getenv("GULL_STOP_GRACE")
	if v == "" {
		return stopGrace, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 10*time.Minute {
		return 0, usageError{fmt.Sprintf("$GULL_STOP_GRACE %q: give a duration from 1s to 10m, such as 20s, shorter than your supervisor's wait before SIGKILL; or unset it for %v", v, stopGrace)}
	}
	return d, nil
}

// newComposer makes messages as the config says: its sender and list,
// DKIM-signed when mail.dkim is set. The preview's .eml and the sends
// share it, so the preview shows the very bytes that go out.
func newComposer(cfg *config.Config) (deliver.Composer, error) {
	c := deliver.Composer{Envelope: deliver.Envelope{From: cfg.Mail.From, ReplyTo: cfg.Mail.ReplyTo, ListName: cfg.Title}}
	if d := cfg.Mail.DKIM; d.Domain != "" {
		key, err := deliver.LoadDKIM(d.Domain, d.Selector, d.KeyFile)
		if err != nil {
			return c, err
		}
		c.DKIM = key
	}
	return c, nil
}

// workers is how many messages are worked on at once: two per SMTP
// connection, so one is rendered, composed and recorded while the other
// is on the wire (a connection spends most of a message waiting for the
// server's replies).
func (s *sender) workers() int {
	if s.cfg.Mail.SMTP.Host == "" || s.dryRun {
		return 2 // the outbox: writing files, one per core
	}
	return 2 * s.cfg.Mail.SMTP.Connections
}

// issueID names the week the send is for.
func (s *sender) issueID() string {
	return digest.IssueID(digest.WeekEnding(s.now, time.Duration(s.cfg.Window), s.cfg.Location))
}

// build fetches the feeds and builds the issue; failed feeds are reported
// and the issue is built from the others (and from the failed ones' last
// good copies). When every feed failed, nothing is built unless the copies
// are the daemon's of the last hours: a week frozen from older copies
// would lose its latest days, and an empty one would pass for quiet.
func (s *sender) build(ctx context.Context) (digest.Issue, error) {
	g, err := s.a.gatherWith(ctx, s.cfg, s.st, s.now)
	if err != nil {
		return digest.Issue{}, err
	}
	s.gathered = g
	s.metrics.CountFeeds(g.Feeds)
	is := pipeline.BuildIssue(s.cfg.Title, g, s.cfg.Grouper())
	if !s.unattended {
		s.a.reportFailedFeeds(is.Feeds)
	} else {
		s.a.logFailedFeeds(g.Feeds)
	}
	if n := g.Failed(); n > 0 && n == len(g.Feeds) && (!s.copiesFresh || is.Count() == 0) {
		all := fmt.Sprintf("all %d failed", n)
		if n == 1 {
			all = "the only feed failed"
		}
		return is, fmt.Errorf("%w: %s; the issue is not built from old copies, which would freeze the week without its latest days, or pass an outage for a quiet week; run again when they answer", errNoFeeds, all)
	}
	return is, nil
}

// errNoFeeds: not one feed could be fetched.
var errNoFeeds = errors.New("no feed could be fetched")

// knownThemes is the reader's choice of themes in config order (ids), so
// readers who chose the same themes in another order share one rendered
// frame; ids the config no longer has are dropped, and a reader left with
// none gets every theme rather than nothing.
func knownThemes(ids, themes []string) []string {
	var out []string
	for _, id := range ids {
		if slices.Contains(themes, id) {
			out = append(out, id)
		}
	}
	return out
}

// readerOf is sub as they get the issue: the themes of theirs the config
// still has (ids), and their own signed links.
func readerOf(ids []string, links web.Links, sub subscribers.Subscriber, issueID string) render.Recipient {
	return render.Recipient{
		Email: sub.Email, Name: sub.Name, Themes: knownThemes(ids, sub.Themes),
		UnsubscribeURL: links.Unsubscribe(sub, issueID), PreferencesURL: links.Preferences(sub),
	}
}

// deliver composes m and hands it to the transport.
func (s *sender) deliver(ctx context.Context, m digest.Message) (string, error) {
	out, err := s.composer.Compose(m, time.Now())
	if err != nil {
		return "", err
	}
	return out.MessageID, s.tr.Send(ctx, out)
}

// deliverOnce is deliver for the week's send: over SMTP, a temporary
// failure comes back as a *deliver.Retry instead of holding the worker
// through the backoff, and the Sender retries it when it is due.
func (s *sender) deliverOnce(ctx context.Context, m digest.Message) (string, error) {
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

// test sends the current digest to each address, marked as a test, and
// touches no ledger: the week's real send is still to come.
func (s *sender) test(ctx context.Context, to []string) error {
	is, err := pipeline.CurrentIssue(ctx, s.st, s.issueID(), s.build)
	if err != nil {
		return err
	}
	links, err := s.a.links(ctx, s.cfg, s.st)
	if err != nil {
		return err
	}
	failed := 0
	for _, addr := range to {
		rcpt := render.Recipient{Email: addr}
		sub, err := s.st.SubscriberByEmail(ctx, addr)
		switch {
		case err == nil:
			// A subscriber sees their own copy, with links that work.
			rcpt = readerOf(themeIDs(s.cfg), links, sub, is.ID)
		case !errors.Is(err, subscribers.ErrNotFound):
			return err
		}
		rcpt.Test = true
		m, err := s.r.Render(is, rcpt)
		if errors.Is(err, render.ErrNothingToSend) {
			fmt.Fprintf(s.a.stderr, "gull: %s chose themes (%s) with no article this week and would get nothing; the test shows the whole issue\n", addr, subscribers.FormatThemes(rcpt.Themes))
			rcpt.Themes = nil
			m, err = s.r.Render(is, rcpt)
		}
		if err != nil {
			return err
		}
		if _, err := s.deliver(ctx, m); err != nil {
			failed++
			fmt.Fprintf(s.a.stderr, "gull: test to %s failed: %v\n", addr, err)
			continue
		}
		// What this address got: a subscriber's copy holds their themes only.
		n := is.For(rcpt.Themes).Count()
		fmt.Fprintf(s.a.stdout, "test of issue %s (%d %s) sent to %s via %s\n", is.ID, n, render.Plural(n, "article", "articles"), addr, s.tr)
	}
	if is.Count() == 0 {
		fmt.Fprintf(s.a.stderr, "gull: note: the week has no new articles; with quiet_week: %s the real send would %s\n", s.cfg.QuietWeek,
			map[string]string{"skip": "mail nothing", "send": "mail this quiet-week note"}[s.cfg.QuietWeek])
	}
	if failed > 0 {
		return exitError{exitFailure}
	}
	return nil
}

// all is `gull send --all`: the week's issue to every active subscriber
// who does not have it yet, and the summary on stdout.
func (s *sender) all(ctx context.Context) error {
	res, err := s.sendIssue(ctx, s.issueID())
	if err != nil {
		return err
	}
	return s.summarize(res)
}

// summarize prints what a send did on stdout, and is exitError 1 when
// something failed or was left for the next run.
func (s *sender) summarize(res sendResult) error {
	switch {
	case res.quiet:
		fmt.Fprintf(s.a.stdout, "issue %s: no new articles this week; nothing sent (quiet_week: skip)\n", res.is.ID)
	case res.nobodyLeft:
		fmt.Fprintf(s.a.stdout, "issue %s: every subscriber has it already; nothing to send\n", res.is.ID)
	case res.declined:
		fmt.Fprintln(s.a.stdout, "nothing sent")
	default:
		s.report(res.is, res.rep)
		if !res.rep.OK() {
			return exitError{exitFailure}
		}
	}
	return nil
}

// sendResult is what became of one send of an issue.
type sendResult struct {
	is  digest.Issue
	rep pipeline.SendReport
	// quiet: no articles and quiet_week: skip. nobodyLeft: everyone had
	// it. declined: the operator said no. In each case nothing was sent.
	quiet, nobodyLeft, declined bool
}

// sendIssue sends the issue called id (built now, or the one frozen by an
// earlier run) to every active subscriber who does not have it yet. The
// command and the daemon share it.
func (s *sender) sendIssue(ctx context.Context, id string) (sendResult, error) {
	var res sendResult
	var ledger pipeline.Ledger = s.st
	var err error
	if s.dryRun {
		if res.is, err = pipeline.CurrentIssue(ctx, s.st, id, s.build); err != nil {
			return res, err
		}
		if ledger, err = newDryLedger(ctx, s.st, id); err != nil {
			return res, err
		}
	} else {
		// One send at a time per store: two would each mail the pending.
		lease, err := s.st.AcquireLease(ctx, "send", sendLease, time.Now())
		if err != nil {
			return res, err
		}
		stopRenew := holdLease(lease, sendLease, s.a.log, nil)
		defer func() {
			stopRenew()
			lease.Release(context.WithoutCancel(ctx))
		}()
		if res.is, _, err = pipeline.OpenIssue(ctx, s.st, id, s.build, s.cfg.QuietWeek == "send", time.Now()); err != nil {
			return res, err
		}
		if s.gathered.Feeds != nil && res.is.Count() > 0 {
			s.metrics.CountIssue(res.is)
		}
	}
	is := res.is
	if is.Count() == 0 && s.cfg.QuietWeek != "send" {
		res.quiet = true
		return res, nil
	}

	links, err := s.a.links(ctx, s.cfg, s.st)
	if err != nil {
		return res, err
	}
	batch := s.r.Batch(is)
	ids := themeIDs(s.cfg)
	progress := s.progress(is)
	sender := &pipeline.Sender{
		Ledger: ledger,
		Render: func(d digest.Delivery) (digest.Message, error) {
			sub := subscribers.Subscriber{ID: d.SubscriberID, Email: d.Email, Name: d.Name, Themes: d.Themes}
			m, err := batch.Render(readerOf(ids, links, sub, is.ID))
			if errors.Is(err, render.ErrNothingToSend) {
				return m, pipeline.ErrNothingForReader
			}
			return m, err
		},
		Deliver: s.deliverOnce,
		Workers: s.workers(),
		Log:     s.a.log,
		OnStart: progress.start,
		OnOutcome: func(o pipeline.Outcome) {
			s.metrics.CountOutcome(o.Delivery.Status)
			progress.outcome(o)
		},
	}
	if !s.yes && s.a.interactive && !s.unattended {
		total, err := s.pending(ctx, ledger, id)
		if err != nil {
			return res, err
		}
		if total == 0 {
			res.nobodyLeft = true
			return res, nil
		}
		if !s.confirm(is, total) {
			res.declined = true
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
	res.rep, err = sender.Send(ctx, is)
	progress.finish()
	if err != nil {
		return res, err
	}
	s.metrics.ObserveSend(res.rep.Duration)
	st := batch.Stats()
	s.a.log.Debug("rendered", "frames", st.Frames, "substituted", st.Substituted, "full_renders", st.FullRenders)
	return res, nil
}

// holdLease renews l every third of ttl until stop is called. When
// another gull has taken it (ours lapsed, the machine slept), lost is
// called, if given, and renewing ends: sending on beside the new holder
// would mail the same readers twice.
func holdLease(l *store.Lease, ttl time.Duration, log *slog.Logger, lost func(error)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				err := l.Renew(context.Background(), time.Now())
				if errors.Is(err, store.ErrLeaseLost) && lost != nil {
					lost(err)
					return
				}
				if err != nil {
					log.Warn("could not renew a claim on the store", "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// pending counts who would get the issue now.
func (s *sender) pending(ctx context.Context, l pipeline.Ledger, id string) (int, error) {
	if _, _, err := l.PrepareDeliveries(ctx, id, time.Now()); err != nil {
		return 0, err
	}
	counts, err := l.DeliveryCounts(ctx, id)
	return counts.Left(), err
}

// confirm asks on the terminal before mailing the whole list.
func (s *sender) confirm(is digest.Issue, total int) bool {
	fmt.Fprintf(s.a.stderr, "Send issue %s %q (%s) to %s via %s? [y/N] ",
		is.ID, is.Title, counted(is.Count(), "article", "articles"), counted(total, "subscriber", "subscribers"), s.tr)
	line, _ := bufio.NewReader(s.a.stdin).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}

// report prints the run's summary on stdout.
func (s *sender) report(is digest.Issue, rep pipeline.SendReport) {
	w := s.a.stdout
	rate := ""
	if secs := rep.Duration.Seconds(); rep.Sent > 0 && secs > 0 {
		rate = fmt.Sprintf(", %.0f messages/s", float64(rep.Sent)/secs)
	}
	dry := ""
	if s.dryRun {
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

// sendProgress shows the send's progress: a bar on a terminal, a log line
// every few seconds and one per problem otherwise.
type sendProgress struct {
	a          *app
	unattended bool
	id         string
	bar        *progressbar.ProgressBar
	total      int
	done       int
	last       time.Time
	began      time.Time
}

func (s *sender) progress(is digest.Issue) *sendProgress {
	return &sendProgress{a: s.a, id: is.ID, unattended: s.unattended}
}

func (p *sendProgress) start(total, inDoubt int) {
	p.total, p.began, p.last = total, time.Now(), time.Now()
	if p.a.interactive && !p.unattended && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.a.stderr),
			progressbar.OptionSetDescription("sending "+p.id),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return
	}
	p.a.log.Info("sending", "issue", p.id, "readers", total, "in_doubt", inDoubt)
}

func (p *sendProgress) outcome(o pipeline.Outcome) {
	p.done++
	if o.Err != nil {
		msg := "left for the next run"
		if o.Delivery.Status == digest.DeliveryFailed {
			msg = "failed"
		}
		if p.bar != nil {
			p.bar.Clear()
		}
		p.a.log.Warn(msg, "to", o.Delivery.Email, "err", o.Delivery.Error)
	}
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		p.a.log.Info("progress", "issue", p.id, "done", p.done, "of", p.total,
			"per_second", fmt.Sprintf("%.0f", float64(p.done)/time.Since(p.began).Seconds()))
	}
}

func (p *sendProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
