package store

import (
	"context"
	"fmt"
	"time"
)

// The sign-ups whose confirmation mail is owed, shared by the daemons
// (table signup_mails): a sign-up answered by one daemon is not lost if
// that daemon dies before its mail is sent.

// OwedSignUp is a sign-up whose confirmation mail is owed.
type OwedSignUp struct {
	ID   int64
	Form []byte // the sign-up as the form gave it (JSON, web's to read)
	At   time.Time
}

// OweSignUp records a sign-up whose confirmation is owed, claimed by
// holder until until, and returns its id.
func (s *Store) OweSignUp(ctx context.Context, holder string, form []byte, at, until time.Time) (int64, error) {
	var id int64
	skew, err := s.skew(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: owed sign-up: %w", err)
	}
	until = until.Add(skew)
	err = s.db.QueryRowContext(ctx, `INSERT INTO signup_mails (form, asked_at, holder, claimed_until) VALUES (?, ?, ?, ?) RETURNING id`,
		string(form), fmtTime(at), holder, fmtTime(until)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: owed sign-up: %w", err)
	}
	return id, nil
}

// SignUpMailed forgets the owed sign-up id: its mail went (or none was
// due).
func (s *Store) SignUpMailed(ctx context.Context, id int64) error {
	if _, err := s.db.ExecContext(ctx, `DELETE FROM signup_mails WHERE id = ?`, id); err != nil {
		return fmt.Errorf("store: owed sign-up %d: %w", id, err)
	}
	return nil
}

// RenewSignUps extends holder's claims to until: it is alive, and still
// working on them.
func (s *Store) RenewSignUps(ctx context.Context, holder string, until time.Time) error {
	skew, err := s.skew(ctx, s.db)
	if err != nil {
		return fmt.Errorf("store: owed sign-ups: %w", err)
	}
	until = until.Add(skew)
	if _, err := s.db.ExecContext(ctx, `UPDATE signup_mails SET claimed_until = ? WHERE holder = ?`, fmtTime(until), holder); err != nil {
		return fmt.Errorf("store: owed sign-ups: %w", err)
	}
	return nil
}

// ClaimLapsedSignUps gives holder, until until, up to n owed sign-ups
// whose claim lapsed before now (their daemon died or stopped), oldest
// first. One transaction (the store's write lock): two daemons never
// claim the same one.
func (s *Store) ClaimLapsedSignUps(ctx context.Context, holder string, now, until time.Time, n int) ([]OwedSignUp, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: owed sign-ups: %w", err)
	}
	defer tx.Rollback()
	skew, err := s.skew(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("store: owed sign-ups: %w", err)
	}
	now, until = now.Add(skew), until.Add(skew)
	rows, err := tx.QueryContext(ctx, `SELECT id, form, asked_at FROM signup_mails WHERE claimed_until < ? ORDER BY id LIMIT ?`, fmtTime(now), n)
	if err != nil {
		return nil, fmt.Errorf("store: owed sign-ups: %w", err)
	}
	var out []OwedSignUp
	for rows.Next() {
		var o OwedSignUp
		var form, at string
		if err := rows.Scan(&o.ID, &form, &at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: owed sign-ups: %w", err)
		}
		o.Form = []byte(form)
		if o.At, err = parseTime(at); err != nil {
			rows.Close()
			return nil, fmt.Errorf("store: owed sign-up %d: bad time %q", o.ID, at)
		}
		out = append(out, o)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: owed sign-ups: %w", err)
	}
	for _, o := range out {
		if _, err := tx.ExecContext(ctx, `UPDATE signup_mails SET holder = ?, claimed_until = ? WHERE id = ?`, holder, fmtTime(until), o.ID); err != nil {
			return nil, fmt.Errorf("store: owed sign-ups: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: owed sign-ups: %w", err)
	}
	return out, nil
}
