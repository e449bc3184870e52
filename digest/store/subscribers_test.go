package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

var (
	day1 = time.Date(2026, 11, 20, 9, 0, 0, 0, time.UTC)
	day2 = day1.Add(24 * time.Hour)
	day3 = day2.Add(24 * time.Hour)
)

var themeIDs = []string{"compute", "regulation", "strategy", "other"}

func add(t *testing.T, s *Store, email string, st subscribers.Status, themes ...string) subscribers.Subscriber {
	t.Helper()
	sub, _, _, err := s.SaveSubscriber(context.Background(), subscribers.Subscriber{Email: email, Status: st, Themes: themes}, subscribers.AllFields, day1)
	if err != nil {
		t.Fatal(err)
	}
	return sub
}

// listing is the list as a person reads it: address, status, themes.
func listing(t *testing.T, s *Store) []string {
	t.Helper()
	subs, err := s.ListSubscribers(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, sub := range subs {
		out = append(out, fmt.Sprintf("%s %s %s [%s]", sub.Email, sub.Name, sub.Status, subscribers.FormatThemes(sub.Themes)))
	}
	return out
}

func TestSubscriberAddFindUpdate(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := add(t, s, "Reader@example.org", subscribers.Active, "compute")
	if a.ID == 0 || !a.Confirmed.Equal(day1) || !a.Created.Equal(day1) {
		t.Errorf("added %+v", a)
	}
	// The address is one person whatever its case.
	got, err := s.SubscriberByEmail(ctx, "reader@EXAMPLE.org")
	if err != nil || got.ID != a.ID || got.Email != "Reader@example.org" {
		t.Fatalf("by email: %+v %v", got, err)
	}
	saved, change, _, err := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "reader@example.org", Name: "독자", Status: subscribers.Active, Themes: []string{"regulation"}}, subscribers.AllFields, day2)
	if err != nil || change != subscribers.Updated || saved.ID != a.ID || saved.Name != "독자" || !slices.Equal(saved.Themes, []string{"regulation"}) {
		t.Errorf("update: %v %+v %v", change, saved, err)
	}
	if _, change, _, _ := s.SaveSubscriber(ctx, saved, subscribers.AllFields, day3); change != subscribers.Unchanged {
		t.Errorf("saving the same again: %v", change)
	}
	if n := len(listing(t, s)); n != 1 {
		t.Errorf("%d rows for one person", n)
	}
	if _, err := s.SubscriberByID(ctx, 999); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

func TestUnsubscribedNeverReactivated(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := add(t, s, "gone@example.org", subscribers.Active)
	if _, err := s.SetStatus(ctx, a.ID, subscribers.Unsubscribed, day2); err != nil {
		t.Fatal(err)
	}
	// A second unsubscribe keeps the first time.
	again, err := s.SetStatus(ctx, a.ID, subscribers.Unsubscribed, day3)
	if err != nil || !again.Unsubscribed.Equal(day2) {
		t.Errorf("repeated unsubscribe moved the time to %v (%v)", again.Unsubscribed, err)
	}
	sub, change, note, err := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "gone@example.org", Status: subscribers.Active}, subscribers.AllFields, day3)
	if err != nil || sub.Status != subscribers.Unsubscribed || change != subscribers.Unchanged || !strings.Contains(note, "kept unsubscribed") {
		t.Errorf("re-adding an unsubscribed address: %v %s %q %v", change, sub.Status, note, err)
	}
}

func TestRemovedIDsAreNotReused(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	add(t, s, "a@example.org", subscribers.Active)
	b := add(t, s, "b@example.org", subscribers.Active)
	if err := s.RemoveSubscriber(ctx, "B@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSubscriber(ctx, "b@example.org"); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("removing twice: %v", err)
	}
	// Signed links carry the id: a newcomer must not inherit b's links.
	c := add(t, s, "c@example.org", subscribers.Active)
	if c.ID <= b.ID {
		t.Errorf("new subscriber got id %d after removed id %d", c.ID, b.ID)
	}
}

const importCSV = "email,name,themes,status\n" +
	"new@example.org,새 독자,compute,\n" + // line 2: added
	"kept@example.org,Kept,,active\n" + // line 3: unchanged
	"moved@example.org,,regulation strategy,\n" + // line 4: updated themes
	"gone@example.org,,,active\n" + // line 5: unsubscribed, not re-activated
	"not-an-address,,,\n" + // line 6: rejected
	"bad@example.org,,chips,\n" + // line 7: rejected, unknown theme
	"NEW@example.org,,,\n" + // line 8: rejected, duplicate of line 2
	"stop@example.org,,,unsubscribed\n" // line 9: added as unsubscribed (a suppression list)

func TestImportMixedRows(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	add(t, s, "kept@example.org", subscribers.Active)
	s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "kept@example.org", Name: "Kept", Status: subscribers.Active}, subscribers.AllFields, day1)
	add(t, s, "moved@example.org", subscribers.Active, "compute")
	gone := add(t, s, "gone@example.org", subscribers.Active)
	s.SetStatus(ctx, gone.ID, subscribers.Unsubscribed, day1)

	rows, rejected, err := subscribers.ReadCSV(strings.NewReader(importCSV), themeIDs)
	if err != nil {
		t.Fatal(err)
	}
	var rejectedLines []int
	for _, r := range rejected {
		rejectedLines = append(rejectedLines, r.Line)
	}
	if !slices.Equal(rejectedLines, []int{6, 7, 8}) {
		t.Errorf("rejected lines %v (%+v), want 6, 7, 8", rejectedLines, rejected)
	}
	results, err := s.ImportSubscribers(ctx, rows, day2)
	if err != nil {
		t.Fatal(err)
	}
	got := map[int]string{}
	for _, r := range results {
		got[r.Line] = string(r.Change)
		if r.Note != "" {
			got[r.Line] += ": " + r.Note
		}
	}
	want := map[int]string{2: "added", 3: "unchanged", 4: "updated", 9: "added"}
	for line, w := range want {
		if got[line] != w {
			t.Errorf("line %d: %q, want %q", line, got[line], w)
		}
	}
	if !strings.HasPrefix(got[5], "unchanged: unsubscribed on 2026-11-20") {
		t.Errorf("line 5 (an unsubscribed address marked active): %q", got[5])
	}
	wantList := []string{
		"gone@example.org  unsubscribed []",
		"kept@example.org Kept active []",
		"moved@example.org  active [regulation strategy]",
		"new@example.org 새 독자 active [compute]",
		"stop@example.org  unsubscribed []",
	}
	if l := listing(t, s); !slices.Equal(l, wantList) {
		t.Errorf("after import:\n%s\nwant:\n%s", strings.Join(l, "\n"), strings.Join(wantList, "\n"))
	}
}

// An import stopped half-way (Ctrl-C, a crash of the context) leaves the
// list exactly as it was: one transaction.
func TestImportCancelledHalfWayChangesNothing(t *testing.T) {
	s, _ := openTemp(t)
	add(t, s, "before@example.org", subscribers.Active, "compute")
	before := listing(t, s)

	var csv strings.Builder
	csv.WriteString("email,themes\nbefore@example.org,regulation\n")
	for i := range 1000 {
		fmt.Fprintf(&csv, "reader%d@example.org,compute\n", i)
	}
	rows, rejected, err := subscribers.ReadCSV(strings.NewReader(csv.String()), themeIDs)
	if err != nil || len(rejected) > 0 || len(rows) != 1001 {
		t.Fatalf("%d rows, %v, %v", len(rows), rejected, err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	importHook = func(row int) {
		if row == 500 {
			cancel()
		}
	}
	t.Cleanup(func() { importHook = nil })
	if _, err := s.ImportSubscribers(ctx, rows, day2); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled import: %v", err)
	}
	if after := listing(t, s); !slices.Equal(after, before) {
		t.Errorf("a cancelled import changed the list: %d rows, first %v", len(after), after[:min(3, len(after))])
	}
}

// export → import gives back the same list, and importing it again
// changes nothing.
func TestExportImportRoundTrip(t *testing.T) {
	ctx := context.Background()
	src, _ := openTemp(t)
	for i, email := range []string{"a@example.org", "b@한국.kr", "C.Upper@Example.ORG", "d@example.org"} {
		st := subscribers.Statuses[i%len(subscribers.Statuses)]
		norm, err := subscribers.NormalizeEmail(email)
		if err != nil {
			t.Fatal(err)
		}
		src.SaveSubscriber(ctx, subscribers.Subscriber{Email: norm, Name: []string{"", "김, \"따옴표\"", "=cmd()", "Dana"}[i], Status: st, Themes: [][]string{nil, {"compute"}, {"regulation", "strategy"}, {"other"}}[i]}, subscribers.AllFields, day1)
	}
	subs, _ := src.ListSubscribers(ctx, "")
	var buf bytes.Buffer
	if err := subscribers.WriteCSV(&buf, subs); err != nil {
		t.Fatal(err)
	}
	dst, _ := openTemp(t)
	rows, rejected, err := subscribers.ReadCSV(bytes.NewReader(buf.Bytes()), themeIDs)
	if err != nil || len(rejected) > 0 {
		t.Fatalf("%v %+v", err, rejected)
	}
	if _, err := dst.ImportSubscribers(ctx, rows, day2); err != nil {
		t.Fatal(err)
	}
	if a, b := listing(t, src), listing(t, dst); !slices.Equal(a, b) {
		t.Errorf("round trip:\n%s\nbecame\n%s\n(csv:\n%s)", strings.Join(a, "\n"), strings.Join(b, "\n"), buf.String())
	}
	results, err := dst.ImportSubscribers(ctx, rows, day3)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range results {
		if r.Change != subscribers.Unchanged {
			t.Errorf("re-importing the export: line %d %s", r.Line, r.Change)
		}
	}
}

func TestCreatePendingAndThemes(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	p, created, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "new@example.org", Themes: []string{"compute"}}, day1)
	if err != nil || !created || p.Status != subscribers.Pending {
		t.Fatalf("%+v %v %v", p, created, err)
	}
	again, created, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "NEW@example.org", Themes: []string{"regulation"}}, day2)
	if err != nil || created || again.ID != p.ID || !slices.Equal(again.Themes, []string{"compute"}) {
		t.Errorf("second sign-up changed the row: %+v %v %v", again, created, err)
	}
	active, err := s.SetStatus(ctx, p.ID, subscribers.Active, day2)
	if err != nil || active.Status != subscribers.Active || !active.Confirmed.Equal(day2) {
		t.Errorf("confirm: %+v %v", active, err)
	}
	th, err := s.SetThemes(ctx, p.ID, nil, day3)
	if err != nil || th.Themes != nil {
		t.Errorf("all themes: %+v %v", th, err)
	}
	if _, err := s.SetStatus(ctx, 4242, subscribers.Active, day2); !errors.Is(err, subscribers.ErrNotFound) {
		t.Errorf("unknown id: %v", err)
	}
}

// A sign-up keeps everything the form asked for on the pending row, and
// the preferences page changes the language and article languages.
func TestCreatePendingKeepsTheForm(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	p, created, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "kim@example.kr", Name: "김하늘",
		Themes: []string{"compute"}, Language: "ko", Articles: "en"}, day1)
	if err != nil || !created {
		t.Fatal(created, err)
	}
	got, err := s.SubscriberByID(ctx, p.ID)
	if err != nil || got.Name != "김하늘" || got.Language != "ko" || got.Articles != "en" || got.Status != subscribers.Pending {
		t.Errorf("stored %+v %v", got, err)
	}
	changed, err := s.SetLanguage(ctx, p.ID, "en", "both", day2)
	if err != nil || changed.Language != "en" || changed.Articles != "both" || !changed.Updated.Equal(day2) {
		t.Errorf("SetLanguage: %+v %v", changed, err)
	}
	if got, _ := s.SubscriberByID(ctx, p.ID); got.Language != "en" || got.Articles != "both" {
		t.Errorf("after SetLanguage: %+v", got)
	}
}

func TestTokenSecretKeptAcrossOpens(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	k1, err := s.TokenSecret(ctx)
	if err != nil || len(k1) != 32 {
		t.Fatalf("%x %v", k1, err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	k2, _ := s2.TokenSecret(ctx)
	if !bytes.Equal(k1, k2) {
		t.Error("the link secret changed on reopen; links already mailed would break")
	}
}

// An empty cell or a missing column keeps what is stored: an import of
// names must not wipe the themes a reader chose, and a blank status must
// not activate a pending sign-up or a bounced address.
func TestImportChangesOnlyGivenCells(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	add(t, s, "t@example.org", subscribers.Active, "compute")
	add(t, s, "b@example.org", subscribers.Bounced)
	if _, _, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "p@example.org", Themes: []string{"regulation"}}, day1); err != nil {
		t.Fatal(err)
	}
	csv := "email,name,themes,status\nt@example.org,Kim,,\nb@example.org,,,\np@example.org,,,\n"
	rows, rejected, err := subscribers.ReadCSV(strings.NewReader(csv), themeIDs)
	if err != nil || len(rejected) > 0 {
		t.Fatal(err, rejected)
	}
	if _, err := s.ImportSubscribers(ctx, rows, day2); err != nil {
		t.Fatal(err)
	}
	want := []string{
		"b@example.org  bounced []",
		"p@example.org  pending [regulation]",
		"t@example.org Kim active [compute]",
	}
	if got := listing(t, s); !slices.Equal(got, want) {
		t.Errorf("after importing names only:\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	// "all" resets the themes on purpose.
	rows, _, _ = subscribers.ReadCSV(strings.NewReader("email,themes\nt@example.org,all\n"), themeIDs)
	s.ImportSubscribers(ctx, rows, day3)
	if sub, _ := s.SubscriberByEmail(ctx, "t@example.org"); len(sub.Themes) != 0 {
		t.Errorf("themes 'all' left %v", sub.Themes)
	}
}

// Pending sign-ups made before the cut-off go, and only they: an
// address that confirmed, left or was added by hand stays.
func TestExpirePending(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	for _, e := range []string{"old1@example.org", "old2@example.org"} {
		if _, _, err := s.CreatePending(ctx, subscribers.Subscriber{Email: e, Themes: nil}, day1); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "fresh@example.org", Themes: nil}, day3); err != nil {
		t.Fatal(err)
	}
	add(t, s, "active@example.org", subscribers.Active)
	add(t, s, "gone@example.org", subscribers.Unsubscribed)
	if n, err := s.CountPending(ctx); err != nil || n != 3 {
		t.Fatalf("CountPending = %d, %v; want 3", n, err)
	}
	n, err := s.ExpirePending(ctx, day2)
	if err != nil || n != 2 {
		t.Fatalf("ExpirePending = %d, %v; want 2", n, err)
	}
	want := []string{"active@example.org  active []", "fresh@example.org  pending []", "gone@example.org  unsubscribed []"}
	if got := listing(t, s); !slices.Equal(got, want) {
		t.Errorf("after expiry:\n%q\nwant\n%q", got, want)
	}
	if n, err := s.CountPending(ctx); err != nil || n != 1 {
		t.Errorf("CountPending = %d, %v; want 1", n, err)
	}
}
