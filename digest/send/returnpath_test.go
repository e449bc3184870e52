package send

import (
	"context"
	"strings"
	"testing"

	"gull/subscribers"
)

// With mail.return_path each reader's copy leaves with their own VERP
// envelope sender, whose token names them and the issue.
func TestSendUsesTheReturnPath(t *testing.T) {
	s, srv := newTestSender(t, map[string]string{"a@example.org": "", "b@example.org": ""})
	s.Config.Mail.ReturnPath = "bounces+{token}@example.org"
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.SendIssue(ctx, s.IssueID()); err != nil {
		t.Fatal(err)
	}
	links, err := s.Links(ctx, s.Config, s.Store)
	if err != nil {
		t.Fatal(err)
	}
	rp, _ := subscribers.ParseReturnPath(s.Config.Mail.ReturnPath)
	msgs := srv.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d messages, want 2", len(msgs))
	}
	for _, m := range msgs {
		c, err := links.Signer.VerifyReturnToken(rp.Token(m.From))
		if err != nil || !strings.HasPrefix(m.From, "bounces+") {
			t.Fatalf("MAIL FROM %q: %v", m.From, err)
		}
		sub, err := s.Store.SubscriberByEmail(ctx, m.To[0])
		if err != nil || c.Subscriber != sub.ID || c.Issue != s.IssueID() {
			t.Errorf("MAIL FROM %q to %s names reader %d of issue %q; want %d of %q", m.From, m.To[0], c.Subscriber, c.Issue, sub.ID, s.IssueID())
		}
	}
}
