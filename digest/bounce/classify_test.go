package bounce

import "testing"

// TestClassify: hard only when the address itself is gone; a refusal of
// the sender or the message is soft whatever its code.
func TestClassify(t *testing.T) {
	for _, c := range []struct {
		status, text string
		want         Kind
	}{
		{"5.1.1", "550 5.1.1 User unknown", Hard},
		{"5.1.10", "RESOLVER.ADR.RecipientNotFound", Hard},
		{"5.2.1", "mailbox disabled", Hard},
		{"5.4.4", "Host or domain name not found", Hard},
		{"5.0.0", "550 No such user here", Hard},
		{"5.5.0", "Requested action not taken: mailbox unavailable", Hard},
		{"5.0.0", "550 Requested action not taken", Soft},      // a bare 550 says nothing of the address
		{"5.5.0", "Requested action not taken", Soft},          // nor a 5.5.x
		{"5.1.7", "Bad sender's mailbox address syntax", Soft}, // the sender's
		{"5.1.8", "Domain of sender address does not exist", Soft},
		{"5.7.1", "Recipient address rejected: Access denied", Soft},
		{"5.7.1", "Service unavailable; client host blocked using zen.spamhaus.org", Soft},
		{"5.6.0", "Message content rejected", Soft},
		{"5.3.4", "Message too big for system", Soft},
		{"5.4.7", "delivery expired", Soft},
		{"5.2.2", "Mailbox full", Soft},
		{"5.1.1", "550 5.1.1 user unknown; listed in our spam blocklist", Soft}, // the words win
		{"5.0.0", "554 rejected due to DMARC policy", Soft},
		{"5.0.0", "550 SPF check failed", Soft},
		{"5.0.0", "550 스팸으로 분류되어 차단되었습니다", Soft},
		{"5.0.0", "550 발송 정책에 따라 수신이 거부되었습니다", Soft},
		{"5.0.0", "550 존재하지 않는 사용자입니다", Hard},
		{"5.1.1", "550 5.1.1 <a@spamfree.example>: User unknown", Hard}, // names are not words
		{"4.2.2", "over quota", Soft},
		{"", "This is a permanent error; I've given up.", Soft},
		{"", "메일을 전송하지 못했습니다.", Soft},
		{"", "could not be delivered", Soft},
		{"", "No such user", Hard},
		{"", "수신차단 하였습니다", Soft},
	} {
		if got := classify("failed", c.status, c.text); got != c.want {
			t.Errorf("classify(%q, %q) = %q, want %q", c.status, c.text, got, c.want)
		}
	}
}

// A named recipient whose own words carry a status is classed by them,
// never by the rest of the bounce (another recipient's "user unknown").
func TestTextRecipientOwnStatus(t *testing.T) {
	all := "r1@example.org: 550 5.1.1 User unknown\nr2@example.org: 250 2.0.0 Ok: queued\nThis is a permanent error."
	if rc := textRecipient("r2@example.org", "250 2.0.0 Ok: queued", all); rc.Kind != "" {
		t.Errorf("a recipient whose own status is 2.0.0: %+v", rc)
	}
	if rc := textRecipient("r3@example.org", "", "This is a permanent error: the mailbox does not exist."); rc.Kind != Hard {
		t.Errorf("a recipient without words of its own: %+v", rc)
	}
}
