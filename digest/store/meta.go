package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// The daemon's schedule is accounted for up to a time kept in meta: every
// scheduled run at or before it has been made (or was due before the
// daemon first started). A scheduled time after it that has passed is a
// run missed while the daemon was down.
const scheduleKey = "schedule_done_through"

// ScheduleDoneThrough returns the time up to which the schedule's runs
// have been made; ok is false when the daemon has never run on this store.
func (s *Store) ScheduleDoneThrough(ctx context.Context) (t time.Time, ok bool, err error) {
	var v string
	err = s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, scheduleKey).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("store: %s: %w", scheduleKey, err)
	}
	if t, err = parseTime(v); err != nil {
		return time.Time{}, false, fmt.Errorf("store: %s: bad time %q", scheduleKey, v)
	}
	return t, true, nil
}

// SetScheduleDoneThrough moves the mark to t; it never moves back, so a
// slow run finishing after a later one cannot undo it.
func (s *Store) SetScheduleDoneThrough(ctx context.Context, t time.Time) error {
	_, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES (?, ?)
		ON CONFLICT (key) DO UPDATE SET value = excluded.value WHERE CAST(meta.value AS TEXT) < CAST(excluded.value AS TEXT)`,
		scheduleKey, fmtTime(t))
	if err != nil {
		return fmt.Errorf("store: %s: %w", scheduleKey, err)
	}
	return nil
}

// Ping checks that the store answers and is still the file it opened (the
// daemon's /healthz).
func (s *Store) Ping(ctx context.Context) error {
	if err := s.CheckFile(); err != nil {
		return err
	}
	var one int
	if err := s.db.QueryRowContext(ctx, `SELECT 1 FROM meta LIMIT 1`).Scan(&one); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", s.path, err)
	}
	return nil
}
