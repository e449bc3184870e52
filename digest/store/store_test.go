package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"gull/digest"
)

// openTemp opens a fresh store for t and says where it is (the path or
// DSN that opens it again): a SQLite file, or under TestPostgres a
// PostgreSQL schema of its own (engines_test.go).
func openTemp(t *testing.T) (*Store, string) {
	t.Helper()
	path := freshWhere(t)
	s, err := Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s, path
}

func art(id, title string, published *time.Time) digest.Article {
	return digest.Article{ID: id, FeedURL: "https://f.example/feed", Title: title, Link: "https://f.example/" + id,
		Summary: title + " 요약", Content: "<p>" + "본문" + "</p>", Categories: []string{"AI"}, Published: published}
}

func TestSaveFeedKeepsFirstSeen(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const feed = "https://f.example/feed"
	pub := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	t1 := time.Date(2026, 11, 25, 8, 0, 0, 0, time.UTC)
	t2 := t1.Add(48 * time.Hour)

	first, err := s.SaveFeed(ctx, feed, "칼럼", digest.FeedState{ETag: `"a"`}, []digest.Article{art("1", "날짜 있는 글", &pub), art("2", "날짜 없는 글", nil)}, t1)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range first {
		if !a.FirstSeen.Equal(t1) {
			t.Errorf("%s: first seen %v, want %v", a.ID, a.FirstSeen, t1)
		}
	}
	// Two days later the undated item is still there, and a new one came.
	second, err := s.SaveFeed(ctx, feed, "칼럼", digest.FeedState{ETag: `"b"`}, []digest.Article{art("2", "날짜 없는 글 (고침)", nil), art("3", "새 글", nil)}, t2)
	if err != nil {
		t.Fatal(err)
	}
	if !second[0].FirstSeen.Equal(t1) {
		t.Errorf("known undated item: first seen %v, want the first sighting %v", second[0].FirstSeen, t1)
	}
	if !second[1].FirstSeen.Equal(t2) {
		t.Errorf("new item: first seen %v, want %v", second[1].FirstSeen, t2)
	}
	// What a 304 serves: the latest copy only, with the latest text.
	cur, err := s.FeedArticles(ctx, feed)
	if err != nil {
		t.Fatal(err)
	}
	if len(cur) != 2 || cur[0].ID != "2" || cur[1].ID != "3" {
		t.Fatalf("latest copy: %+v", cur)
	}
	if cur[0].Title != "날짜 없는 글 (고침)" || cur[0].Published != nil || !cur[0].FirstSeen.Equal(t1) {
		t.Errorf("stored article: %+v", cur[0])
	}
	states, err := s.FeedStates(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if states[feed].ETag != `"b"` {
		t.Errorf("state %+v", states[feed])
	}
}

func TestArticleRoundTrip(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	pub := time.Date(2026, 11, 24, 9, 30, 15, 0, time.FixedZone("KST", 9*3600))
	in := art("x", "왕복", &pub)
	in.Author, in.GUID, in.Lang = "김하늘", "tag:x", "ko"
	if _, err := s.SaveFeed(ctx, in.FeedURL, "", digest.FeedState{}, []digest.Article{in}, time.Now()); err != nil {
		t.Fatal(err)
	}
	out, err := s.FeedArticles(ctx, in.FeedURL)
	if err != nil || len(out) != 1 {
		t.Fatal(out, err)
	}
	got := out[0]
	if got.Title != in.Title || got.Link != in.Link || got.Summary != in.Summary || got.Content != in.Content ||
		got.Author != in.Author || got.GUID != in.GUID || got.Lang != in.Lang || len(got.Categories) != 1 || !got.Published.Equal(pub) {
		t.Errorf("round trip changed the article:\n in %+v\nout %+v", in, got)
	}
}

func TestMailed(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	a := art("m", "보낸 글", nil)
	if err := s.MarkMailed(ctx, "2026-W48", []digest.Article{a}, time.Now()); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkMailed(ctx, "2026-W48", []digest.Article{a}, time.Now()); err != nil {
		t.Fatalf("marking twice: %v", err)
	}
	m, err := s.Mailed(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range digest.MailKeys(a) {
		if !m.Mailed(k) {
			t.Errorf("key %s not remembered", k)
		}
	}
	if m.Mailed("url:other.example/x") {
		t.Error("an unmailed story counts as mailed")
	}
}

// A failed save leaves the store as it was: the transaction is all or
// nothing, so a crash or a bad row never half-writes a feed.
func TestSaveFeedIsAtomic(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const feed = "https://f.example/feed"
	if _, err := s.SaveFeed(ctx, feed, "", digest.FeedState{ETag: "1"}, []digest.Article{art("1", "하나", nil)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	canceled, cancel := context.WithCancel(ctx)
	cancel()
	if _, err := s.SaveFeed(canceled, feed, "", digest.FeedState{ETag: "2"}, []digest.Article{art("2", "둘", nil)}, time.Now()); err == nil {
		t.Fatal("save with a canceled context succeeded")
	}
	cur, _ := s.FeedArticles(ctx, feed)
	st, _ := s.FeedStates(ctx)
	if len(cur) != 1 || cur[0].ID != "1" || st[feed].ETag != "1" {
		t.Errorf("after a failed save: articles %+v, state %+v", cur, st[feed])
	}
}

func TestReopenKeepsDataAndSchema(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if _, err := s.SaveFeed(ctx, "u", "", digest.FeedState{}, []digest.Article{art("1", "글", nil)}, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	cur, _ := s2.FeedArticles(ctx, "u")
	if len(cur) != 1 {
		t.Fatalf("reopened store lost data: %+v", cur)
	}
	var n int
	s2.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
	if files := migrationCount(t); n != files {
		t.Errorf("%d migration rows for %d migration files", n, files)
	}
	if s2.pg {
		return
	}
	var mode string
	s2.db.QueryRow(`PRAGMA journal_mode`).Scan(&mode)
	if mode != "wal" {
		t.Errorf("journal mode %q, want wal", mode)
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if _, err := s.db.Exec(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')`); err != nil {
		t.Fatal(err)
	}
	s.Close()
	_, err := Open(ctx, path)
	if err == nil {
		t.Fatal("opened a database from a newer gull")
	}
	want := fmt.Sprintf("(schema 999, this gull knows %d): upgrade gull", latestMigration(t))
	if !errors.Is(err, ErrNewerSchema) || !strings.Contains(err.Error(), want) {
		t.Errorf("got %v, want ErrNewerSchema naming both versions: %s", err, want)
	}
}

// Two processes that open a new database at the same moment (the daemon
// and a `feeds check`) both succeed, and the schema is applied once.
func TestConcurrentOpenOfNewFile(t *testing.T) {
	ctx := context.Background()
	for round := range 10 {
		path := freshWhere(t)
		errs := make(chan error, 4)
		for range 4 {
			go func() {
				s, err := Open(ctx, path)
				if err == nil {
					err = s.Close()
				}
				errs <- err
			}()
		}
		for range 4 {
			if err := <-errs; err != nil {
				t.Fatalf("round %d: %v", round, err)
			}
		}
		s, err := Open(ctx, path)
		if err != nil {
			t.Fatal(err)
		}
		var n int
		s.db.QueryRow(`SELECT COUNT(*) FROM schema_migrations`).Scan(&n)
		s.Close()
		if files := migrationCount(t); n != files {
			t.Fatalf("round %d: %d migration rows for %d files", round, n, files)
		}
	}
}

// migrationCount is the number of migrations of t's engine.
func migrationCount(t *testing.T) int {
	files, err := (&Store{pg: onPostgres(t)}).migrationFiles()
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	return len(files)
}

// latestMigration is the schema version this gull knows: the last
// migration's number (numbers may leave gaps while branches are merged).
func latestMigration(t *testing.T) int {
	files, err := (&Store{pg: onPostgres(t)}).migrationFiles()
	if err != nil || len(files) == 0 {
		t.Fatalf("no migrations: %v", err)
	}
	n, err := strconv.Atoi(strings.SplitN(filepath.Base(files[len(files)-1]), "_", 2)[0])
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestNewStoreIsPrivate(t *testing.T) {
	// The file holds addresses and the link-signing key.
	s, path := openTemp(t)
	if _, err := s.TokenSecret(context.Background()); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{path, path + "-wal"} {
		st, err := os.Stat(f)
		if err != nil {
			t.Fatal(err)
		}
		if mode := st.Mode().Perm(); mode != 0o600 {
			t.Errorf("%s: mode %v, want 0600", filepath.Base(f), mode)
		}
	}
}
