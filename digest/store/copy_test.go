package store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// fullStore is a SQLite store with a row in every table a copy moves: feed
// state and articles, mailed stories, subscribers (the last one removed),
// the link key and the schedule's mark, a sent issue with its ledger, a
// draft with an edit and its history, and a lease.
func fullStore(t *testing.T) *Store {
	t.Helper()
	ctx := context.Background()
	s, err := Open(ctx, filepath.Join(t.TempDir(), "full.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	const feed = "https://f.example/feed"
	// Stored in this order: FeedArticles must keep it (z before a).
	if _, err := s.SaveFeed(ctx, feed, "칼럼", digest.FeedState{ETag: `"e"`, LastModified: "Wed"},
		[]digest.Article{art("z", "마지막 글", nil), art("a", "첫 글", &day1)}, day1); err != nil {
		t.Fatal(err)
	}
	if err := s.NoteFeedChecked(ctx, "https://down.example/feed", errors.New("503"), day2); err != nil {
		t.Fatal(err)
	}
	add(t, s, "kim@example.org", subscribers.Active, "compute")
	add(t, s, "lee@example.org", subscribers.Unsubscribed)
	add(t, s, "park@example.org", subscribers.Active)
	if err := s.RemoveSubscriber(ctx, "park@example.org"); err != nil { // id 3 is never given again
		t.Fatal(err)
	}
	if _, err := s.TokenSecret(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.SetScheduleDoneThrough(ctx, day2); err != nil {
		t.Fatal(err)
	}
	is := testIssue("2026-W47", 2)
	if _, err := s.SaveIssue(ctx, is, digest.IssueOpen, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, is.ID, day1); err != nil {
		t.Fatal(err)
	}
	if err := s.UpdateDeliveries(ctx, []digest.DeliveryUpdate{{IssueID: is.ID, SubscriberID: 1, Status: digest.DeliverySent,
		Attempt: true, MessageID: "<1@x>", At: day1}}); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailed(ctx, is.ID, is.Articles(), day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2"), draftThemes, day2); err != nil {
		t.Fatal(err)
	}
	mustEdit(t, s, 1, ed1, digest.Edit{Kind: digest.EditNote, Text: "이번 주는 반도체"}, day2)
	if _, err := s.AcquireLease(ctx, "send", time.Hour, day2); err != nil {
		t.Fatal(err)
	}
	// A sign-up whose confirmation is still owed (its daemon stopped
	// with it queued): until the mail goes it is nothing but this row.
	if _, err := s.OweSignUp(ctx, "host:1:ab", []byte(`{"email":"choi@example.org"}`), day2, day2.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	return s
}

// dump is every copied row of s as text, engine differences aside
// (PostgreSQL's articles.rowid column, BYTEA and BLOB, SQLite's store id).
func dump(t *testing.T, s *Store) string {
	t.Helper()
	var b strings.Builder
	for _, tb := range copyTables {
		rows, err := s.db.Query(`SELECT * FROM ` + tb.name + skipOwnRows(tb.name) + ` ORDER BY ` + tb.order)
		if err != nil {
			t.Fatal(err)
		}
		cols, _ := rows.Columns()
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				t.Fatal(err)
			}
			var cells []string
			for i, c := range cols {
				if c == "rowid" {
					continue
				}
				v := vals[i]
				if bs, ok := v.([]byte); ok {
					v = string(bs)
				}
				cells = append(cells, fmt.Sprintf("%s=%q", c, fmt.Sprint(v)))
			}
			sort.Strings(cells)
			fmt.Fprintf(&b, "%s: %s\n", tb.name, strings.Join(cells, " "))
		}
		rows.Close()
	}
	return b.String()
}

// A whole store goes to the other engine and back unchanged, and works
// there: the articles in their order, the same link key (mailed links
// keep working), the schedule's mark, no id given twice. On SQLite alone
// the copy goes to another SQLite file.
func TestCopyBothWays(t *testing.T) {
	ctx := context.Background()
	src := fullStore(t)
	mid, _ := openTemp(t)
	counts, err := src.CopyTo(ctx, mid)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]int64{}
	for _, c := range counts {
		got[c.Table] = c.Rows
	}
	want := map[string]int64{"feeds": 2, "articles": 2, "mailed": 2, "subscribers": 2, "meta": 2, "issues": 1,
		"deliveries": 1, "drafts": 1, "draft_articles": 2, "draft_log": 2, "signup_mails": 1}
	for table, n := range want {
		if got[table] != n {
			t.Errorf("%s: %d rows copied, want %d (all: %v)", table, got[table], n, counts)
		}
	}
	if d1, d2 := dump(t, src), dump(t, mid); d1 != d2 {
		t.Errorf("the copy differs:\n%s\nwant\n%s", d2, d1)
	}
	// The owed sign-up came along, free for the first daemon to mail.
	owed, err := mid.ClaimLapsedSignUps(ctx, "other:2:cd", day2, day2.Add(time.Minute), 10)
	if err != nil || len(owed) != 1 || !strings.Contains(string(owed[0].Form), "choi@example.org") {
		t.Errorf("owed sign-ups after the copy: %+v %v", owed, err)
	}
	// The archive is rebuilt by the target from the copied issues.
	var n1, n2 int
	src.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles`).Scan(&n1)
	mid.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles`).Scan(&n2)
	if n1 == 0 || n1 != n2 {
		t.Errorf("archive rows: %d in the copy, %d in the source", n2, n1)
	}
	arts, err := mid.FeedArticles(ctx, "https://f.example/feed")
	if err != nil || len(arts) != 2 || arts[0].ID != "z" || arts[1].ID != "a" || !arts[1].Published.Equal(day1) {
		t.Errorf("articles after the copy: %+v %v", arts, err)
	}
	k1, _ := src.TokenSecret(ctx)
	k2, err := mid.TokenSecret(ctx)
	if err != nil || !bytes.Equal(k1, k2) || len(k2) != 32 {
		t.Errorf("link key: %x, want %x (%v)", k2, k1, err)
	}
	// The mark still only moves forward.
	if err := mid.SetScheduleDoneThrough(ctx, day1); err != nil {
		t.Fatal(err)
	}
	if at, ok, err := mid.ScheduleDoneThrough(ctx); err != nil || !ok || !at.Equal(day2) {
		t.Errorf("schedule mark: %v %v %v, want %v", at, ok, err, day2)
	}
	if _, err := mid.AcquireLease(ctx, "send", time.Minute, day2); err != nil {
		t.Errorf("a lease was copied: %v", err)
	}
	// And back, into a new SQLite file.
	back, err := Open(ctx, filepath.Join(t.TempDir(), "back.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer back.Close()
	if _, err := mid.CopyTo(ctx, back); err != nil {
		t.Fatal(err)
	}
	if d1, d3 := dump(t, src), dump(t, back); d1 != d3 {
		t.Errorf("the copy back differs:\n%s\nwant\n%s", d3, d1)
	}
	for _, s := range []*Store{mid, back} {
		if sub := add(t, s, "choi@example.org", subscribers.Active); sub.ID != 4 {
			t.Errorf("%s: the next subscriber got id %d, want 4 (ids 1-3 were given)", s.Path(), sub.ID)
		}
	}
}

// A target that holds anything is refused, and left as it was.
func TestCopyRefusesATargetThatIsNotEmpty(t *testing.T) {
	ctx := context.Background()
	src := fullStore(t)
	dst, _ := openTemp(t)
	add(t, dst, "only@example.org", subscribers.Active)
	_, err := src.CopyTo(ctx, dst)
	if !errors.Is(err, ErrTargetNotEmpty) || !strings.Contains(err.Error(), "holds 1 subscribers; copy into a new, empty store") {
		t.Fatalf("copy into a store with a subscriber: %v", err)
	}
	if l := listing(t, dst); len(l) != 1 || !strings.HasPrefix(l[0], "only@example.org ") {
		t.Errorf("the refused target changed: %v", l)
	}
	if _, err := src.CopyTo(ctx, src); err == nil || !strings.Contains(err.Error(), "is the store being copied") {
		t.Errorf("copy onto itself: %v", err)
	}
}

// A copy that fails half-way leaves the target empty, and a second copy
// then goes through.
func TestCopyFailureLeavesTargetEmpty(t *testing.T) {
	ctx := context.Background()
	src := fullStore(t)
	dst, _ := openTemp(t)
	copyHook = func(table string) error {
		if table == "deliveries" {
			return errors.New("the connection was lost")
		}
		return nil
	}
	t.Cleanup(func() { copyHook = nil })
	if _, err := src.CopyTo(ctx, dst); err == nil || !strings.Contains(err.Error(), "the connection was lost; nothing was copied") {
		t.Fatalf("failed copy: %v", err)
	}
	if err := dst.checkEmpty(ctx); err != nil {
		t.Fatalf("after a failed copy: %v", err)
	}
	copyHook = nil
	if _, err := src.CopyTo(ctx, dst); err != nil {
		t.Fatal(err)
	}
	if dump(t, dst) != dump(t, src) {
		t.Error("the second copy differs")
	}
}

// Every table of the schema is copied or left out on purpose: a new
// table (a migration's) must be named in copyTables or notCopied.
func TestCopyKnowsEveryTable(t *testing.T) {
	s, _ := openTemp(t)
	rows, err := s.db.Query(`SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		rows.Scan(&name)
		known := slices.Contains(notCopied, name) || slices.ContainsFunc(copyTables, func(c struct{ name, order string }) bool { return c.name == name })
		if !known {
			t.Errorf("table %s is neither in copyTables nor in notCopied (copy.go): `gull store copy` would lose it", name)
		}
	}
}
