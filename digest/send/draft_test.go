package send

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gull/digest"
)

// titled is the id of the article of is whose title holds word.
func titled(t *testing.T, is digest.Issue, word string) string {
	t.Helper()
	for _, a := range is.Articles() {
		if strings.Contains(a.Title, word) {
			return a.ID
		}
	}
	t.Fatalf("no article titled with %q in %+v", word, is.Sections)
	return ""
}

// With review.required false, a week that has a draft is sent as the
// draft: the editors' edits in force (a hidden article is not mailed, the
// note is), and once sent the draft can no longer be reopened.
func TestSendMailsTheDraftWithItsEdits(t *testing.T) {
	s, srv := newTestSender(t, map[string]string{"all@example.org": ""})
	ctx := context.Background()
	_, d, err := s.BuildDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	hide := titled(t, d.Base, "AI기본법")
	v, err := s.Store.EditDraft(ctx, d.Base.ID, d.Version, "ed@example.org", digest.Edit{Kind: digest.EditHide, Article: hide}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Store.EditDraft(ctx, d.Base.ID, v, "ed@example.org", digest.Edit{Kind: digest.EditNote, Text: "이번 주는 *반도체* 소식입니다."}, time.Now()); err != nil {
		t.Fatal(err)
	}

	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var test, notes bytes.Buffer
	if ok, err := s.Test(ctx, []string{"ed@example.org"}, &test, &notes); err != nil || !ok {
		t.Fatalf("test send: %v %v %s", ok, err, notes.String())
	}
	if !strings.Contains(test.String(), "(1 article)") {
		t.Errorf("the test send of the draft: %q, want the one article left", test.String())
	}

	res, err := s.SendIssue(ctx, s.IssueID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Sent != 1 || res.Issue.Count() != 1 || res.Issue.Note == "" {
		t.Fatalf("send: %+v, %d articles, note %q; want 1 sent of the draft's 1 article with its note", res.Report, res.Issue.Count(), res.Issue.Note)
	}
	stored, _, err := s.Store.Issue(ctx, s.IssueID())
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range stored.Articles() {
		if a.ID == hide {
			t.Errorf("the hidden article %q is in the issue sent", a.Title)
		}
	}
	if stored.Note != "이번 주는 *반도체* 소식입니다." {
		t.Errorf("the note sent: %q", stored.Note)
	}
	if _, err := s.Store.ReopenDraft(ctx, s.IssueID(), v+1, "ed@example.org", time.Now()); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("reopening the sent issue: %v, want it refused as closed", err)
	}
	if n := len(srv.Messages()); n != 2 {
		t.Errorf("%d messages, want the test and the reader's", n)
	}
}

// review.required with unapproved: hold: no approval, nothing sent (the
// draft is built for the editors if nobody had); once approved, the send
// mails the approved issue, and a second approval sends nothing again.
func TestRequiredHoldSendsOnlyApproved(t *testing.T) {
	s, srv := newTestSender(t, map[string]string{"all@example.org": ""})
	s.Config.Review.Editors, s.Config.Review.Required, s.Config.Review.Unapproved = []string{"ed@example.org"}, true, "hold"
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.SendIssue(ctx, s.IssueID())
	if err != nil || !res.Held {
		t.Fatalf("unapproved send: %+v, %v; want it held", res, err)
	}
	var out bytes.Buffer
	if s.Summarize(&out, res) || !strings.Contains(out.String(), "nothing sent: it is not approved") {
		t.Errorf("summary of the held send: %q", out.String())
	}
	if n := len(srv.Messages()); n != 0 {
		t.Fatalf("%d messages sent without an approval", n)
	}
	d, err := s.Store.Draft(ctx, s.IssueID())
	if err != nil {
		t.Fatalf("no draft built for the held issue: %v", err)
	}
	if _, err := s.Store.ApproveDraft(ctx, d.Base.ID, d.Version, "ed@example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	if res, err = s.SendIssue(ctx, s.IssueID()); err != nil || res.Report.Sent != 1 {
		t.Fatalf("approved send: %+v, %v; want 1 sent", res.Report, err)
	}
	if _, err := s.Store.ApproveDraft(ctx, d.Base.ID, d.Version, "ed@example.org", time.Now()); err != nil {
		t.Errorf("approving again: %v", err)
	}
	if res, err = s.SendIssue(ctx, s.IssueID()); err != nil || res.Report.Sent != 0 || res.Held {
		t.Errorf("send after a second approval: %+v held %v, %v; want nothing sent", res.Report, res.Held, err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("%d messages, want the reader's one", n)
	}
}
