package smtptest

import (
	"net/textproto"
	"strings"
	"testing"

	"github.com/wneessen/go-mail/smtp"
)

// TestStrictEnvelope: the server answers an envelope the way mailpit and
// Gmail do, not the way go-smtp alone does: a bare address is refused
// with 501, <address> and <> are taken, a non-ASCII address needs
// SMTPUTF8, and a message's lines are never read as commands.
func TestStrictEnvelope(t *testing.T) {
	srv, err := Start()
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Close()
	c, err := textproto.Dial("tcp", srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if _, _, err := c.ReadResponse(220); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		cmd  string
		code int
	}{
		{"EHLO client.example", 250},
		// What gull sent before issue 12, and a space after the colon.
		{"MAIL FROM:digest@example.org", 501},
		{"MAIL FROM: <digest@example.org>", 501},
		{"MAIL FROM:<digest@example.org", 501},
		{"MAIL FROM:<digest@example.org> BODY=8BITMIME", 250},
		{"RCPT TO:reader@example.org", 501},
		{"RCPT TO:<reader@@example.org>", 501},
		{"RCPT TO:<reader.@example.org>", 501},
		{"RCPT TO:<>", 501},
		{"RCPT TO:<reader@example.org> NOTIFY==x", 501},
		{"RCPT TO:<독자@example.kr>", 553},
		{"RCPT TO:<reader@example.org>", 250},
		{"DATA", 354},
		{"Subject: a body line that looks like a command\r\n\r\nMAIL FROM:bare@example.org\r\nRCPT TO:bare@example.org\r\n.", 250},
		{"MAIL FROM:<>", 250},
		{"RSET", 250},
		{"MAIL FROM:<\"kim digest\"@example.org> SMTPUTF8", 250},
		{"RCPT TO:<독자@예시.kr>", 250},
		{"RCPT TO:<@relay.example:reader2@example.org>", 250},
		{"RSET", 250},
	}
	for _, s := range steps {
		if err := c.PrintfLine("%s", s.cmd); err != nil {
			t.Fatal(err)
		}
		code, msg, _ := c.ReadResponse(0)
		if code != s.code {
			t.Errorf("%q: %d %s; want %d", s.cmd, code, msg, s.code)
		}
		if code == 501 && !strings.Contains(msg, "RFC 5321") {
			t.Errorf("%q: the refusal %q does not say what is wrong", s.cmd, msg)
		}
	}
	got := srv.Messages()
	if len(got) != 1 || got[0].From != "digest@example.org" || len(got[0].To) != 1 || got[0].To[0] != "reader@example.org" ||
		false || !strings.Contains(string(got[0].Data), "MAIL FROM:bare@example.org") {
		t.Errorf("accepted %+v; want one message from digest@ to reader@, with its body as sent", got)
	}

	// go-mail's client prints what it is given: a bare address from the
	// caller goes out bare, and is refused.
	cl, err := smtp.Dial(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer cl.Close()
	if err := cl.Mail("digest@example.org"); err == nil || !strings.Contains(err.Error(), "501") {
		t.Errorf("go-mail's Mail with a bare address: %v; want the 501 refusal", err)
	}
	if err := cl.Mail("<digest@example.org>"); err != nil {
		t.Errorf("go-mail's Mail with <address>: %v", err)
	}
}
