package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// issueBody is the issue's own JSON encoding for storage: every field, not
// the public form of DESIGN.md §5 (which leaves out content and feed URLs).
type issueBody digest.Issue

// Issue returns a stored issue and its record, or digest.ErrNoIssue.
func (s *Store) Issue(ctx context.Context, id string) (digest.Issue, digest.IssueRecord, error) {
	var body string
	rec, err := scanIssueRecord(s.db.QueryRowContext(ctx, `SELECT `+issueColumns+`, body FROM issues WHERE id = ?`, id), &body)
	if errors.Is(err, sql.ErrNoRows) {
		return digest.Issue{}, digest.IssueRecord{ID: id}, digest.ErrNoIssue
	}
	if err != nil {
		return digest.Issue{}, rec, fmt.Errorf("store: issue %s: %w", id, err)
	}
	var is issueBody
	if err := json.Unmarshal([]byte(body), &is); err != nil {
		return digest.Issue{}, rec, fmt.Errorf("store: issue %s: unreadable body: %w", id, err)
	}
	if rec.Number, err = s.number(ctx, rec); err != nil {
		return digest.Issue{}, rec, err
	}
	is.Number = rec.Number
	return digest.Issue(is), rec, nil
}

// frozenSQL selects the frozen issues: the ones that went, or are going,
// to readers. A quiet week is not one of them.
const frozenSQL = `status IN ('open', 'done')`

// numberSQL numbers a frozen issue (the row "issues" of the outer query):
// how many were frozen before it, itself included. Issues are numbered in
// the order they were frozen, not by their periods, so a number once
// mailed never changes: a week sent late (a catch-up) takes the next one.
const numberSQL = `(SELECT COUNT(*) FROM issues j WHERE j.` + frozenSQL + `
	AND (j.created_at < issues.created_at OR (j.created_at = issues.created_at AND j.id <= issues.id)))`

// IssueNumber is the number of the issue called id (digest.Issue.Number):
// its own when it is frozen, else the one it gets when it is sent next.
// Previews and test sends show it.
func (s *Store) IssueNumber(ctx context.Context, id string) (int, error) {
	rec, err := scanIssueRecord(s.db.QueryRowContext(ctx, `SELECT `+issueColumns+` FROM issues WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		rec, err = digest.IssueRecord{ID: id}, nil
	}
	if err != nil {
		return 0, fmt.Errorf("store: number of issue %s: %w", id, err)
	}
	return s.number(ctx, rec)
}

// number is rec's number: numberSQL for a frozen issue, one past the
// frozen ones for any other.
func (s *Store) number(ctx context.Context, rec digest.IssueRecord) (int, error) {
	var n int
	var err error
	if rec.Status == digest.IssueOpen || rec.Status == digest.IssueDone {
		err = s.db.QueryRowContext(ctx, `SELECT `+numberSQL+` FROM issues WHERE id = ?`, rec.ID).Scan(&n)
	} else {
		err = s.db.QueryRowContext(ctx, `SELECT COUNT(*) + 1 FROM issues WHERE `+frozenSQL).Scan(&n)
	}
	if err != nil {
		return 0, fmt.Errorf("store: number of issue %s: %w", rec.ID, err)
	}
	return n, nil
}

// Issues lists the frozen issues (open or done: the ones that went, or
// are going, to readers), newest first, at most limit of them.
func (s *Store) Issues(ctx context.Context, limit int) ([]digest.IssueRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+issueColumns+`, `+numberSQL+` FROM issues
		WHERE `+publishedSQL+` ORDER BY period_end DESC, id DESC LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("store: issues: %w", err)
	}
	defer rows.Close()
	var out []digest.IssueRecord
	for rows.Next() {
		var n int
		rec, err := scanIssueRecord(rows, &n)
		if err != nil {
			return nil, fmt.Errorf("store: issues: %w", err)
		}
		rec.Number = n
		out = append(out, rec)
	}
	return out, rows.Err()
}

const issueColumns = `id, title, period_start, period_end, status, articles, created_at, done_at, ` + awaitingSQL

// awaitingSQL says an issue is approved and awaits its send: an editor
// froze it, no delivery is recorded yet, and it may still be reopened and
// changed. It is not published (the archive, its feed, the daemon's
// resume) before its send begins.
const awaitingSQL = `(status = 'open' AND NOT EXISTS (SELECT 1 FROM deliveries WHERE deliveries.issue_id = issues.id)
	AND EXISTS (SELECT 1 FROM drafts WHERE drafts.issue_id = issues.id AND drafts.status = 'approved'))`

// publishedSQL selects the issues readers have had or are getting.
const publishedSQL = `(` + frozenSQL + ` AND NOT ` + awaitingSQL + `)`

// scanIssueRecord reads issueColumns, then any more columns into more.
func scanIssueRecord(sc scanner, more ...any) (digest.IssueRecord, error) {
	var rec digest.IssueRecord
	var start, end, status, created string
	var done sql.NullString
	if err := sc.Scan(append([]any{&rec.ID, &rec.Title, &start, &end, &status, &rec.Articles, &created, &done, &rec.Awaiting}, more...)...); err != nil {
		return rec, err
	}
	rec.Status = digest.IssueStatus(status)
	var err error
	for _, f := range []struct {
		dst *time.Time
		src string
	}{{&rec.Period.Start, start}, {&rec.Period.End, end}, {&rec.Created, created}, {&rec.Done, done.String}} {
		if f.src == "" {
			continue
		}
		if *f.dst, err = parseTime(f.src); err != nil {
			return rec, fmt.Errorf("issue %s: bad time %q", rec.ID, f.src)
		}
	}
	return rec, nil
}

// SaveIssue stores the issue with status open (frozen) or quiet. An issue
// already frozen is never replaced: the first build is the one every rerun
// sends, and SaveIssue reports the stored one's record. A quiet one is
// replaced, since a later run may find the week's articles after all.
//
// When the week has an open draft, the draft as readers get it is frozen
// instead of is, read in the same transaction: an editor's change
// committed before the freeze is in what goes out (a hide is never
// mailed), and one after it finds the draft closed.
func (s *Store) SaveIssue(ctx context.Context, is digest.Issue, status digest.IssueStatus, now time.Time) (digest.IssueRecord, error) {
	tx, err := s.db.BeginTx(ctx, nil) // the write lock at BEGIN orders it with the draft's edits
	if err != nil {
		return digest.IssueRecord{}, fmt.Errorf("store: save issue %s: %w", is.ID, err)
	}
	defer tx.Rollback()
	if d, err := loadDraft(ctx, tx, is.ID); err == nil && d.Status == digest.DraftOpen {
		is = d.Readers()
		is.Version, is.Status = 0, "" // the issue as sent, not a draft
		if status == digest.IssueOpen && is.Count() == 0 {
			status = digest.IssueQuiet // every article hidden: nothing to send
		}
	} else if err != nil && !errors.Is(err, digest.ErrNoDraft) {
		return digest.IssueRecord{}, err
	}
	if err := saveIssue(ctx, tx, is, status, now); err != nil {
		return digest.IssueRecord{}, err
	}
	if err := tx.Commit(); err != nil {
		return digest.IssueRecord{}, fmt.Errorf("store: save issue %s: %w", is.ID, err)
	}
	_, rec, err := s.Issue(ctx, is.ID)
	return rec, err
}

// saveIssue is SaveIssue's write, in q: an approval freezes a draft in the
// transaction that marks it approved.
func saveIssue(ctx context.Context, q querier, is digest.Issue, status digest.IssueStatus, now time.Time) error {
	body, err := json.Marshal(issueBody(is))
	if err != nil {
		return fmt.Errorf("store: issue %s: %w", is.ID, err)
	}
	res, err := q.ExecContext(ctx, `INSERT INTO issues (id, title, period_start, period_end, articles, body, status, created_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)
		ON CONFLICT (id) DO UPDATE SET title = excluded.title, period_start = excluded.period_start,
			period_end = excluded.period_end, articles = excluded.articles, body = excluded.body,
			status = excluded.status, created_at = excluded.created_at
		WHERE issues.status = 'quiet'`,
		is.ID, is.Title, fmtTime(is.Period.Start), fmtTime(is.Period.End), is.Count(), string(body), string(status), fmtTime(now))
	if err != nil {
		return fmt.Errorf("store: save issue %s: %w", is.ID, err)
	}
	// A frozen issue's articles go to the archive's index now, in the
	// same transaction; a row left as it was (already frozen) keeps its.
	if n, _ := res.RowsAffected(); n > 0 && status != digest.IssueQuiet {
		return indexArchive(ctx, q, is)
	}
	return nil
}

// PrepareDeliveries makes sure every active subscriber has a ledger row
// for the issue (someone who joined since the last run gets one now), and
// closes the pending rows of readers who are no longer active. It returns
// how many rows it added and how many it found claimed: sends that died
// mid-message.
func (s *Store) PrepareDeliveries(ctx context.Context, issueID string, now time.Time) (added, inDoubt int, err error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	defer tx.Rollback()
	// "WHERE true" lets SQLite tell the upsert's ON CONFLICT from a join.
	res, err := tx.ExecContext(ctx, `INSERT INTO deliveries (issue_id, subscriber_id, email, status, updated_at)
		SELECT ?, id, email, 'pending', ? FROM subscribers WHERE status = 'active' AND true
		ON CONFLICT (issue_id, subscriber_id) DO NOTHING`, issueID, fmtTime(now))
	if err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	n, _ := res.RowsAffected()
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', updated_at = ?,
			error = 'no longer subscribed when it was sent'
		WHERE issue_id = ? AND status IN ('pending', 'sending')
			AND subscriber_id NOT IN (SELECT id FROM subscribers WHERE status = 'active')`, fmtTime(now), issueID); err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE issue_id = ? AND status = 'sending'`, issueID).Scan(&inDoubt); err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	return int(n), inDoubt, tx.Commit()
}

// PendingDeliveries returns up to limit rows still to send, of active
// subscribers, with subscriber ids above after, in id order: a caller pages
// through a list of any length in constant memory, and no read stays open
// while it writes.
func (s *Store) PendingDeliveries(ctx context.Context, issueID string, after int64, limit int) ([]digest.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.subscriber_id, s.email, s.name, s.themes, s.language, s.articles, d.status, d.attempts, d.error
		FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.issue_id = ? AND d.subscriber_id > ? AND d.status IN ('pending', 'sending') AND s.status = 'active'
		ORDER BY d.subscriber_id LIMIT ?`, issueID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries of %s: %w", issueID, err)
	}
	defer rows.Close()
	out := make([]digest.Delivery, 0, limit)
	for rows.Next() {
		d := digest.Delivery{IssueID: issueID}
		var themes, status string
		if err := rows.Scan(&d.SubscriberID, &d.Email, &d.Name, &themes, &d.Language, &d.Articles, &status, &d.Attempts, &d.Error); err != nil {
			return nil, err
		}
		d.Themes = strings.Fields(themes)
		d.Status = digest.DeliveryStatus(status)
		out = append(out, d)
	}
	return out, rows.Err()
}

// SendBounceSource is the bounces' source of an address the mail server
// refused at RCPT time, during the send.
const SendBounceSource = "smtp"

// UpdateDeliveries applies the updates in one transaction: the send's
// writer groups what its workers report, so a commit serves many messages.
// A bounced address is marked on the subscriber in the same transaction.
func (s *Store) UpdateDeliveries(ctx context.Context, ups []digest.DeliveryUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: ledger: %w", err)
	}
	defer tx.Rollback()
	stmt, err := s.deliveryUpdate(ctx)
	if err != nil {
		return fmt.Errorf("store: ledger: %w", err)
	}
	row := tx.StmtContext(ctx, stmt)
	defer row.Close()
	for _, u := range ups {
		at := fmtTime(u.At)
		attempt := 0
		if u.Attempt {
			attempt = 1
		}
		res, err := row.ExecContext(ctx, string(u.Status), attempt, u.MessageID, u.MessageID, u.Error, at,
			string(u.Status), at, u.IssueID, u.SubscriberID)
		if err != nil {
			return fmt.Errorf("store: ledger: %s to subscriber %d: %w", u.IssueID, u.SubscriberID, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return fmt.Errorf("store: ledger: no row for %s to subscriber %d", u.IssueID, u.SubscriberID)
		}
		if u.Bounced {
			// The reason and date, as a bounce that comes back later gives them.
			reason := subscribers.Bounce{Kind: subscribers.HardBounce, Reason: "refused at send: " + u.Error}.Describe()
			res, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_reason = ?, bounced_at = ?, updated_at = ?
				WHERE id = ? AND status = 'active'`,
				string(subscribers.Bounced), reason, at, at, u.SubscriberID)
			if err != nil {
				return fmt.Errorf("store: ledger: bounce subscriber %d: %w", u.SubscriberID, err)
			}
			// And a bounce of the issue, as a later report would be: the
			// issue's bounce rate and /metrics count it.
			effect := subscribers.EffectNone
			if n, _ := res.RowsAffected(); n == 1 {
				effect = subscribers.EffectBounced
			}
			event := u.MessageID
			if event == "" {
				event = u.IssueID
			}
			if _, err := tx.ExecContext(ctx, `INSERT INTO bounces (source, event_id, subscriber_id, email, issue_id, kind, status,
					reason, matched_by, effect, bounced_at, recorded_at)
				SELECT ?, ?, id, email, ?, ?, '', ?, 'id', ?, ?, ? FROM subscribers WHERE id = ?
				ON CONFLICT (source, event_id, subscriber_id) DO NOTHING`,
				SendBounceSource, event, u.IssueID, string(subscribers.HardBounce), "refused at send: "+u.Error, string(effect),
				at, fmtTime(time.Now()), u.SubscriberID); err != nil {
				return fmt.Errorf("store: ledger: bounce subscriber %d: %w", u.SubscriberID, err)
			}
		}
	}
	return tx.Commit()
}

// deliveryUpdate is UpdateDeliveries' statement, prepared once: a send
// runs it twice a message, and parsing it each time cost more than the
// update itself. database/sql keeps it prepared per connection.
func (s *Store) deliveryUpdate(ctx context.Context) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.updateStmt != nil {
		return s.updateStmt, nil
	}
	stmt, err := s.db.PrepareContext(ctx, `UPDATE deliveries SET status = ?, attempts = attempts + ?,
			message_id = CASE WHEN ? = '' THEN message_id ELSE ? END, error = ?, updated_at = ?,
			sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END
		WHERE issue_id = ? AND subscriber_id = ?`)
	if err != nil {
		return nil, err
	}
	s.updateStmt = stmt
	return stmt, nil
}

// DeliveryCounts counts an issue's ledger rows by status.
func (s *Store) DeliveryCounts(ctx context.Context, issueID string) (digest.DeliveryCounts, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT status, COUNT(*) FROM deliveries WHERE issue_id = ? GROUP BY status`, issueID)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	defer rows.Close()
	out := digest.DeliveryCounts{}
	for rows.Next() {
		var st string
		var n int
		if err := rows.Scan(&st, &n); err != nil {
			return nil, err
		}
		out[digest.DeliveryStatus(st)] = n
	}
	return out, rows.Err()
}

// Deliveries returns up to limit rows of the issue in a status, by
// address: the failures for the run's summary.
func (s *Store) Deliveries(ctx context.Context, issueID string, st digest.DeliveryStatus, limit int) ([]digest.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT d.subscriber_id, d.email, d.status, d.attempts, d.error,
			COALESCE(s.status = 'bounced', false)
		FROM deliveries d LEFT JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.issue_id = ? AND d.status = ? ORDER BY d.email LIMIT ?`, issueID, string(st), limit)
	if err != nil {
		return nil, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	defer rows.Close()
	var out []digest.Delivery
	for rows.Next() {
		d := digest.Delivery{IssueID: issueID}
		var status string
		if err := rows.Scan(&d.SubscriberID, &d.Email, &status, &d.Attempts, &d.Error, &d.Bounced); err != nil {
			return nil, err
		}
		d.Status = digest.DeliveryStatus(status)
		out = append(out, d)
	}
	return out, rows.Err()
}

// FinishIssue marks the issue done once no row is left to send, and
// reports whether it is.
func (s *Store) FinishIssue(ctx context.Context, issueID string, now time.Time) (bool, error) {
	res, err := s.db.ExecContext(ctx, `UPDATE issues SET status = 'done', done_at = ?
		WHERE id = ? AND status = 'open'
			AND NOT EXISTS (SELECT 1 FROM deliveries WHERE issue_id = ? AND status IN ('pending', 'sending'))`,
		fmtTime(now), issueID, issueID)
	if err != nil {
		return false, fmt.Errorf("store: finish issue %s: %w", issueID, err)
	}
	if n, _ := res.RowsAffected(); n == 1 {
		return true, nil
	}
	_, rec, err := s.Issue(ctx, issueID)
	return rec.Status == digest.IssueDone, err
}
