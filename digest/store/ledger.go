package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

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
	return s.publishedIssues(ctx, 0, limit)
}

// publishedIssues is a page of the published issues, newest first, with
// their numbers: Issues' first limit, the archive's IssuesPage.
func (s *Store) publishedIssues(ctx context.Context, offset, limit int) ([]digest.IssueRecord, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+issueColumns+`, `+numberSQL+` FROM issues
		WHERE `+publishedSQL+` ORDER BY period_end DESC, id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
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
// closes the pending rows of readers who are no longer active (but for
// rows another sender holds now: it sends or leaves them). It returns how
// many rows it added and how many it found in doubt: left sending by a
// send that died mid-message, and held by no live sender.
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
	// NOT EXISTS, not NOT IN: PostgreSQL runs NOT IN over a list longer
	// than work_mem as a scan of the list per row (a 1M list took hours).
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET status = 'skipped', updated_at = ?,
			error = 'no longer subscribed when it was sent'
		WHERE issue_id = ? AND status IN ('pending', 'sending') AND `+claimFreeSQL+`
			AND NOT EXISTS (SELECT 1 FROM subscribers s WHERE s.id = deliveries.subscriber_id AND s.status = 'active')`, fmtTime(now), issueID, fmtTime(now)); err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	// In doubt: left sending by a sender that is gone (no claim, or a
	// lapsed one). A row another sender holds is on its wire now.
	if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries WHERE issue_id = ? AND status = 'sending'
		AND `+claimFreeSQL, issueID, fmtTime(now)).Scan(&inDoubt); err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	if err := tx.Commit(); err != nil {
		return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
	}
	// PostgreSQL plans the claims from the table's statistics: taken
	// while the ledger was empty, they make it scan a long list whole for
	// each batch (a million rows: 40 messages/s instead of a thousand)
	// until autovacuum's analysis comes round. A big prepare refreshes
	// them at once.
	if s.pg && n >= 10000 {
		if _, err := s.db.ExecContext(ctx, `ANALYZE deliveries`); err != nil {
			return 0, 0, fmt.Errorf("store: deliveries of %s: %w", issueID, err)
		}
	}
	return int(n), inDoubt, nil
}

// PendingDeliveries returns up to limit rows still to send, of active
// subscribers, with subscriber ids above after, in id order: a caller pages
// through a list of any length in constant memory, and no read stays open
// while it writes.
func (s *Store) PendingDeliveries(ctx context.Context, issueID string, after int64, limit int) ([]digest.Delivery, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT `+openColumns+openFrom+`AND d.subscriber_id > ?
		ORDER BY d.subscriber_id LIMIT ?`, issueID, after, limit)
	if err != nil {
		return nil, fmt.Errorf("store: pending deliveries of %s: %w", issueID, err)
	}
	return scanOpen(rows, issueID, limit)
}

// openColumns and openFrom read the rows still to send, with what the
// message needs of their reader.
const (
	openColumns = `d.subscriber_id, s.email, s.name, s.themes, s.language, s.articles, d.status, d.attempts, d.error`
	openFrom    = ` FROM deliveries d JOIN subscribers s ON s.id = d.subscriber_id
		WHERE d.issue_id = ? AND d.status IN ('pending', 'sending') AND s.status = 'active' `
)

// claimFreeSQL: the row is held by no live claim (never claimed, given
// back, or its sender's claim lapsed); its one argument is now.
const claimFreeSQL = `(claimed_by = '' OR claim_expires < ?)`

func scanOpen(rows *sql.Rows, issueID string, limit int) ([]digest.Delivery, error) {
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

// ClaimDeliveries claims for owner, until until, up to limit rows still
// to send that no live claim holds, in subscriber order, and returns them:
// a row left sending comes back in doubt. On PostgreSQL several senders
// claim at once: the rows are locked with FOR UPDATE SKIP LOCKED (a row
// another sender is claiming is passed over, not waited for), and the
// transaction does not take the store's write lock, so claims and marks of
// different senders never queue behind each other.
func (s *Store) ClaimDeliveries(ctx context.Context, issueID, owner string, now, until time.Time, limit int) ([]digest.Delivery, error) {
	fail := func(err error) ([]digest.Delivery, error) {
		return nil, fmt.Errorf("store: claim deliveries of %s: %w", issueID, err)
	}
	tx, err := s.db.beginRowLocked(ctx)
	if err != nil {
		return fail(err)
	}
	defer tx.Rollback()
	skew, err := s.skew(ctx, tx)
	if err != nil {
		return fail(err)
	}
	now, until = now.Add(skew), until.Add(skew)
	q := `SELECT ` + openColumns + openFrom + `AND ` + claimFreeSQL + ` ORDER BY d.subscriber_id LIMIT ?`
	if s.pg {
		q += ` FOR UPDATE OF d SKIP LOCKED`
	}
	rows, err := tx.QueryContext(ctx, q, issueID, fmtTime(now), limit)
	if err != nil {
		return fail(err)
	}
	out, err := scanOpen(rows, issueID, limit)
	if err != nil || len(out) == 0 {
		if err != nil {
			return fail(err)
		}
		return out, nil
	}
	args := []any{owner, fmtTime(until), issueID}
	for _, d := range out {
		args = append(args, d.SubscriberID)
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(out)), ", ")
	if _, err := tx.ExecContext(ctx, `UPDATE deliveries SET claimed_by = ?, claim_expires = ?, claim_parked = 0
		WHERE issue_id = ? AND subscriber_id IN (`+marks+`)`, args...); err != nil {
		return fail(err)
	}
	if err := tx.Commit(); err != nil {
		return fail(err)
	}
	return out, nil
}

// RenewClaims extends owner's claims on the issue's rows still to send
// until until, and says how many it holds.
func (s *Store) RenewClaims(ctx context.Context, issueID, owner string, until time.Time) (int, error) {
	skew, err := s.skew(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: renew claims on %s: %w", issueID, err)
	}
	until = until.Add(skew)
	res, err := s.db.ExecContext(ctx, `UPDATE deliveries SET claim_expires = ?
		WHERE issue_id = ? AND claimed_by = ? AND status IN ('pending', 'sending')`, fmtTime(until), issueID, owner)
	if err != nil {
		return 0, fmt.Errorf("store: renew claims on %s: %w", issueID, err)
	}
	n, _ := res.RowsAffected()
	return int(n), nil
}

// ReleaseClaims gives back owner's claims on the issue's pending rows: a
// stopping sender returns what it did not start to the pool at once. Its
// rows left sending (in doubt: no answer came) keep the claim until it
// lapses, so no other sender mails them again at once. An owner of ""
// releases every claim, in doubt too: a sender that runs alone (SQLite's,
// under the store's send lease) voids those of runs that ended or died,
// and sends their rows in doubt again, as the next run always has.
func (s *Store) ReleaseClaims(ctx context.Context, issueID, owner string) error {
	if _, err := s.db.ExecContext(ctx, `UPDATE deliveries SET claimed_by = '', claim_expires = '', claim_parked = 0
		WHERE issue_id = ? AND status IN ('pending', 'sending') AND claimed_by <> ''
			AND ((claimed_by = ? AND status = 'pending') OR ? = '')`,
		issueID, owner, owner); err != nil {
		return fmt.Errorf("store: release claims on %s: %w", issueID, err)
	}
	return nil
}

// ClaimedElsewhere counts the issue's rows still to send that other
// senders hold and are still working on (live claims, not parked): a
// sender with nothing left to claim waits for them, since a sender that
// dies leaves them to the others once its claim lapses.
func (s *Store) ClaimedElsewhere(ctx context.Context, issueID, owner string, now time.Time) (int, error) {
	skew, err := s.skew(ctx, s.db)
	if err != nil {
		return 0, fmt.Errorf("store: claims on %s: %w", issueID, err)
	}
	now = now.Add(skew)
	var n int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM deliveries
		WHERE issue_id = ? AND status IN ('pending', 'sending') AND claimed_by <> '' AND claimed_by <> ?
			AND claim_expires >= ? AND claim_parked = 0`, issueID, owner, fmtTime(now)).Scan(&n); err != nil {
		return 0, fmt.Errorf("store: claims on %s: %w", issueID, err)
	}
	return n, nil
}

// ClaimsLostError says that claims (the rows' sending marks) were not
// written because our claims on those rows lapsed (and another sender
// may hold them now). The batch's other updates were committed.
type ClaimsLostError struct {
	IssueID       string
	SubscriberIDs []int64
}

func (e *ClaimsLostError) Error() string {
	return fmt.Sprintf("store: ledger: the claims on %d rows of %s lapsed (another sender may hold them now)", len(e.SubscriberIDs), e.IssueID)
}

// LostClaims lists the rows whose claims were not written.
func (e *ClaimsLostError) LostClaims() []int64 { return e.SubscriberIDs }

// UpdateDeliveries applies the updates in one transaction: the send's
// writer groups what its workers report, so a commit serves many messages.
// A bounced address is marked on the subscriber in the same transaction.
// An update with an Owner applies only while that sender holds the row (a
// sent mark always does: the message went). A claim (the sending mark
// written before the SMTP transaction) applies only while that sender's
// claim is live, and extends it by ClaimFor: a sender whose claim lapsed
// may find its rows taken by another that mails them, so it must not
// start them itself. A claim refused comes back in a *ClaimsLostError,
// the rest committed.
//
// On PostgreSQL it takes no store-wide write lock, only the rows' own:
// senders hold disjoint rows, so their commits run side by side. A batch
// that marks a subscriber bounced takes the write lock, as every other
// change of a subscriber does.
func (s *Store) UpdateDeliveries(ctx context.Context, ups []digest.DeliveryUpdate) error {
	if len(ups) == 0 {
		return nil
	}
	// A claim is checked by the store's clock (skew), not by At, the
	// date the sender records (a caller's, which may be fixed).
	var live time.Time
	if slices.ContainsFunc(ups, func(u digest.DeliveryUpdate) bool { return u.Attempt && u.Owner != "" }) {
		skew, err := s.skew(ctx, s.db)
		if err != nil {
			return fmt.Errorf("store: ledger: %w", err)
		}
		live = s.processNow().Add(skew)
	}
	apply := s.updateInTx
	if s.pg && !slices.ContainsFunc(ups, func(u digest.DeliveryUpdate) bool { return u.Bounced }) {
		apply = s.updateInBatch
	}
	affected, err := apply(ctx, ups, live)
	if err != nil {
		return fmt.Errorf("store: ledger: %w", err)
	}
	var lost []int64
	for i, u := range ups {
		if affected[i] == 1 {
			continue
		}
		if u.Owner == "" {
			return fmt.Errorf("store: ledger: no row for %s to subscriber %d", u.IssueID, u.SubscriberID)
		}
		if u.Attempt {
			lost = append(lost, u.SubscriberID)
		}
		// A mark of a row another sender holds now is that sender's.
	}
	if len(lost) > 0 {
		return &ClaimsLostError{IssueID: ups[0].IssueID, SubscriberIDs: lost}
	}
	return nil
}

// deliveryUpdateSQL moves one ledger row (updateArgs). A bounce (5.1.x)
// marks the subscriber as well, whoever holds the row. An owner's claim
// (attempt 1) needs its claim live at the store's now, and extends it.
const (
	deliveryUpdateSQL = `UPDATE deliveries SET status = ?, attempts = attempts + ?,
			message_id = CASE WHEN ? = '' THEN message_id ELSE ? END, error = ?, updated_at = ?,
			sent_at = CASE WHEN ? = 'sent' THEN ? ELSE sent_at END, claim_parked = ?,
			claim_expires = CASE WHEN ? = '' THEN claim_expires ELSE ? END
		WHERE issue_id = ? AND subscriber_id = ?
			AND (? = '' OR ? = 'sent' OR (claimed_by = ? AND (? = 0 OR claim_expires >= ?)))`
)

// updateArgs are u's arguments of deliveryUpdateSQL; live is the store's
// now, which a claim is checked and extended by.
func updateArgs(u digest.DeliveryUpdate, live time.Time) []any {
	at := fmtTime(u.At)
	attempt, park := 0, 0
	if u.Attempt {
		attempt = 1
	}
	if u.Park {
		park = 1
	}
	until := ""
	if u.Attempt && u.Owner != "" && u.ClaimFor > 0 {
		until = fmtTime(live.Add(u.ClaimFor))
	}
	return []any{string(u.Status), attempt, u.MessageID, u.MessageID, u.Error, at,
		string(u.Status), at, park, until, until, u.IssueID, u.SubscriberID,
		u.Owner, string(u.Status), u.Owner, attempt, fmtTime(live)}
}

// updateInTx applies the updates in one transaction and returns the rows
// each changed: always on SQLite, and on PostgreSQL for a batch that marks
// a subscriber bounced (bounceAtSend reads what its update changed).
func (s *Store) updateInTx(ctx context.Context, ups []digest.DeliveryUpdate, live time.Time) ([]int64, error) {
	tx, err := s.db.beginRowLocked(ctx)
	if err != nil {
		return nil, err
	}
	defer tx.Rollback()
	if s.pg {
		// Only a batch that marks a subscriber bounced comes here on
		// PostgreSQL: a change of a subscriber, under the write lock.
		if err := s.takeWriteLock(ctx, tx); err != nil {
			return nil, err
		}
	}
	stmt, err := s.deliveryUpdate(ctx)
	if err != nil {
		return nil, err
	}
	row := tx.StmtContext(ctx, stmt)
	defer row.Close()
	affected := make([]int64, len(ups))
	for i, u := range ups {
		res, err := row.ExecContext(ctx, updateArgs(u, live)...)
		if err != nil {
			return nil, fmt.Errorf("%s to subscriber %d: %w", u.IssueID, u.SubscriberID, err)
		}
		affected[i], _ = res.RowsAffected()
		if u.Bounced {
			if err := bounceAtSend(ctx, tx, u); err != nil {
				return nil, err
			}
		}
	}
	return affected, tx.Commit()
}

// bounceAtSend marks u's subscriber bounced (an address the mail server
// refused at RCPT time) with the reason and date a bounce that comes back
// later gives, and records it as a bounce of the issue, as a later report
// would be: the issue's bounce rate and /metrics count it.
func bounceAtSend(ctx context.Context, tx *sql.Tx, u digest.DeliveryUpdate) error {
	at := fmtTime(u.At)
	reason := subscribers.Bounce{Kind: subscribers.HardBounce, Reason: "refused at send: " + u.Error}.Describe()
	res, err := tx.ExecContext(ctx, `UPDATE subscribers SET status = ?, status_reason = ?, bounced_at = ?, updated_at = ?
		WHERE id = ? AND status = 'active'`,
		string(subscribers.Bounced), reason, at, at, u.SubscriberID)
	if err != nil {
		return fmt.Errorf("bounce subscriber %d: %w", u.SubscriberID, err)
	}
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
		return fmt.Errorf("bounce subscriber %d: %w", u.SubscriberID, err)
	}
	return nil
}

// updateInBatch is updateInTx on PostgreSQL, in one round trip: the
// statements go as one pgx batch, which the server runs as one implicit
// transaction (all or nothing). A statement a round trip made the
// ledger's writer, and so the send, wait on the network twice a message.
// It takes no store-wide write lock (the rows' own are enough: senders
// hold disjoint rows); a batch that marks a subscriber bounced goes
// through updateInTx instead.
func (s *Store) updateInBatch(ctx context.Context, ups []digest.DeliveryUpdate, live time.Time) ([]int64, error) {
	conn, err := s.db.Conn(ctx)
	if err != nil {
		return nil, err
	}
	defer conn.Close()
	affected := make([]int64, len(ups))
	err = conn.Raw(func(dc any) error {
		pc := dc.(pgConn).Conn.Conn()
		b := &pgx.Batch{}
		for _, u := range ups {
			b.Queue(pgSQL(deliveryUpdateSQL), updateArgs(u, live)...)
		}
		br := pc.SendBatch(ctx, b)
		for i, u := range ups {
			tag, err := br.Exec()
			if err != nil {
				br.Close()
				return fmt.Errorf("%s to subscriber %d: %w", u.IssueID, u.SubscriberID, err)
			}
			affected[i] = tag.RowsAffected()
		}
		return br.Close()
	})
	return affected, err
}

// deliveryUpdate is deliveryUpdateSQL prepared once: a send runs it twice
// a message, and parsing it each time cost more than the update itself.
// database/sql keeps it prepared per connection.
func (s *Store) deliveryUpdate(ctx context.Context) (*sql.Stmt, error) {
	s.stmtMu.Lock()
	defer s.stmtMu.Unlock()
	if s.updateStmt != nil {
		return s.updateStmt, nil
	}
	stmt, err := s.db.PrepareContext(ctx, deliveryUpdateSQL)
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
