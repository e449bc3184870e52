package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"gull/digest"
)

// TestLapsedClaimIsNotStarted: a sender whose claim lapsed (its renewals
// failed) may not start the message: its sending mark is refused, so it
// does not mail a reader another sender may be claiming and mailing right
// now. A claim written while live extends the claim, so nobody takes the
// row while its message is on the wire. The sent mark always lands.
func TestLapsedClaimIsNotStarted(t *testing.T) {
	ctx := context.Background()
	s, id, subs := claimFixture(t, 2)
	t0 := time.Now()
	// A holds the first reader for a second, and held the second until a
	// second ago (its renewals failed: PostgreSQL restarting).
	if a, err := s.ClaimDeliveries(ctx, id, "A", t0, t0.Add(time.Second), 1); err != nil || len(a) != 1 || a[0].SubscriberID != subs[0].ID {
		t.Fatal(a, err)
	}
	if a, err := s.ClaimDeliveries(ctx, id, "A", t0.Add(-2*time.Second), t0.Add(-time.Second), 1); err != nil || len(a) != 1 || a[0].SubscriberID != subs[1].ID {
		t.Fatal(a, err)
	}
	// At is the date recorded (a sender's own, maybe fixed): the claim
	// is checked by the store's clock, not by it.
	sending := func(owner string, sub int64) digest.DeliveryUpdate {
		return digest.DeliveryUpdate{IssueID: id, SubscriberID: sub, Status: digest.DeliverySending,
			Attempt: true, Owner: owner, At: day1, ClaimFor: time.Minute}
	}
	// The first message starts while its claim is live, with a whole
	// claim ahead.
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{sending("A", subs[0].ID)}); err != nil {
		t.Fatalf("A's live claim refused: %v", err)
	}
	// The second one's claim lapsed: A must not start it.
	err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{sending("A", subs[1].ID)})
	var lost *ClaimsLostError
	if !errors.As(err, &lost) || len(lost.SubscriberIDs) != 1 || lost.SubscriberIDs[0] != subs[1].ID {
		t.Fatalf("A started a message after its claim lapsed: %v", err)
	}
	// Two seconds on, B finds the second reader free, and the first still
	// A's (on A's wire: its claim was extended when the message started).
	late := t0.Add(2 * time.Second)
	b, err := s.ClaimDeliveries(ctx, id, "B", late, late.Add(time.Minute), 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(b) != 1 || b[0].SubscriberID != subs[1].ID || b[0].Status != digest.DeliveryPending {
		t.Fatalf("B claimed %v, want the second reader alone, pending (the first is on A's wire)", b)
	}
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{sending("B", subs[1].ID)}); err != nil {
		t.Fatalf("B's claim: %v", err)
	}
	// A's first message went: its mark lands, whatever the claim.
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{{IssueID: id, SubscriberID: subs[0].ID,
		Status: digest.DeliverySent, Owner: "A", At: day1}}); err != nil {
		t.Fatal(err)
	}
	if c, _ := s.DeliveryCounts(ctx, id); c[digest.DeliverySent] != 1 || c[digest.DeliverySending] != 1 {
		t.Fatalf("counts %v", c)
	}
}

// TestSkewedClockTakesNoLiveClaim: on PostgreSQL, senders and daemons on
// several machines reckon claims and leases by the server's clock, so one
// whose own clock is 3 s ahead takes no claim, lease or owed sign-up that
// is live for another. SQLite is one machine, with one clock.
func TestSkewedClockTakesNoLiveClaim(t *testing.T) {
	if !onPostgres(t) {
		t.Skip("SQLite serves one machine: one clock")
	}
	ctx := context.Background()
	s, id, _, where := claimFixtureAt(t, 1)
	ahead, err := Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	defer ahead.Close()
	ahead.processClock = func() time.Time { return time.Now().Add(3 * time.Second) }

	now := time.Now()
	if a, err := s.ClaimDeliveries(ctx, id, "A", now, now.Add(2*time.Second), 10); err != nil || len(a) != 1 {
		t.Fatal(a, err)
	}
	if _, err := s.AcquireLease(ctx, "send", 2*time.Second, now); err != nil {
		t.Fatal(err)
	}
	if _, err := s.OweSignUp(ctx, "A", []byte("form"), now, now.Add(2*time.Second)); err != nil {
		t.Fatal(err)
	}

	skewed := ahead.processNow()
	if b, err := ahead.ClaimDeliveries(ctx, id, "B", skewed, skewed.Add(time.Minute), 10); err != nil || len(b) != 0 {
		t.Errorf("a sender 3 s ahead took a live claim: %v %v", b, err)
	}
	var held *LeaseHeldError
	if _, err := ahead.AcquireLease(ctx, "send", time.Minute, skewed); !errors.As(err, &held) {
		t.Errorf("a gull 3 s ahead took a live lease: %v", err)
	}
	if got, err := ahead.ClaimLapsedSignUps(ctx, "B", skewed, skewed.Add(time.Minute), 10); err != nil || len(got) != 0 {
		t.Errorf("a daemon 3 s ahead took a live sign-up claim: %v %v", got, err)
	}
	if n, err := ahead.ClaimedElsewhere(ctx, id, "B", skewed); err != nil || n != 1 {
		t.Errorf("a sender 3 s ahead sees %d live claims of others, want 1 (%v)", n, err)
	}
}
