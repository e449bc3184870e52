package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"gull/subscribers"
)

var _ subscribers.BounceRecorder = (*Store)(nil)

// RecordBounce records one bounce or complaint of one reader and applies
// the policy (subscribers.ApplyBounce), in one transaction: the reader it
// names is found (by id, else the original Message-ID in the ledger, else
// the address), the report is kept under its key (Source, EventID, the
// reader), and the reader's status changes when the policy says so. A
// report recorded before changes nothing (EffectDuplicate); one that
// names nobody on the list records nothing (EffectNoReader). With DryRun
// it decides the same and rolls back.
func (s *Store) RecordBounce(ctx context.Context, b subscribers.Bounce) (subscribers.BounceOutcome, error) {
	out := subscribers.BounceOutcome{SoftLimit: b.Limit()}
	if b.Source == "" || b.EventID == "" {
		return out, errors.New("store: a bounce needs its source and event id: they keep a report from counting twice")
	}
	switch b.Kind {
	case subscribers.HardBounce, subscribers.SoftBounce, subscribers.Complaint, subscribers.DelayedBounce:
	default:
		return out, fmt.Errorf("store: unknown bounce kind %q; use hard, soft, complaint or delayed", b.Kind)
	}
	if b.At.IsZero() {
		b.At = time.Now()
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return out, fmt.Errorf("store: record bounce: %w", err)
	}
	defer tx.Rollback()
	sub, how, issue, err := matchBounce(ctx, tx, b)
	if errors.Is(err, subscribers.ErrNotFound) {
		out.Effect = subscribers.EffectNoReader
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("store: record bounce: %w", err)
	}
	out.Subscriber, out.MatchedBy = sub, how
	var seen int
	switch err := tx.QueryRowContext(ctx, `SELECT 1 FROM bounces WHERE source = ? AND event_id = ? AND subscriber_id = ?`,
		b.Source, b.EventID, sub.ID).Scan(&seen); {
	case err == nil:
		out.Effect = subscribers.EffectDuplicate
		return out, nil
	case !errors.Is(err, sql.ErrNoRows):
		return out, fmt.Errorf("store: record bounce: %w", err)
	}
	if issue == "" {
		// A bounce that names only the address is taken for the latest
		// issue the reader was sent: the one that can have bounced.
		if err := tx.QueryRowContext(ctx, `SELECT d.issue_id FROM deliveries d JOIN issues i ON i.id = d.issue_id
			WHERE d.subscriber_id = ? AND d.status = 'sent' ORDER BY i.created_at DESC, i.id DESC LIMIT 1`,
			sub.ID).Scan(&issue); err != nil && !errors.Is(err, sql.ErrNoRows) {
			return out, fmt.Errorf("store: record bounce: %w", err)
		}
	}
	out.IssueID = issue
	if b.Kind == subscribers.SoftBounce {
		if out.SoftCount, err = softStreak(ctx, tx, sub, issue, b.At); err != nil {
			return out, fmt.Errorf("store: record bounce: %w", err)
		}
	}
	after, effect := subscribers.ApplyBounce(sub, b, out.SoftCount)
	out.Effect = effect
	if _, err := tx.ExecContext(ctx, `INSERT INTO bounces (source, event_id, subscriber_id, email, issue_id, kind, status,
			reason, matched_by, effect, bounced_at, recorded_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (source, event_id, subscriber_id) DO NOTHING`,
		b.Source, b.EventID, sub.ID, sub.Email, issue, string(b.Kind), b.Status, b.Reason, how, string(effect),
		fmtTime(b.At), fmtTime(time.Now())); err != nil {
		return out, fmt.Errorf("store: record bounce: %w", err)
	}
	if effect == subscribers.EffectBounced || effect == subscribers.EffectUnsubscribed {
		after.Updated = b.At
		if err := update(ctx, tx, after); err != nil {
			return out, err
		}
	}
	out.Subscriber = after
	if b.DryRun {
		return out, nil // rolled back
	}
	return out, tx.Commit()
}

// matchBounce finds the reader a bounce names, most certain first, and
// the issue when that says it.
func matchBounce(ctx context.Context, q querier, b subscribers.Bounce) (sub subscribers.Subscriber, how, issue string, err error) {
	if b.SubscriberID > 0 {
		sub, err = scanSubscriber(q.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, b.SubscriberID))
		if err == nil {
			return sub, "id", b.IssueID, nil
		}
		if !errors.Is(err, subscribers.ErrNotFound) {
			return sub, "", "", err
		}
	}
	// The ledger keeps deliver's Message-ID without its angle brackets
	// (an older row, or another sender's, may have them).
	if mid := strings.Trim(strings.TrimSpace(b.MessageID), "<>"); mid != "" {
		var id int64
		switch err := q.QueryRowContext(ctx, `SELECT subscriber_id, issue_id FROM deliveries WHERE message_id IN (?, ?) LIMIT 1`,
			mid, "<"+mid+">").Scan(&id, &issue); {
		case err == nil:
			sub, err = scanSubscriber(q.QueryRowContext(ctx, `SELECT `+subscriberColumns+` FROM subscribers WHERE id = ?`, id))
			if err == nil {
				return sub, "message-id", issue, nil
			}
			if !errors.Is(err, subscribers.ErrNotFound) {
				return sub, "", "", err
			}
		case !errors.Is(err, sql.ErrNoRows):
			return sub, "", "", err
		}
	}
	if b.Email != "" {
		sub, err = byEmail(ctx, q, b.Email)
		return sub, "address", b.IssueID, err
	}
	return sub, "", "", subscribers.ErrNotFound
}

// softStreak counts the reader's soft bounces in a row, across issues,
// with one for issue at at: each issue counts once, newest first, back to
// the latest issue the reader was sent that did not bounce (a delivery
// resets the count). Bounces from before the reader last confirmed count
// no more: they came back, by signing up, as a new start.
func softStreak(ctx context.Context, q querier, sub subscribers.Subscriber, issue string, at time.Time) (int, error) {
	type mark struct {
		id, order     string // order: when the issue was frozen, else the bounce's time
		soft, bounced bool
		sent          bool
	}
	marks := map[string]*mark{}
	get := func(id, order string) *mark {
		m := marks[id]
		if m == nil {
			m = &mark{id: id, order: order}
			marks[id] = m
		}
		return m
	}
	since := ""
	if !sub.Confirmed.IsZero() {
		since = fmtTime(sub.Confirmed)
	}
	rows, err := q.QueryContext(ctx, `SELECT b.issue_id, b.kind, COALESCE(i.created_at, b.bounced_at)
		FROM bounces b LEFT JOIN issues i ON i.id = b.issue_id
		WHERE b.subscriber_id = ? AND b.kind IN ('hard', 'soft', 'complaint') AND b.bounced_at >= ?`, sub.ID, since)
	if err != nil {
		return 0, err
	}
	for rows.Next() {
		var id, kind, order string
		if err := rows.Scan(&id, &kind, &order); err != nil {
			rows.Close()
			return 0, err
		}
		m := get(id, order)
		m.bounced = true
		m.soft = m.soft || kind == string(subscribers.SoftBounce)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return 0, err
	}
	order := fmtTime(at)
	if err := q.QueryRowContext(ctx, `SELECT created_at FROM issues WHERE id = ?`, issue).Scan(&order); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	m := get(issue, order)
	m.soft, m.bounced = true, true
	rows, err = q.QueryContext(ctx, `SELECT d.issue_id, i.created_at FROM deliveries d JOIN issues i ON i.id = d.issue_id
		WHERE d.subscriber_id = ? AND d.status = 'sent'`, sub.ID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, order string
		if err := rows.Scan(&id, &order); err != nil {
			return 0, err
		}
		get(id, order).sent = true
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	all := make([]*mark, 0, len(marks))
	for _, m := range marks {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *mark) int { // newest first
		if c := strings.Compare(b.order, a.order); c != 0 {
			return c
		}
		return strings.Compare(b.id, a.id)
	})
	n := 0
	for _, m := range all {
		switch {
		case m.soft:
			n++
		case m.sent && !m.bounced:
			return n, nil // delivered: the streak before it is over
		}
	}
	return n, nil
}

// BounceCounts is what came back of one issue: the readers it was sent
// to, and of them those with a hard or soft bounce and those who
// complained (each reader once per kind).
type BounceCounts struct {
	IssueID                string
	Sent, Hard, Soft, Spam int
}

// BounceRate is the share of the issue's readers whose copy bounced for
// good (hard), the figure relays suspend accounts on.
func (c BounceCounts) BounceRate() float64 { return rate(c.Hard, c.Sent) }

// ComplaintRate is the share of the issue's readers who complained.
func (c BounceCounts) ComplaintRate() float64 { return rate(c.Spam, c.Sent) }

func rate(n, of int) float64 {
	if of == 0 {
		return 0
	}
	return float64(n) / float64(of)
}

// LastIssueBounces counts what came back of the latest issue sent before
// the issue called current (frozen before it; "" for the latest of all):
// its bounces and complaints have had the time to arrive. ok is false
// when there is none.
func (s *Store) LastIssueBounces(ctx context.Context, current string) (c BounceCounts, ok bool, err error) {
	q := `SELECT id FROM issues WHERE status IN ('open', 'done') AND id <> ?
		AND EXISTS (SELECT 1 FROM deliveries d WHERE d.issue_id = issues.id AND d.status = 'sent')`
	args := []any{current}
	if current != "" {
		q += ` AND created_at <= COALESCE((SELECT created_at FROM issues WHERE id = ?), created_at)`
		args = append(args, current)
	}
	err = s.db.QueryRowContext(ctx, q+` ORDER BY created_at DESC, id DESC LIMIT 1`, args...).Scan(&c.IssueID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, false, nil
	}
	if err != nil {
		return c, false, fmt.Errorf("store: bounces of the last issue: %w", err)
	}
	err = s.db.QueryRowContext(ctx, `SELECT
			(SELECT COUNT(*) FROM deliveries WHERE issue_id = ? AND status = 'sent'),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'hard'),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'soft'),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'complaint')`,
		c.IssueID, c.IssueID, c.IssueID, c.IssueID).Scan(&c.Sent, &c.Hard, &c.Soft, &c.Spam)
	if err != nil {
		return c, false, fmt.Errorf("store: bounces of issue %s: %w", c.IssueID, err)
	}
	return c, true, nil
}
