package store

import (
	"context"
	"errors"
	"testing"
	"time"

	"gull/digest"
)

// The leader takes a slot only while its lease holds, and a slot once
// made is not taken again, by it or by the daemon that took over.
func TestTakeSlotNeedsTheLeadersLease(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	slot := day1.Add(time.Hour)
	a, err := s.AcquireLease(ctx, LeaderLease, 30*time.Second, day1)
	if err != nil {
		t.Fatal(err)
	}
	if made, err := s.TakeSlot(ctx, a, slot, day1.Add(10*time.Second)); err != nil || made {
		t.Fatalf("the leader could not take a slot not yet made: made %v, %v", made, err)
	}
	// Taking renewed the lease: 30 s from the take, not from the start.
	if made, err := s.TakeSlot(ctx, a, slot, day1.Add(35*time.Second)); err != nil || made {
		t.Fatalf("taking the slot did not renew the lease: made %v, %v", made, err)
	}
	// Paused past its lease: no run, even though nobody took it over yet.
	if _, err := s.TakeSlot(ctx, a, slot, day1.Add(2*time.Minute)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("a leader paused past its lease took the slot: %v", err)
	}
	b, err := s.AcquireLease(ctx, LeaderLease, 30*time.Second, day1.Add(2*time.Minute))
	if err != nil {
		t.Fatalf("another daemon could not lead after the lease lapsed: %v", err)
	}
	if _, err := s.TakeSlot(ctx, a, slot, day1.Add(2*time.Minute)); !errors.Is(err, ErrLeaseLost) {
		t.Fatalf("the old leader took a slot after another took over: %v", err)
	}
	if made, err := s.TakeSlot(ctx, b, slot, day1.Add(2*time.Minute)); err != nil || made {
		t.Fatalf("the new leader could not take the unmade slot: made %v, %v", made, err)
	}
	if err := s.SetScheduleDoneThrough(ctx, slot); err != nil {
		t.Fatal(err)
	}
	if made, err := s.TakeSlot(ctx, b, slot, day1.Add(2*time.Minute)); err != nil || !made {
		t.Fatalf("a slot made already was taken again: made %v, %v", made, err)
	}
}

// A desk sign-in link works once across every daemon of the store: the
// store, not a daemon's memory, says it was used.
func TestDeskLinkUsedOnce(t *testing.T) {
	ctx := context.Background()
	s, where := openTemp(t)
	other, err := Open(ctx, where) // a second daemon's connection to the same store
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	exp := day1.Add(15 * time.Minute)
	if ok, err := s.UseDeskLink(ctx, 42, exp, day1); err != nil || !ok {
		t.Fatalf("first use refused: %v %v", ok, err)
	}
	if ok, err := other.UseDeskLink(ctx, 42, exp, day1.Add(time.Minute)); err != nil || ok {
		t.Fatalf("a link used at one daemon worked again at another: %v %v", ok, err)
	}
	if ok, err := other.UseDeskLink(ctx, 43, exp, day1.Add(time.Minute)); err != nil || !ok {
		t.Fatalf("another link refused: %v %v", ok, err)
	}
	// Expired ones are forgotten (the desk refuses them as expired).
	if _, err := s.UseDeskLink(ctx, 44, exp.Add(time.Hour), exp.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	var n int
	if err := s.db.QueryRow(`SELECT COUNT(*) FROM desk_used_links`).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows kept after the links expired (%v), want 1", n, err)
	}
}

// The editors' mails about an issue are kept by kind, the latest of each,
// with the build they showed.
func TestReviewMailsKept(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, ok, err := s.ReviewMailed(ctx, "2026-W48", "review"); err != nil || ok {
		t.Fatalf("a review mail before any: %v %v", ok, err)
	}
	first := ReviewMail{DraftAt: day1, Base: digest.Issue{ID: "2026-W48", Title: "주간 AI 정책"}, Sent: day1}
	if err := s.MarkReviewMailed(ctx, "2026-W48", "review", first); err != nil {
		t.Fatal(err)
	}
	later := ReviewMail{DraftAt: day2, Base: digest.Issue{ID: "2026-W48", Title: "주간 AI 정책 (2)"}, Sent: day2}
	if err := s.MarkReviewMailed(ctx, "2026-W48", "review", later); err != nil {
		t.Fatal(err)
	}
	m, ok, err := s.ReviewMailed(ctx, "2026-W48", "review")
	if err != nil || !ok || !m.DraftAt.Equal(day2) || m.Base.Title != "주간 AI 정책 (2)" || !m.Sent.Equal(day2) {
		t.Fatalf("the latest review mail: %+v %v %v", m, ok, err)
	}
	if _, ok, err := s.ReviewMailed(ctx, "2026-W48", "held"); err != nil || ok {
		t.Fatalf("a hold notice that was never sent: %v %v", ok, err)
	}
}

// A sign-up owed by a daemon that stops renewing its claim is taken by
// another, once; one whose daemon lives is not.
func TestOwedSignUpsOutliveTheirDaemon(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a1, err := s.OweSignUp(ctx, "a", []byte(`{"Email":"kim@example.org"}`), day1, day1.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	a2, _ := s.OweSignUp(ctx, "a", []byte(`{"Email":"lee@example.org"}`), day1, day1.Add(time.Minute))
	if err := s.SignUpMailed(ctx, a2); err != nil {
		t.Fatal(err)
	}
	if got, err := s.ClaimLapsedSignUps(ctx, "b", day1.Add(30*time.Second), day1.Add(2*time.Minute), 10); err != nil || len(got) != 0 {
		t.Fatalf("claimed a live daemon's sign-ups: %v %v", got, err)
	}
	// a renews while it lives...
	if err := s.RenewSignUps(ctx, "a", day1.Add(90*time.Second)); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.ClaimLapsedSignUps(ctx, "b", day1.Add(80*time.Second), day1.Add(3*time.Minute), 10); len(got) != 0 {
		t.Fatalf("claimed a renewed sign-up: %v", got)
	}
	// ...then dies: b takes the one still owed, and c finds it taken.
	got, err := s.ClaimLapsedSignUps(ctx, "b", day1.Add(2*time.Minute), day1.Add(3*time.Minute), 10)
	if err != nil || len(got) != 1 || got[0].ID != a1 || string(got[0].Form) != `{"Email":"kim@example.org"}` || !got[0].At.Equal(day1) {
		t.Fatalf("b's claim after a died: %+v %v; want kim's sign-up alone", got, err)
	}
	if got, _ := s.ClaimLapsedSignUps(ctx, "c", day1.Add(2*time.Minute), day1.Add(3*time.Minute), 10); len(got) != 0 {
		t.Fatalf("a sign-up claimed twice: %v", got)
	}
}
