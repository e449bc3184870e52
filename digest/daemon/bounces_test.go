package daemon

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

// The run's log line gives what came back of the issue before (its
// bounce and complaint rates), with a WARN line past send's limits (2%,
// 0.1%) in send's words, and /metrics shows both rates.
func TestRunLogsTheLastIssueRates(t *testing.T) {
	d := newTestDaemon(t, 4)
	ctx := context.Background()
	week := time.Now().AddDate(0, 0, -7)
	sentTo(t, d.st, "2026-W40", week)
	for i, kind := range []subscribers.BounceKind{subscribers.HardBounce, subscribers.Complaint} {
		sub, err := d.st.SubscriberByEmail(ctx, []string{"reader0@example.org", "reader1@example.org"}[i])
		if err != nil {
			t.Fatal(err)
		}
		if _, err := d.st.RecordBounce(ctx, subscribers.Bounce{SubscriberID: sub.ID, IssueID: "2026-W40", Kind: kind, Status: "5.1.1",
			Source: "mailbox", EventID: string(kind), At: week.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := d.job(ctx, time.Now(), "schedule", ""); err != nil {
		t.Fatalf("run: %v\n%s", err, d.log)
	}
	log := d.log.String()
	for _, want := range []string{
		"level=WARN msg=\"25.0% of the last issue bounced for good, above 2%: relays suspend senders past a few percent;",
		"level=WARN msg=\"25.00% of the last issue's readers marked it as spam, above 0.1%:",
		"last_issue=2026-W40 last_issue_sent=4 last_issue_bounce_rate=0.25 last_issue_complaint_rate=0.25",
	} {
		if !strings.Contains(log, want) {
			t.Errorf("no %q in the log:\n%s", want, log)
		}
	}
	mw := httptest.NewRecorder()
	d.metrics.Handler().ServeHTTP(mw, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{"gull_last_issue_bounce_rate 0.25", "gull_last_issue_complaint_rate 0.25"} {
		if !strings.Contains(mw.Body.String(), want) {
			t.Errorf("no %q on /metrics", want)
		}
	}
}

// A check of the bounce mailbox that fails partway (here a message that
// cannot be read, as when the IMAP server drops) still logs and counts
// what it handled before: that is recorded in the store.
func TestBounceCheckFailingPartwayLogsWhatItDid(t *testing.T) {
	d := newTestDaemon(t, 2, "bounces: {maildir: Maildir}")
	ctx := context.Background()
	sentTo(t, d.st, "2026-W40", time.Now())
	dir := filepath.Join(filepath.Dir(d.st.Path()), "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	dsn := "From: MAILER-DAEMON@mx.example.net\r\nTo: digest@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n" +
		"Message-ID: <dsn-1@mx.example.net>\r\nMIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"b\"\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nNot delivered.\r\n\r\n" +
		"--b\r\nContent-Type: message/delivery-status\r\n\r\nReporting-MTA: dns; mx.example.net\r\n\r\n" +
		"Final-Recipient: rfc822; reader1@example.org\r\nAction: failed\r\nStatus: 5.1.1\r\n\r\n--b--\r\n"
	os.WriteFile(filepath.Join(dir, "new", "1764583200.M1P1.mx"), []byte(dsn), 0o600)
	// A name the Maildir cannot open: its read fails after the first
	// message was handled.
	os.WriteFile(filepath.Join(dir, "new", `1764583201.M2P1.mx\x`), []byte(dsn), 0o600)

	d.checkBounces(ctx)
	log := d.log.String()
	if !strings.Contains(log, "msg=\"bounce handled\"") || !strings.Contains(log, "effect=bounced") {
		t.Errorf("the log does not say what was handled before the error:\n%s", log)
	}
	if !strings.Contains(log, "could not read the bounce mailbox") || !strings.Contains(log, "handled=1") {
		t.Errorf("the log does not give the error and the count:\n%s", log)
	}
	mw := httptest.NewRecorder()
	d.metrics.Handler().ServeHTTP(mw, httptest.NewRequest("GET", "/metrics", nil))
	if !strings.Contains(mw.Body.String(), `gull_bounces_total{kind="hard"} 1`) {
		t.Errorf("the bounce handled before the error is not counted:\n%s", mw.Body.String())
	}
	if sub, _ := d.st.SubscriberByEmail(ctx, "reader1@example.org"); sub.Status != subscribers.Bounced {
		t.Errorf("reader1: %s", sub.Status)
	}
}
