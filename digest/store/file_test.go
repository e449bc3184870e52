package store

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

// removeStore is `rm gull.db*`.
func removeStore(t *testing.T, path string) {
	t.Helper()
	matches, _ := filepath.Glob(path + "*")
	for _, m := range matches {
		if err := os.Remove(m); err != nil {
			t.Fatal(err)
		}
	}
}

// writeErrs makes two kinds of write (a single statement, a transaction)
// and returns their errors.
func writeErrs(s *Store) []error {
	ctx := context.Background()
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	_, _, err1 := s.CreatePending(ctx, subscribers.Subscriber{Email: "late@example.com", Themes: []string{"규제"}}, now)
	err2 := s.SetScheduleDoneThrough(ctx, now)
	return []error{err1, err2}
}

func TestDeletedStoreRefusesWritesAndANewStart(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("a fresh store is not healthy: %v", err)
	}
	removeStore(t, path)

	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "was deleted since gull opened it") {
		t.Errorf("health after rm gull.db*: %v, want the deletion named", err)
	}
	for i, err := range writeErrs(s) {
		var gone *FileGoneError
		if !errors.As(err, &gone) || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "restore it") {
			t.Errorf("write %d into the deleted store: %v, want it refused naming %s and the fix", i, err, path)
		}
	}

	// The next start does not make an empty store as if none had been
	// there: the id file beside it remembers one was.
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "is missing, but a store") || !strings.Contains(err.Error(), "restore it") {
		t.Fatalf("start after rm gull.db*: %v, want a refusal that explains", err)
	}
	if _, err := os.Stat(path); err == nil {
		t.Error("the refused start made a database file anyway")
	}
	// The fix it names works.
	os.Remove(idFile(path))
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("after removing %s: %v", idFile(path), err)
	}
	s2.Close()
}

func TestStaleWALWithoutItsDatabaseIsRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.SetScheduleDoneThrough(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path + "-wal"); err != nil {
		t.Fatalf("no WAL while open: %v", err)
	}
	// rm gull.db (only) while the store is open; the id file goes too,
	// so only the WAL tells.
	os.Remove(path)
	os.Remove(idFile(path))
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "gull.db-wal is there") || !strings.Contains(err.Error(), "remove") {
		t.Fatalf("start beside a stale WAL: %v, want a refusal naming the WAL and the fix", err)
	}
}

func TestReplacedStoreRefusesWrites(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := os.Rename(newStoreFile(t), path); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil || !strings.Contains(err.Error(), "was replaced") {
		t.Errorf("health after the file was replaced: %v", err)
	}
	for i, err := range writeErrs(s) {
		var gone *FileGoneError
		if !errors.As(err, &gone) || !gone.Replaced {
			t.Errorf("write %d after the file was replaced: %v, want it refused", i, err)
		}
	}
}

// Another store's file (or an empty one) put in the place of a stopped
// store's is not opened as if it were that store; the fix is named.
func TestOtherStoreInItsPlaceIsRefused(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	s.Close()
	if err := os.Rename(newStoreFile(t), path); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "is not the store last used there") || !strings.Contains(err.Error(), "remove "+idFile(path)) {
		t.Fatalf("start on another store's file: %v, want a refusal with the fix", err)
	}
	os.WriteFile(path, nil, 0o600) // an empty file
	if _, err := Open(ctx, path); err == nil || !strings.Contains(err.Error(), "has no id") {
		t.Fatalf("start on an empty file: %v, want a refusal", err)
	}
}

// newStoreFile makes a closed store elsewhere and returns its file.
func newStoreFile(t *testing.T) string {
	t.Helper()
	other := filepath.Join(t.TempDir(), "other.db")
	o, err := Open(context.Background(), other)
	if err != nil {
		t.Fatal(err)
	}
	o.Close()
	return other
}

// A path that never held a store is a normal first start, and a store
// closed and opened again is the same store.
func TestStoreReopensAsItself(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if _, _, err := s.CreatePending(ctx, subscribers.Subscriber{Email: "kim@example.com", Themes: nil}, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	defer s2.Close()
	if err := s2.Ping(ctx); err != nil {
		t.Fatal(err)
	}
	subs, err := s2.ListSubscribers(ctx, subscribers.Pending)
	if err != nil || len(subs) != 1 {
		t.Fatalf("reopened store: %d subscribers, %v", len(subs), err)
	}
}

// A file put in place of a running store's (a backup restored over it)
// is not overwritten with that store's pages when it closes: its WAL
// belongs to the file that is gone.
func TestReplacedStoreClosesWithoutSpoilingTheNewFile(t *testing.T) {
	ctx := context.Background()
	s, path := openTemp(t)
	if err := s.SetScheduleDoneThrough(ctx, time.Now()); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(t.TempDir(), "backup.db")
	o, err := Open(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := o.CreatePending(ctx, subscribers.Subscriber{Email: "backup@example.com", Themes: nil}, time.Now()); err != nil {
		t.Fatal(err)
	}
	o.Close()
	if err := os.Rename(other, path); err != nil {
		t.Fatal(err)
	}
	s.Close()

	os.Remove(idFile(path)) // the operator adopts the new file, as the refusal says
	n, err := Open(ctx, path)
	if err != nil {
		t.Fatalf("open the file put in place: %v", err)
	}
	defer n.Close()
	subs, err := n.ListSubscribers(ctx, subscribers.Pending)
	if err != nil || len(subs) != 1 || subs[0].Email != "backup@example.com" {
		t.Errorf("the new file after the old store closed: %v, %v; want its own subscriber", subs, err)
	}
	if _, ok, _ := n.ScheduleDoneThrough(ctx); ok {
		t.Error("the old store's writes were read into the new file")
	}
}
