package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"gull/subscribers"
)

// The corpus's return paths were signed with this key for readers
// 101-115 and issue 2026-W49, as deliver sends them.
var corpusKey = []byte("corpus key: sixteen bytes or more")

func corpusSigner(t testing.TB) (*subscribers.Signer, subscribers.ReturnPath) {
	t.Helper()
	s, err := subscribers.NewSigner(corpusKey)
	if err != nil {
		t.Fatal(err)
	}
	rp, err := subscribers.ParseReturnPath("bounces+{token}@example.org")
	if err != nil {
		t.Fatal(err)
	}
	return s, rp
}

// want is what a person reading the bounce would write down.
type want struct {
	kind   Kind
	format string
	// One per failed recipient: address, kind, status, reason.
	rcpts [][4]string
	// mid is the hash part of the quoted Message-ID, "" when none is
	// quoted; reader is whose return path it came back to (0: none).
	mid    string
	reader int64
}

const mid = "<gull.issue.2026-W49.%s@example.org>"

var corpus = map[string]want{
	"postfix-user-unknown.eml": {Hard, "dsn", [][4]string{{"jdoe@recipient.example", "hard", "5.1.1",
		"<jdoe@recipient.example>: Recipient address rejected: User unknown in virtual mailbox table"}}, "9f2c61d0a4b7e5c3d218", 101},
	"postfix-mailbox-full.eml": {Soft, "dsn", [][4]string{{"mkim@mailhost.example", "soft", "5.2.2",
		"<mkim@mailhost.example>: Mailbox full"}}, "0a1b2c3d4e5f60718293", 102},
	"postfix-no-such-domain.eml": {Hard, "dsn", [][4]string{{"old.reader@defunct-startup.example", "hard", "5.4.4",
		"Host or domain name not found. Name service error for name=defunct-startup.example type=MX: Host not found, try again"}}, "31d0e2a9b8c7f6e5d4c3", 103},
	"postfix-delayed.eml": {Delayed, "dsn", [][4]string{{"slow@overloaded.example", "delayed", "4.4.1",
		"connect to mx.overloaded.example[198.51.100.77]:25: Connection timed out"}}, "77aa01bb92cc83dd74ee", 104},
	"postfix-plain-text.eml": {Hard, "text", [][4]string{{"p.lee@partner.example", "hard", "5.1.1",
		"<p.lee@partner.example>: Recipient address rejected: User unknown in local recipient table (in reply to RCPT TO command)"}}, "5e4d3c2b1a0f9e8d7c6b", 105},
	"postfix-greylisted-expired.eml": {Soft, "dsn", [][4]string{{"strict@greylist.example", "soft", "4.7.1",
		"<strict@greylist.example>: Recipient address rejected: Greylisted, see http://postgrey.schweikert.ch/help/greylist.example.html"}}, "", 114},
	"qmail-user-unknown.eml": {Hard, "text", [][4]string{{"hong.gildong@smallisp.example", "hard", "5.1.1",
		"<hong.gildong@smallisp.example>... User unknown"}}, "c0ffee00d15ea5e0b0a7", 106},
	"qmail-over-quota.eml": {Soft, "text", [][4]string{{"editor@hostingco.example", "soft", "5.2.2",
		"The users mailfolder is over the allowed quota (size)."}}, "1234abcd5678ef901234", 107},
	"exim-user-unknown.eml": {Hard, "text", [][4]string{{"s.park@dept.university.example", "hard", "5.1.1",
		"<s.park@dept.university.example>: Recipient address rejected: User unknown"}}, "aa11bb22cc33dd44ee55", 108},
	"exim-mailbox-full.eml": {Soft, "text", [][4]string{{"kbs@newsroom.example", "soft", "",
		"mailbox is full: retry timeout exceeded"}}, "fe00dc11ba22983374a4", 109},
	"exim-greylisted-timeout.eml": {Soft, "text", [][4]string{{"analyst@think-tank.example", "soft", "4.7.1",
		"Greylisted, please try again later: retry timeout exceeded"}}, "0badc0de0badc0de0bad", 110},
	"sendmail-transcript.eml": {Hard, "dsn", [][4]string{{"researcher@lab.institute.example", "hard", "5.1.1",
		"<researcher@lab.institute.example>... User unknown"}}, "5d5d5d5d5d5d5d5d5d5d", 111},
	"exchange-online-recipient-not-found.eml": {Hard, "dsn", [][4]string{{"j.smith@contoso.example", "hard", "5.1.10",
		"RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup"}}, "d1e2f3a4b5c6d7e8f9a0", 111},
	"exchange-korean-ks_c_5601.eml": {Hard, "dsn", [][4]string{{"choi.minji@gov-agency.example", "hard", "5.1.1",
		"RESOLVER.ADR.RecipNotFound; not found"}}, "6b5a4f3e2d1c0b0a0908", 112},
	"outlook-quota-exceeded.eml": {Soft, "dsn", [][4]string{{"busy.reader@outlook.com", "soft", "5.2.2",
		"mailbox full; STOREDRV.Deliver.Exception:QuotaExceededException.MapiExceptionShutoffQuotaExceeded; Failed to process message due to a permanent exception with message [BeginDiagnosticData]Cannot…"}}, "88776655443322110099", 113},
	"hotmail-mailbox-unavailable.eml": {Hard, "dsn", [][4]string{{"closed.account@hotmail.com", "hard", "5.5.0",
		"Requested action not taken: mailbox unavailable (S2017062302). [BN8NAM12FT012.eop-nam12.prod.protection.outlook.com 2026-12-06T23:00:44.123Z 08DD1A2B3C4D5E6F]"}}, "", 112},
	"outlook-jmrp-redacted.eml": {Complaint, "arf", [][4]string{{"", "complaint", "",
		"marked as spam (abuse) via Hotmail FBL"}}, "1a1a1a1a1a1a1a1a1a1a", 104},
	"gmail-no-such-user.eml": {Hard, "dsn", [][4]string{{"no.such.reader@gmail.com", "hard", "5.1.1",
		"The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces. For more information, go to…"}}, "abcdefabcdef01234567", 114},
	"gmail-over-quota.eml": {Soft, "dsn", [][4]string{{"full.inbox@gmail.com", "soft", "4.2.2",
		"The recipient's inbox is out of storage space. Please direct the recipient to https://support.google.com/mail/?p=OverQuotaTemp"}}, "f00df00df00df00df00d", 115},
	"gmail-blocked-as-spam.eml": {Soft, "dsn", [][4]string{{"careful.reader@gmail.com", "soft", "5.7.1",
		"[203.0.113.10] Our system has detected that this message is likely unsolicited mail. To reduce the amount of spam sent to Gmail, this message has been blocked. For more information, go to…"}}, "5ba4a5ba4a5ba4a5ba4a", 101},
	"yahoo-no-account.eml": {Hard, "text", [][4]string{{"gone.reader@yahoo.com", "hard", "5.0.0",
		"delivery error: dd This user doesn't have a yahoo.com account (gone.reader@yahoo.com) [0] - mta1047.mail.ne1.yahoo.com"}}, "ee00ee00ee00ee00ee00", 102},
	"yahoo-arf-complaint.eml": {Complaint, "arf", [][4]string{{"complainer@yahoo.com", "complaint", "",
		"marked as spam (abuse) via Yahoo!-Mail-Feedback/2.0"}}, "c0c0c0c0c0c0c0c0c0c0", 103},
	"ses-dsn-user-unknown.eml": {Hard, "dsn", [][4]string{{"ghost@corp.example", "hard", "5.1.1",
		"<ghost@corp.example>: Recipient address rejected: User unknown in relay recipient table"}}, "5e5e5e5e5e5e5e5e5e5e", 105},
	"ses-complaint-arf.eml": {Complaint, "arf", [][4]string{{"not.interested@isp.example", "complaint", "",
		"marked as spam (abuse) via Amazon SES Feedback Forwarding"}}, "abab12ab12ab12ab12ab", 106},
	"naver-user-unknown-html.eml": {Hard, "text", [][4]string{{"reader.kim@naver.com", "hard", "5.1.1",
		"받는 사람의 메일 주소가 존재하지 않습니다. (Recipient address rejected)"}}, "", 107},
	"naver-mailbox-full-euckr.eml": {Soft, "text", [][4]string{{"park.sy@naver.com", "soft", "",
		"받는 사람의 메일함 용량이 초과되어 메일을 받을 수 없습니다."}}, "8e8e8e8e8e8e8e8e8e8e", 108},
	"daum-hanmail-user-unknown.eml": {Hard, "dsn", [][4]string{{"lee.hs@hanmail.net", "hard", "5.1.1",
		"<lee.hs@hanmail.net>: Recipient address rejected: User unknown"}}, "da0da0da0da0da0da0da", 109},
	"kakao-dormant-account.eml": {Hard, "text", [][4]string{{"sleepy@kakao.com", "hard", "5.2.1",
		"휴면 상태인 계정이라 메일을 받을 수 없습니다 (mailbox disabled)"}}, "ca0ca0ca0ca0ca0ca0ca", 110},
	"icloud-mailbox-disabled.eml": {Hard, "dsn", [][4]string{{"old.friend@icloud.com", "hard", "5.2.1",
		"<old.friend@icloud.com>: user mailbox is inactive"}}, "", 113},
	// RFC 6533: the address comes back as the list spells it (xn-- domain).
	"global-dsn-korean-address.eml": {Hard, "dsn", [][4]string{{"독자@xn--vo5bi2v.xn--3e0b707e", "hard", "5.1.1",
		"User unknown"}}, "", 115},
	"dsn-two-recipients.eml": {Hard, "dsn", [][4]string{
		{"left.company@bigcorp.example", "hard", "5.1.1", "User unknown"},
		{"on.leave@bigcorp.example", "delayed", "4.2.1", "Mailbox temporarily disabled"}}, "", 101},
	// Refusals of the sender or the message, not the address: soft
	// whatever the code, or one blocklisting would mark every reader at
	// a provider bounced for good.
	"comcast-block.eml": {Soft, "dsn", [][4]string{{"r10@comcast.net", "soft", "5.0.0",
		"resimta-po-01v.sys.comcast.net comcast 198.51.100.7 Comcast block for spam. Please see http://postmaster.comcast.net/smtp-error-codes.php#BL000000"}}, "", 0},
	"gmail-remote-block.eml": {Soft, "dsn", [][4]string{{"r9@example.org", "soft", "5.0.0",
		"Your access to this mail system has been rejected due to the sending MTA's poor reputation."}}, "", 0},
	"content-rejected.eml": {Soft, "dsn", [][4]string{
		{"r11@example.net", "soft", "5.6.0", "Lone CR or LF in headers (see RFC 5322)"},
		{"r12@example.net", "soft", "5.4.7", "delivery temporarily suspended: connect to mx.example.net[192.0.2.9]:25: Connection timed out"},
		{"r13@example.net", "soft", "5.0.0", "Message rejected as spam by Content Filtering."},
		{"r14@example.net", "soft", "5.0.0", "Too many connections from your IP, rate limited; try again later"},
		{"r15@example.net", "soft", "5.3.0", "<r15@example.net>... Blacklisted by SpamCop"}}, "", 0},
	"naver2-block.eml": {Soft, "text", [][4]string{{"r20@naver.com", "soft", "", "받는 사람이 회원님의 메일을 수신차단 하였습니다."}}, "", 0},
	"naver2-spam.eml":  {Soft, "text", [][4]string{{"r20@naver.com", "soft", "", "스팸으로 분류되어 메일이 차단되었습니다."}}, "", 0},
	// The same service's headline ("메일을 전송하지 못했습니다") with
	// a reason that does say the address is gone.
	"naver2-unknown.eml": {Hard, "text", [][4]string{{"r20@naver.com", "hard", "5.0.0", "받는 사람의 메일 주소가 존재하지 않습니다."}}, "", 0},
	// 5.1.8: the sender's domain, not the reader's address.
	"exim-bad-sender-domain.eml": {Soft, "text", [][4]string{{"kwon@agency.example", "soft", "5.1.8",
		"<bounces@example.org>... Domain of sender address does not exist"}}, "", 0},
	// "spam" in the host and address names is no refusal for spam.
	"postfix-user-unknown-antispam-host.eml": {Hard, "dsn", [][4]string{{"ann@antispam-gateway.example", "hard", "5.1.1",
		"<ann@antispam-gateway.example>: Recipient address rejected: User unknown in virtual mailbox table"}}, "", 0},
	// "This is a permanent error" and nothing else: a failure of
	// unknown cause, soft.
	"qmail-permanent-no-reason.eml": {Soft, "text", [][4]string{{"jo@smallhost.example", "soft", "",
		"This is a permanent error; I've given up. Sorry it didn't work out."}}, "9a9a9a9a9a9a9a9a9a9a", 0},
	// Addresses in plain text: Exchange's "ADDR on DATE", Daum's "ADDR
	// 님에게" (HTML, its reason in a table cell beside its label),
	// Gmail's Korean "ADDR 주소를 ..." with the reply paragraphs below.
	"exchange-text.eml": {Hard, "text", [][4]string{{"r8@example.org", "hard", "5.1.1", "User unknown"}}, "", 0},
	"daum-html-ks.eml":  {Hard, "text", [][4]string{{"r17@hanmail.net", "hard", "5.1.1", "수신자의 계정이 존재하지 않습니다."}}, "", 0},
	"gmail-korean-text.eml": {Hard, "text", [][4]string{{"r18@gmail.com", "hard", "5.1.1",
		"The email account that you tried to reach does not exist. Please try double-checking the recipient's email address for typos or unnecessary spaces."}}, "", 0},
	// Names nobody, quotes nothing: only the return path says whose.
	"plain-bounce-token-only.eml": {Hard, "text", [][4]string{{"", "hard", "5.0.0",
		"This is a permanent error: the destination mailbox does not exist."}}, "", 107},
}

func TestCorpus(t *testing.T) {
	files, err := filepath.Glob("testdata/corpus/*.eml")
	if err != nil || len(files) < 25 {
		t.Fatalf("%d messages in testdata/corpus, want at least 25 (%v)", len(files), err)
	}
	s, rp := corpusSigner(t)
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			w, ok := corpus[name]
			if !ok {
				t.Fatalf("%s has no expectation in the table", name)
			}
			raw, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := Parse(raw)
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			checkReport(t, r)
			if r.Kind != w.kind || r.Format != w.format {
				t.Errorf("kind %q format %q, want %q %q", r.Kind, r.Format, w.kind, w.format)
			}
			var got [][4]string
			for _, rc := range r.Recipients {
				got = append(got, [4]string{rc.Address, string(rc.Kind), rc.Status, rc.Reason})
			}
			if len(got) != len(w.rcpts) {
				t.Fatalf("recipients %q\nwant %q", got, w.rcpts)
			}
			for i := range got {
				if got[i] != w.rcpts[i] {
					t.Errorf("recipient %d:\n got %q\nwant %q", i, got[i], w.rcpts[i])
				}
			}
			wantMID := ""
			if w.mid != "" {
				wantMID = strings.Replace(mid, "%s", w.mid, 1)
			}
			if r.MessageID != wantMID {
				t.Errorf("Message-ID %q, want %q", r.MessageID, wantMID)
			}
			c, ok := r.Token(rp, s)
			if w.reader == 0 && ok || w.reader != 0 && (!ok || c.Subscriber != w.reader || c.Issue != "2026-W49") {
				t.Errorf("return-path token: %+v, %v; want reader %d of 2026-W49 (return paths %q)", c, ok, w.reader, r.ReturnPaths)
			}
		})
	}
	// A return path signed with another key names nobody.
	other, _ := subscribers.NewSigner([]byte("another key, sixteen bytes or more"))
	raw, _ := os.ReadFile("testdata/corpus/postfix-user-unknown.eml")
	if r, err := Parse(raw); err != nil {
		t.Fatal(err)
	} else if c, ok := r.Token(rp, other); ok {
		t.Errorf("a token of another key matched %+v", c)
	}
	for name := range corpus {
		if _, err := os.Stat(filepath.Join("testdata/corpus", name)); err != nil {
			t.Errorf("the table expects %s: %v", name, err)
		}
	}
}

// checkReport holds for every report: kinds from the list, one-line
// reasons of at most MaxReason bytes, valid UTF-8.
func checkReport(t testing.TB, r Report) {
	t.Helper()
	if r.Kind.rank() == 0 || len(r.Recipients) == 0 {
		t.Fatalf("report without a kind or a recipient: %+v", r)
	}
	for _, rc := range r.Recipients {
		if rc.Kind.rank() == 0 || rc.Kind.rank() > r.Kind.rank() {
			t.Errorf("recipient kind %q under report kind %q", rc.Kind, r.Kind)
		}
		for _, s := range []string{rc.Reason, rc.Status, r.Subject} {
			if len(s) > MaxReason || !utf8.ValidString(s) || strings.ContainsAny(s, "\r\n\t") {
				t.Errorf("field %q: more than %d bytes, invalid UTF-8 or more than one line", s, MaxReason)
			}
		}
		for _, a := range append([]string{rc.Address, rc.Original}, r.ReturnPaths...) {
			if len(a) > maxAddress || !utf8.ValidString(a) || strings.ContainsAny(a, " \r\n\t") {
				t.Errorf("address %q: more than %d bytes, invalid UTF-8 or white space", a, maxAddress)
			}
		}
		if rc.Status != "" && (len(rc.Status) < 5 || rc.Status[1] != '.' || !strings.Contains("245", rc.Status[:1])) {
			t.Errorf("status %q is not an enhanced status code", rc.Status)
		}
	}
}

// Not bounces: auto-replies (English, Korean in EUC-KR), another
// newsletter, a phishing mail posing as a full mailbox, a reader's reply
// that talks about bounces, a success DSN, a read receipt, an
// authentication-failure report. Each is left alone.
func TestNotBounces(t *testing.T) {
	files, _ := filepath.Glob("testdata/notbounce/*.eml")
	if len(files) < 5 {
		t.Fatalf("%d messages in testdata/notbounce, want at least 5", len(files))
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if r, err := Parse(raw); !errors.Is(err, ErrNotBounce) {
			t.Errorf("%s: Parse = %+v, %v; want ErrNotBounce", filepath.Base(f), r, err)
		}
	}
}

func TestParseRefuses(t *testing.T) {
	if _, err := Parse(make([]byte, MaxSize+1)); !errors.Is(err, ErrTooLarge) {
		t.Errorf("a message over MaxSize: %v", err)
	}
	if _, err := Parse([]byte("not a message at all")); !errors.Is(err, ErrNotBounce) {
		t.Errorf("garbage: %v", err)
	}
	// A mailer daemon that says nothing usable is unreadable, not a
	// bounce: the caller leaves it for a person.
	daemon := "From: MAILER-DAEMON@mx.example\r\nTo: bounces@example.org\r\nSubject: Undelivered Mail Returned to Sender\r\n\r\nSomething happened.\r\n"
	if _, err := Parse([]byte(daemon)); !errors.Is(err, ErrUnreadable) {
		t.Errorf("an empty bounce: %v", err)
	}
}

func TestOneLineKeepsUTF8(t *testing.T) {
	long := strings.Repeat("받는 사람의 메일함이 가득 찼습니다 ", 20)
	for n := 10; n < 80; n++ {
		got := oneLine(long, n)
		if len(got) > n || !utf8.ValidString(got) || !strings.HasSuffix(got, "…") {
			t.Fatalf("oneLine(…, %d) = %q (%d bytes)", n, got, len(got))
		}
	}
	if got := oneLine("a\r\n  b\tc", 100); got != "a b c" {
		t.Errorf("oneLine = %q", got)
	}
}
