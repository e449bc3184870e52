package deliver

import (
	"errors"
	"testing"
	"time"

	"gull/digest/deliver/smtptest"
)

// TrySend does not wait out a backoff: a temporary failure with tries
// left comes back at once as a *Retry that says how long to wait, still
// classified as the failure it is; Again tries on another connection, and
// the last try's failure is a plain *Error.
func TestSMTPTrySendHandsBackTheRetry(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.Rcpt = func(to string, try int) error {
		if to == addr(1) && try <= 3 || to == addr(2) && try == 1 {
			return smtptest.Reply(451, "4.7.1", "greylisted")
		}
		return nil
	}
	o := smtpOptions(srv, "none")
	o.MaxAttempts = 3
	o.Backoff = func(attempt int) time.Duration { return time.Duration(attempt) * time.Hour }
	s := newSMTP(t, o)

	err := s.TrySend(t.Context(), wireMessage(addr(2), 1<<10))
	var r *Retry
	if !errors.As(err, &r) || r.RetryIn() != time.Hour || r.Last.Attempts != 1 {
		t.Fatalf("first try: %v (%#v)", err, err)
	}
	if e := asError(t, err); !e.Temporary() || e.Permanent() || e.Code != 451 {
		t.Errorf("a retry is classified as %+v", e)
	}
	if err := r.Again(t.Context()); err != nil {
		t.Fatalf("retry: %v", err)
	}
	tries := srv.RcptTries()
	if len(tries) != 2 || tries[0].Session == tries[1].Session || len(srv.Messages()) != 1 {
		t.Errorf("tries %v, %d messages; want the retry on another connection, one message", tries, len(srv.Messages()))
	}

	// Out of tries: the third failure is final.
	err = s.TrySend(t.Context(), wireMessage(addr(1), 1<<10))
	for range 2 {
		if !errors.As(err, &r) {
			t.Fatalf("not a retry: %v", err)
		}
		err = r.Again(t.Context())
	}
	if errors.As(err, &r) {
		t.Fatalf("a retry after MaxAttempts: %v", err)
	}
	if e := asError(t, err); e.Attempts != 3 || !e.Temporary() {
		t.Errorf("last try: %+v", e)
	}
}
