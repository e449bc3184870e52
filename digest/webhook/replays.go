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
//
// The memory is bounded: at most maxReplays tokens (about 15 MB at
// Mailgun's 50-byte tokens), forgotten oldest first when full. Only
// signed tokens get here, so it fills at Mailgun's pace: a list's
// failures and complaints over MailgunMaxAge are far fewer.
type Replays struct {
	mu    sync.Mutex
	seen  map[string]time.Time // token -> when it may be forgotten
	order []taken              // the tokens in the order taken: expiry order
	limit int                  // maxReplays; tests set less
}

type taken struct {
	token string
	until time.Time
}

// maxReplays bounds the memory (see Replays).
const maxReplays = 100000

// Seen says whether token was taken before, and remembers it until no
// signature of it can pass VerifyMailgun: now plus MailgunMaxAge and
// MailgunMaxSkew (its timestamp may be that far ahead).
func (r *Replays) Seen(token string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.seen == nil {
		r.seen = map[string]time.Time{}
	}
	limit := r.limit
	if limit <= 0 {
		limit = maxReplays
	}
	r.drop(func(t taken) bool { return !now.Before(t.until) }) // expired
	if until, ok := r.seen[token]; ok && now.Before(until) {
		return true
	}
	r.drop(func(taken) bool { return len(r.seen) >= limit }) // the oldest, for room
	until := now.Add(MailgunMaxAge + MailgunMaxSkew)
	r.seen[token] = until
	r.order = append(r.order, taken{token, until})
	return false
}

// drop forgets the oldest tokens while more says so. A token taken
// again after Forget may sit in order twice: only the entry whose time
// is the map's removes it.
func (r *Replays) drop(more func(taken) bool) {
	for len(r.order) > 0 && more(r.order[0]) {
		old := r.order[0]
		r.order[0] = taken{}
		r.order = r.order[1:]
		if until, ok := r.seen[old.token]; ok && until.Equal(old.until) {
			delete(r.seen, old.token)
		}
	}
}

// Forget takes back a token whose post failed (the store was down), so
// Mailgun's retry of it is taken.
func (r *Replays) Forget(token string) {
	r.mu.Lock()
	delete(r.seen, token)
	r.mu.Unlock()
}
