package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"gull/digest"
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
	skew, err := s.skew(ctx, tx)
	if err != nil {
		return false, fmt.Errorf("store: take slot: %w", err)
	}
	now = now.Add(skew)
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

// ReviewMail is a mail the editors got about an issue: kind "review" (the
// draft at its draft time) or "held" (its send was held for approval).
type ReviewMail struct {
	DraftAt time.Time    // the draft time it was for
	Base    digest.Issue // the build mailed
	Sent    time.Time
}

// ReviewMailed returns the editors' last mail of kind about issue id; ok
// is false when they got none.
func (s *Store) ReviewMailed(ctx context.Context, id, kind string) (m ReviewMail, ok bool, err error) {
	var draftAt, body, sent string
	err = s.db.QueryRowContext(ctx, `SELECT draft_at, base, sent_at FROM review_mails WHERE issue_id = ? AND kind = ?`, id, kind).
		Scan(&draftAt, &body, &sent)
	if errors.Is(err, sql.ErrNoRows) {
		return m, false, nil
	}
	if err != nil {
		return m, false, fmt.Errorf("store: review mail of %s: %w", id, err)
	}
	var base issueBody
	if err := json.Unmarshal([]byte(body), &base); err != nil {
		return m, false, fmt.Errorf("store: review mail of %s: unreadable build: %w", id, err)
	}
	m.Base = digest.Issue(base)
	if m.DraftAt, err = parseTime(draftAt); err == nil {
		m.Sent, err = parseTime(sent)
	}
	if err != nil {
		return m, false, fmt.Errorf("store: review mail of %s: %w", id, err)
	}
	return m, true, nil
}

// MarkReviewMailed records that the editors got m, of kind, about issue
// id (replacing the one before).
func (s *Store) MarkReviewMailed(ctx context.Context, id, kind string, m ReviewMail) error {
	body, err := json.Marshal(issueBody(m.Base))
	if err != nil {
		return fmt.Errorf("store: review mail of %s: %w", id, err)
	}
	_, err = s.db.ExecContext(ctx, `INSERT INTO review_mails (issue_id, kind, draft_at, base, sent_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (issue_id, kind) DO UPDATE SET draft_at = excluded.draft_at, base = excluded.base, sent_at = excluded.sent_at`,
		id, kind, fmtTime(m.DraftAt), string(body), fmtTime(m.Sent))
	if err != nil {
		return fmt.Errorf("store: review mail of %s: %w", id, err)
	}
	return nil
}
