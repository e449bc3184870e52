package store

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"gull/subscribers"
)

var _ subscribers.Store = (*Store)(nil)

const subscriberColumns = `id, email, name, status, themes, language, articles, created_at, confirmed_at, unsubscribed_at, updated_at, status_reason, bounced_at`

// querier is what *sql.DB and *sql.Tx share, so one helper reads in or
// out of a transaction.
type querier interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

type scanner interface{ Scan(dest ...any) error }

func scanSubscriber(sc scanner) (subscribers.Subscriber, error) {
	var s subscribers.Subscriber
	var status, themes, created, updated string
	var confirmed, unsub, bounced sql.NullString
	if err := sc.Scan(&s.ID, &s.Email, &s.Name, &status, &themes, &s.Language, &s.Articles, &created, &confirmed, &unsub, &updated,
		&s.Reason, &bounced); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return s, subscribers.ErrNotFound
		}
		return s, err
	}
	s.Status = subscribers.Status(status)
	s.Themes = strings.Fields(themes)
	var err error
	if s.Created, err = parseTime(created); err != nil {
		return s, err
	}
	if s.Updated, err = parseTime(updated); err != nil {
		return s, err
	}
	for _, f := range []struct {
		src sql.NullString
		dst *time.Time
	}{{confirmed, &s.Confirmed}, {unsub, &s.Unsubscribed}, {bounced, &s.Bounced}} {
		if f.src.Valid {
			if *f.dst, err = parseTime(f.src.String); err != nil {
				return s, err
			}
		}
	}
	return s, nil
}

func optTime(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return fmtTime(t)
}

// SubscriberByID returns the subscriber with id, or ErrNotFound.
func (s *Store) SubscriberByID(ctx context.Context, id int64) (subscribers.Subscriber, error) {
	return scanSubscriber(s.db.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, id))
}

// SubscriberByEmail finds a subscriber by address, whatever its case.
func (s *Store) SubscriberByEmail(ctx context.Context, email string) (subscribers.Subscriber, error) {
	return byEmail(ctx, s.db, email)
}

func byEmail(ctx context.Context, q querier, email string) (subscribers.Subscriber, error) {
	return scanSubscriber(q.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE email_key = ?`, subscribers.EmailKey(email)))
}

// ListSubscribers returns the subscribers with status st ("" for all),
// ordered by address.
func (s *Store) ListSubscribers(ctx context.Context, st subscribers.Status) ([]subscribers.Subscriber, error) {
	q := `SELECT ` + subscriberColumns + ` FROM subscribers`
	var args []any
	if st != "" {
		q += ` WHERE status = ?`
		args = append(args, string(st))
	}
	rows, err := s.db.QueryContext(ctx, q+` ORDER BY email_key`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []subscribers.Subscriber
	for rows.Next() {
		sub, err := scanSubscriber(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, sub)
	}
	return out, rows.Err()
}

// SaveSubscriber adds sub or updates the given fields of the row of its
// address, by subscribers.Merge (which never re-activates an unsubscribed
// address).
func (s *Store) SaveSubscriber(ctx context.Context, sub subscribers.Subscriber, given subscribers.Fields, now time.Time) (subscribers.Subscriber, subscribers.Change, string, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return sub, "", "", err
	}
	defer tx.Rollback()
	saved, change, note, err := save(ctx, tx, sub, given, now)
	if err != nil {
		return sub, "", "", err
	}
	return saved, change, note, tx.Commit()
}

func save(ctx context.Context, tx querier, sub subscribers.Subscriber, given subscribers.Fields, now time.Time) (subscribers.Subscriber, subscribers.Change, string, error) {
	var existing *subscribers.Subscriber
	switch old, err := byEmail(ctx, tx, sub.Email); {
	case err == nil:
		existing = &old
	case !errors.Is(err, subscribers.ErrNotFound):
		return sub, "", "", err
	}
	merged, change, note := subscribers.Merge(existing, sub, given, now)
	switch change {
	case subscribers.Added:
		id, err := insert(ctx, tx, merged)
		if err != nil {
			return sub, "", "", err
		}
		merged.ID = id
	case subscribers.Updated:
		if err := update(ctx, tx, merged); err != nil {
			return sub, "", "", err
		}
	}
	return merged, change, note, nil
}

func insert(ctx context.Context, q querier, sub subscribers.Subscriber) (int64, error) {
	var id int64
	err := q.QueryRowContext(ctx, `INSERT INTO subscribers
		(email, email_key, name, status, themes, language, articles, created_at, confirmed_at, unsubscribed_at, updated_at,
			status_reason, bounced_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		sub.Email, subscribers.EmailKey(sub.Email), sub.Name, string(sub.Status), subscribers.FormatThemes(sub.Themes), sub.Language, sub.Articles,
		fmtTime(sub.Created), optTime(sub.Confirmed), optTime(sub.Unsubscribed), fmtTime(sub.Updated),
		sub.Reason, optTime(sub.Bounced)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("store: add %s: %w", sub.Email, err)
	}
	return id, nil
}

func update(ctx context.Context, q querier, sub subscribers.Subscriber) error {
	_, err := q.ExecContext(ctx, `UPDATE subscribers SET name = ?, status = ?, themes = ?, language = ?, articles = ?,
		confirmed_at = ?, unsubscribed_at = ?, updated_at = ?, status_reason = ?, bounced_at = ? WHERE id = ?`,
		sub.Name, string(sub.Status), subscribers.FormatThemes(sub.Themes), sub.Language, sub.Articles,
		optTime(sub.Confirmed), optTime(sub.Unsubscribed), fmtTime(sub.Updated), sub.Reason, optTime(sub.Bounced), sub.ID)
	if err != nil {
		return fmt.Errorf("store: update %s: %w", sub.Email, err)
	}
	return nil
}

// RemoveSubscriber deletes the row of email for good; ErrNotFound when
// there is none.
func (s *Store) RemoveSubscriber(ctx context.Context, email string) error {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscribers WHERE email_key = ?`, subscribers.EmailKey(email))
	if err != nil {
		return err
	}
	if n, _ := res.RowsAffected(); n == 0 {
		return subscribers.ErrNotFound
	}
	return nil
}

// ImportSubscribers saves rows in one transaction. A cancelled context or
// any failure rolls all of it back: an import is never half-applied.
func (s *Store) ImportSubscribers(ctx context.Context, rows []subscribers.Row, now time.Time) ([]subscribers.Result, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	results := make([]subscribers.Result, 0, len(rows))
	for i, r := range rows {
		if i%64 == 0 {
			if err := ctx.Err(); err != nil {
				return nil, fmt.Errorf("import stopped at line %d, nothing saved: %w", r.Line, err)
			}
		}
		saved, change, note, err := save(ctx, tx, r.Subscriber, r.Given, now)
		if err != nil {
			return nil, fmt.Errorf("import line %d, nothing saved: %w", r.Line, err)
		}
		results = append(results, subscribers.Result{Line: r.Line, Email: saved.Email, Change: change, Note: note})
		if importHook != nil {
			importHook(i)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("import stopped, nothing saved: %w", err)
	}
	return results, tx.Commit()
}

// importHook lets a test act in the middle of an import (cancel it).
var importHook func(row int)

// CreatePending adds in (its address, name, themes, language and article
// languages, as the sign-up form gave them) as pending, unless the address
// is already on the list; created says whether it was added. An existing
// row is returned unchanged: a stranger's sign-up must not change a
// reader's choices (the confirm link carries them instead).
func (s *Store) CreatePending(ctx context.Context, in subscribers.Subscriber, now time.Time) (subscribers.Subscriber, bool, error) {
	email := in.Email
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return subscribers.Subscriber{}, false, err
	}
	defer tx.Rollback()
	switch old, err := byEmail(ctx, tx, email); {
	case err == nil:
		return old, false, nil
	case !errors.Is(err, subscribers.ErrNotFound):
		return old, false, err
	}
	sub := subscribers.Subscriber{Email: email, Name: in.Name, Status: subscribers.Pending, Themes: in.Themes,
		Language: in.Language, Articles: in.Articles, Created: now, Updated: now}
	if sub.ID, err = insert(ctx, tx, sub); err != nil {
		return sub, false, err
	}
	return sub, true, tx.Commit()
}

// ExpirePending deletes the pending sign-ups first made before before
// (http.pending_ttl ago): a flood of sign-ups that nobody confirms
// does not stay. The links mailed to them stop working with the row (ids
// are never given again). It says how many it deleted.
func (s *Store) ExpirePending(ctx context.Context, before time.Time) (int64, error) {
	res, err := s.db.ExecContext(ctx, `DELETE FROM subscribers WHERE status = ? AND created_at < ?`,
		string(subscribers.Pending), fmtTime(before))
	if err != nil {
		return 0, fmt.Errorf("store: delete expired sign-ups: %w", err)
	}
	return res.RowsAffected()
}

// CountPending is the number of pending sign-ups.
func (s *Store) CountPending(ctx context.Context) (int, error) {
	var n int
	err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM subscribers WHERE status = ?`, string(subscribers.Pending)).Scan(&n)
	return n, err
}

// SetStatus changes one subscriber's status and records when; setting the
// status it already has changes nothing (a second unsubscribe keeps the
// first time).
func (s *Store) SetStatus(ctx context.Context, id int64, st subscribers.Status, now time.Time) (subscribers.Subscriber, error) {
	return s.change(ctx, id, now, func(sub *subscribers.Subscriber) { sub.SetStatus(st, now) })
}

// SetThemes replaces one subscriber's theme choice (nil = all).
func (s *Store) SetThemes(ctx context.Context, id int64, themes []string, now time.Time) (subscribers.Subscriber, error) {
	return s.change(ctx, id, now, func(sub *subscribers.Subscriber) { sub.Themes = themes })
}

// SetLanguage sets one subscriber's language and article languages.
func (s *Store) SetLanguage(ctx context.Context, id int64, language, articles string, now time.Time) (subscribers.Subscriber, error) {
	return s.change(ctx, id, now, func(sub *subscribers.Subscriber) { sub.Language, sub.Articles = language, articles })
}

func (s *Store) change(ctx context.Context, id int64, now time.Time, edit func(*subscribers.Subscriber)) (subscribers.Subscriber, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return subscribers.Subscriber{}, err
	}
	defer tx.Rollback()
	sub, err := scanSubscriber(tx.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, id))
	if err != nil {
		return sub, err
	}
	before := sub
	edit(&sub)
	if sub.Status == before.Status && sub.Reason == before.Reason && subscribers.FormatThemes(sub.Themes) == subscribers.FormatThemes(before.Themes) &&
		sub.Language == before.Language && sub.Articles == before.Articles {
		return before, nil
	}
	sub.Updated = now
	if err := update(ctx, tx, sub); err != nil {
		return before, err
	}
	return sub, tx.Commit()
}

// TokenSecret is the link-signing key used when secret_env is unset: 32
// random bytes made on first use and kept, so links in mails already sent
// keep working across restarts.
func (s *Store) TokenSecret(ctx context.Context) ([]byte, error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, err
	}
	// INSERT OR IGNORE then SELECT: two processes starting together end
	// up with the same key.
	if _, err := s.db.ExecContext(ctx, `INSERT INTO meta (key, value) VALUES ('link_secret', ?) ON CONFLICT (key) DO NOTHING`, fresh); err != nil {
		return nil, err
	}
	var key []byte
	if err := s.db.QueryRowContext(ctx, `SELECT value FROM meta WHERE key = 'link_secret'`).Scan(&key); err != nil {
		return nil, err
	}
	return key, nil
}
