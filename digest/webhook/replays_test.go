package webhook

import (
	"testing"
	"time"
)

// A token is known for as long as a signature of it can pass
// VerifyMailgun (Mailgun's 8 hours of retries), then forgotten; past the
// limit the oldest tokens go first, the newest stay known.
func TestReplays(t *testing.T) {
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	r := &Replays{}
	if r.Seen("tok-1", now) {
		t.Fatal("a new token was seen")
	}
	if !r.Seen("tok-1", now.Add(8*time.Hour)) {
		t.Error("the token replayed 8 hours later was not known")
	}
	if r.Seen("tok-1", now.Add(MailgunMaxAge+MailgunMaxSkew)) {
		t.Error("the token is still remembered when no signature of it can pass")
	}
	if len(r.seen) != 1 || len(r.order) != 1 {
		t.Errorf("an expired token is still kept: %d in the map, %d in order", len(r.seen), len(r.order))
	}

	small := &Replays{limit: 3}
	for _, tok := range []string{"a", "b", "c", "d"} {
		small.Seen(tok, now)
	}
	for _, tok := range []string{"d", "c", "b"} {
		if !small.Seen(tok, now) {
			t.Errorf("%s, among the newest, was forgotten", tok)
		}
	}
	if len(small.seen) != 3 {
		t.Errorf("%d tokens kept, want the limit 3", len(small.seen))
	}
	if small.Seen("a", now) {
		t.Error("the oldest token is still kept past the limit")
	}
	// Forget, then the retry taken: known again, once.
	small.Forget("c")
	if small.Seen("c", now) || !small.Seen("c", now) {
		t.Error("a forgotten token is not taken exactly once")
	}
}
