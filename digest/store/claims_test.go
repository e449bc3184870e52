package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/store/pgtest"
	"gull/subscribers"
)

// claimFixture is an open issue with n active readers and its ledger rows.
func claimFixture(t *testing.T, n int) (*Store, string, []subscribers.Subscriber) {
	t.Helper()
	s, id, subs, _ := claimFixtureAt(t, n)
	return s, id, subs
}

// claimFixtureAt is claimFixture, and where the store is (to open it again).
func claimFixtureAt(t *testing.T, n int) (*Store, string, []subscribers.Subscriber, string) {
	t.Helper()
	ctx := context.Background()
	s, where := openTemp(t)
	var subs []subscribers.Subscriber
	for i := range n {
		subs = append(subs, add(t, s, fmt.Sprintf("r%03d@example.org", i), subscribers.Active))
	}
	const id = "2026-W48"
	if _, err := s.SaveIssue(ctx, testIssue(id, 2), digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, id, day1); err != nil {
		t.Fatal(err)
	}
	return s, id, subs, where
}

func emails(ds []digest.Delivery) []string {
	var out []string
	for _, d := range ds {
		out = append(out, d.Email)
	}
	return out
}

// TestClaimsShareTheRows: two senders claiming from one ledger get
// disjoint rows; a claim that lapsed returns its rows to the pool; a
// stopping sender gives back what it did not start and keeps its rows in
// doubt until its claim lapses; a claim written after another sender
// took the row over is refused, while a sent mark always lands.
func TestClaimsShareTheRows(t *testing.T) {
	ctx := context.Background()
	s, id, subs := claimFixture(t, 6)
	now := time.Now()
	until := now.Add(time.Minute)

	a, err := s.ClaimDeliveries(ctx, id, "A", now, until, 2)
	if err != nil || !slices.Equal(emails(a), []string{"r000@example.org", "r001@example.org"}) {
		t.Fatalf("A's claim: %v %v", emails(a), err)
	}
	b, err := s.ClaimDeliveries(ctx, id, "B", now, until, 3)
	if err != nil || !slices.Equal(emails(b), []string{"r002@example.org", "r003@example.org", "r004@example.org"}) {
		t.Fatalf("B's claim, beside A's: %v %v", emails(b), err)
	}
	// A starts r000 (sending) and gets no answer: parked, in doubt. It
	// never starts r001.
	up := func(sub subscribers.Subscriber, owner string, st digest.DeliveryStatus, attempt, park bool) digest.DeliveryUpdate {
		return digest.DeliveryUpdate{IssueID: id, SubscriberID: sub.ID, Status: st, Attempt: attempt, Owner: owner, Park: park, At: day2}
	}
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{up(subs[0], "A", digest.DeliverySending, true, false)}); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{up(subs[0], "A", digest.DeliverySending, false, true)}); err != nil {
		t.Fatal(err)
	}
	// B sees A's unstarted row as work in progress, not the parked one.
	if n, err := s.ClaimedElsewhere(ctx, id, "B", now); err != nil || n != 1 {
		t.Fatalf("rows B waits for: %d %v, want A's r001", n, err)
	}
	// Another prepare (a third sender joining) finds nothing in doubt:
	// A, alive, holds r000.
	if _, inDoubt, err := s.PrepareDeliveries(ctx, id, now); err != nil || inDoubt != 0 {
		t.Fatalf("in doubt while A runs: %d %v", inDoubt, err)
	}
	// A stops: r001 goes back at once, r000 stays A's until it lapses.
	if err := s.ReleaseClaims(ctx, id, "A"); err != nil {
		t.Fatal(err)
	}
	c, err := s.ClaimDeliveries(ctx, id, "C", now, until, 10)
	if err != nil || !slices.Equal(emails(c), []string{"r001@example.org", "r005@example.org"}) {
		t.Fatalf("C's claim after A stopped: %v %v; want r001 (given back) and r005, not r000 (in doubt, A's claim holds)", emails(c), err)
	}
	later := until.Add(time.Second)
	if _, inDoubt, err := s.PrepareDeliveries(ctx, id, later); err != nil || inDoubt != 1 {
		t.Fatalf("in doubt once A's claim lapsed: %d %v, want 1", inDoubt, err)
	}
	// Once the claims lapse, B's rows (B died) and A's row in doubt
	// return to the pool; r000 comes back as sending: in doubt.
	d, err := s.ClaimDeliveries(ctx, id, "D", later, later.Add(time.Minute), 10)
	if err != nil || len(d) != 6 || d[0].Email != "r000@example.org" || d[0].Status != digest.DeliverySending {
		t.Fatalf("D's claim after every claim lapsed: %+v %v", d, err)
	}
	// B wakes up: its claim of r002 is refused (D holds it), its sent mark
	// of r003 lands, its deferral of r004 does not touch D's row.
	err = s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{
		up(subs[2], "B", digest.DeliverySending, true, false),
		up(subs[3], "B", digest.DeliverySent, false, false),
		up(subs[4], "B", digest.DeliveryPending, false, true),
	})
	var lost *ClaimsLostError
	if !errors.As(err, &lost) || !slices.Equal(lost.LostClaims(), []int64{subs[2].ID}) {
		t.Fatalf("B's late claim: %v; want r002's refused", err)
	}
	counts, _ := s.DeliveryCounts(ctx, id)
	if counts[digest.DeliverySent] != 1 || counts[digest.DeliverySending] != 1 || counts[digest.DeliveryPending] != 4 {
		t.Fatalf("counts after B's late updates: %v", counts)
	}
	// A sender that runs alone voids every claim, in doubt too.
	if err := s.ReleaseClaims(ctx, id, ""); err != nil {
		t.Fatal(err)
	}
	if e, err := s.ClaimDeliveries(ctx, id, "E", now, until, 10); err != nil || len(e) != 5 {
		t.Fatalf("claim after every claim was voided: %v %v", emails(e), err)
	}
	if n, err := s.RenewClaims(ctx, id, "E", until.Add(time.Hour)); err != nil || n != 5 {
		t.Fatalf("renewed %d %v, want 5", n, err)
	}
}

// TestConcurrentClaimsTakeEachRowOnce: senders claiming at once, each
// with its own connection, never get the same row, and together get
// every one.
func TestConcurrentClaimsTakeEachRowOnce(t *testing.T) {
	ctx := context.Background()
	s, id, subs := claimFixture(t, 200)
	var mu sync.Mutex
	seen := map[int64]string{}
	var wg sync.WaitGroup
	for i := range 6 {
		owner := fmt.Sprint("sender", i)
		wg.Go(func() {
			for {
				page, err := s.ClaimDeliveries(ctx, id, owner, time.Now(), time.Now().Add(time.Minute), 7)
				if err != nil {
					t.Error(err)
					return
				}
				if len(page) == 0 {
					return
				}
				mu.Lock()
				for _, d := range page {
					if other, ok := seen[d.SubscriberID]; ok {
						t.Errorf("%s claimed by %s and %s", d.Email, other, owner)
					}
					seen[d.SubscriberID] = owner
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if len(seen) != len(subs) {
		t.Fatalf("%d rows claimed of %d", len(seen), len(subs))
	}
}

// TestPostgresClaimsTakeNoWriteLock: on PostgreSQL a sender's claims and
// marks lock only their rows, so they go on while another transaction
// holds the store's write lock (a sign-up, a draft's edit, another
// sender's setup): senders are not serialised behind it.
func TestPostgresClaimsTakeNoWriteLock(t *testing.T) {
	ctx := context.Background()
	s, err := Open(ctx, pgtest.DSN(t))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	sub := add(t, s, "r@example.org", subscribers.Active)
	const id = "2026-W48"
	if _, err := s.SaveIssue(ctx, testIssue(id, 2), digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, id, day1); err != nil {
		t.Fatal(err)
	}
	writer, err := s.db.BeginTx(ctx, nil) // holds the write lock until rolled back
	if err != nil {
		t.Fatal(err)
	}
	defer writer.Rollback()

	short, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	page, err := s.ClaimDeliveries(short, id, "A", time.Now(), time.Now().Add(time.Minute), 10)
	if err != nil || len(page) != 1 {
		t.Fatalf("claim beside a writer: %v %v", page, err)
	}
	err = s.UpdateDeliveries(short, []digest.DeliveryUpdate{
		{IssueID: id, SubscriberID: sub.ID, Status: digest.DeliverySending, Attempt: true, Owner: "A", At: day2},
		{IssueID: id, SubscriberID: sub.ID, Status: digest.DeliverySent, MessageID: "<m@x>", Owner: "A", At: day2},
	})
	if err != nil {
		t.Fatalf("claim and mark beside a writer: %v", err)
	}
	if _, err := s.RenewClaims(short, id, "A", time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if err := s.ReleaseClaims(short, id, "A"); err != nil {
		t.Fatal(err)
	}
}
