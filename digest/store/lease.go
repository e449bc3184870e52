package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"time"
)

// Lease is the right to do one kind of work (a send) while others wait:
// two `gull send --all` at once would each mail the same pending readers.
type Lease struct {
	s      *Store
	name   string
	holder string
	ttl    time.Duration
}

// LeaseHeldError says who holds a lease, so the operator knows whom to
// wait for.
type LeaseHeldError struct {
	Name    string
	Host    string
	PID     int
	Expires time.Time
}

func (e *LeaseHeldError) Error() string {
	return fmt.Sprintf("another gull (pid %d on %s) is doing %q on this store; wait for it to finish (if it died on another machine, its claim lapses at %s)",
		e.PID, e.Host, e.Name, e.Expires.Local().Format("15:04:05"))
}

// processAlive reports whether pid runs on this machine; set per platform.
var processAlive = func(pid int) bool { return true }

// AcquireLease takes the lease called name for ttl, unless a live holder
// has it. A holder on this machine whose process is gone (killed, crashed)
// is recognised at once; one elsewhere only when its lease expires, so a
// holder renews it well within ttl.
func (s *Store) AcquireLease(ctx context.Context, name string, ttl time.Duration, now time.Time) (*Lease, error) {
	host, _ := os.Hostname()
	pid := os.Getpid()
	var nonce [8]byte
	rand.Read(nonce[:])
	holder := fmt.Sprintf("%s:%d:%s", host, pid, hex.EncodeToString(nonce[:]))

	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: lease %s: %w", name, err)
	}
	defer tx.Rollback()
	skew, err := s.skew(ctx, tx)
	if err != nil {
		return nil, fmt.Errorf("store: lease %s: %w", name, err)
	}
	now = now.Add(skew)
	var oldHost, oldExpires string
	var oldPID int
	err = tx.QueryRowContext(ctx, `SELECT host, pid, expires_at FROM leases WHERE name = ?`, name).Scan(&oldHost, &oldPID, &oldExpires)
	switch {
	case err == nil:
		exp, _ := parseTime(oldExpires)
		// On PostgreSQL the holder may be on any machine, one that may
		// share this one's name (containers): only the expiry counts.
		gone := !s.pg && oldHost == host && (oldPID == pid || !processAlive(oldPID))
		if now.Before(exp) && !gone {
			return nil, &LeaseHeldError{Name: name, Host: oldHost, PID: oldPID, Expires: exp}
		}
	case !errors.Is(err, sql.ErrNoRows):
		return nil, fmt.Errorf("store: lease %s: %w", name, err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO leases (name, holder, host, pid, expires_at) VALUES (?, ?, ?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, host = excluded.host, pid = excluded.pid,
			expires_at = excluded.expires_at`, name, holder, host, pid, fmtTime(now.Add(ttl))); err != nil {
		return nil, fmt.Errorf("store: lease %s: %w", name, err)
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: lease %s: %w", name, err)
	}
	return &Lease{s: s, name: name, holder: holder, ttl: ttl}, nil
}

// ErrLeaseLost means another holder took the lease: this one expired
// before it was renewed.
var ErrLeaseLost = errors.New("store: the lease was taken over by another gull")

// Renew extends the lease; ErrLeaseLost when it is no longer ours.
func (l *Lease) Renew(ctx context.Context, now time.Time) error {
	skew, err := l.s.skew(ctx, l.s.db)
	if err != nil {
		return fmt.Errorf("store: lease %s: %w", l.name, err)
	}
	now = now.Add(skew)
	res, err := l.s.db.ExecContext(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ?`,
		fmtTime(now.Add(l.ttl)), l.name, l.holder)
	if err != nil {
		return fmt.Errorf("store: lease %s: %w", l.name, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		return ErrLeaseLost
	}
	return nil
}

// Release gives the lease up.
func (l *Lease) Release(ctx context.Context) error {
	_, err := l.s.db.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, l.name, l.holder)
	return err
}
