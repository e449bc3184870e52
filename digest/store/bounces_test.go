package store

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// sendIssue freezes issue id at `at` and records it sent to readers, each
// with deliver's Message-ID form, as a send would.
func sendIssue(t *testing.T, s *Store, id string, at time.Time, readers ...subscribers.Subscriber) {
	t.Helper()
	ctx := context.Background()
	if _, err := s.SaveIssue(ctx, testIssue(id, 1), digest.IssueOpen, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	var ups []digest.DeliveryUpdate
	for _, r := range readers {
		ups = append(ups, digest.DeliveryUpdate{IssueID: id, SubscriberID: r.ID, Status: digest.DeliverySent,
			MessageID: msgID(id, r), At: at})
	}
	if err := s.UpdateDeliveries(ctx, ups); err != nil {
		t.Fatal(err)
	}
}

func msgID(issue string, r subscribers.Subscriber) string {
	return fmt.Sprintf("gull.issue.%s.%d@example.org", issue, r.ID)
}

func record(t *testing.T, s *Store, b subscribers.Bounce) subscribers.BounceOutcome {
	t.Helper()
	if b.Source == "" {
		b.Source = "mailbox"
	}
	if b.Received.IsZero() {
		b.Received = b.At // the reports of these tests come as they are dated
	}
	out, err := s.RecordBounce(context.Background(), b)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func statusOf(t *testing.T, s *Store, email string) subscribers.Subscriber {
	t.Helper()
	sub, err := s.SubscriberByEmail(context.Background(), email)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// The policy as issue 19 states it: a hard bounce marks the reader
// bounced at once, a complaint unsubscribes at once, soft bounces of 3
// issues in a row mark them bounced and a delivery between resets the
// count; the same report twice changes nothing; matching by token id,
// Message-ID or address.
func TestBouncePolicy(t *testing.T) {
	s, _ := openTemp(t)
	hard := add(t, s, "hard@example.org", subscribers.Active)
	soft := add(t, s, "soft@example.org", subscribers.Active)
	spam := add(t, s, "spam@example.org", subscribers.Active)
	quiet := add(t, s, "quiet@example.org", subscribers.Active)
	late := add(t, s, "late@example.org", subscribers.Active)
	week := func(n int) time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, 7*n) }
	sendIssue(t, s, "2026-W49", week(0), hard, soft, spam, quiet, late)

	// Hard, found by the original Message-ID as a DSN quotes it.
	at := week(0).Add(3 * time.Hour)
	out := record(t, s, subscribers.Bounce{MessageID: "<" + msgID("2026-W49", hard) + ">", Email: "someone.else@example.org",
		Kind: subscribers.HardBounce, Status: "5.1.1", Reason: "User unknown", EventID: "<dsn1@mx>", At: at})
	if out.Effect != subscribers.EffectBounced || out.MatchedBy != "message-id" || out.IssueID != "2026-W49" || out.Subscriber.ID != hard.ID {
		t.Fatalf("hard bounce: %+v", out)
	}
	got := statusOf(t, s, "hard@example.org")
	if got.Status != subscribers.Bounced || !got.Bounced.Equal(at) || got.Reason != "hard bounce (5.1.1 User unknown)" {
		t.Fatalf("after a hard bounce: %s %v %q", got.Status, got.Bounced, got.Reason)
	}
	// The same report again (a crash before the mailbox was marked).
	if again := record(t, s, subscribers.Bounce{MessageID: msgID("2026-W49", hard), Kind: subscribers.HardBounce,
		Status: "5.1.1", Reason: "other words", EventID: "<dsn1@mx>", At: at.Add(time.Hour)}); again.Effect != subscribers.EffectDuplicate {
		t.Fatalf("the same report twice: %+v", again)
	}
	if again := statusOf(t, s, "hard@example.org"); again.Reason != got.Reason || !again.Bounced.Equal(at) {
		t.Fatalf("a duplicate changed the reader: %+v", again)
	}

	// A complaint, found by the return path's token (id and issue).
	out = record(t, s, subscribers.Bounce{SubscriberID: spam.ID, IssueID: "2026-W49", Kind: subscribers.Complaint,
		Reason: "marked as spam (abuse) via Yahoo!-Mail-Feedback/2.0", EventID: "<arf1@yahoo>", At: at})
	if out.Effect != subscribers.EffectUnsubscribed || out.MatchedBy != "id" {
		t.Fatalf("complaint: %+v", out)
	}
	if got := statusOf(t, s, "spam@example.org"); got.Status != subscribers.Unsubscribed || !got.Complained() || !got.Unsubscribed.Equal(at) {
		t.Fatalf("after a complaint: %+v", got)
	}

	// Soft bounces, by address: one issue counts once, however many
	// reports it gets; a delayed warning counts nothing.
	soft1 := func(issue string, n int, at time.Time) subscribers.BounceOutcome {
		return record(t, s, subscribers.Bounce{Email: "Soft@Example.org", Kind: subscribers.SoftBounce, Status: "4.2.2",
			Reason: "mailbox full", EventID: fmt.Sprintf("<soft%d@mx>", n), At: at})
	}
	if out := soft1("", 1, week(0).Add(time.Hour)); out.Effect != subscribers.EffectCounted || out.SoftCount != 1 ||
		out.IssueID != "2026-W49" || out.MatchedBy != "address" {
		t.Fatalf("first soft bounce: %+v", out)
	}
	if out := soft1("", 2, week(0).Add(2*time.Hour)); out.SoftCount != 1 {
		t.Fatalf("a second report of the same issue counted: %+v", out)
	}
	if out := record(t, s, subscribers.Bounce{Email: "soft@example.org", Kind: subscribers.DelayedBounce, EventID: "<delay@mx>",
		At: week(0).Add(time.Hour)}); out.Effect != subscribers.EffectNone {
		t.Fatalf("delayed: %+v", out)
	}
	sendIssue(t, s, "2026-W50", week(1), soft, quiet, late)
	if out := soft1("", 3, week(1).Add(time.Hour)); out.SoftCount != 2 || out.Effect != subscribers.EffectCounted {
		t.Fatalf("second issue's soft bounce: %+v", out)
	}
	// W51 is delivered (nothing comes back): the count starts again.
	sendIssue(t, s, "2026-W51", week(2), soft, quiet, late)
	sendIssue(t, s, "2026-W52", week(3), soft, quiet, late)
	if out := soft1("", 4, week(3).Add(time.Hour)); out.SoftCount != 1 || out.Effect != subscribers.EffectCounted {
		t.Fatalf("after a delivery: %+v", out)
	}
	sendIssue(t, s, "2026-W53", week(4), soft, quiet)
	soft1("", 5, week(4).Add(time.Hour))
	if got := statusOf(t, s, "soft@example.org"); got.Status != subscribers.Active {
		t.Fatalf("bounced after two soft bounces in a row: %+v", got)
	}
	sendIssue(t, s, "2027-W01", week(5), soft, quiet)
	// A soft bounce that arrives after the next issue went out still
	// counts for its own issue (W01 has not bounced yet, so it does not
	// reset anything once its own bounce comes).
	sendIssue(t, s, "2027-W02", week(6), soft, quiet)
	out = record(t, s, subscribers.Bounce{Email: "soft@example.org", Kind: subscribers.SoftBounce, Status: "4.2.2",
		Reason: "mailbox full", IssueID: "2027-W02", EventID: "<soft6@mx>", At: week(6).Add(time.Hour)})
	if out.SoftCount != 1 {
		t.Fatalf("W02 after a delivered W01: %+v", out)
	}
	out = record(t, s, subscribers.Bounce{Email: "soft@example.org", Kind: subscribers.SoftBounce, Status: "4.2.2",
		Reason: "mailbox full", IssueID: "2027-W01", EventID: "<soft7@mx>", At: week(6).Add(2 * time.Hour)})
	if out.SoftCount != 4 || out.Effect != subscribers.EffectBounced {
		t.Fatalf("W52, W53, W01 and W02 all bounced soft: %+v", out)
	}
	got = statusOf(t, s, "soft@example.org")
	if got.Status != subscribers.Bounced || !strings.HasPrefix(got.Reason, "4 soft bounces in a row; the last: soft bounce (4.2.2 mailbox full)") {
		t.Fatalf("after the soft limit: %s %q", got.Status, got.Reason)
	}

	// Lagged: each issue's soft bounce comes after the next issue went
	// out (the relay retried for days). That next issue, not bounced yet,
	// is no proof of delivery within deliveryGrace: three in a row mark
	// the reader bounced.
	for i, issue := range []string{"2026-W49", "2026-W50", "2026-W51"} {
		out := record(t, s, subscribers.Bounce{MessageID: msgID(issue, late), Kind: subscribers.SoftBounce, Status: "4.2.2",
			Reason: "mailbox full", EventID: fmt.Sprintf("<late%d@mx>", i), At: week(i + 1).Add(time.Hour)})
		if out.IssueID != issue || out.SoftCount != i+1 {
			t.Fatalf("lagged soft bounce of %s: %+v", issue, out)
		}
	}
	if got := statusOf(t, s, "late@example.org"); got.Status != subscribers.Bounced ||
		!strings.HasPrefix(got.Reason, "3 soft bounces in a row") {
		t.Fatalf("three lagged soft bounces: %s %q", got.Status, got.Reason)
	}

	// Nobody on the list: nothing recorded, nothing changed.
	if out := record(t, s, subscribers.Bounce{Email: "stranger@example.org", Kind: subscribers.HardBounce, EventID: "<x@mx>"}); out.Effect != subscribers.EffectNoReader {
		t.Fatalf("stranger: %+v", out)
	}
	// A dry run says what would happen and changes nothing.
	dry := subscribers.Bounce{Email: "quiet@example.org", Kind: subscribers.HardBounce, Status: "5.1.1", EventID: "<dry@mx>", At: week(6), DryRun: true}
	if out := record(t, s, dry); out.Effect != subscribers.EffectBounced || out.Subscriber.Status != subscribers.Bounced {
		t.Fatalf("dry run: %+v", out)
	}
	if got := statusOf(t, s, "quiet@example.org"); got.Status != subscribers.Active {
		t.Fatalf("a dry run changed the reader: %+v", got)
	}
	dry.DryRun = false
	if out := record(t, s, dry); out.Effect != subscribers.EffectBounced {
		t.Fatalf("after a dry run, the real one: %+v", out)
	}
	// The key is required: without it a report could count twice.
	if _, err := s.RecordBounce(context.Background(), subscribers.Bounce{Email: "quiet@example.org", Kind: subscribers.HardBounce}); err == nil {
		t.Error("a bounce without source and event id was recorded")
	}
}

// A reader who bounced comes back by confirming a sign-up: the reason
// goes, and the soft bounces from before count no more.
func TestBouncedReaderComesBack(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	r := add(t, s, "back@example.org", subscribers.Active)
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	sendIssue(t, s, "2026-W47", t0.Add(-48*time.Hour), r)
	sendIssue(t, s, "2026-W48", t0.Add(-24*time.Hour), r)
	sendIssue(t, s, "2026-W49", t0, r)
	for i := range 3 {
		record(t, s, subscribers.Bounce{SubscriberID: r.ID, IssueID: fmt.Sprintf("2026-W%d", 47+i), Kind: subscribers.SoftBounce,
			EventID: fmt.Sprint(i), At: t0.Add(time.Duration(i) * time.Hour)})
	}
	if got := statusOf(t, s, "back@example.org"); got.Status != subscribers.Bounced || got.Reason == "" {
		t.Fatalf("three soft bounces: %+v", got)
	}
	back, err := s.SetStatus(ctx, r.ID, subscribers.Active, t0.Add(24*time.Hour))
	if err != nil || back.Status != subscribers.Active || back.Reason != "" {
		t.Fatalf("confirmed again: %+v %v", back, err)
	}
	if got := statusOf(t, s, "back@example.org"); got.Reason != "" {
		t.Fatalf("the reason stayed: %q", got.Reason)
	}
	sendIssue(t, s, "2026-W50", t0.Add(36*time.Hour), r)
	out := record(t, s, subscribers.Bounce{SubscriberID: r.ID, IssueID: "2026-W50", Kind: subscribers.SoftBounce, EventID: "new",
		At: t0.Add(48 * time.Hour)})
	if out.SoftCount != 1 || out.Effect != subscribers.EffectCounted {
		t.Fatalf("the first soft bounce after coming back: %+v", out)
	}
}

// Neither an import nor an add brings a bounced or complained address
// back, and each says why.
func TestBouncedNeverReactivatedByImport(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	b := add(t, s, "dead@example.org", subscribers.Active)
	c := add(t, s, "angry@example.org", subscribers.Active)
	at := time.Date(2026, 12, 2, 8, 0, 0, 0, time.UTC)
	sendIssue(t, s, "2026-W49", at.Add(-time.Hour), b, c)
	record(t, s, subscribers.Bounce{SubscriberID: b.ID, Kind: subscribers.HardBounce, Status: "5.1.1", Reason: "User unknown", EventID: "1", At: at})
	record(t, s, subscribers.Bounce{SubscriberID: c.ID, Kind: subscribers.Complaint, Reason: "marked as spam", EventID: "2", At: at})
	rows := []subscribers.Row{
		{Line: 2, Subscriber: subscribers.Subscriber{Email: "dead@example.org", Status: subscribers.Active}, Given: subscribers.AllFields},
		{Line: 3, Subscriber: subscribers.Subscriber{Email: "angry@example.org", Status: subscribers.Active}, Given: subscribers.AllFields},
	}
	res, err := s.ImportSubscribers(ctx, rows, at.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(res[0].Note, "bounced on 2026-12-02 (hard bounce (5.1.1 User unknown)); kept bounced") {
		t.Errorf("import of a bounced address: %+v", res[0])
	}
	if !strings.Contains(res[1].Note, "marked the digest as spam on 2026-12-02; kept unsubscribed") {
		t.Errorf("import of a complained address: %+v", res[1])
	}
	for _, e := range []string{"dead@example.org", "angry@example.org"} {
		if got := statusOf(t, s, e); got.Status == subscribers.Active || got.Reason == "" {
			t.Errorf("%s after the import: %s %q", e, got.Status, got.Reason)
		}
	}
	if _, _, note, _ := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "dead@example.org", Status: subscribers.Active},
		subscribers.FieldStatus, at); !strings.Contains(note, "kept bounced") {
		t.Errorf("add of a bounced address: %q", note)
	}
}

// The send summary's figures: of the last issue sent, the readers who
// bounced hard, soft and complained, and how many it went to.
func TestLastIssueBounces(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, ok, err := s.LastIssueBounces(ctx, ""); ok || err != nil {
		t.Fatalf("no issue yet: %v %v", ok, err)
	}
	var rs []subscribers.Subscriber
	for i := range 5 {
		rs = append(rs, add(t, s, fmt.Sprintf("r%d@example.org", i), subscribers.Active))
	}
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	sendIssue(t, s, "2026-W49", t0, rs...)
	record(t, s, subscribers.Bounce{SubscriberID: rs[0].ID, IssueID: "2026-W49", Kind: subscribers.HardBounce, EventID: "a", At: t0})
	record(t, s, subscribers.Bounce{SubscriberID: rs[1].ID, IssueID: "2026-W49", Kind: subscribers.SoftBounce, EventID: "b", At: t0})
	record(t, s, subscribers.Bounce{SubscriberID: rs[1].ID, IssueID: "2026-W49", Kind: subscribers.SoftBounce, EventID: "c", At: t0})
	record(t, s, subscribers.Bounce{SubscriberID: rs[2].ID, IssueID: "2026-W49", Kind: subscribers.Complaint, EventID: "d", At: t0})
	sendIssue(t, s, "2026-W50", t0.AddDate(0, 0, 7), rs[1], rs[3], rs[4])
	c, ok, err := s.LastIssueBounces(ctx, "2026-W50")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if c != (BounceCounts{IssueID: "2026-W49", Sent: 5, Hard: 1, Soft: 1, Spam: 1}) || c.BounceRate() != 0.2 || c.ComplaintRate() != 0.2 {
		t.Fatalf("W49: %+v", c)
	}
	if c, _, _ := s.LastIssueBounces(ctx, ""); c.IssueID != "2026-W50" || c.Sent != 3 || c.Hard != 0 {
		t.Fatalf("latest: %+v", c)
	}
}

// Only a copy gull sent can bounce: a report naming a reader who was sent
// nothing (or not the issue it names, or nothing in 30 days) changes
// nothing and is not counted; a late report of a copy sent before the
// reader confirmed again changes nothing; a bounce's own Date is held
// between the copy's send and the report's arrival.
func TestBounceNeedsASentCopy(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	never := add(t, s, "never@example.org", subscribers.Active)
	old := add(t, s, "old@example.org", subscribers.Active)
	back := add(t, s, "back@example.org", subscribers.Active)
	w := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	sendIssue(t, s, "2026-W44", w.AddDate(0, 0, -35), old)
	sendIssue(t, s, "2026-W49", w, back)

	for name, b := range map[string]subscribers.Bounce{
		"an address never sent anything":     {Email: "never@example.org", Kind: subscribers.HardBounce},
		"a complaint of a reader never sent": {Email: "never@example.org", Kind: subscribers.Complaint},
		"an id and an issue not sent them":   {SubscriberID: never.ID, IssueID: "2026-W49", Kind: subscribers.HardBounce},
		"an address last sent 35 days ago":   {Email: "old@example.org", Kind: subscribers.HardBounce},
		"a Message-ID of another issue":      {MessageID: msgID("2026-W48", back), Email: "back@example.org", Kind: subscribers.Complaint, IssueID: "2026-W48"},
	} {
		b.EventID, b.Status, b.At = "<forged-"+name+">", "5.1.1", w.Add(time.Hour)
		if out := record(t, s, b); out.Effect != subscribers.EffectNotSent || out.Matched() {
			t.Errorf("%s: %+v", name, out)
		}
	}
	for _, e := range []string{"never@example.org", "old@example.org", "back@example.org"} {
		if got := statusOf(t, s, e); got.Status != subscribers.Active {
			t.Errorf("%s: %s %q", e, got.Status, got.Reason)
		}
	}
	if c, _, _ := s.LastIssueBounces(ctx, ""); c.Hard != 0 || c.Spam != 0 {
		t.Errorf("forged reports counted: %+v", c)
	}

	// The provider's report (dated before the copy left: clock skew) marks
	// the reader at the copy's send; they sign up again and confirm; the
	// mailbox's DSN of the same old copy comes later: nothing changes.
	out := record(t, s, subscribers.Bounce{SubscriberID: back.ID, IssueID: "2026-W49", Kind: subscribers.HardBounce, Status: "5.1.1",
		Source: "ses", EventID: "ses-1", At: w.Add(-time.Hour)})
	if out.Effect != subscribers.EffectBounced || !out.Subscriber.Bounced.Equal(w) {
		t.Fatalf("first report: %+v", out)
	}
	if _, err := s.SetStatus(ctx, back.ID, subscribers.Active, w.Add(2*time.Hour)); err != nil {
		t.Fatal(err)
	}
	out = record(t, s, subscribers.Bounce{MessageID: "<" + msgID("2026-W49", back) + ">", Kind: subscribers.HardBounce, Status: "5.1.1",
		EventID: "<dsn@mx>", At: w.Add(time.Minute), Received: w.Add(3 * time.Hour)})
	if out.Effect != subscribers.EffectStale || out.Subscriber.Status != subscribers.Active {
		t.Fatalf("a second report of a copy sent before the reader confirmed again: %+v", out)
	}
	if got := statusOf(t, s, "back@example.org"); got.Status != subscribers.Active {
		t.Fatalf("re-confirmed reader after a stale report: %s %q", got.Status, got.Reason)
	}
	// A complaint too; and a Date from the future is taken as the arrival.
	if out := record(t, s, subscribers.Bounce{SubscriberID: back.ID, IssueID: "2026-W49", Kind: subscribers.Complaint,
		EventID: "arf-1", At: w.Add(3 * time.Hour), Received: w.Add(3 * time.Hour)}); out.Effect != subscribers.EffectStale {
		t.Fatalf("a stale complaint: %+v", out)
	}
	sendIssue(t, s, "2026-W50", w.AddDate(0, 0, 7), back)
	arrived := w.AddDate(0, 0, 7).Add(time.Hour)
	out = record(t, s, subscribers.Bounce{Email: "back@example.org", Kind: subscribers.HardBounce, Status: "5.1.1",
		EventID: "<dsn2@mx>", At: arrived.AddDate(1, 0, 0), Received: arrived})
	if out.Effect != subscribers.EffectBounced || out.IssueID != "2026-W50" || !out.Subscriber.Bounced.Equal(arrived) {
		t.Fatalf("a Date from the future: %+v", out)
	}
}

// An address the mail server refused at RCPT time is a hard bounce of the
// issue: the reader is marked, and the issue's bounce rate counts them.
func TestRefusedAtSendIsABounce(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	ok := add(t, s, "ok@example.org", subscribers.Active)
	gone := add(t, s, "gone@example.org", subscribers.Active)
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if _, err := s.SaveIssue(ctx, testIssue("2026-W49", 1), digest.IssueOpen, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, "2026-W49", at); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{
		{IssueID: "2026-W49", SubscriberID: ok.ID, Status: digest.DeliverySent, MessageID: msgID("2026-W49", ok), At: at},
		{IssueID: "2026-W49", SubscriberID: gone.ID, Status: digest.DeliveryFailed, MessageID: msgID("2026-W49", gone), At: at,
			Error: "550 5.1.1 <gone@example.org>: Recipient address rejected: User unknown", Bounced: true},
	}); err != nil {
		t.Fatal(err)
	}
	if got := statusOf(t, s, "gone@example.org"); got.Status != subscribers.Bounced {
		t.Fatalf("refused at send: %s", got.Status)
	}
	c, found, err := s.LastIssueBounces(ctx, "")
	if err != nil || !found {
		t.Fatal(found, err)
	}
	if c != (BounceCounts{IssueID: "2026-W49", Sent: 2, Hard: 1}) {
		t.Fatalf("the issue's figures: %+v", c)
	}
	// The same report again (the relay's DSN of the same address) is a
	// second row, but the reader counts once.
	record(t, s, subscribers.Bounce{MessageID: msgID("2026-W49", gone), Kind: subscribers.HardBounce, EventID: "<dsn@mx>", At: at})
	if c, _, _ := s.LastIssueBounces(ctx, ""); c.Hard != 1 || c.Sent != 2 {
		t.Fatalf("after a DSN of the same address: %+v", c)
	}
}

// A rehearsal (bounces check --dry-run) decides each report after the
// ones before it, in one transaction, and keeps nothing.
func TestBounceRehearsal(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	dead := add(t, s, "dead@example.org", subscribers.Active)
	full := add(t, s, "full@example.org", subscribers.Active)
	day := func(n int) time.Time { return time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC).AddDate(0, 0, n) }
	for i := range 3 {
		sendIssue(t, s, fmt.Sprintf("2026-12-0%d", i+1), day(i), dead, full)
	}
	r, err := s.RehearseBounces(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var effects []string
	for i := range 3 {
		out, err := r.RecordBounce(ctx, subscribers.Bounce{Email: "dead@example.org", Kind: subscribers.HardBounce, Source: "mailbox",
			EventID: fmt.Sprintf("<hard%d@mx>", i), At: day(2).Add(time.Hour), Received: day(2).Add(time.Hour), DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		effects = append(effects, string(out.Effect))
		out, err = r.RecordBounce(ctx, subscribers.Bounce{MessageID: msgID(fmt.Sprintf("2026-12-0%d", i+1), full), Kind: subscribers.SoftBounce,
			Source: "mailbox", EventID: fmt.Sprintf("<soft%d@mx>", i), At: day(2).Add(time.Hour), Received: day(2).Add(time.Hour), DryRun: true})
		if err != nil {
			t.Fatal(err)
		}
		effects = append(effects, fmt.Sprintf("%s %d", out.Effect, out.SoftCount))
	}
	if got := strings.Join(effects, ", "); got != "bounced, counted 1, none, counted 2, none, bounced 3" {
		t.Errorf("the rehearsal said: %s", got)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"dead@example.org", "full@example.org"} {
		if got := statusOf(t, s, e); got.Status != subscribers.Active {
			t.Errorf("%s after a rehearsal: %s", e, got.Status)
		}
	}
	if c, _, _ := s.LastIssueBounces(ctx, ""); c.Hard+c.Soft != 0 {
		t.Errorf("a rehearsal kept bounces: %+v", c)
	}
	if _, err := s.RecordBounce(ctx, subscribers.Bounce{Email: "dead@example.org", Kind: subscribers.HardBounce, Source: "mailbox",
		EventID: "<after@mx>", At: day(2), Received: day(2).Add(time.Hour)}); err != nil {
		t.Fatalf("the store after a rehearsal: %v", err)
	}
}
