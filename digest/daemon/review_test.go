package daemon

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/schedule"
	"gull/digest/store"
)

// mailed is one message as the recipient's mail program shows it.
type mailed struct {
	to, subject, text, html string
}

// inbox decodes every message the SMTP server took.
func (d *testDaemon) inbox(t *testing.T) []mailed {
	t.Helper()
	var out []mailed
	for _, raw := range d.smtp.Messages() {
		m, err := mail.ReadMessage(bytes.NewReader(raw.Data))
		if err != nil {
			t.Fatalf("unparseable message: %v", err)
		}
		got := mailed{to: strings.Join(raw.To, ",")}
		got.subject, _ = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
		_, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
		if err != nil {
			t.Fatal(err)
		}
		mr := multipart.NewReader(m.Body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			var body io.Reader = p
			switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
			case "base64":
				body = base64.NewDecoder(base64.StdEncoding, p)
			case "quoted-printable":
				body = quotedprintable.NewReader(p)
			}
			b, _ := io.ReadAll(body)
			if strings.HasPrefix(p.Header.Get("Content-Type"), "text/plain") {
				got.text = string(b)
			} else {
				got.html = string(b)
			}
		}
		out = append(out, got)
	}
	return out
}

// to is the messages to addr.
func to(msgs []mailed, addr string) []mailed {
	var out []mailed
	for _, m := range msgs {
		if m.to == addr {
			out = append(out, m)
		}
	}
	return out
}

// reviewDaemon is a daemon with review: set (extra), and the coming send
// slot and its default draft time (24 h before). The window is two weeks
// so the feed's articles (3 h old) are in the coming issue whatever the
// day the test runs.
func reviewDaemon(t *testing.T, review string) (d *testDaemon, sendAt, draftAt time.Time) {
	t.Helper()
	d = newTestDaemon(t, 2, "window: 336h\n"+review+"\n")
	cfg := d.config().cfg
	sched, err := schedule.ParseSpec(cfg.Schedule, cfg.Location)
	if err != nil {
		t.Fatal(err)
	}
	sendAt = sched.Next(time.Now().In(cfg.Location))
	return d, sendAt, sendAt.Add(-24 * time.Hour)
}

// articleTitled is the id of the article of is whose title holds word.
func articleTitled(t *testing.T, is digest.Issue, word string) string {
	t.Helper()
	for _, a := range is.Articles() {
		if strings.Contains(a.Title, word) {
			return a.ID
		}
	}
	t.Fatalf("no article titled with %q", word)
	return ""
}

// edit applies e to the draft of id as ed@example.org, at the draft's
// current version.
func edit(t *testing.T, d *testDaemon, id string, e digest.Edit) {
	t.Helper()
	ctx := context.Background()
	dr, err := d.st.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.st.EditDraft(ctx, id, dr.Version, "ed@example.org", e, time.Now()); err != nil {
		t.Fatalf("edit %+v: %v", e, err)
	}
}

// The whole loop: nothing before the draft time; at it, the draft and a
// review mail to each editor; the editors' edits; a later round adds a
// late article, marked new, with the edits in force; approval; the
// scheduled send mails the edited issue (the hidden article absent, the
// pinned one leading, the note present), once, whatever is done after.
func TestReviewLoopSendsTheEditedIssue(t *testing.T) {
	d, sendAt, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org, chief@example.kr]}")
	ctx := context.Background()

	if d.draftRound(ctx, draftAt.Add(-time.Minute), true) {
		t.Error("a draft round before the draft time fetched the feeds")
	}
	if _, err := d.st.LatestDraft(ctx); !errors.Is(err, digest.ErrNoDraft) {
		t.Fatalf("a draft exists before the draft time: %v", err)
	}
	if !d.draftRound(ctx, draftAt, true) {
		t.Fatalf("the draft job at the draft time did nothing:\n%s", d.log)
	}
	dr, err := d.st.LatestDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := dr.Base.ID
	if dr.Base.Count() != 3 {
		t.Fatalf("the draft has %d articles, want 3", dr.Base.Count())
	}
	msgs := d.inbox(t)
	for _, editor := range []string{"ed@example.org", "chief@example.kr"} {
		got := to(msgs, editor)
		if len(got) != 1 {
			t.Fatalf("%s got %d review mails, want 1", editor, len(got))
		}
		m := got[0]
		for _, want := range []string{"First draft: 3 articles", "http://127.0.0.1:8080/desk", "반도체 수출과 GPU 공급망", "AI기본법 시행령의 쟁점", "Data centre power"} {
			if !strings.Contains(m.text, want) || !strings.Contains(m.html, want) {
				t.Errorf("the review mail to %s does not say %q in both parts:\n%s", editor, want, m.text)
			}
		}
		if !strings.Contains(m.subject, "Review") {
			t.Errorf("review mail subject %q", m.subject)
		}
		// The draft is not published: "view in browser" carries a view token.
		if !strings.Contains(m.html, `href="http://127.0.0.1:8080/issues/`+id+`?view=`) {
			t.Errorf("the review mail to %s has no view link to the unpublished draft:\n%s", editor, m.html)
		}
	}
	if len(msgs) != 2 {
		t.Errorf("%d messages at the draft time, want the 2 editors' only", len(msgs))
	}

	hide := articleTitled(t, dr.Base, "Data centre")
	lead := articleTitled(t, dr.Base, "AI기본법")
	edit(t, d, id, digest.Edit{Kind: digest.EditHide, Article: hide})
	edit(t, d, id, digest.Edit{Kind: digest.EditMove, Article: lead, Theme: "compute"})
	edit(t, d, id, digest.Edit{Kind: digest.EditPin, Article: lead})
	edit(t, d, id, digest.Edit{Kind: digest.EditNote, Text: "이번 주의 핵심은 시행령입니다."})

	d.late.Store(true)
	if !d.draftRound(ctx, draftAt.Add(time.Hour), false) {
		t.Fatalf("the refresh round did not rebuild the draft:\n%s", d.log)
	}
	dr, err = d.st.Draft(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var fresh []string
	for _, a := range dr.Issue().Articles() {
		if dr.New(a) {
			fresh = append(fresh, a.Title)
		}
	}
	if len(fresh) != 1 || !strings.Contains(fresh[0], "Sovereign GPU") {
		t.Errorf("articles marked new after the rebuild: %q, want the late one", fresh)
	}
	readers := dr.Readers()
	if first := readers.Sections[0].Articles[0]; first.ID != lead {
		t.Errorf("the draft is led by %q after the rebuild, want the pinned article", first.Title)
	}
	if n := len(d.smtp.Messages()); n != 2 {
		t.Errorf("%d messages after the refresh round, want no new review mail", n)
	}
	if _, err := d.st.ApproveDraft(ctx, id, dr.Version, "chief@example.kr", time.Now()); err != nil {
		t.Fatal(err)
	}

	res, _, err := d.job(ctx, sendAt, "schedule", "")
	if err != nil || res.Report.Sent != 2 {
		t.Fatalf("scheduled send: %+v, %v; want 2 readers mailed\n%s", res.Report, err, d.log)
	}
	for _, reader := range []string{"reader0@example.org", "reader1@example.org"} {
		got := to(d.inbox(t), reader)
		if len(got) != 1 {
			t.Fatalf("%s got %d mails, want 1", reader, len(got))
		}
		m := got[0]
		if strings.Contains(m.text, "Data centre") || strings.Contains(m.html, "Data centre") {
			t.Errorf("the hidden article was mailed to %s", reader)
		}
		if !strings.Contains(m.text, "이번 주의 핵심은 시행령입니다.") || !strings.Contains(m.html, "이번 주의 핵심은 시행령입니다.") {
			t.Errorf("the note is not in %s's mail:\n%s", reader, m.text)
		}
		i, j := strings.Index(m.text, "AI기본법 시행령의 쟁점"), strings.Index(m.text, "반도체 수출과 GPU 공급망")
		if i < 0 || j < 0 || i > j || !strings.Contains(m.text, "Sovereign GPU") {
			t.Errorf("%s's mail does not lead with the pinned article, or lacks the late one:\n%s", reader, m.text)
		}
	}

	// Approved twice, reopened after the send, run again: nobody gets it twice.
	if _, err := d.st.ApproveDraft(ctx, id, dr.Version+1, "ed@example.org", time.Now()); err != nil {
		t.Errorf("approving the sent issue again: %v", err)
	}
	if _, err := d.st.ReopenDraft(ctx, id, dr.Version+1, "ed@example.org", time.Now()); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("reopening the sent issue: %v, want it refused", err)
	}
	if res, _, err := d.job(ctx, sendAt, "catch-up", id); err != nil || res.Report.Sent != 0 {
		t.Errorf("a second run: %+v, %v; want nothing sent", res.Report, err)
	}
	if n := len(d.smtp.Messages()); n != 4 {
		t.Errorf("%d messages in all, want 2 review mails and 2 copies", n)
	}
}

// required + hold: the scheduled send without an approval mails no reader,
// logs it, tells the editors once, and leaves the slot owed; the first
// round after the approval sends it.
func TestReviewHoldSendsNothingUnapproved(t *testing.T) {
	d, sendAt, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org], required: true}")
	ctx := context.Background()
	d.draftRound(ctx, draftAt, true)
	res, _, err := d.job(ctx, sendAt, "schedule", "")
	if err != nil || !res.Held || res.Report.Sent != 0 {
		t.Fatalf("unapproved send: held %v, %+v, %v; want it held", res.Held, res.Report, err)
	}
	if _, _, err := d.job(ctx, sendAt, "catch-up", ""); err != nil {
		t.Fatal(err)
	}
	msgs := d.inbox(t)
	if n := len(to(msgs, "reader0@example.org")) + len(to(msgs, "reader1@example.org")); n != 0 {
		t.Fatalf("%d copies mailed to readers without an approval", n)
	}
	ed := to(msgs, "ed@example.org")
	if len(ed) != 2 || !strings.Contains(ed[1].text, "was not sent: it is not approved") {
		t.Fatalf("the editor got %d mails (want the review and one hold notice); last:\n%v", len(ed), ed)
	}
	if !strings.Contains(d.log.String(), "issue held") {
		t.Errorf("the log does not say the issue was held:\n%s", d.log)
	}
	if done, ok, _ := d.st.ScheduleDoneThrough(ctx); ok && !done.Before(sendAt) {
		t.Error("the held slot was recorded as done")
	}

	dr, err := d.st.LatestDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := d.st.ApproveDraft(ctx, dr.Base.ID, dr.Version, "ed@example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	if res, _, err = d.job(ctx, sendAt, "catch-up", ""); err != nil || res.Report.Sent != 2 {
		t.Fatalf("the round after the approval: %+v, %v; want 2 sent", res.Report, err)
	}
	if done, ok, _ := d.st.ScheduleDoneThrough(ctx); !ok || done.Before(sendAt) {
		t.Error("the slot sent after the approval was not recorded as done")
	}
}

// required + send: the scheduled send mails the draft with its edits so
// far, and the sent issue can no longer be reopened.
func TestReviewSendPolicySendsTheEditedDraft(t *testing.T) {
	d, sendAt, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org], required: true, unapproved: send}")
	ctx := context.Background()
	d.draftRound(ctx, draftAt, true)
	dr, err := d.st.LatestDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, d, dr.Base.ID, digest.Edit{Kind: digest.EditHide, Article: articleTitled(t, dr.Base, "AI기본법")})
	res, _, err := d.job(ctx, sendAt, "schedule", "")
	if err != nil || res.Held || res.Report.Sent != 2 {
		t.Fatalf("send of the unapproved draft: held %v, %+v, %v; want 2 sent", res.Held, res.Report, err)
	}
	for _, m := range to(d.inbox(t), "reader0@example.org") {
		if strings.Contains(m.text, "AI기본법") || !strings.Contains(m.text, "반도체 수출과 GPU 공급망") {
			t.Errorf("the reader's copy is not the edited draft:\n%s", m.text)
		}
	}
	if _, err := d.st.ReopenDraft(ctx, dr.Base.ID, dr.Version+1, "ed@example.org", time.Now()); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("reopening the sent draft: %v, want it refused", err)
	}
}

// beside is another daemon over d's store, through connections of its
// own, as a second `gull run` behind a load balancer (or the one that
// takes the schedule over) has.
func (d *testDaemon) beside(t *testing.T) *testDaemon {
	t.Helper()
	st, err := store.Open(context.Background(), d.st.Path())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	c := d.config()
	return &testDaemon{Daemon: New(Options{Env: d.env, Store: st, Config: c.cfg, Renderer: c.r, Version: "test"}),
		st: st, smtp: d.smtp, feedDown: d.feedDown, late: d.late, log: d.log}
}

// The editors' mails are recorded in the store: a daemon that takes the
// schedule over does not mail the review again for the same draft time,
// nor the hold notice again, and its mail says what changed since the
// build the editors saw from the first daemon.
func TestAnotherDaemonMailsTheEditorsNothingTwice(t *testing.T) {
	d, sendAt, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org], required: true}")
	ctx := context.Background()
	d.draftRound(ctx, draftAt, true)
	other := d.beside(t)
	d.late.Store(true) // the rebuild at the other daemon finds one more article
	if !other.draftRound(ctx, draftAt, true) {
		t.Fatal("no draft round at the other daemon")
	}
	if res, _, err := other.job(ctx, sendAt, "schedule", ""); err != nil || !res.Held {
		t.Fatalf("unapproved send at the other daemon: held %v, %v", res.Held, err)
	}
	if res, _, err := d.job(ctx, sendAt, "catch-up", ""); err != nil || !res.Held {
		t.Fatalf("unapproved send at the first daemon: held %v, %v", res.Held, err)
	}
	ed := to(d.inbox(t), "ed@example.org")
	if len(ed) != 2 {
		t.Fatalf("the editor got %d mails from two daemons, want 2 (the review, one hold notice)", len(ed))
	}
	if !strings.Contains(ed[1].text, "was not sent") || !strings.Contains(ed[1].text, "Since the last draft: 1 new, 0 dropped.") {
		t.Errorf("the other daemon's hold notice does not build on the first's review mail:\n%.600s", ed[1].text)
	}
}
