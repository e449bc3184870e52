package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// Several `gull run` daemons may share a PostgreSQL store: one leads the
// schedule (it holds the lease LeaderLease names), all serve the web
// side. What they must agree on lives here.

// LeaderLease is the name of the lease held by the daemon that runs the
// schedule.
const LeaderLease = "schedule"

// TakeSlot is the leader's right to make the scheduled run of slot,
// checked and taken in one transaction: l must still be held (not
// expired at now, not taken over) and the schedule's done-through mark
// must be before slot. Taking it renews l, so the run starts with a
// whole lease ahead. A leader that was paused past its lease (a stopped
// VM, a long GC) gets ErrLeaseLost here and makes no run, whatever it
// believed before the pause. made is true when the slot was run already
// (by this daemon or another): then nothing is to be done.
func (s *Store) TakeSlot(ctx context.Context, l *Lease, slot, now time.Time) (made bool, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: take slot: %w", err)
	}
	defer tx.Rollback()
	// Renewing only a lease that has not expired: once it has, another
	// daemon may hold it (or be about to), and the run is theirs.
	res, err := tx.ExecContext(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?`,
		fmtTime(now.Add(l.ttl)), l.name, l.holder, fmtTime(now))
	if err != nil {
		return false, fmt.Errorf("store: take slot: %w", err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return false, ErrLeaseLost
	}
	var v string
	err = tx.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = ?`, scheduleKey).Scan(&v)
	switch {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return false, fmt.Errorf("store: take slot: %w", err)
	default:
		done, err := parseTime(v)
		if err != nil {
			return false, fmt.Errorf("store: %s: bad time %q", scheduleKey, v)
		}
		if !done.Before(slot) {
			return true, tx.Commit()
		}
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: take slot: %w", err)
	}
	return false, nil
}

// UseDeskLink records the desk's sign-in link id as used until expires,
// and reports whether it was unused: true once per id, whichever daemon
// asks (web.UsedLinks). Links past their expiry at now are forgotten: the
// desk refuses them as expired anyway.
func (s *Store) UseDeskLink(ctx context.Context, id int64, expires, now time.Time) (bool, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return false, fmt.Errorf("store: desk link: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM desk_used_links WHERE expires_at < ?`, fmtTime(now)); err != nil {
		return false, fmt.Errorf("store: desk link: %w", err)
	}
	res, err := tx.ExecContext(ctx, `INSERT INTO desk_used_links (id, expires_at) VALUES (?, ?) ON CONFLICT (id) DO NOTHING`,
		id, fmtTime(expires))
	if err != nil {
		return false, fmt.Errorf("store: desk link: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("store: desk link: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return false, fmt.Errorf("store: desk link: %w", err)
	}
	return n == 1, nil
}
