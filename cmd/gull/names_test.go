package main

import (
	"context"
	"net/mail"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

// TestSendHostileNames sends the week's issue to readers whose names hold
// quotes, backslashes and what looks like a second address, beside one
// row whose stored address no mail header can carry: each reader gets
// exactly one message, over SMTP to their own address only, with their
// name as they gave it; the bad row is failed with its reason and blocks
// nobody, and the next run has nothing left to do.
func TestSendHostileNames(t *testing.T) {
	s := newSendSetup(t)
	names := map[string]string{
		"hostile@example.org": `x" <attacker@evil.example>, "y`,
		"sky@example.org":     `Kim "Sky" Ha`,
		"slash@example.org":   `C:\Users\ha "\"`,
		"kor@example.kr":      `김 "하늘" 독자, <boss@evil.example>`,
	}
	for addr, name := range names {
		s.gull(t, 0, "subscribers", "add", addr, "--name", name)
	}
	// An address from before the checks were strict, written past them.
	if _, _, _, err := s.store(t).SaveSubscriber(context.Background(), subscribers.Subscriber{Email: "a..b@example.org", Status: subscribers.Active}, subscribers.AllFields, time.Now()); err != nil {
		t.Fatal(err)
	}

	out, errOut := s.gull(t, 1, "send", "--all", "--yes", "--now", sendNow)
	if !strings.Contains(errOut, "a..b@example.org") || !strings.Contains(errOut, "correct the subscriber's address") {
		t.Errorf("the failed reader and the reason are not reported:\n%s", errOut)
	}
	if !strings.Contains(out, "11 sent, 1 skipped, 1 failed, 0 left") {
		t.Errorf("summary:\n%s", out)
	}
	got := map[string]int{}
	for _, msg := range s.smtp.Messages() {
		if len(msg.To) != 1 {
			t.Errorf("one message went to %v", msg.To)
			continue
		}
		rcpt := msg.To[0]
		got[rcpt]++
		to, err := parseMessage(t, msg.Data).header.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != rcpt || to[0].Name != names[rcpt] {
			t.Errorf("%s: To reads as %v (%v); want only their address, named %q", rcpt, to, err, names[rcpt])
		}
	}
	for _, try := range s.smtp.RcptTries() {
		if addr, err := mail.ParseAddress(try.To); err != nil || addr.Address != try.To || strings.Contains(try.To, "evil") {
			t.Errorf("RCPT TO %q", try.To)
		}
	}
	for addr := range names {
		if got[addr] != 1 {
			t.Errorf("%s got %d messages, want 1", addr, got[addr])
		}
	}
	if len(got) != 11 {
		t.Errorf("%d readers got mail, want 11: %v", len(got), got)
	}

	// The failed row is over: a rerun sends nothing and succeeds.
	out, _ = s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if !strings.Contains(out, "0 sent, 0 skipped, 0 failed, 0 left") {
		t.Errorf("rerun summary:\n%s", out)
	}
}
