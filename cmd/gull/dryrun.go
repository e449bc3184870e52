package main

import (
	"context"
	"sort"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/store"
	"gull/subscribers"
)

// dryLedger is the send ledger in memory, for `send --all --dry-run`: the
// run goes through the same protocol (and writes every reader's .eml), but
// the store's ledger is untouched, so the real send still mails everyone.
type dryLedger struct {
	mu   sync.Mutex
	rows []digest.Delivery // by subscriber id
	at   map[int64]int
}

func newDryLedger(ctx context.Context, st *store.Store, issueID string) (*dryLedger, error) {
	subs, err := st.ListSubscribers(ctx, subscribers.Active)
	if err != nil {
		return nil, err
	}
	l := &dryLedger{at: map[int64]int{}}
	for _, s := range subs {
		l.rows = append(l.rows, digest.Delivery{IssueID: issueID, SubscriberID: s.ID, Email: s.Email, Name: s.Name,
			Themes: s.Themes, Status: digest.DeliveryPending})
	}
	sort.Slice(l.rows, func(i, j int) bool { return l.rows[i].SubscriberID < l.rows[j].SubscriberID })
	for i, d := range l.rows {
		l.at[d.SubscriberID] = i
	}
	return l, nil
}

func (l *dryLedger) PrepareDeliveries(context.Context, string, time.Time) (int, int, error) {
	return 0, 0, nil
}

func (l *dryLedger) PendingDeliveries(_ context.Context, _ string, after int64, limit int) ([]digest.Delivery, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := sort.Search(len(l.rows), func(i int) bool { return l.rows[i].SubscriberID > after })
	var out []digest.Delivery
	for ; i < len(l.rows) && len(out) < limit; i++ {
		if d := l.rows[i]; d.Status == digest.DeliveryPending || d.Status == digest.DeliverySending {
			out = append(out, d)
		}
	}
	return out, nil
}

func (l *dryLedger) UpdateDeliveries(_ context.Context, ups []digest.DeliveryUpdate) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, u := range ups {
		d := &l.rows[l.at[u.SubscriberID]]
		d.Status, d.Error = u.Status, u.Error
		if u.Attempt {
			d.Attempts++
		}
	}
	return nil
}

func (l *dryLedger) DeliveryCounts(context.Context, string) (digest.DeliveryCounts, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := digest.DeliveryCounts{}
	for _, d := range l.rows {
		c[d.Status]++
	}
	return c, nil
}

func (l *dryLedger) Deliveries(_ context.Context, _ string, st digest.DeliveryStatus, limit int) ([]digest.Delivery, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []digest.Delivery
	for _, d := range l.rows {
		if d.Status == st && len(out) < limit {
			out = append(out, d)
		}
	}
	return out, nil
}

// FinishIssue and MarkMailed record nothing: a dry run mails nobody.
func (l *dryLedger) FinishIssue(context.Context, string, time.Time) (bool, error) { return false, nil }

func (l *dryLedger) MarkMailed(context.Context, string, []digest.Article, time.Time) error {
	return nil
}
