package deliver

import (
	"bytes"
	"net/mail"
	"strings"
	"testing"

	"gull/digest/deliver/smtptest"
	"gull/subscribers"
)

// mail.return_path: the strict server gets the reader's VERP address in
// MAIL FROM, its token names the reader and the issue, and the From
// header is still mail.from.
func TestReturnPathIsTheEnvelopeSender(t *testing.T) {
	signer, err := subscribers.NewSigner([]byte("a link secret of sixteen bytes+"))
	if err != nil {
		t.Fatal(err)
	}
	rp, err := subscribers.ParseReturnPath("bounces+{token}@example.org")
	if err != nil {
		t.Fatal(err)
	}
	m := message()
	m.ReturnPath = rp.Address(signer, 4242, m.IssueID)
	out, err := Composer{Envelope: env}.Compose(m, composeDate)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, smtptest.Options{})
	s := newSMTP(t, smtpOptions(srv, "none"))
	if err := s.Send(t.Context(), out); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("server got %d messages", len(got))
	}
	if got[0].From != m.ReturnPath || !strings.HasPrefix(got[0].From, "bounces+") {
		t.Fatalf("MAIL FROM %q, want the return path %q", got[0].From, m.ReturnPath)
	}
	c, err := signer.VerifyReturnToken(rp.Token(got[0].From))
	if err != nil || c != (subscribers.ReturnClaims{Subscriber: 4242, Issue: "2026-W48"}) {
		t.Errorf("token of %q = %+v, %v; want reader 4242, issue 2026-W48", got[0].From, c, err)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	if from := msg.Header.Get("From"); !strings.Contains(from, "<digest@example.org>") {
		t.Errorf("From: %q, want mail.from", from)
	}
	if id := msg.Header.Get("Message-Id"); !strings.HasSuffix(id, "@example.org>") || id != out.MessageID {
		t.Errorf("Message-ID %q", id)
	}

	// Without one the envelope sender is mail.from's address, as before.
	m.ReturnPath = ""
	if out, _ := (Composer{Envelope: env}).Compose(m, composeDate); out.From != "digest@example.org" {
		t.Errorf("envelope sender without a return path: %q", out.From)
	}
	m.ReturnPath = "Bounces <b@example.org>"
	if _, err := (Composer{Envelope: env}).Compose(m, composeDate); err == nil || !strings.Contains(err.Error(), "mail.return_path") {
		t.Errorf("a return path with a name: %v", err)
	}
}
