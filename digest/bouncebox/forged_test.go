package bouncebox_test

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"gull/digest/bouncebox"
)

// dsnOf is a Postfix DSN of a hard bounce of addr, quoting mid as the
// original's Message-ID when it is set: what anyone can write and mail to
// the bounce mailbox.
func dsnOf(addr, mid string) []byte {
	quoted := ""
	if mid != "" {
		quoted = fmt.Sprintf("\n--b\nContent-Type: text/rfc822-headers\n\nFrom: Test Weekly <digest@example.org>\nTo: %s\nMessage-ID: <%s>\n", addr, mid)
	}
	return fmt.Appendf(nil, `From: MAILER-DAEMON@mx.example.net (Mail Delivery System)
To: bounces@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <dsn-%s@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; %s
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <%s>: User unknown
%s
--b--
`, addr, addr, addr, quoted)
}

// A complaint whose provider removed the address, quoting a Message-ID
// gull never sent: it names nobody gull can match.
var anonymousComplaint = []byte(`From: fbl@isp.example
To: bounces@example.org
Subject: Abuse report
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <arf-anon@isp.example>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=feedback-report; boundary="b"

--b
Content-Type: text/plain

This is an abuse report.

--b
Content-Type: message/feedback-report

Feedback-Type: abuse
User-Agent: ISP-FBL/1.0
Version: 1

--b
Content-Type: text/rfc822-headers

From: Test Weekly <digest@example.org>
Subject: Test Weekly
Message-ID: <gull.issue.2026-W49.0000000000000000000@example.org>

--b--
`)

func maildirOf(t *testing.T, msgs map[string][]byte) string {
	t.Helper()
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	for name, b := range msgs {
		if err := os.WriteFile(filepath.Join(dir, "new", name), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func testdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func newNames(t *testing.T, dir string) []string {
	t.Helper()
	des, _ := os.ReadDir(filepath.Join(dir, "new"))
	var out []string
	for _, de := range des {
		out = append(out, de.Name())
	}
	slices.Sort(out)
	return out
}

// Anyone can mail the bounce mailbox. With mail.return_path set, only
// its signed token names a reader: a report naming readers by address, or
// quoting a copy's Message-ID (a hash anyone who knows the address and
// the week can make), changes nobody and stays unread for a person.
func TestForgedReportsWithReturnPath(t *testing.T) {
	msgs := map[string][]byte{
		"1.M1P1.mx": testdata(t, "forged-text.eml"),                               // three readers by address
		"2.M2P1.mx": testdata(t, "forged-arf.eml"),                                // a complaint naming three
		"3.M3P1.mx": dsnOf("r5@example.org", ""),                                  // a well-formed DSN, no token
		"4.M4P1.mx": dsnOf("r6@example.org", "gull.issue.2026-W49.6@example.org"), // the ledger's Message-ID
	}
	dir := maildirOf(t, msgs)
	st := listOf115(t)
	box, err := bouncebox.OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := check(t, box, options(t, st, true))
	if got := statuses(t, st); len(got) != 0 {
		t.Errorf("forged reports changed readers: %v", got)
	}
	if res.Messages != 0 || len(res.Handled) != 0 || res.Left[bouncebox.Unmatched] != 4 {
		t.Errorf("handled %d (%v), left %v", res.Messages, res.Handled, res.Left)
	}
	if got := newNames(t, dir); len(got) != 4 {
		t.Errorf("new/ holds %v; want the 4 reports left unread", got)
	}
}

// Without mail.return_path: a report changes at most one reader (a
// forged list of addresses, one: the first gull sent a copy to), a
// complaint needs the Message-ID of a copy the ledger keeps, and a report
// that names nobody gull mailed is left unread, counted as unmatched.
func TestForgedReportsWithoutReturnPath(t *testing.T) {
	dir := maildirOf(t, map[string][]byte{
		"1.M1P1.mx": testdata(t, "forged-text.eml"),
		"2.M2P1.mx": testdata(t, "forged-arf.eml"),
		"3.M3P1.mx": anonymousComplaint,
		"4.M4P1.mx": dsnOf("stranger@example.net", ""),
	})
	st := listOf115(t)
	box, err := bouncebox.OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	res := check(t, box, options(t, st, false))
	want := map[string]string{"r1@example.org": "bounced: hard bounce (5.1.1 This is a permanent error. User unknown)"}
	if got := statuses(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after the check:\n got %v\nwant %v", got, want)
	}
	if res.Messages != 1 || len(res.Handled) != 1 || res.Left[bouncebox.Unmatched] != 3 {
		t.Errorf("handled %d (%v), left %v", res.Messages, res.Handled, res.Left)
	}
	if got := newNames(t, dir); fmt.Sprint(got) != "[2.M2P1.mx 3.M3P1.mx 4.M4P1.mx]" {
		t.Errorf("new/ holds %v; want the complaints and the stranger's bounce left unread", got)
	}
}
