package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

func testIssue(id string, n int) digest.Issue {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	pub := time.Date(2026, 11, 24, 10, 0, 0, 0, seoul)
	is := digest.Issue{
		ID: id, Title: "AI 정책 주간",
		Period:  digest.Period{Start: time.Date(2026, 11, 23, 8, 0, 0, 0, seoul), End: time.Date(2026, 11, 30, 8, 0, 0, 0, seoul)},
		Feeds:   []digest.FeedReport{{URL: "https://f.example/feed?token=x", Name: "칼럼", Status: digest.FeedOK, Items: n, InWindow: n}},
		Dropped: []digest.Dropped{{Title: "중복", Link: "https://f.example/d", Feed: "칼럼", FeedURL: "https://f.example/feed", Reason: "same link"}},
	}
	sec := digest.Section{ID: "compute", Name: "반도체"}
	for i := range n {
		a := art(fmt.Sprint(i), fmt.Sprintf("글 %d <b>&", i), nil)
		if i%2 == 0 {
			a.Published = &pub
		}
		a.Themes = []string{"compute", "regulation"}
		a.Lang = []string{"ko", "en", ""}[i%3]
		a.FirstSeen = pub.Add(time.Hour).UTC()
		sec.Articles = append(sec.Articles, a)
	}
	if n > 0 {
		is.Sections = []digest.Section{sec}
	}
	return is
}

func TestIssueFrozenOnceBuilt(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, _, err := s.Issue(ctx, "2026-W48"); !errors.Is(err, digest.ErrNoIssue) {
		t.Fatalf("missing issue: %v", err)
	}
	// A quiet week is recorded but not frozen: a later run may fill it.
	if rec, err := s.SaveIssue(ctx, testIssue("2026-W48", 0), digest.IssueQuiet, day1); err != nil || rec.Status != digest.IssueQuiet {
		t.Fatalf("quiet: %+v %v", rec, err)
	}
	want := testIssue("2026-W48", 3)
	rec, err := s.SaveIssue(ctx, want, digest.IssueOpen, day2)
	if err != nil || rec.Status != digest.IssueOpen || rec.Articles != 3 || !rec.Created.Equal(day2) {
		t.Fatalf("open: %+v %v", rec, err)
	}
	// A second build (feeds changed since) does not replace the first.
	if rec, err := s.SaveIssue(ctx, testIssue("2026-W48", 5), digest.IssueOpen, day3); err != nil || rec.Articles != 3 || !rec.Created.Equal(day2) {
		t.Fatalf("rebuilt: %+v %v", rec, err)
	}
	got, _, err := s.Issue(ctx, "2026-W48")
	if err != nil {
		t.Fatal(err)
	}
	// Everything the renderer reads survives: the public JSON and the
	// fields it leaves out (content, feed URLs, first-seen times). The
	// number is the store's: the first issue frozen is No. 1.
	want.Number = 1
	wj, _ := json.Marshal(want)
	gj, _ := json.Marshal(got)
	if string(wj) != string(gj) {
		t.Errorf("stored issue differs:\n got %s\nwant %s", gj, wj)
	}
	ga, wa := got.Articles(), want.Articles()
	for i := range wa {
		if ga[i].Content != wa[i].Content || ga[i].Lang != wa[i].Lang || ga[i].FeedURL != wa[i].FeedURL || !ga[i].FirstSeen.Equal(wa[i].FirstSeen) || ga[i].ID != wa[i].ID {
			t.Errorf("article %d: got %+v, want %+v", i, ga[i], wa[i])
		}
	}
	if got.Feeds[0].URL != want.Feeds[0].URL || got.Dropped[0].FeedURL != want.Dropped[0].FeedURL {
		t.Errorf("feeds/dropped: %+v %+v", got.Feeds, got.Dropped)
	}
}

// The ledger's pending rows carry the reader's language and article
// choice, so each gets the mail in their language with their articles.
func TestPendingDeliveriesCarryLanguage(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, _, _, err := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "ko@example.org", Status: subscribers.Active, Language: "ko", Articles: "en"}, subscribers.AllFields, day1); err != nil {
		t.Fatal(err)
	}
	add(t, s, "plain@example.org", subscribers.Active)
	const id = "2026-W48"
	if _, err := s.SaveIssue(ctx, testIssue(id, 2), digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, id, day1); err != nil {
		t.Fatal(err)
	}
	page, err := s.PendingDeliveries(ctx, id, 0, 10)
	if err != nil || len(page) != 2 {
		t.Fatalf("pending: %+v %v", page, err)
	}
	if page[0].Language != "ko" || page[0].Articles != "en" || page[1].Language != "" || page[1].Articles != "" {
		t.Errorf("pending rows: language/articles %q/%q and %q/%q, want ko/en and empty", page[0].Language, page[0].Articles, page[1].Language, page[1].Articles)
	}
}

func TestDeliveryLedger(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := add(t, s, "a@example.org", subscribers.Active)
	b := add(t, s, "b@example.org", subscribers.Active, "compute")
	c := add(t, s, "c@example.org", subscribers.Active)
	add(t, s, "pending@example.org", subscribers.Pending)
	add(t, s, "gone@example.org", subscribers.Unsubscribed)
	const id = "2026-W48"
	if _, err := s.SaveIssue(ctx, testIssue(id, 2), digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	added, inDoubt, err := s.PrepareDeliveries(ctx, id, day1)
	if err != nil || added != 3 || inDoubt != 0 {
		t.Fatalf("prepare: %d %d %v", added, inDoubt, err)
	}
	if added, _, _ := s.PrepareDeliveries(ctx, id, day1); added != 0 {
		t.Fatalf("a second prepare added %d rows", added)
	}
	page, err := s.PendingDeliveries(ctx, id, 0, 10)
	if err != nil || len(page) != 3 || page[0].Email != "a@example.org" || len(page[1].Themes) != 1 || page[1].Themes[0] != "compute" {
		t.Fatalf("pending: %+v %v", page, err)
	}

	// a: claimed, then the process dies. b: sent. c: refused, bad address.
	claim := func(sub subscribers.Subscriber) digest.DeliveryUpdate {
		return digest.DeliveryUpdate{IssueID: id, SubscriberID: sub.ID, Status: digest.DeliverySending, Attempt: true, At: day2}
	}
	err = s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{claim(a), claim(b), claim(c)})
	if err != nil {
		t.Fatal(err)
	}
	err = s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{
		{IssueID: id, SubscriberID: b.ID, Status: digest.DeliverySent, MessageID: "<m1@x>", At: day2},
		{IssueID: id, SubscriberID: c.ID, Status: digest.DeliveryFailed, Error: "550 5.1.1 no such user", Bounced: true, At: day2},
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, _ := s.SubscriberByEmail(ctx, "c@example.org"); got.Status != subscribers.Bounced {
		t.Errorf("c is %s after a 5.1.1, want bounced", got.Status)
	}
	if done, err := s.FinishIssue(ctx, id, day2); err != nil || done {
		t.Fatalf("finished with a row in doubt: %v %v", done, err)
	}
	// The restart finds a's row in doubt and offers it again; b and c are
	// not offered.
	_, inDoubt, _ = s.PrepareDeliveries(ctx, id, day3)
	page, _ = s.PendingDeliveries(ctx, id, 0, 10)
	if inDoubt != 1 || len(page) != 1 || page[0].SubscriberID != a.ID || page[0].Attempts != 1 || page[0].Status != digest.DeliverySending {
		t.Fatalf("after restart: in doubt %d, pending %+v", inDoubt, page)
	}
	// A newcomer gets a row; someone who left before their turn is closed.
	d := add(t, s, "d@example.org", subscribers.Active)
	if _, err := s.SetStatus(ctx, a.ID, subscribers.Unsubscribed, day3); err != nil {
		t.Fatal(err)
	}
	if added, _, _ := s.PrepareDeliveries(ctx, id, day3); added != 1 {
		t.Fatalf("newcomer: added %d", added)
	}
	page, _ = s.PendingDeliveries(ctx, id, 0, 10)
	if len(page) != 1 || page[0].SubscriberID != d.ID {
		t.Fatalf("pending: %+v", page)
	}
	counts, _ := s.DeliveryCounts(ctx, id)
	want := digest.DeliveryCounts{digest.DeliverySent: 1, digest.DeliveryFailed: 1, digest.DeliverySkipped: 1, digest.DeliveryPending: 1}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", counts, want)
	}
	failed, _ := s.Deliveries(ctx, id, digest.DeliveryFailed, 10)
	if len(failed) != 1 || failed[0].Email != "c@example.org" || failed[0].Error != "550 5.1.1 no such user" || failed[0].Attempts != 1 {
		t.Errorf("failed: %+v", failed)
	}
	s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{{IssueID: id, SubscriberID: d.ID, Status: digest.DeliverySent, At: day3}})
	if done, err := s.FinishIssue(ctx, id, day3); err != nil || !done {
		t.Fatalf("finish: %v %v", done, err)
	}
	if _, rec, _ := s.Issue(ctx, id); rec.Status != digest.IssueDone || !rec.Done.Equal(day3) {
		t.Errorf("record %+v", rec)
	}
	// A row that is not there is an error, never a silent no-op.
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{{IssueID: id, SubscriberID: 999, Status: digest.DeliverySent, At: day3}}); err == nil {
		t.Error("updating a missing row succeeded")
	}
}

func TestPendingDeliveriesPages(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	var rows []subscribers.Row
	for i := range 1201 {
		rows = append(rows, subscribers.Row{Line: i + 1, Subscriber: subscribers.Subscriber{Email: fmt.Sprintf("r%04d@example.org", i), Status: subscribers.Active}, Given: subscribers.AllFields})
	}
	if _, err := s.ImportSubscribers(ctx, rows, day1); err != nil {
		t.Fatal(err)
	}
	const id = "2026-W48"
	s.SaveIssue(ctx, testIssue(id, 1), digest.IssueOpen, day1)
	if added, _, err := s.PrepareDeliveries(ctx, id, day1); err != nil || added != 1201 {
		t.Fatalf("prepare: %d %v", added, err)
	}
	seen := map[int64]bool{}
	var after int64
	pages := 0
	for {
		page, err := s.PendingDeliveries(ctx, id, after, 500)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		pages++
		for _, d := range page {
			if seen[d.SubscriberID] {
				t.Fatalf("subscriber %d twice", d.SubscriberID)
			}
			seen[d.SubscriberID] = true
		}
		after = page[len(page)-1].SubscriberID
	}
	if len(seen) != 1201 || pages != 3 {
		t.Errorf("%d rows in %d pages", len(seen), pages)
	}
}

func TestLease(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	host, _ := os.Hostname()
	other := func(h string, pid int, exp time.Time) {
		t.Helper()
		if _, err := s.db.Exec(`INSERT INTO leases (name, holder, host, pid, expires_at) VALUES ('send', 'x', ?, ?, ?)
			ON CONFLICT (name) DO UPDATE SET holder = 'x', host = excluded.host, pid = excluded.pid, expires_at = excluded.expires_at`,
			h, pid, fmtTime(exp)); err != nil {
			t.Fatal(err)
		}
	}
	alive := processAlive
	t.Cleanup(func() { processAlive = alive })

	// A live process on this machine holds it.
	processAlive = func(int) bool { return true }
	other(host, 4242, day2)
	_, err := s.AcquireLease(ctx, "send", time.Minute, day1)
	var held *LeaseHeldError
	if !errors.As(err, &held) || held.PID != 4242 {
		t.Fatalf("held lease taken: %v", err)
	}
	// The same process, dead (SIGKILL): taken at once.
	processAlive = func(int) bool { return false }
	if s.pg {
		// Not on PostgreSQL, whose holders may be on other machines of
		// the same name (containers): there only the expiry counts.
		if _, err := s.AcquireLease(ctx, "send", time.Minute, day1); !errors.As(err, &held) {
			t.Fatalf("a PostgreSQL lease taken before its expiry: %v", err)
		}
		other(host, 4242, day1)
	}
	l, err := s.AcquireLease(ctx, "send", time.Minute, day1)
	if err != nil {
		t.Fatalf("dead holder: %v", err)
	}
	if err := l.Renew(ctx, day1); err != nil {
		t.Fatal(err)
	}
	// Another machine's holder counts until its lease expires.
	other("elsewhere", 1, day1.Add(time.Minute))
	if err := l.Renew(ctx, day1); !errors.Is(err, ErrLeaseLost) {
		t.Errorf("renew after a takeover: %v", err)
	}
	if _, err := s.AcquireLease(ctx, "send", time.Minute, day1); !errors.As(err, &held) {
		t.Errorf("other host's live lease taken: %v", err)
	}
	l2, err := s.AcquireLease(ctx, "send", time.Minute, day1.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("expired lease: %v", err)
	}
	if err := l2.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLease(ctx, "send", time.Minute, day1); err != nil {
		t.Errorf("after release: %v", err)
	}
}

func TestIssuesListsTheFrozenNewestFirst(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	for _, c := range []struct {
		id     string
		weeks  int
		status digest.IssueStatus
	}{{"2026-W46", -2, digest.IssueOpen}, {"2026-W48", 0, digest.IssueOpen}, {"2026-W47", -1, digest.IssueQuiet}} {
		is := testIssue(c.id, 2)
		is.Title = "주간 " + c.id
		is.Period = digest.Period{Start: now.AddDate(0, 0, 7*c.weeks-7), End: now.AddDate(0, 0, 7*c.weeks)}
		if _, err := s.SaveIssue(ctx, is, c.status, now); err != nil {
			t.Fatal(err)
		}
	}
	recs, err := s.Issues(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, r.ID+" "+r.Period.End.Format("01-02")+" "+r.Title)
	}
	if want := []string{"2026-W48 11-30 주간 2026-W48", "2026-W46 11-16 주간 2026-W46"}; !slices.Equal(got, want) {
		t.Errorf("Issues = %q, want %q (the quiet week left out)", got, want)
	}
	if recs, _ := s.Issues(ctx, 1); len(recs) != 1 || recs[0].ID != "2026-W48" {
		t.Errorf("Issues(1) = %v", recs)
	}
}

func TestScheduleDoneThroughNeverMovesBack(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	if _, ok, err := s.ScheduleDoneThrough(ctx); ok || err != nil {
		t.Fatalf("a new store: ok=%v err=%v; want no mark", ok, err)
	}
	mon := time.Date(2026, 11, 30, 8, 0, 0, 0, time.FixedZone("KST", 9*3600))
	for _, set := range []time.Time{mon, mon.AddDate(0, 0, -7), mon.Add(-time.Second)} {
		if err := s.SetScheduleDoneThrough(ctx, set); err != nil {
			t.Fatal(err)
		}
	}
	got, ok, err := s.ScheduleDoneThrough(ctx)
	if !ok || err != nil || !got.Equal(mon) {
		t.Errorf("mark %v (ok=%v, err=%v), want %v: a slower, older run must not move it back", got, ok, err, mon)
	}
	if err := s.SetScheduleDoneThrough(ctx, mon.AddDate(0, 0, 7)); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.ScheduleDoneThrough(ctx); !got.Equal(mon.AddDate(0, 0, 7)) {
		t.Errorf("mark %v, want the next Monday", got)
	}
	if err := s.Ping(ctx); err != nil {
		t.Errorf("Ping: %v", err)
	}
	s.Close()
	if err := s.Ping(ctx); err == nil {
		t.Error("Ping on a closed store: nil")
	}
}

// Issues are numbered from the first one sent, in the order they were
// frozen: a quiet week takes no number, a week not frozen yet shows the
// number it gets next, and a late week (a catch-up) takes the next number
// rather than renumbering the issues already mailed.
func TestIssueNumbers(t *testing.T) {
	s, _ := openTemp(t)
	ctx := context.Background()
	week := func(id string, weeks int) digest.Issue {
		is := testIssue(id, 1)
		end := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC).AddDate(0, 0, 7*weeks)
		is.Period = digest.Period{Start: end.AddDate(0, 0, -7), End: end}
		return is
	}
	number := func(id string) int {
		t.Helper()
		n, err := s.IssueNumber(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	if n := number("2026-W46"); n != 1 {
		t.Errorf("the first issue, before any was sent: No. %d, want 1", n)
	}
	for _, c := range []struct {
		id      string
		weeks   int
		status  digest.IssueStatus
		created time.Time
	}{
		{"2026-W46", -2, digest.IssueDone, day1},
		{"2026-W47", -1, digest.IssueQuiet, day2},
		{"2026-W48", 0, digest.IssueOpen, day3},
	} {
		if _, err := s.SaveIssue(ctx, week(c.id, c.weeks), c.status, c.created); err != nil {
			t.Fatal(err)
		}
	}
	for id, want := range map[string]int{"2026-W46": 1, "2026-W48": 2, "2026-W47": 3, "2026-W49": 3} {
		if n := number(id); n != want {
			t.Errorf("%s: No. %d, want %d", id, n, want)
		}
	}
	// The quiet week is built after all, late: it becomes No. 3, and
	// No. 2 stays No. 2.
	if _, err := s.SaveIssue(ctx, week("2026-W47", -1), digest.IssueOpen, day3.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if got, _, err := s.Issue(ctx, "2026-W47"); err != nil || got.Number != 3 {
		t.Errorf("the late week: No. %d (%v), want 3", got.Number, err)
	}
	if got, rec, err := s.Issue(ctx, "2026-W48"); err != nil || got.Number != 2 || rec.Number != 2 {
		t.Errorf("W48 after the late week: No. %d/%d (%v), want 2", got.Number, rec.Number, err)
	}
	recs, err := s.Issues(ctx, 10)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, r := range recs {
		got = append(got, fmt.Sprintf("%s No. %d", r.ID, r.Number))
	}
	if want := []string{"2026-W48 No. 2", "2026-W47 No. 3", "2026-W46 No. 1"}; !slices.Equal(got, want) {
		t.Errorf("Issues = %q, want %q", got, want)
	}
	if n := number("2026-W49"); n != 4 {
		t.Errorf("the coming week: No. %d, want 4", n)
	}
}

// Several processes that want the same lease at once (senders on several
// machines over one PostgreSQL store, or two on one SQLite file): exactly
// one gets it, the others are told who holds it, whether the lease was
// never taken or has lapsed.
func TestLeaseTakenByOneOfMany(t *testing.T) {
	ctx := context.Background()
	if !onPostgres(t) {
		t.Skip("SQLite gives a lease held by this very process back to it (the pid rule), so this needs PostgreSQL: see TestPostgres")
	}
	s, where := openTemp(t)
	others := make([]*Store, 4)
	for i := range others {
		o, err := Open(ctx, where)
		if err != nil {
			t.Fatal(err)
		}
		defer o.Close()
		others[i] = o
	}
	for round := range 10 {
		at := day1.Add(time.Duration(round) * time.Hour) // the previous round's lease has lapsed
		errs := make(chan error, len(others))
		for _, o := range others {
			go func() { _, err := o.AcquireLease(ctx, "send", time.Minute, at); errs <- err }()
		}
		won := 0
		for range others {
			var held *LeaseHeldError
			switch err := <-errs; {
			case err == nil:
				won++
			case !errors.As(err, &held):
				t.Fatalf("round %d: %v", round, err)
			}
		}
		if won != 1 {
			t.Fatalf("round %d: %d processes got the lease, want 1", round, won)
		}
	}
	_ = s
}
