package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
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

// failingRenewals is a ledger whose claim renewals fail while failing is
// set (a store out of reach for renewals), counting the failures.
type failingRenewals struct {
	Ledger
	failing  atomic.Bool
	failures atomic.Int32
	failed   chan struct{} // a failure, each
}

func (l *failingRenewals) RenewClaims(ctx context.Context, issueID, owner string, until time.Time) (int, error) {
	if l.failing.Load() {
		l.failures.Add(1)
		select {
		case l.failed <- struct{}{}:
		default:
		}
		return 0, errors.New("the store is out of reach")
	}
	return l.Ledger.RenewClaims(ctx, issueID, owner, until)
}

// TestSenderWhoseRenewalsFailStartsNoMessage: once no renewal of its
// claims has succeeded for two thirds of their ttl, a sender starts no new
// message (its claims may lapse and another sender mail the same readers)
// and says so; when a renewal succeeds again it sends on, and every reader
// gets one copy.
func TestSenderWhoseRenewalsFailStartsNoMessage(t *testing.T) {
	f := newSendFixture(t, 30)
	const ttl = 300 * time.Millisecond
	f.sender.ClaimTTL = ttl
	f.sender.Workers = 2
	var logs syncBuffer
	f.sender.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ledger := &failingRenewals{Ledger: f.st, failed: make(chan struct{})}
	ledger.failing.Store(true)
	f.sender.Ledger = ledger
	waitFailures := func(n int32) {
		for ledger.failures.Load() < n {
			<-ledger.failed
		}
	}
	// The first messages are on the wire while a whole ttl passes with
	// no renewal; any message started after that is one too many.
	var started atomic.Int32
	stale := make(chan struct{})
	var once sync.Once
	deliver := f.sender.Deliver
	f.sender.Deliver = func(ctx context.Context, m digest.Message) (string, error) {
		if started.Add(1) <= 2 {
			<-stale
		} else if ledger.failing.Load() {
			t.Errorf("%s's message started %d renewals after the last that succeeded", m.To, ledger.failures.Load())
		}
		return deliver(ctx, m)
	}
	go func() {
		waitFailures(3) // a whole ttl without a renewal
		once.Do(func() { close(stale) })
		waitFailures(6) // another whole ttl: the workers wait
		ledger.failing.Store(false)
	}()
	rep := f.send(t, context.Background())
	if !rep.Done || rep.Sent != 29 {
		t.Fatalf("report: %+v; want every reader sent once renewals came back", rep)
	}
	for addr, n := range f.post.got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
	if !strings.Contains(logs.String(), "starting no new message") || !strings.Contains(logs.String(), "sending on") {
		t.Errorf("the sender did not say it waited for its claims:\n%s", logs.String())
	}
}

// syncBuffer is a log the workers write to at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
