package pipeline

import (
	"cmp"
	"container/heap"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"
	"time"

	"gull/digest"
)

// IssueStore keeps issues, frozen once built (digest/store implements it).
type IssueStore interface {
	Issue(ctx context.Context, id string) (digest.Issue, digest.IssueRecord, error)
	SaveIssue(ctx context.Context, is digest.Issue, status digest.IssueStatus, now time.Time) (digest.IssueRecord, error)
}

// OpenIssue returns the issue called id: the stored one when it was built
// before, so a rerun sends exactly the articles the first run did, and
// otherwise the one build makes, now stored. A week with no articles is
// stored as quiet and not frozen (a later run may find articles), unless
// sendQuiet says a quiet week is sent all the same.
func OpenIssue(ctx context.Context, st IssueStore, id string, build func(context.Context) (digest.Issue, error), sendQuiet bool, now time.Time) (digest.Issue, digest.IssueRecord, error) {
	is, rec, frozen, err := FrozenIssue(ctx, st, id)
	if err != nil || frozen {
		return is, rec, err
	}
	if is, err = build(ctx); err != nil {
		return is, rec, err
	}
	if is.ID != id {
		return is, rec, fmt.Errorf("pipeline: built issue %s, expected %s", is.ID, id)
	}
	status := digest.IssueOpen
	if is.Count() == 0 && !sendQuiet {
		status = digest.IssueQuiet
	}
	if _, err = st.SaveIssue(ctx, is, status, now); err != nil {
		return is, rec, err
	}
	// What goes out is what the store froze, never the copy built here:
	// another run, or an editor's approval, may have frozen the issue
	// between our read and write, and the store freezes an open draft with
	// its edits rather than the bare build.
	return st.Issue(ctx, id)
}

// CurrentIssue is the issue as a send would mail it now, fixing nothing:
// the frozen one once the week's send has begun, else a fresh build that
// is not stored. Test sends and dry runs use it, so they never decide the
// week's articles for the real send.
func CurrentIssue(ctx context.Context, st IssueStore, id string, build func(context.Context) (digest.Issue, error)) (digest.Issue, error) {
	is, _, frozen, err := FrozenIssue(ctx, st, id)
	if err != nil || frozen {
		return is, err
	}
	return build(ctx)
}

// FrozenIssue returns the stored issue id and whether it is frozen (built
// with articles, or to be sent though quiet): then it is what went out, or
// goes out, whatever the feeds say now.
func FrozenIssue(ctx context.Context, st IssueStore, id string) (digest.Issue, digest.IssueRecord, bool, error) {
	is, rec, err := st.Issue(ctx, id)
	if errors.Is(err, digest.ErrNoIssue) {
		return is, rec, false, nil
	}
	return is, rec, err == nil && rec.Status != digest.IssueQuiet, err
}

// Ledger is the send ledger: one row per (issue, subscriber), claimed
// before its SMTP transaction and marked after it (digest/store
// implements it). Rows are claimed in batches by a sender (owner) for a
// while (until), renewed as it works: several senders share one send,
// and a dead one's rows return to the pool when its claim lapses.
type Ledger interface {
	PrepareDeliveries(ctx context.Context, issueID string, now time.Time) (added, inDoubt int, err error)
	ClaimDeliveries(ctx context.Context, issueID, owner string, now, until time.Time, limit int) ([]digest.Delivery, error)
	RenewClaims(ctx context.Context, issueID, owner string, until time.Time) (int, error)
	ReleaseClaims(ctx context.Context, issueID, owner string) error
	ClaimedElsewhere(ctx context.Context, issueID, owner string, now time.Time) (int, error)
	UpdateDeliveries(ctx context.Context, ups []digest.DeliveryUpdate) error
	DeliveryCounts(ctx context.Context, issueID string) (digest.DeliveryCounts, error)
	Deliveries(ctx context.Context, issueID string, st digest.DeliveryStatus, limit int) ([]digest.Delivery, error)
	FinishIssue(ctx context.Context, issueID string, now time.Time) (bool, error)
	MarkMailed(ctx context.Context, issueID string, arts []digest.Article, now time.Time) error
}

// ErrNothingForReader is what Sender.Render returns for a reader none of
// whose themes has an article this week: they get no mail, and the ledger
// says why.
var ErrNothingForReader = errors.New("none of the reader's themes has an article this week")

// Sender delivers an issue to every active subscriber exactly once,
// however often it is run: each ledger row is claimed (committed) before
// its message goes out and marked after, so after a crash only the
// messages that were in flight can arrive twice, and they carry the same
// Message-ID.
type Sender struct {
	Ledger Ledger
	// Render renders the issue for one reader.
	Render func(d digest.Delivery) (digest.Message, error)
	// Deliver composes and sends one message and returns its Message-ID.
	// Its errors may say Temporary(), Permanent() and BadAddress()
	// (5.1.x). A temporary failure worth another try should come back as
	// an error with RetryIn() time.Duration and Again(ctx) error
	// (deliver.Retry): the row goes to the retry queue and the worker
	// moves on to the next reader; Again is called when the wait is over.
	// Any other error is final for this run. A send that has started is
	// not aborted when ctx ends, only waits between tries. Its ctx is the
	// caller's of Send, which only a shutdown ends: a run that stops for
	// its own reasons (a server refusing every message, a ledger that
	// cannot be written) lets the other messages on the wire finish, so
	// none is cut off unanswered and sent again.
	Deliver func(ctx context.Context, m digest.Message) (string, error)
	// Workers is how many messages are rendered and sent at once (the
	// SMTP connections).
	Workers int
	// GiveUpAfter stops the run after that many messages in a row were
	// left pending (temporary failures) with no success between: the server is down, and every further
	// reader would only wait out the retries. A retry that fails again
	// counts as one. 0 means 3 per worker.
	GiveUpAfter int
	Now         func() time.Time
	// OnStart and OnOutcome report progress (for a bar or log lines);
	// OnOutcome is called from the workers, one call at a time.
	OnStart   func(total, inDoubt int)
	OnOutcome func(Outcome)
	Log       *slog.Logger
	// PageSize is how many ledger rows are read at a time (default 500):
	// memory stays flat whatever the list's length.
	PageSize int
	// RetryQueue is how many messages may wait for their retry at once
	// (default 128 per worker); each holds its composed message. When it
	// is full (a server failing most messages) a worker waits out its
	// message's backoff itself, as every retry did before the queue.
	RetryQueue int

	// Owner names the claims of a run on ledger rows; "" makes one for
	// each run of the host, the pid and a random part.
	Owner string
	// ClaimTTL is how long a claim holds without renewal (default a
	// minute); it is renewed at a third of that. A killed sender's rows
	// return to the pool when it lapses.
	ClaimTTL time.Duration
	// Alone: no other sender runs meanwhile (SQLite's, under the store's
	// send lease): the claims of earlier runs are void, and their rows in
	// doubt go again at once, as a rerun's always did.
	Alone bool
	// Transient says a ledger error is the store out of reach for a
	// while (a PostgreSQL restart): the send waits and tries again, for
	// up to StoreWait (default 2 minutes) from the first failure, saying
	// so in the log, instead of stopping. nil: no error is.
	Transient func(error) bool
	StoreWait time.Duration
}

// Prepared is what Prepare found: the rows it added, those in doubt (left
// sending by a run that died), and how many are left to send.
type Prepared struct{ Added, InDoubt, Left int }

// Outcome is what became of one reader's message in this run.
type Outcome struct {
	// Delivery is the row as recorded: Status is sent, failed, skipped,
	// or pending (deferred), and Error the answer or reason.
	Delivery digest.Delivery
	Err      error
}

// SendReport sums up a run.
type SendReport struct {
	IssueID string
	// Added is the ledger rows made in this run (new readers); InDoubt the
	// rows found claimed, left by a run that died mid-message, and sent again.
	Added, InDoubt int
	// This run's outcomes.
	Sent, Failed, Skipped, Deferred int
	// Stopped says why the run ended before the list did ("" = it did not).
	Stopped string
	// Totals are the issue's rows by status after the run, over every run.
	Totals digest.DeliveryCounts
	// Failures are the issue's failed rows and the deferred ones of this
	// run, with the server's answers (at most 20 of each).
	Failures, DeferredRows []digest.Delivery
	// Done: every row has reached an end; the issue is complete.
	Done     bool
	Duration time.Duration
}

// OK is true when nothing of this run failed or was left for later.
func (r SendReport) OK() bool { return r.Failed == 0 && r.Deferred == 0 && r.Stopped == "" }

type permanent interface{ Permanent() bool }

// retrier is a temporary failure with tries left (deliver.Retry).
type retrier interface {
	error
	RetryIn() time.Duration
	Again(ctx context.Context) error
}
type badAddress interface{ BadAddress() bool }
type inDoubt interface{ InDoubt() bool }
type classified interface {
	Temporary() bool
	Permanent() bool
}

// Send runs the ledger protocol for is over every pending row: Prepare,
// then Run.
func (s *Sender) Send(ctx context.Context, is digest.Issue) (SendReport, error) {
	p, err := s.Prepare(ctx, is.ID)
	if err != nil {
		return SendReport{IssueID: is.ID}, err
	}
	return s.Run(ctx, is, p)
}

// Prepare makes sure every active subscriber has a row for the issue and
// counts what is left. Of several senders sharing a send, the first does
// it under the store's send lease (digest/send); the others find it done.
func (s *Sender) Prepare(ctx context.Context, issueID string) (Prepared, error) {
	var p Prepared
	err := s.withStore(ctx, "prepare the ledger", func() error {
		if s.Alone {
			if err := s.Ledger.ReleaseClaims(ctx, issueID, ""); err != nil {
				return err
			}
		}
		var err error
		p.Added, p.InDoubt, err = s.Ledger.PrepareDeliveries(ctx, issueID, s.now())
		if err != nil {
			return err
		}
		counts, err := s.Ledger.DeliveryCounts(ctx, issueID)
		p.Left = counts.Left()
		return err
	})
	return p, err
}

func (s *Sender) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

func (s *Sender) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.DiscardHandler)
}

// Run sends is to the rows Prepare made, in batches claimed from the
// ledger, until none is left to claim and no other sender works on any
// (a killed one's rows are claimed once its claim lapses). When ctx ends
// (Ctrl-C) it starts nothing new, lets the messages in flight finish and
// be marked, gives back the rows it claimed and did not start, and leaves
// them pending for the next run.
func (s *Sender) Run(ctx context.Context, is digest.Issue, p Prepared) (SendReport, error) {
	start := time.Now()
	rep := SendReport{IssueID: is.ID, Added: p.Added}
	now := s.now
	log := s.log()
	// The ledger must record what was sent even while the run is being
	// stopped: a mark lost to Ctrl-C is a reader mailed twice.
	bg := context.WithoutCancel(ctx)
	owner := cmp.Or(s.Owner, newOwner()) // this run's, never an earlier one's
	ttl := cmp.Or(s.ClaimTTL, time.Minute)

	if p.InDoubt > 0 {
		log.Warn("an earlier send stopped mid-message; those messages go again and may arrive twice (with the same Message-ID, so most mail programs show one)",
			"issue", is.ID, "in_doubt", p.InDoubt)
	}
	if s.OnStart != nil {
		s.OnStart(p.Left, p.InDoubt)
	}
	claims := newClaimsHeld(ttl, log)
	stopRenew := s.renewClaims(is.ID, owner, claims)
	w := newLedgerWriter(bg, s.Ledger, s.withStore)
	workers := max(1, s.Workers)
	giveUp := s.GiveUpAfter
	if giveUp <= 0 {
		giveUp = 3 * workers
	}
	// stop ends the dispatch early: Ctrl-C, a server that is down, or a
	// ledger that cannot be written.
	runCtx, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	var mu sync.Mutex // guards rep's counts, streak and OnOutcome
	streak := 0
	outcome := func(o Outcome) {
		mu.Lock()
		defer mu.Unlock()
		switch o.Delivery.Status {
		case digest.DeliverySent:
			rep.Sent++
			streak = 0
		case digest.DeliveryFailed:
			rep.Failed++
			streak = 0
		case digest.DeliverySkipped:
			rep.Skipped++
		case digest.DeliveryPending, digest.DeliverySending:
			rep.Deferred++
			if len(rep.DeferredRows) < 20 {
				rep.DeferredRows = append(rep.DeferredRows, o.Delivery)
			}
			if isSetup(o.Err) {
				// Not this message's fault, and the same for the next:
				// a wrong password, a refused sender.
				stop(fmt.Errorf("the mail server refuses every message: %v", o.Err))
			} else if streak++; streak >= giveUp {
				stop(fmt.Errorf("%d messages in a row could not be sent, the last: %v", streak, o.Err))
			}
		}
		if s.OnOutcome != nil {
			s.OnOutcome(o)
		}
	}
	// A retry that fails again counts toward giving up, though the
	// message may have tries left: a server that is down fails every
	// retry, and waiting out all of a full queue's tries (40 s) would only
	// hammer it. Greylisting, which takes the second try, does not count.
	failedAgain := func(err error) {
		mu.Lock()
		defer mu.Unlock()
		if streak++; streak >= giveUp {
			stop(fmt.Errorf("%d messages in a row could not be sent, the last: %v", streak, err))
		}
	}

	// work carries the rows from the ledger and, when due, the retries;
	// open counts the rows handed out and not yet at an outcome, so the
	// send ends only when the last retry has been taken.
	work := make(chan job)
	var open sync.WaitGroup
	q := newRetryQueue(cmp.Or(s.RetryQueue, 128*workers))
	quit := make(chan struct{})
	go q.run(runCtx, work, quit)
	r := &sendRun{ctx: runCtx, deliverCtx: ctx, w: w, q: q, now: now, outcome: outcome, failedAgain: failedAgain, stop: stop,
		owner: owner, claims: claims, log: log}
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for j := range work {
				if j.retry == nil && runCtx.Err() != nil {
					open.Done() // stopping: leave it pending
					continue
				}
				if !s.handle(r, j) {
					continue // queued for its retry: still open
				}
				open.Done()
			}
		})
	}
	var dispatchErr error
	rep.InDoubt, dispatchErr = s.dispatch(runCtx, is.ID, owner, ttl, work, &open, p.InDoubt)
	open.Wait()
	close(work)
	wg.Wait()
	close(quit)
	werr := w.close()
	stopRenew()
	// What it claimed and did not start goes back to the pool now, for
	// the other senders or the next run.
	if err := s.withStore(bg, "give back claims", func() error { return s.Ledger.ReleaseClaims(bg, is.ID, owner) }); err != nil && werr == nil {
		werr = err
	}
	if werr != nil {
		return rep, werr
	}

	switch cause := context.Cause(runCtx); {
	case ctx.Err() != nil:
		rep.Stopped = "interrupted"
	case cause != nil && !errors.Is(cause, context.Canceled):
		rep.Stopped = cause.Error()
	case dispatchErr != nil:
		rep.Stopped = dispatchErr.Error()
	}
	if rep.Stopped != "" {
		log.Warn("send stopped; the rest stays pending for the next run", "issue", is.ID, "why", rep.Stopped)
	}

	// The articles count as mailed once any reader has them, so next
	// week's issue does not repeat them even if this one is never finished.
	err := s.withStore(bg, "sum up the send", func() error {
		var err error
		if rep.Totals, err = s.Ledger.DeliveryCounts(bg, is.ID); err != nil {
			return err
		}
		if rep.Totals[digest.DeliverySent] > 0 {
			if err := s.Ledger.MarkMailed(bg, is.ID, is.Articles(), now()); err != nil {
				return err
			}
		}
		if rep.Done, err = s.Ledger.FinishIssue(bg, is.ID, now()); err != nil {
			return err
		}
		rep.Failures, err = s.Ledger.Deliveries(bg, is.ID, digest.DeliveryFailed, 20)
		return err
	})
	rep.Duration = time.Since(start)
	return rep, err
}

// newOwner names a sender's claims: where it runs, for the operator, and
// a random part, so two runs never share one.
func newOwner() string {
	host, _ := os.Hostname()
	var nonce [6]byte
	rand.Read(nonce[:])
	return fmt.Sprintf("%s:%d:%s", host, os.Getpid(), hex.EncodeToString(nonce[:]))
}

// renewClaims renews the run's claims every third of their ttl until the
// returned function is called, each renewal given at most that third (a
// store that hangs must not hold the next one up). A renewal that fails
// is logged, and claims hears of each that succeeds: once none has for
// two thirds of the ttl the workers start no new message (claimsHeld),
// for our claims may lapse and another sender take the rows.
func (s *Sender) renewClaims(issueID, owner string, claims *claimsHeld) (stop func()) {
	ttl := claims.ttl
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
				ctx, cancel := context.WithTimeout(context.Background(), ttl/3)
				_, err := s.Ledger.RenewClaims(ctx, issueID, owner, time.Now().Add(ttl))
				cancel()
				if err != nil {
					s.log().Warn("could not renew the claims on the ledger's rows; trying again", "issue", issueID, "err", err)
					continue
				}
				claims.renewed()
			}
		}
	})
	return func() { close(done); wg.Wait() }
}

// claimsHeld says whether a run's claims are surely still its own: a
// renewal succeeded within the last two thirds of their ttl. A message
// started later could go out while our claim has lapsed and another
// sender mails the same reader; the store refuses a claim that lapsed,
// and this keeps a sender from getting that close.
type claimsHeld struct {
	ttl time.Duration
	log *slog.Logger

	mu      sync.Mutex
	last    time.Time     // the run's start or the last renewal that succeeded
	waiting bool          // a worker is waiting (logged once per wait)
	back    chan struct{} // closed at the next renewal that succeeds
}

func newClaimsHeld(ttl time.Duration, log *slog.Logger) *claimsHeld {
	return &claimsHeld{ttl: ttl, log: log, last: time.Now(), back: make(chan struct{})}
}

func (c *claimsHeld) renewed() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.last = time.Now()
	close(c.back)
	c.back = make(chan struct{})
	if c.waiting {
		c.waiting = false
		c.log.Info("the claims were renewed; sending on")
	}
}

// wait returns at once while the claims are fresh, else when a renewal
// succeeds; false when ctx ends first.
func (c *claimsHeld) wait(ctx context.Context) bool {
	for {
		c.mu.Lock()
		if time.Since(c.last) < 2*c.ttl/3 {
			c.mu.Unlock()
			return true
		}
		if !c.waiting {
			c.waiting = true
			c.log.Warn("the claims on the ledger's rows could not be renewed; starting no new message until they are",
				"since", c.last.Format(time.TimeOnly))
		}
		back := c.back
		c.mu.Unlock()
		select {
		case <-back:
		case <-ctx.Done():
			return false
		}
	}
}

// withStore runs f, and while it fails because the store is out of reach
// (Transient), waits and runs it again, for up to StoreWait from the first
// failure: a PostgreSQL restart holds the send up instead of ending it.
// Each wait is logged. ctx ending stops the waiting.
func (s *Sender) withStore(ctx context.Context, what string, f func() error) error {
	err := f()
	if err == nil || s.Transient == nil || !s.Transient(err) {
		return err
	}
	limit := cmp.Or(s.StoreWait, 2*time.Minute)
	first := time.Now()
	wait := 250 * time.Millisecond
	for attempt := 1; ; attempt++ {
		if time.Since(first)+wait > limit {
			return fmt.Errorf("the store was out of reach for %v (%s): %w", time.Since(first).Round(time.Second), what, err)
		}
		s.log().Warn("the store is out of reach; waiting to try again", "doing", what, "attempt", attempt,
			"wait", wait.String(), "gives_up_after", limit.String(), "err", err)
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return err
		}
		if err = f(); err == nil || !s.Transient(err) {
			if err == nil {
				s.log().Info("the store is back; going on", "doing", what, "after", time.Since(first).Round(time.Millisecond).String())
			}
			return err
		}
		wait = min(2*wait, 5*time.Second)
	}
}

// dispatch claims batches of rows and hands them to the workers, counting
// each in open, until no row is left to claim and no other sender works
// on one, or ctx ends. It returns how many of the rows were in doubt
// (left sending by a sender that died) and go again; inDoubt is how many
// Prepare found, already warned about.
func (s *Sender) dispatch(ctx context.Context, issueID, owner string, ttl time.Duration, work chan<- job, open *sync.WaitGroup, inDoubt int) (int, error) {
	size := cmp.Or(s.PageSize, 500)
	poll := min(ttl/20, 250*time.Millisecond)
	again := 0
	// looked: the last claim found nothing and no other sender held a
	// live row after it. One more claim settles it: a claim that lapsed
	// between the two reads is free now, and was not when claimed.
	looked := false
	for {
		var page []digest.Delivery
		err := s.withStore(ctx, "claim rows", func() error {
			var err error
			page, err = s.Ledger.ClaimDeliveries(ctx, issueID, owner, time.Now(), time.Now().Add(ttl), size)
			return err
		})
		if err != nil {
			if ctx.Err() != nil {
				return again, nil
			}
			return again, err
		}
		for _, d := range page {
			if d.Status == digest.DeliverySending {
				if again++; again > inDoubt {
					s.log().Warn("a sender stopped mid-message and its claim lapsed; its message goes again and may arrive twice (with the same Message-ID)",
						"issue", issueID, "subscriber", d.SubscriberID)
				}
			}
			open.Add(1)
			select {
			case work <- job{d: d}:
			case <-ctx.Done():
				open.Done()
				return again, nil
			}
		}
		if len(page) > 0 || s.Alone {
			if len(page) == 0 {
				return again, nil
			}
			looked = false
			continue
		}
		if looked {
			return again, nil
		}
		// Nothing free to claim. Other senders' rows are waited for: a
		// live sender finishes them, a dead one's return to the pool when
		// its claim lapses, and this sender takes them then.
		var others int
		if err := s.withStore(ctx, "look for other senders' rows", func() error {
			var err error
			others, err = s.Ledger.ClaimedElsewhere(ctx, issueID, owner, time.Now())
			return err
		}); err != nil {
			if ctx.Err() != nil {
				return again, nil
			}
			return again, err
		}
		if others == 0 {
			looked = true
			continue
		}
		t := time.NewTimer(poll)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return again, nil
		}
	}
}

// job is one reader's message for a worker: a row from the ledger, or a
// retry of a message whose try failed temporarily.
type job struct {
	d     digest.Delivery
	retry retrier // nil for a row's first try in this run
	msgID string  // the Message-ID of the retried message
	due   time.Time
}

// handle takes j to its outcome, or, when it must be tried again, puts it
// in the retry queue and returns, so the worker goes on to the next
// reader; it reports whether j is done with. Only when the queue is full
// does it wait out the backoff here.
func (s *Sender) handle(r *sendRun, j job) bool {
	for {
		o, next, err := s.one(r, j)
		switch {
		case errors.Is(err, errClaimTaken):
			// Our claim lapsed (and another sender may have the row
			// now): it is not ours to send.
			r.log.Warn("this sender's claim on a reader lapsed before its message started; left to whichever sender claims it next", "subscriber", j.d.SubscriberID)
			return true
		case err != nil:
			r.stop(err) // the ledger failed: sending on would be blind
			return true
		case next == nil:
			r.outcome(o)
			return true
		case j.retry != nil:
			r.failedAgain(next.retry)
		}
		if r.q.push(*next) {
			return false
		}
		t := time.NewTimer(time.Until(next.due))
		select {
		case <-t.C:
		case <-r.ctx.Done(): // one records it as pending
			t.Stop()
		}
		j = *next
	}
}

// sendRun is what the workers of one Send share.
type sendRun struct {
	ctx         context.Context // ends when the run must stop
	deliverCtx  context.Context // Send's own: ends only at a shutdown (Sender.Deliver)
	w           *ledgerWriter
	q           *retryQueue
	now         func() time.Time
	outcome     func(Outcome)
	failedAgain func(error)
	stop        context.CancelCauseFunc
	owner       string // the run's claims (Sender.Owner)
	claims      *claimsHeld
	log         *slog.Logger
}

// one takes one reader through render, claim, deliver and mark. Its error
// is the ledger's; delivery problems are in the Outcome, whose Delivery
// carries the status and answer recorded. A temporary failure with tries
// left is marked pending and comes back as the job of its retry, with no
// Outcome yet.
func (s *Sender) one(r *sendRun, j job) (Outcome, *job, error) {
	ctx, deliverCtx, w, now := r.ctx, r.deliverCtx, r.w, r.now
	d := j.d
	up := digest.DeliveryUpdate{IssueID: d.IssueID, SubscriberID: d.SubscriberID, Owner: r.owner}
	// record marks the row (posted: the next claim commits it) and tells
	// the outcome. A row left pending or sending for good in this run is
	// parked: it keeps our claim, so no other sender takes it, or waits
	// for it, while we run.
	retrying := false
	record := func(st digest.DeliveryStatus, err error, text string) (Outcome, *job, error) {
		up.Status, up.Error, up.At = st, text, now()
		up.Park = !retrying && (st == digest.DeliveryPending || st == digest.DeliverySending)
		d.Status, d.Error = st, text
		return Outcome{Delivery: d, Err: err}, nil, w.post(up)
	}
	var msg digest.Message
	if j.retry == nil {
		var err error
		msg, err = s.Render(d)
		if errors.Is(err, ErrNothingForReader) {
			return record(digest.DeliverySkipped, nil, "none of their themes ("+strings.Join(d.Themes, ", ")+") had an article")
		}
		if err != nil {
			// A template that fails for this reader only: keep them for the
			// next run, after the template is fixed.
			return record(digest.DeliveryPending, err, errText(err))
		}
	} else if ctx.Err() != nil {
		// Stopping: the row has been pending since its failed try, and
		// stays so for the next run.
		up.MessageID = j.msgID
		return record(digest.DeliveryPending, j.retry, errText(j.retry))
	}
	if !r.claims.wait(ctx) {
		// Stopping while our claims were in doubt: the row stays pending.
		up.MessageID = j.msgID
		if j.retry != nil {
			return record(digest.DeliveryPending, j.retry, errText(j.retry))
		}
		return record(digest.DeliveryPending, ctx.Err(), "not started: the send stopped")
	}
	claim := up
	claim.Status, claim.Attempt, claim.At = digest.DeliverySending, true, now()
	claim.ClaimFor = r.claims.ttl // the message starts with a whole claim ahead
	if err := w.write(claim); err != nil {
		return Outcome{Delivery: d}, nil, err
	}
	var err error
	if j.retry == nil {
		up.MessageID, err = s.Deliver(deliverCtx, msg)
	} else {
		up.MessageID, err = j.msgID, j.retry.Again(deliverCtx)
	}
	var again retrier
	switch {
	case err == nil:
		return record(digest.DeliverySent, nil, "")
	case isPermanent(err):
		var bad badAddress
		up.Bounced = errors.As(err, &bad) && bad.BadAddress()
		d.Bounced = up.Bounced
		return record(digest.DeliveryFailed, err, errText(err))
	case isInDoubt(err):
		// The message went out in full and no answer came (a hung
		// server, cut off when the send stopped): it may have arrived.
		// The claim stays, so the ledger says so as it does after a
		// crash, and the next run counts it in doubt as it sends it again.
		return record(digest.DeliverySending, err, errText(err))
	case errors.As(err, &again) && ctx.Err() == nil:
		// Pending until the retry's claim: if the run dies meanwhile,
		// the row is not in doubt, for the message was not taken.
		retrying = true // not parked: its retry comes in this run
		o, _, err := record(digest.DeliveryPending, err, errText(err))
		return o, &job{d: j.d, retry: again, msgID: up.MessageID, due: time.Now().Add(again.RetryIn())}, err
	}
	// Temporary, or a local problem (outbox disk full): the reader stays
	// pending and the next run tries again.
	return record(digest.DeliveryPending, err, errText(err))
}

func isInDoubt(err error) bool {
	var d inDoubt
	return errors.As(err, &d) && d.InDoubt()
}

// retryQueue holds the messages waiting for their retry, earliest due
// first, and hands each to the workers when it is due.
type retryQueue struct {
	mu   sync.Mutex
	jobs []job // a min-heap by due
	max  int
	wake chan struct{}
}

func newRetryQueue(max int) *retryQueue {
	return &retryQueue{max: max, wake: make(chan struct{}, 1)}
}

// push queues j, unless the queue is full.
func (q *retryQueue) push(j job) bool {
	q.mu.Lock()
	if len(q.jobs) >= q.max {
		q.mu.Unlock()
		return false
	}
	heap.Push((*jobHeap)(&q.jobs), j)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
	return true
}

// next pops the earliest job when it is due (or at once once stopping);
// otherwise it says how long until it is due, -1 when the queue is empty.
func (q *retryQueue) next(stopping bool) (job, time.Duration, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.jobs) == 0 {
		return job{}, -1, false
	}
	if wait := time.Until(q.jobs[0].due); wait > 0 && !stopping {
		return job{}, wait, false
	}
	return heap.Pop((*jobHeap)(&q.jobs)).(job), 0, true
}

// run hands the queued jobs to the workers as they fall due, and all of
// them at once when ctx ends (the workers then record them as pending),
// until quit is closed.
func (q *retryQueue) run(ctx context.Context, work chan<- job, quit <-chan struct{}) {
	done := ctx.Done()
	t := time.NewTimer(0)
	t.Stop()
	for {
		j, wait, ok := q.next(ctx.Err() != nil)
		if ok {
			select {
			case work <- j:
			case <-quit:
				return
			}
			continue
		}
		var due <-chan time.Time
		if wait >= 0 {
			t.Reset(wait)
			due = t.C
		}
		select {
		case <-due:
		case <-q.wake:
		case <-done:
			done = nil // from now on every job is due at once
		case <-quit:
			t.Stop()
			return
		}
		t.Stop()
	}
}

type jobHeap []job

func (h jobHeap) Len() int           { return len(h) }
func (h jobHeap) Less(i, j int) bool { return h[i].due.Before(h[j].due) }
func (h jobHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *jobHeap) Push(x any)        { *h = append(*h, x.(job)) }
func (h *jobHeap) Pop() any {
	old := *h
	j := old[len(old)-1]
	old[len(old)-1] = job{} // let the message go
	*h = old[:len(old)-1]
	return j
}

// isSetup is a delivery error that is neither temporary nor permanent: a
// problem of the setup (login, sender, TLS) that no retry mends.
func isSetup(err error) bool {
	var c classified
	return errors.As(err, &c) && !c.Temporary() && !c.Permanent()
}

func isPermanent(err error) bool {
	var p permanent
	return errors.As(err, &p) && p.Permanent()
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// ledgerWriter commits the workers' ledger updates in groups, in the
// order they come, so one commit carries whatever all the workers sent
// meanwhile. A claim is written with write, which waits for its commit (it
// must be on disk before the SMTP transaction starts); a mark is posted
// and not waited for: the worker's next claim cannot commit before it, so
// a worker never has more than one sent message unrecorded, and the
// marks ride along with the claims instead of costing a commit each.
type ledgerWriter struct {
	l     Ledger
	retry func(ctx context.Context, what string, f func() error) error // Sender.withStore
	reqs  chan ledgerReq
	done  chan struct{}

	mu     sync.Mutex
	failed error // the first failed commit; every later write reports it
}

type ledgerReq struct {
	up  digest.DeliveryUpdate
	err chan error // nil for a posted update
}

// errClaimTaken is a claim the ledger refused: ours lapsed, and another
// sender may hold the row now.
var errClaimTaken = errors.New("the claim on the row lapsed")

// lostClaims is the ledger's error for claims it did not write, the rest
// of the batch committed (store.ClaimsLostError).
type lostClaims interface{ LostClaims() []int64 }

func newLedgerWriter(ctx context.Context, l Ledger, retry func(context.Context, string, func() error) error) *ledgerWriter {
	w := &ledgerWriter{l: l, retry: retry, reqs: make(chan ledgerReq, 64), done: make(chan struct{})}
	go w.run(ctx)
	return w
}

func (w *ledgerWriter) run(ctx context.Context) {
	defer close(w.done)
	for first := range w.reqs {
		batch := []ledgerReq{first}
	more:
		for len(batch) < 256 {
			select {
			case r, ok := <-w.reqs:
				if !ok {
					break more
				}
				batch = append(batch, r)
			default:
				break more
			}
		}
		ups := make([]digest.DeliveryUpdate, len(batch))
		for i, r := range batch {
			ups[i] = r.up
		}
		err := w.retry(ctx, "record deliveries", func() error { return w.l.UpdateDeliveries(ctx, ups) })
		var lost lostClaims
		taken := map[int64]bool{}
		if errors.As(err, &lost) {
			for _, id := range lost.LostClaims() {
				taken[id] = true
			}
			err = nil
		}
		if err != nil {
			w.mu.Lock()
			if w.failed == nil {
				w.failed = err
			}
			w.mu.Unlock()
		}
		for _, r := range batch {
			if r.err == nil {
				continue
			}
			if err := w.err(); err != nil || !taken[r.up.SubscriberID] {
				r.err <- err
			} else {
				r.err <- errClaimTaken
			}
		}
	}
}

func (w *ledgerWriter) err() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.failed
}

// write queues up and waits until it is committed.
func (w *ledgerWriter) write(up digest.DeliveryUpdate) error {
	r := ledgerReq{up: up, err: make(chan error, 1)}
	w.reqs <- r
	return <-r.err
}

// post queues up without waiting; a failure shows at the next write or
// at close.
func (w *ledgerWriter) post(up digest.DeliveryUpdate) error {
	if err := w.err(); err != nil {
		return err
	}
	w.reqs <- ledgerReq{up: up}
	return nil
}

// close commits what is queued and reports any failed commit.
func (w *ledgerWriter) close() error {
	close(w.reqs)
	<-w.done
	return w.err()
}
