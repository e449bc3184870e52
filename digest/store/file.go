package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// A store must stay the file it was opened as. `rm gull.db*` under a
// running daemon leaves its connections writing into a deleted file: every
// sign-up and unsubscribe after it is lost, and the next start would make
// an empty store as if nothing had been there. So the store checks its
// file (device and inode) before each write and on /healthz, and a store
// records its id in a small file beside it, which lets a later start tell
// "never had a store here" (normal) from "had one, and it is gone"
// (refused, with the fix).

// FileGoneError says the database file was deleted or replaced since it
// was opened; writes are refused so nothing goes into a file that is no
// longer there.
type FileGoneError struct {
	Path     string
	Replaced bool // another file is at Path now; else there is none
}

func (e *FileGoneError) Error() string {
	if e.Replaced {
		return fmt.Sprintf("store: the database file %s was replaced since gull opened it; writes are refused: put the original back, or restart gull to use the new file", e.Path)
	}
	return fmt.Sprintf("store: the database file %s was deleted since gull opened it; writes are refused, since they would be lost with it: restore it from a backup and restart gull", e.Path)
}

// Reason is the problem without the file's folder, for /healthz, which
// anyone may read.
func (e *FileGoneError) Reason() string {
	what := "deleted"
	if e.Replaced {
		what = "replaced"
	}
	return "the database file " + filepath.Base(e.Path) + " was " + what + " since gull opened it; restore it or restart gull"
}

// CheckFile reports whether the file at the store's path is still the one
// it opened. It only stats the path: opening and closing the file would
// drop SQLite's POSIX locks, which belong to the process, not the handle.
func (s *Store) CheckFile() error {
	if s.pg {
		return nil // no file: the server keeps it
	}
	fi, err := os.Stat(s.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return &FileGoneError{Path: s.path}
	case err != nil:
		return fmt.Errorf("store: %w", err)
	case !os.SameFile(fi, s.file):
		return &FileGoneError{Path: s.path, Replaced: true}
	}
	return nil
}

// guardedDB is the pool with CheckFile before each write: every write
// begins with ExecContext or BeginTx (a transaction is a write batch, the
// ledger's prepared update included), so the check is made once per batch
// and costs one stat. begun runs first in every transaction (PostgreSQL's
// write lock).
type guardedDB struct {
	*sql.DB
	check func() error
	begun func(context.Context, *sql.Tx) error
}

func (g guardedDB) ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	return g.DB.ExecContext(ctx, query, args...)
}

func (g guardedDB) BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	tx, err := g.DB.BeginTx(ctx, opts)
	if err != nil {
		return nil, err
	}
	if err := g.begun(ctx, tx); err != nil {
		tx.Rollback()
		return nil, err
	}
	return tx, nil
}

// beginRowLocked begins a transaction without the store's write lock on
// PostgreSQL: the ledger's claims and marks lock only the rows they touch
// (FOR UPDATE, or the UPDATE itself), so several senders write at once
// instead of one after another. On SQLite it is BeginTx (the file has one
// writer whatever we do).
func (g guardedDB) beginRowLocked(ctx context.Context) (*sql.Tx, error) {
	if err := g.check(); err != nil {
		return nil, err
	}
	return g.DB.BeginTx(ctx, nil)
}

// idFile is where a store's id is recorded beside it: a dot file, so
// `rm gull.db*` leaves it and the next start knows what was there.
func idFile(path string) string {
	return filepath.Join(filepath.Dir(path), "."+filepath.Base(path)+".id")
}

// checkBeforeCreate refuses to make a new database where one was: a WAL
// or shared-memory file without its database, or an id file naming a
// store that is gone. A path that never held a store is a normal first
// start.
func checkBeforeCreate(path string) error {
	if _, err := os.Stat(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return nil // it exists (or Open's own error will say why not)
	}
	err := leftBehind(path)
	if err != nil {
		// Another process opening the same new store (the daemon and a
		// `feeds check`) makes the database before its WAL and id file:
		// if the database is there now, they are its, not left behind.
		if _, serr := os.Stat(path); serr == nil {
			return nil
		}
	}
	return err
}

// leftBehind names what a store that is gone left at path, if anything.
func leftBehind(path string) error {
	for _, suffix := range []string{"-wal", "-shm"} {
		if _, err := os.Stat(path + suffix); err == nil {
			return fmt.Errorf("store: %s is missing but its %s is there: the database was deleted or moved, maybe while gull had it open; restore %s from a backup, or to start with an empty store remove %s and %s",
				path, filepath.Base(path+suffix), filepath.Base(path), path+"-wal", path+"-shm")
		}
	}
	if id, err := readID(path); err != nil {
		return err
	} else if id != "" {
		return fmt.Errorf("store: %s is missing, but a store (id %s) was used there before, as %s records: the database was deleted or moved; restore it from a backup, or to start with an empty store remove %s",
			path, id, idFile(path), idFile(path))
	}
	return nil
}

// readID is the id recorded beside path; "" when none is.
func readID(path string) (string, error) {
	b, err := os.ReadFile(idFile(path))
	if errors.Is(err, fs.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("store: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

const storeIDKey = "store_id"

// checkID refuses a database whose id is not the one recorded beside it:
// it is not the store last used at this path (an empty file put in its
// place, or another store's), and taking it for that store would lose the
// readers silently. It runs before the migrations, so a refused file is
// left as it was.
func (s *Store) checkID(ctx context.Context) error {
	recorded, err := readID(s.path)
	if err != nil || recorded == "" {
		return err
	}
	id, err := s.storeID(ctx)
	if err != nil && !strings.Contains(err.Error(), "no such table") {
		return err
	}
	if id == recorded {
		return nil
	}
	has := "has no id"
	if id != "" {
		has = "is store " + id
	}
	return fmt.Errorf("store: %s is not the store last used there: %s records store %s, and this file %s; put the right database back, or if this one is meant to be used, remove %s",
		s.path, idFile(s.path), recorded, has, idFile(s.path))
}

func (s *Store) storeID(ctx context.Context) (string, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, storeIDKey).Scan(&id)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return "", fmt.Errorf("store: %s: %w", storeIDKey, err)
	}
	return id, nil
}

// recordID gives the database an id (once, in meta) and records it beside
// the file.
func (s *Store) recordID(ctx context.Context) error {
	id, err := s.storeID(ctx)
	if err != nil {
		return err
	}
	if id == "" {
		var b [16]byte
		rand.Read(b[:])
		// Two processes opening a new store together agree on the first.
		if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO NOTHING`,
			storeIDKey, hex.EncodeToString(b[:])); err != nil {
			return fmt.Errorf("store: %s: %w", storeIDKey, err)
		}
		if id, err = s.storeID(ctx); err != nil {
			return err
		}
	}
	if recorded, err := readID(s.path); err == nil && recorded == id {
		return nil
	}
	return writeID(s.path, id)
}

// writeID records id beside path, whole or not at all.
func writeID(path, id string) error {
	f, err := os.CreateTemp(filepath.Dir(path), ".gull-id-*")
	if err != nil {
		return fmt.Errorf("store: record the store's id: %w", err)
	}
	defer os.Remove(f.Name())
	_, err = f.WriteString(id + "\n")
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(f.Name(), idFile(path))
	}
	if err != nil {
		return fmt.Errorf("store: record the store's id: %w", err)
	}
	return nil
}
