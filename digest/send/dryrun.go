package send

import (
	"context"
	"math"
	"sort"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/store"
	"gull/subscribers"
)

// dryLedger is the send ledger in memory, for `send --all --dry-run`: a
// copy of the store's ledger for the issue, so the dry run goes through
// the same protocol as the real one (and writes the .eml of every reader
// the real run would mail, no more), while the store is left untouched.
type dryLedger struct {
	mu   sync.Mutex
	rows []digest.Delivery // by subscriber id
	at   map[int64]int
	// added and inDoubt are what the real PrepareDeliveries would report.
	added, inDoubt int
	next           int // the first row not yet claimed
}

// newDryLedger reads the issue's ledger and makes of it what the real
// run's PrepareDeliveries would: rows already there keep their status
// (those who have the issue are not mailed again), active subscribers
// without a row are added as pending, and the pending rows of readers who
// left are skipped.
func newDryLedger(ctx context.Context, st *store.Store, issueID string) (*dryLedger, error) {
	subs, err := st.ListSubscribers(ctx, subscribers.Active)
	if err != nil {
		return nil, err
	}
	active := make(map[int64]subscribers.Subscriber, len(subs))
	for _, s := range subs {
		active[s.ID] = s
	}
	l := &dryLedger{at: map[int64]int{}}
	for _, status := range []digest.DeliveryStatus{digest.DeliveryPending, digest.DeliverySending,
		digest.DeliverySent, digest.DeliveryFailed, digest.DeliverySkipped} {
		rows, err := st.Deliveries(ctx, issueID, status, math.MaxInt32)
		if err != nil {
			return nil, err
		}
		for _, d := range rows {
			if d.Status == digest.DeliveryPending || d.Status == digest.DeliverySending {
				if s, ok := active[d.SubscriberID]; !ok {
					d.Status, d.Error = digest.DeliverySkipped, "no longer subscribed when it was sent"
				} else {
					d.Email, d.Name, d.Themes, d.Language, d.Articles = s.Email, s.Name, s.Themes, s.Language, s.Articles
					if d.Status == digest.DeliverySending {
						l.inDoubt++
					}
				}
			}
			delete(active, d.SubscriberID)
			l.rows = append(l.rows, d)
		}
	}
	for _, s := range active { // the active subscribers the ledger has no row for
		l.rows = append(l.rows, digest.Delivery{IssueID: issueID, SubscriberID: s.ID, Email: s.Email, Name: s.Name,
			Themes: s.Themes, Language: s.Language, Articles: s.Articles, Status: digest.DeliveryPending})
		l.added++
	}
	sort.Slice(l.rows, func(i, j int) bool { return l.rows[i].SubscriberID < l.rows[j].SubscriberID })
	for i, d := range l.rows {
		l.at[d.SubscriberID] = i
	}
	return l, nil
}

// PrepareDeliveries reports the rows the real one would add (once, as the
// real one does: a second call finds them made) and those in doubt.
func (l *dryLedger) PrepareDeliveries(context.Context, string, time.Time) (int, int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	added := l.added
	l.added = 0
	return added, l.inDoubt, nil
}

// ClaimDeliveries hands out the rows still to send, each once: the dry
// run is the only sender of its ledger.
func (l *dryLedger) ClaimDeliveries(_ context.Context, _, _ string, _, _ time.Time, limit int) ([]digest.Delivery, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []digest.Delivery
	for ; l.next < len(l.rows) && len(out) < limit; l.next++ {
		if d := l.rows[l.next]; d.Status == digest.DeliveryPending || d.Status == digest.DeliverySending {
			out = append(out, d)
		}
	}
	return out, nil
}

// The claims of the dry run's only sender need no keeping.
func (l *dryLedger) RenewClaims(context.Context, string, string, time.Time) (int, error) {
	return 0, nil
}
func (l *dryLedger) ReleaseClaims(context.Context, string, string) error { return nil }
func (l *dryLedger) ClaimedElsewhere(context.Context, string, string, time.Time) (int, error) {
	return 0, nil
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
