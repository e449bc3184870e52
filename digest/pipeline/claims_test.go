package pipeline

import (
	"context"
	"fmt"
	"testing"
	"time"

	"gull/digest"
)

// TestSendWaitsForADeadSendersRows: a sender that finds the rest of the
// list claimed by another (which died) waits, takes those rows when the
// claim lapses, and finishes the issue; nobody gets two copies.
func TestSendWaitsForADeadSendersRows(t *testing.T) {
	f := newSendFixture(t, 30)
	f.sender.Alone = false // sharing the send
	f.sender.ClaimTTL = 3 * time.Second
	ctx := context.Background()
	if _, err := f.sender.Prepare(ctx, f.is.ID); err != nil {
		t.Fatal(err)
	}
	// The dead sender claimed five rows, its claim lapsing in a second.
	dead, err := f.st.ClaimDeliveries(ctx, f.is.ID, "dead", time.Now(), time.Now().Add(time.Second), 5)
	if err != nil || len(dead) != 5 {
		t.Fatalf("the dead sender's claim: %d %v", len(dead), err)
	}
	rep := f.send(t, ctx)
	if !rep.Done || rep.Sent != 29 || rep.Skipped != 1 {
		t.Fatalf("report: %+v; want the issue done, the dead sender's readers too", rep)
	}
	for _, d := range dead {
		if f.post.got[d.Email] != 1 {
			t.Errorf("%s (the dead sender's) got %d copies", d.Email, f.post.got[d.Email])
		}
	}
	for addr, n := range f.post.got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
}

// TestStoppedSenderGivesBackItsRows: a sender stopped mid-send gives back
// at once the rows it claimed and did not start: another sender claims
// every one left.
func TestStoppedSenderGivesBackItsRows(t *testing.T) {
	f := newSendFixture(t, 60)
	f.sender.Alone = false
	ctx, cancel := context.WithCancel(context.Background())
	f.post.onSend = func(n int) {
		if n == 10 {
			cancel()
		}
	}
	rep := f.send(t, ctx)
	if rep.Stopped != "interrupted" || rep.Done {
		t.Fatalf("report: %+v", rep)
	}
	left := rep.Totals.Left()
	got, err := f.st.ClaimDeliveries(context.Background(), f.is.ID, "other", time.Now(), time.Now().Add(time.Minute), 100)
	if err != nil || len(got) != left {
		t.Fatalf("another sender claims %d rows (%v), want all %d left", len(got), err, left)
	}
	for _, d := range got {
		if d.Status != digest.DeliveryPending {
			t.Errorf("%s is %s, want pending: %s", d.Email, d.Status, fmt.Sprint(d))
		}
	}
}
