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
// names nobody on the list records nothing (EffectNoReader), nor one of
// a reader the ledger sent no copy it can be about (EffectNotSent). With
// DryRun it decides the same and rolls back.
func (s *Store) RecordBounce(ctx context.Context, b subscribers.Bounce) (subscribers.BounceOutcome, error) {
	if err := checkBounce(b); err != nil {
		return subscribers.BounceOutcome{SoftLimit: b.Limit()}, err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return subscribers.BounceOutcome{SoftLimit: b.Limit()}, fmt.Errorf("store: record bounce: %w", err)
	}
	defer tx.Rollback()
	out, err := recordBounce(ctx, tx, b)
	if err != nil || b.DryRun {
		return out, err // a dry run is rolled back
	}
	return out, tx.Commit()
}

// BounceRehearsal is a dry run of many bounces in one transaction that is
// rolled back at the end (Close): each report sees what the ones before
// it would have done, so `bounces check --dry-run` says what the check
// would (three hard bounces of one reader mark them once, soft bounces of
// one check add up).
type BounceRehearsal struct{ tx *sql.Tx }

var _ subscribers.BounceRecorder = (*BounceRehearsal)(nil)

// RehearseBounces begins a rehearsal. Close it: it holds the store's
// write transaction until then.
func (s *Store) RehearseBounces(ctx context.Context) (*BounceRehearsal, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: bounces dry run: %w", err)
	}
	return &BounceRehearsal{tx: tx}, nil
}

// RecordBounce decides b as Store.RecordBounce does, in the rehearsal.
func (r *BounceRehearsal) RecordBounce(ctx context.Context, b subscribers.Bounce) (subscribers.BounceOutcome, error) {
	if err := checkBounce(b); err != nil {
		return subscribers.BounceOutcome{SoftLimit: b.Limit()}, err
	}
	return recordBounce(ctx, r.tx, b)
}

// Close ends the rehearsal: nothing it recorded is kept.
func (r *BounceRehearsal) Close() error {
	if err := r.tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return err
	}
	return nil
}

func checkBounce(b subscribers.Bounce) error {
	if b.Source == "" || b.EventID == "" {
		return errors.New("store: a bounce needs its source and event id: they keep a report from counting twice")
	}
	switch b.Kind {
	case subscribers.HardBounce, subscribers.SoftBounce, subscribers.Complaint, subscribers.DelayedBounce:
		return nil
	}
	return fmt.Errorf("store: unknown bounce kind %q; use hard, soft, complaint or delayed", b.Kind)
}

// Bounces of a copy whose issue the report does not name (an address
// alone) are taken for the latest copy sent to the reader within
// bounceWindow: a report of an older one says nothing of the address now.
const bounceWindow = 30 * 24 * time.Hour

// deliveryGrace is how long after an issue was sent its silence starts to
// mean it was delivered: a relay retries a soft failure for days before it
// bounces (Postfix's maximal_queue_lifetime is 5 days), so the bounce of
// one issue often comes after the next went out, and that next issue,
// not bounced yet, is no proof the address works.
const deliveryGrace = 5 * 24 * time.Hour

func recordBounce(ctx context.Context, tx *sql.Tx, b subscribers.Bounce) (subscribers.BounceOutcome, error) {
	out := subscribers.BounceOutcome{SoftLimit: b.Limit()}
	received := b.Received
	if received.IsZero() {
		received = time.Now()
	}
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
	// Only a copy gull sent can bounce: the issue's named, or the latest
	// sent lately. Anyone can mail the bounce mailbox an address.
	issue, sentAt, err := sentCopy(ctx, tx, sub.ID, issue, received)
	if errors.Is(err, sql.ErrNoRows) {
		out.Effect = subscribers.EffectNotSent
		return out, nil
	}
	if err != nil {
		return out, fmt.Errorf("store: record bounce: %w", err)
	}
	out.IssueID = issue
	// The report's own Date says when; it can be neither before the copy
	// left nor after it came.
	if b.At.IsZero() || b.At.After(received) {
		b.At = received
	}
	if b.At.Before(sentAt) {
		b.At = sentAt
	}
	// A copy sent before the reader last confirmed bounced an address they
	// have since proved works: recorded, nothing changed.
	stale := !sub.Confirmed.IsZero() && sentAt.Before(sub.Confirmed)
	after, effect := sub, subscribers.EffectStale
	if !stale {
		if b.Kind == subscribers.SoftBounce {
			if out.SoftCount, err = softStreak(ctx, tx, sub, issue, received); err != nil {
				return out, fmt.Errorf("store: record bounce: %w", err)
			}
		}
		after, effect = subscribers.ApplyBounce(sub, b, out.SoftCount)
	}
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
	return out, nil
}

// sentCopy is the copy a bounce is about: the reader's sent delivery of
// issue, or when issue is "" the latest sent within bounceWindow before
// received; sql.ErrNoRows when there is none.
func sentCopy(ctx context.Context, q querier, subscriberID int64, issue string, received time.Time) (string, time.Time, error) {
	var at sql.NullString
	var err error
	if issue != "" {
		err = q.QueryRowContext(ctx, `SELECT issue_id, sent_at FROM deliveries
			WHERE subscriber_id = ? AND issue_id = ? AND status = 'sent'`, subscriberID, issue).Scan(&issue, &at)
	} else {
		err = q.QueryRowContext(ctx, `SELECT issue_id, sent_at FROM deliveries
			WHERE subscriber_id = ? AND status = 'sent' AND sent_at >= ? AND sent_at <= ?
			ORDER BY sent_at DESC, issue_id DESC LIMIT 1`,
			subscriberID, fmtTime(received.Add(-bounceWindow)), fmtTime(received)).Scan(&issue, &at)
	}
	if err != nil {
		return "", time.Time{}, err
	}
	var sent time.Time
	if at.Valid {
		if sent, err = parseTime(at.String); err != nil {
			return "", time.Time{}, err
		}
	}
	return issue, sent, nil
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
// with one for issue: the run of soft-bounced issues that holds it, back
// and forth from it, each issue once, in the order they were frozen. An
// issue sent and not bounced ends the run once deliveryGrace has passed
// since it went out (by received, when the report came); before that its
// bounce may still be on its way, and it neither counts nor ends the run.
// Bounces from before the reader last confirmed count no more: they came
// back, by signing up, as a new start; nor do stale ones (of a copy sent
// before that).
func softStreak(ctx context.Context, q querier, sub subscribers.Subscriber, issue string, received time.Time) (int, error) {
	type mark struct {
		id, order     string // order: when the issue was frozen, else the bounce's time
		soft, bounced bool
		sent          string // when the copy was sent, "" when it was not
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
		WHERE b.subscriber_id = ? AND b.kind IN ('hard', 'soft', 'complaint') AND b.bounced_at >= ? AND b.effect <> ?`,
		sub.ID, since, string(subscribers.EffectStale))
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
	order := fmtTime(received)
	if err := q.QueryRowContext(ctx, `SELECT created_at FROM issues WHERE id = ?`, issue).Scan(&order); err != nil && !errors.Is(err, sql.ErrNoRows) {
		return 0, err
	}
	m := get(issue, order)
	m.soft, m.bounced = true, true
	rows, err = q.QueryContext(ctx, `SELECT d.issue_id, i.created_at, COALESCE(d.sent_at, i.created_at)
		FROM deliveries d JOIN issues i ON i.id = d.issue_id
		WHERE d.subscriber_id = ? AND d.status = 'sent'`, sub.ID)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	for rows.Next() {
		var id, order, sent string
		if err := rows.Scan(&id, &order, &sent); err != nil {
			return 0, err
		}
		get(id, order).sent = sent
	}
	if err := rows.Err(); err != nil {
		return 0, err
	}
	all := make([]*mark, 0, len(marks))
	for _, m := range marks {
		all = append(all, m)
	}
	slices.SortFunc(all, func(a, b *mark) int { // oldest first
		if c := strings.Compare(a.order, b.order); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	delivered := fmtTime(received.Add(-deliveryGrace))
	at := slices.Index(all, m)
	n := 1
	// count walks from the bounced issue by step; it stops at the first
	// issue that was surely delivered.
	count := func(step int) {
		for i := at + step; i >= 0 && i < len(all); i += step {
			switch m := all[i]; {
			case m.soft:
				n++
			case m.sent != "" && !m.bounced && m.sent <= delivered:
				return
			}
		}
	}
	count(-1)
	count(+1)
	return n, nil
}

// BounceCounts is what came back of one issue: the readers it was sent
// to (the mail server took it, or refused the address at RCPT time), and
// of them those with a hard or soft bounce and those who complained
// (each reader once per kind).
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
			(SELECT COUNT(*) FROM deliveries WHERE issue_id = ? AND (status = 'sent'
				OR subscriber_id IN (SELECT subscriber_id FROM bounces WHERE issue_id = deliveries.issue_id AND source = ?))),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'hard'),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'soft'),
			(SELECT COUNT(DISTINCT subscriber_id) FROM bounces WHERE issue_id = ? AND kind = 'complaint')`,
		c.IssueID, SendBounceSource, c.IssueID, c.IssueID, c.IssueID).Scan(&c.Sent, &c.Hard, &c.Soft, &c.Spam)
	if err != nil {
		return c, false, fmt.Errorf("store: bounces of issue %s: %w", c.IssueID, err)
	}
	return c, true, nil
}
