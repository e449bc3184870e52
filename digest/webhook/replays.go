package webhook

import (
	"sync"
	"time"
)

// Replays remembers the Mailgun tokens already taken, each until its
// timestamp is too old to pass VerifyMailgun anyway, so a captured post
// sent again within MailgunMaxAge is known. It is memory only: after a
// restart a replay within that window reaches the caller's store, which
// is idempotent on the event id. Safe for concurrent use.
type Replays struct {
	mu   sync.Mutex
	seen map[string]time.Time // token -> when it may be forgotten
}

// maxReplays bounds the memory: past it the expired tokens are dropped,
// and if none is, all of them (the store's idempotency still holds).
const maxReplays = 100000

// Seen says whether token was taken before, and remembers it until now
// plus twice MailgunMaxAge (a timestamp may be that far ahead).
func (r *Replays) Seen(token string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	if until, ok := r.seen[token]; ok && now.Before(until) {
		return true
	}
	if len(r.seen) >= maxReplays {
		for t, until := range r.seen {
			if !now.Before(until) {
				delete(r.seen, t)
			}
		}
	}
	if len(r.seen) >= maxReplays {
		clear(r.seen) // a flood of valid tokens
	}
	r.seen[token] = now.Add(2 * MailgunMaxAge)
	return false
}

// Forget takes back a token whose post failed (the store was down), so
// Mailgun's retry of it is taken.
func (r *Replays) Forget(token string) {
	r.mu.Lock()
	delete(r.seen, token)
	r.mu.Unlock()
}
