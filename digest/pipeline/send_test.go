package pipeline

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/store"
	"gull/subscribers"
)

var sendNow = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

// smtpErr is a delivery error as deliver reports it.
type smtpErr struct {
	code int
	bad  bool
}

func (e smtpErr) Error() string    { return fmt.Sprintf("%d the server said no", e.code) }
func (e smtpErr) Temporary() bool  { return e.code < 500 }
func (e smtpErr) Permanent() bool  { return e.code >= 500 }
func (e smtpErr) BadAddress() bool { return e.bad }

// postOffice is a fake transport: it records what arrived and answers
// with the error set for an address.
type postOffice struct {
	t       *testing.T
	st      *store.Store
	mu      sync.Mutex
	got     map[string]int
	fail    map[string]error
	onSend  func(n int)
	claimed bool // every message's row was claimed when it went out
}

func (p *postOffice) deliver(ctx context.Context, m digest.Message) (string, error) {
	// The claim is committed before the transaction starts.
	rows, err := p.st.Deliveries(context.Background(), m.IssueID, digest.DeliverySending, 100)
	if err != nil {
		p.t.Error(err)
	}
	if !slices.ContainsFunc(rows, func(d digest.Delivery) bool { return d.Email == m.To }) {
		p.t.Errorf("%s went out without a claim", m.To)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if err := p.fail[m.To]; err != nil {
		return "", err
	}
	p.got[m.To]++
	if p.onSend != nil {
		p.onSend(len(p.got))
	}
	return "<" + m.To + ">", nil
}

type sendFixture struct {
	st     *store.Store
	is     digest.Issue
	post   *postOffice
	sender *Sender
}

func newSendFixture(t *testing.T, n int) *sendFixture {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	var rows []subscribers.Row
	for i := range n {
		sub := subscribers.Subscriber{Email: fmt.Sprintf("r%03d@example.org", i), Status: subscribers.Active}
		if i == 7 {
			sub.Themes = []string{"nothing"} // chose a theme with no article this week
		}
		rows = append(rows, subscribers.Row{Line: i + 1, Subscriber: sub, Given: subscribers.AllFields})
	}
	rows = append(rows, subscribers.Row{Line: n + 1, Subscriber: subscribers.Subscriber{Email: "pending@example.org", Status: subscribers.Pending}, Given: subscribers.AllFields})
	if _, err := st.ImportSubscribers(ctx, rows, sendNow); err != nil {
		t.Fatal(err)
	}
	pub := sendNow.Add(-48 * time.Hour)
	is := digest.Issue{ID: "2026-W48", Title: "AI Policy Weekly", Period: digest.WeekEnding(sendNow, 0, time.UTC),
		Sections: []digest.Section{{ID: "compute", Name: "Compute", Articles: []digest.Article{
			{ID: "a1", FeedURL: "https://f.example/feed", Title: "Chips act", Link: "https://f.example/1", Published: &pub},
		}}}}
	if _, err := st.SaveIssue(ctx, is, digest.IssueOpen, sendNow); err != nil {
		t.Fatal(err)
	}
	f := &sendFixture{st: st, is: is, post: &postOffice{t: t, st: st, got: map[string]int{}, fail: map[string]error{}}}
	f.sender = &Sender{
		Ledger: st,
		Render: func(d digest.Delivery) (digest.Message, error) {
			if slices.Contains(d.Themes, "nothing") {
				return digest.Message{}, ErrNothingForReader
			}
			return digest.Message{IssueID: is.ID, To: d.Email, Subject: is.Title}, nil
		},
		Deliver:  f.post.deliver,
		Workers:  4,
		Now:      func() time.Time { return sendNow },
		PageSize: 16,   // several pages
		Alone:    true, // SQLite's sender: the store's send lease is held
	}
	return f
}

func (f *sendFixture) send(t *testing.T, ctx context.Context) SendReport {
	t.Helper()
	rep, err := f.sender.Send(ctx, f.is)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestSendEveryoneOnce(t *testing.T) {
	f := newSendFixture(t, 50)
	rep := f.send(t, context.Background())
	if rep.Sent != 49 || rep.Skipped != 1 || rep.Failed != 0 || rep.Deferred != 0 || !rep.Done || !rep.OK() || rep.Added != 50 {
		t.Fatalf("first run: %+v", rep)
	}
	if len(f.post.got) != 49 {
		t.Fatalf("%d readers got mail", len(f.post.got))
	}
	for addr, n := range f.post.got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
	if _, ok := f.post.got["pending@example.org"]; ok {
		t.Error("an unconfirmed address got the issue")
	}
	// A rerun sends nothing new.
	again := f.send(t, context.Background())
	if again.Sent != 0 || again.Added != 0 || len(f.post.got) != 49 || again.Totals[digest.DeliverySent] != 49 {
		t.Fatalf("rerun: %+v", again)
	}
	// The articles count as mailed: next week's issue leaves them out.
	mailed, _ := f.st.Mailed(context.Background())
	for _, k := range digest.MailKeys(f.is.Articles()[0]) {
		if !mailed.Mailed(k) {
			t.Errorf("%s not marked mailed", k)
		}
	}
	skipped, _ := f.st.Deliveries(context.Background(), f.is.ID, digest.DeliverySkipped, 10)
	if len(skipped) != 1 || skipped[0].Email != "r007@example.org" || skipped[0].Error == "" {
		t.Errorf("skipped: %+v", skipped)
	}
}

func TestSendFailures(t *testing.T) {
	f := newSendFixture(t, 20)
	f.post.fail["r003@example.org"] = smtpErr{code: 550, bad: true}
	f.post.fail["r004@example.org"] = smtpErr{code: 552}
	f.post.fail["r005@example.org"] = smtpErr{code: 451}
	rep := f.send(t, context.Background())
	if rep.Sent != 16 || rep.Failed != 2 || rep.Deferred != 1 || rep.Done || rep.OK() {
		t.Fatalf("report: %+v", rep)
	}
	if len(rep.Failures) != 2 || rep.Failures[0].Email != "r003@example.org" || rep.Failures[0].Error != "550 the server said no" {
		t.Errorf("failures: %+v", rep.Failures)
	}
	if len(rep.DeferredRows) != 1 || rep.DeferredRows[0].Email != "r005@example.org" {
		t.Errorf("deferred: %+v", rep.DeferredRows)
	}
	ctx := context.Background()
	for addr, want := range map[string]subscribers.Status{"r003@example.org": subscribers.Bounced, "r004@example.org": subscribers.Active} {
		if sub, _ := f.st.SubscriberByEmail(ctx, addr); sub.Status != want {
			t.Errorf("%s is %s, want %s", addr, sub.Status, want)
		}
	}
	// The next run tries only the deferred reader; the refused are never
	// tried again.
	delete(f.post.fail, "r005@example.org")
	delete(f.post.fail, "r004@example.org")
	rep = f.send(t, ctx)
	if rep.Sent != 1 || f.post.got["r005@example.org"] != 1 || f.post.got["r004@example.org"] != 0 || !rep.Done {
		t.Fatalf("rerun: %+v", rep)
	}
}

func TestSendGivesUpWhenTheServerIsDown(t *testing.T) {
	f := newSendFixture(t, 100)
	down := smtpErr{code: 421}
	for i := range 100 {
		f.post.fail[fmt.Sprintf("r%03d@example.org", i)] = down
	}
	f.sender.GiveUpAfter = 5
	rep := f.send(t, context.Background())
	if rep.Stopped == "" || rep.Deferred > 5+f.sender.Workers || rep.Totals.Left() < 90 {
		t.Fatalf("report: %+v", rep)
	}
}

// setupErr is a delivery error no retry mends (a refused login or sender).
type setupErr struct{}

func (setupErr) Error() string    { return "530 5.7.0 authentication required" }
func (setupErr) Temporary() bool  { return false }
func (setupErr) Permanent() bool  { return false }
func (setupErr) BadAddress() bool { return false }

func TestSendStopsAtASetupError(t *testing.T) {
	f := newSendFixture(t, 100)
	for i := range 100 {
		f.post.fail[fmt.Sprintf("r%03d@example.org", i)] = setupErr{}
	}
	rep := f.send(t, context.Background())
	if rep.Stopped == "" || rep.Failed != 0 || rep.Deferred > f.sender.Workers || rep.Totals.Left() < 90 {
		t.Fatalf("report: %+v", rep)
	}
}

func TestSendInterruptedLeavesTheRestPending(t *testing.T) {
	f := newSendFixture(t, 60)
	ctx, cancel := context.WithCancel(context.Background())
	f.post.onSend = func(n int) {
		if n == 10 {
			cancel()
		}
	}
	rep := f.send(t, ctx)
	if rep.Stopped != "interrupted" || rep.Sent < 10 || rep.Sent > 10+f.sender.Workers || rep.Done {
		t.Fatalf("report: %+v", rep)
	}
	// Nothing is left claimed: the messages in flight finished and were marked.
	if rep.Totals[digest.DeliverySending] != 0 || rep.Totals[digest.DeliverySent] != rep.Sent {
		t.Fatalf("totals after the interrupt: %v", rep.Totals)
	}
	f.post.onSend = nil
	rep = f.send(t, context.Background())
	if !rep.Done || rep.InDoubt != 0 || len(f.post.got) != 59 {
		t.Fatalf("resumed: %+v, %d readers", rep, len(f.post.got))
	}
	for addr, n := range f.post.got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
}

func TestOpenIssue(t *testing.T) {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	builds := 0
	articles := 0
	build := func(context.Context) (digest.Issue, error) {
		builds++
		is := digest.Issue{ID: "2026-W48", Title: "t"}
		if articles > 0 {
			is.Sections = []digest.Section{{ID: "x", Articles: make([]digest.Article, articles)}}
		}
		return is, nil
	}
	// A quiet week is not frozen: the next run builds again.
	is, rec, err := OpenIssue(ctx, st, "2026-W48", build, false, sendNow)
	if err != nil || rec.Status != digest.IssueQuiet || is.Count() != 0 {
		t.Fatalf("quiet: %+v %v", rec, err)
	}
	articles = 3
	is, rec, err = OpenIssue(ctx, st, "2026-W48", build, false, sendNow)
	if err != nil || rec.Status != digest.IssueOpen || is.Count() != 3 || builds != 2 {
		t.Fatalf("open: %+v %v, %d builds", rec, err, builds)
	}
	// Frozen: more articles later change nothing, and nothing is fetched.
	articles = 5
	is, _, err = OpenIssue(ctx, st, "2026-W48", build, false, sendNow)
	if err != nil || is.Count() != 3 || builds != 2 {
		t.Fatalf("reopened: %d articles, %d builds, %v", is.Count(), builds, err)
	}
	// quiet_week: send freezes the empty issue so it can be sent.
	articles = 0
	_, rec, err = OpenIssue(ctx, st, "2026-W49", func(ctx context.Context) (digest.Issue, error) {
		return digest.Issue{ID: "2026-W49"}, nil
	}, true, sendNow)
	if err != nil || rec.Status != digest.IssueOpen {
		t.Fatalf("quiet, sent anyway: %+v %v", rec, err)
	}
	if _, _, err := OpenIssue(ctx, st, "2026-W50", func(context.Context) (digest.Issue, error) {
		return digest.Issue{}, errors.New("feeds down")
	}, false, sendNow); err == nil {
		t.Error("a failed build opened an issue")
	}
}

// inDoubtErr is deliver's error for a message that went out in full and
// was never answered (a hung server, cut off when the send stopped).
type inDoubtErr struct{}

func (inDoubtErr) Error() string   { return "no answer came; the server may have it" }
func (inDoubtErr) Temporary() bool { return true }
func (inDoubtErr) Permanent() bool { return false }
func (inDoubtErr) InDoubt() bool   { return true }

// TestSendLeavesAnUnansweredMessageInDoubt: a message the server took in
// full but never answered keeps its claim, so the ledger says it is in
// doubt (as after a crash) rather than merely pending, and the next run
// counts it as such and sends it again.
func TestSendLeavesAnUnansweredMessageInDoubt(t *testing.T) {
	f := newSendFixture(t, 10)
	f.post.fail["r005@example.org"] = inDoubtErr{}
	rep := f.send(t, context.Background())
	if rep.Sent != 8 || rep.Deferred != 1 || rep.Done || rep.OK() {
		t.Fatalf("report: %+v", rep)
	}
	rows, _ := f.st.Deliveries(context.Background(), f.is.ID, digest.DeliverySending, 10)
	if len(rows) != 1 || rows[0].Email != "r005@example.org" || rows[0].Attempts != 1 || rows[0].Error == "" {
		t.Fatalf("rows in doubt after the run: %+v; want r005's, with the answer that did not come", rows)
	}
	delete(f.post.fail, "r005@example.org")
	rep = f.send(t, context.Background())
	if rep.InDoubt != 1 || rep.Sent != 1 || !rep.Done || f.post.got["r005@example.org"] != 1 {
		t.Fatalf("the next run: %+v; want the one in doubt counted and sent", rep)
	}
}
