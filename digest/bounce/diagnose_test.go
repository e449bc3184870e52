package bounce

import "testing"

// Diagnose reads a provider's status and server words as Parse reads a
// DSN's: the code found in the words when not given, the kind they mean,
// the reason without the codes.
func TestDiagnose(t *testing.T) {
	for _, c := range []struct {
		status, text string
		wantStatus   string
		wantKind     Kind
		wantReason   string
	}{
		{"", "smtp; 550 5.1.1 <kim@example.org>: Recipient address rejected: User unknown", "5.1.1", Hard, "<kim@example.org>: Recipient address rejected: User unknown"},
		{"5.2.2", "552 5.2.2 메일함이 가득 찼습니다", "5.2.2", Soft, "메일함이 가득 찼습니다"},
		{"4.0.0", "421 try again later", "4.0.0", Soft, "try again later"},
		{"", "Permanent bounce (General)", "", "", "Permanent bounce (General)"}, // the provider decides
		{"5.1.1", "", "5.1.1", Hard, "bad destination mailbox address"},
		{"", "", "", "", ""},
		// Mailgun's bare code 550 as 5.0.0: the words' own code is finer.
		{"5.0.0", "5.1.1 unknown", "5.1.1", Hard, "unknown"},
		{"5.0.0", "550 Message rejected as spam by Content Filtering", "5.0.0", Soft, "Message rejected as spam by Content Filtering"},
	} {
		st, k, r := Diagnose(c.status, c.text)
		if st != c.wantStatus || k != c.wantKind || r != c.wantReason {
			t.Errorf("Diagnose(%q, %q) = %q, %q, %q; want %q, %q, %q", c.status, c.text, st, k, r, c.wantStatus, c.wantKind, c.wantReason)
		}
	}
}
