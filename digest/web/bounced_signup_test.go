package web

import (
	"context"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// A reader marked bounced by a bounce, or unsubscribed by a complaint,
// comes back only by signing up: a fresh confirmation is mailed, the row
// stays as it is (status and reason) until they confirm, and confirming
// makes them active with no reason left.
func TestBouncedReaderComesBackBySigningUp(t *testing.T) {
	f := newFixture(t)
	ctx := context.Background()
	at := f.clock.now().Add(-time.Hour)
	bounces := []subscribers.Bounce{
		{Email: "dead@example.org", Kind: subscribers.HardBounce, Status: "5.1.1", Reason: "User unknown", Source: "mailbox", EventID: "1", At: at},
		{Email: "angry@example.org", Kind: subscribers.Complaint, Reason: "marked as spam", Source: "mailbox", EventID: "2", At: at},
	}
	for _, b := range bounces {
		f.add(b.Email, subscribers.Active)
	}
	// Only a copy gull sent can bounce: the issue went to both.
	if _, err := f.store.SaveIssue(ctx, digest.Issue{ID: "2026-W48", Title: "Test Weekly"}, digest.IssueOpen, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := f.store.PrepareDeliveries(ctx, "2026-W48", at); err != nil {
		t.Fatal(err)
	}
	for _, b := range bounces {
		sub := f.byEmail(b.Email)
		if err := f.store.UpdateDeliveries(ctx, []digest.DeliveryUpdate{{IssueID: "2026-W48", SubscriberID: sub.ID,
			Status: digest.DeliverySent, At: at}}); err != nil {
			t.Fatal(err)
		}
	}
	for _, b := range bounces {
		if out, err := f.store.RecordBounce(ctx, b); err != nil || out.Subscriber.Reason == "" {
			t.Fatalf("%s: %+v %v", b.Email, out, err)
		}
	}
	for _, email := range []string{"dead@example.org", "angry@example.org"} {
		before := f.byEmail(email)
		f.signUp(email)
		if got := f.byEmail(email); got.Status != before.Status || got.Reason != before.Reason {
			t.Errorf("%s changed by signing up, before confirming: %+v", email, got)
		}
	}
	mails := f.mailer.mails()
	if len(mails) != 2 {
		t.Fatalf("%d confirmation mails, want 2", len(mails))
	}
	for _, m := range mails {
		f.clock.add(time.Minute)
		checkPage(t, "confirm "+m.to.Email, f.confirm(m.url), 200)
		if got := f.byEmail(m.to.Email); got.Status != subscribers.Active || got.Reason != "" {
			t.Errorf("%s after confirming: %s, reason %q", m.to.Email, got.Status, got.Reason)
		}
	}
}
