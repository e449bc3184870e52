package pipeline

import (
	"context"
	"slices"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver"
	"gull/digest/deliver/smtptest"
)

// overSMTP makes f's sender deliver through a pool of conns connections
// to srv, as gull send --all does: a temporary failure comes back from
// TrySend for the Sender to retry after backoff.
func overSMTP(t *testing.T, f *sendFixture, srv *smtptest.Server, conns int, backoff time.Duration) {
	t.Helper()
	smtp, err := deliver.NewSMTP(deliver.SMTPOptions{
		Host: srv.Host(), Port: srv.Port(), TLS: "none", Connections: conns,
		From: "digest@example.net", Timeout: 10 * time.Second,
		Backoff: func(int) time.Duration { return backoff },
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { smtp.Close() })
	f.sender.Deliver = func(ctx context.Context, m digest.Message) (string, error) {
		id := "<" + m.To + ".2026-W48@example.net>"
		body := "From: digest@example.net\r\nTo: " + m.To + "\r\nMessage-ID: " + id + "\r\nSubject: " + m.Subject + "\r\n\r\nthis week\r\n"
		return id, smtp.TrySend(ctx, deliver.Outgoing{IssueID: m.IssueID, From: "digest@example.net", To: m.To, MessageID: id, Body: []byte(body)})
	}
}

func startSMTP(t *testing.T) *smtptest.Server {
	t.Helper()
	srv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// copies counts the messages srv accepted for each address.
func copies(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[m.To[0]]++
	}
	return got
}

// A deferred message waits for its retry in a queue, not in a worker:
// with one worker on one connection, the readers after the greylisted one
// are sent while its backoff (a real second) runs, and its retry comes
// last, on a new connection; everyone gets exactly one copy.
func TestSendMovesOnWhileARetryWaits(t *testing.T) {
	f := newSendFixture(t, 10)
	srv := startSMTP(t)
	srv.Rcpt = func(to string, try int) error {
		if to == "r000@example.org" && try == 1 {
			return smtptest.Reply(451, "4.7.1", "greylisted, try again in a second")
		}
		return nil
	}
	overSMTP(t, f, srv, 1, time.Second)
	f.sender.Workers = 1
	rep := f.send(t, context.Background())
	if rep.Sent != 9 || rep.Skipped != 1 || rep.Deferred != 0 || !rep.Done {
		t.Fatalf("report: %+v", rep)
	}
	var order []string
	var sessions []int
	for _, r := range srv.RcptTries() {
		order = append(order, r.To)
		if r.To == "r000@example.org" {
			sessions = append(sessions, r.Session)
		}
	}
	want := []string{"r000@example.org", "r001@example.org", "r002@example.org", "r003@example.org", "r004@example.org",
		"r005@example.org", "r006@example.org", "r008@example.org", "r009@example.org", "r000@example.org"}
	if !slices.Equal(order, want) {
		t.Errorf("RCPT TO in this order:\n%v\nwant the others before the greylisted reader's retry:\n%v", order, want)
	}
	if len(sessions) != 2 || sessions[0] == sessions[1] {
		t.Errorf("the greylisted reader was tried on connections %v; the retry must use another", sessions)
	}
	for i := range 10 {
		addr := "r00" + string(rune('0'+i)) + "@example.org"
		want := 1
		if i == 7 {
			want = 0 // skipped: no article for their theme
		}
		if got := copies(srv)[addr]; got != want {
			t.Errorf("%s got %d copies, want %d", addr, got, want)
		}
	}
	sent, _ := f.st.Deliveries(context.Background(), f.is.ID, digest.DeliverySent, 20)
	for _, d := range sent {
		want := 1
		if d.Email == "r000@example.org" {
			want = 2 // each SMTP transaction is claimed and counted
		}
		if d.Attempts != want {
			t.Errorf("%s: %d attempts in the ledger, want %d", d.Email, d.Attempts, want)
		}
	}
}

// With the retry queue full (a server failing most messages), a worker
// waits out the backoff itself; nothing is lost or sent twice.
func TestSendRetryQueueFull(t *testing.T) {
	f := newSendFixture(t, 30)
	srv := startSMTP(t)
	srv.Rcpt = func(to string, try int) error {
		if to < "r010@example.org" && try == 1 {
			return smtptest.Reply(421, "4.3.2", "busy, try later")
		}
		return nil
	}
	overSMTP(t, f, srv, 2, 20*time.Millisecond)
	f.sender.RetryQueue = 1
	rep := f.send(t, context.Background())
	if rep.Sent != 29 || rep.Deferred != 0 || !rep.Done {
		t.Fatalf("report: %+v", rep)
	}
	got := copies(srv)
	if len(got) != 29 {
		t.Errorf("%d readers got mail, want 29", len(got))
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
}

// Ctrl-C while retries wait in the queue: the send ends at once rather
// than after the backoff, the waiting readers are pending (not in doubt:
// their message was refused), and the next run mails each of them once.
func TestSendInterruptedWithRetriesWaiting(t *testing.T) {
	f := newSendFixture(t, 20)
	srv := startSMTP(t)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv.Rcpt = func(to string, try int) error {
		switch {
		case (to == "r001@example.org" || to == "r002@example.org") && try == 1:
			return smtptest.Reply(451, "4.7.1", "greylisted")
		case to == "r015@example.org":
			cancel() // Ctrl-C, with both retries an hour away
		}
		return nil
	}
	overSMTP(t, f, srv, 1, time.Hour)
	f.sender.Workers = 1
	rep := f.send(t, ctx)
	if rep.Stopped != "interrupted" || rep.Deferred != 2 || rep.Done {
		t.Fatalf("report: %+v", rep)
	}
	if rep.Totals[digest.DeliverySending] != 0 {
		t.Fatalf("rows left in doubt: %v", rep.Totals)
	}
	if slices.ContainsFunc(srv.Messages(), func(m smtptest.Message) bool { return m.To[0] == "r001@example.org" || m.To[0] == "r002@example.org" }) {
		t.Fatal("a refused message arrived")
	}
	srv.Rcpt = nil
	rep = f.send(t, context.Background())
	if !rep.Done || rep.InDoubt != 0 {
		t.Fatalf("resumed: %+v", rep)
	}
	got := copies(srv)
	if len(got) != 19 || got["r001@example.org"] != 1 || got["r002@example.org"] != 1 {
		t.Errorf("after the rerun: %v", got)
	}
	for addr, n := range got {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}
}

// A server that is down fails every retry: the send stops after
// GiveUpAfter retries in a row failed, rather than after every queued
// message has used up its tries, and everyone stays pending.
func TestSendGivesUpOnFailingRetries(t *testing.T) {
	f := newSendFixture(t, 60)
	srv := startSMTP(t)
	srv.Rcpt = func(string, int) error { return smtptest.Reply(421, "4.3.2", "shutting down") }
	overSMTP(t, f, srv, 2, 50*time.Millisecond)
	f.sender.GiveUpAfter = 5
	rep := f.send(t, context.Background())
	if rep.Stopped == "" || rep.Sent != 0 || rep.Totals[digest.DeliverySending] != 0 || rep.Totals[digest.DeliveryPending] != 59 {
		t.Fatalf("report: %+v", rep)
	}
	// 59 readers of 4 tries each would be 236.
	if n := len(srv.RcptTries()); n >= 2*59 {
		t.Errorf("%d RCPT TO to a server that refuses everything; the send should have stopped after 5 failed retries", n)
	}
}
