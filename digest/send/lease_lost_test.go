package send

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a log written from the lease's goroutine and read by
// the test.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// TestSendStopsWhenItsLeaseIsTaken: on SQLite a send holds the store's
// send lease and runs alone. When another gull takes the lease over (ours
// lapsed: the machine slept), this send starts no new message and says
// why, since the new holder voids its claims and mails those readers; the
// messages in flight finish, and the rest stay pending.
func TestSendStopsWhenItsLeaseIsTaken(t *testing.T) {
	readers := map[string]string{}
	for i := range 20 {
		readers[fmt.Sprintf("r%02d@example.org", i)] = ""
	}
	s, srv := newTestSender(t, readers)
	s.Env.Lease = 300 * time.Millisecond // renewed every 100 ms
	var logs lockedBuffer
	s.Log = slog.New(slog.NewTextHandler(&logs, nil))
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// The first messages (one per connection) are held at DATA until
	// another gull has taken the lease and this one has noticed.
	taken := make(chan struct{})
	var once sync.Once
	srv.Set(func() {
		srv.Data = func(to string, try int) error {
			once.Do(func() {
				go func() {
					defer close(taken)
					if _, err := s.Store.AcquireLease(ctx, "send", time.Minute, time.Now().Add(time.Hour)); err != nil {
						t.Error(err)
						return
					}
					// A renewal comes every 100 ms; 10 s is a sender
					// that never notices.
					for i := 0; !strings.Contains(logs.String(), "took over the store's send lease"); i++ {
						if i == 1000 {
							t.Error("the sender never said it lost its lease")
							return
						}
						time.Sleep(10 * time.Millisecond)
					}
				}()
			})
			<-taken
			return nil
		}
	})
	res, err := s.SendIssue(ctx, s.IssueID())
	if !errors.Is(err, errLeaseLost) {
		t.Fatalf("send after losing its lease: %v (%+v); want errLeaseLost", err, res.Report)
	}
	if n := len(srv.Messages()); n > 2 {
		t.Errorf("%d messages went; want at most the 2 in flight when the lease was lost", n)
	}
	counts, err := s.Store.DeliveryCounts(ctx, s.IssueID())
	if err != nil {
		t.Fatal(err)
	}
	if counts.Left() < 18 {
		t.Errorf("rows left for the lease's new holder: %v", counts)
	}
}
