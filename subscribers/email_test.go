package subscribers

import (
	"strconv"
	"strings"
	"testing"
)

func TestNormalizeEmailValid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"reader@example.org", "reader@example.org"},
		{"  reader@example.org\t", "reader@example.org"},
		{"Reader.Name@Example.ORG", "Reader.Name@example.org"},
		{"kim+ai@mail.example.co.kr", "kim+ai@mail.example.co.kr"},
		{"<reader@example.org>", "reader@example.org"},
		{`"reader"@example.org`, "reader@example.org"},
		{"reader@한국.kr", "reader@xn--3e0b707e.kr"},
		{"reader@HANKOOK.한국", "reader@hankook.xn--3e0b707e"},
		{"reader@bücher.example", "reader@xn--bcher-kva.example"},
		{"reader@BÜCHER.example", "reader@xn--bcher-kva.example"},
		// NFD ü (u + combining diaeresis) is the same domain as NFC ü.
		{"reader@bu\u0308cher.example", "reader@xn--bcher-kva.example"},
		{"reader@例え.テスト", "reader@xn--r8jz45g.xn--zckzah"},
		// A Korean IME types the ideographic full stop.
		{"reader@한국。kr", "reader@xn--3e0b707e.kr"},
		{"reader@xn--3e0b707e.kr", "reader@xn--3e0b707e.kr"},
		{"reader@XN--3E0B707E.KR", "reader@xn--3e0b707e.kr"},
		{"독자@한국.kr", "독자@xn--3e0b707e.kr"},
		// Full-width letters from an IME in full-width mode are the ASCII
		// domain, not a second xn-- one.
		{"a@ｅｘａｍｐｌｅ．com", "a@example.com"},
		// Composed and decomposed é before the @ are one mailbox.
		{"jose\u0301@example.org", "jos\u00e9@example.org"},
		{"a-b_c=d@sub-domain.example.org", "a-b_c=d@sub-domain.example.org"},
		{strings.Repeat("a", 64) + "@example.org", strings.Repeat("a", 64) + "@example.org"},
		{"a@" + strings.Repeat("b", 63) + ".org", "a@" + strings.Repeat("b", 63) + ".org"},
		{len254(), len254()},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err != nil {
			t.Errorf("NormalizeEmail(%q): %v", tt.in, err)
			continue
		}
		if got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if again, err := NormalizeEmail(got); again != got || err != nil {
			t.Errorf("NormalizeEmail(%q) = %q, %v; a normalized address must stay as it is", got, again, err)
		}
	}
}

// len254 is an address of exactly the 254 bytes mail servers accept.
func len254() string {
	return strings.Repeat("a", 64) + "@" + strings.Repeat("b", 63) + "." + strings.Repeat("c", 63) + "." + strings.Repeat("d", 61)
}

func TestNormalizeEmailInvalid(t *testing.T) {
	tests := []struct{ in, want string }{
		{"", "empty"},
		{"   ", "empty"},
		{"Kim Reader <reader@example.org>", "put the name in the name column"},
		{`"Kim, Reader" <reader@example.org>`, "put the name in the name column"},
		{"reader@example.org (Kim)", "put the name in the name column"},
		{"Kim <reader@example..org>", "put the name in the name column"},
		{"kim reader@example.org", "contains a space"},
		// Compatibility characters that stand for punctuation.
		{"a@ex\u2488com", "stands for"}, // ⒈ is "1."
		{"a@x.c\u2024om", "stands for"}, // ․ one dot leader
		{"a@\u33c2.com", "stands for"},  // ㏂ is "a.m."
		{"reader@ example.org", "contains a space"},
		{"reader@exam ple.org", "contains a space"},
		{`"kim reader"@example.org`, "contains a space"},
		{"reader.example.org", "has no @"},
		{"reader@@example.org", "more than one @"},
		{"kim@reader@example.org", "more than one @"},
		{"a@example.org,b@example.org", "more than one address"},
		{"a@example.org;b@example.org", "more than one address"},
		{"@example.org", "nothing before the @"},
		{"reader@", "nothing after the @"},
		{"reader@example", "has no dot in its domain; write the full address, e.g. reader@example.org"},
		{"reader@한국", "has no dot in its domain"},
		{"reader@example..org", "two dots in a row"},
		{"reader@.example.org", "dot at the start or end of its domain"},
		{"reader@example.org.", "dot at the start or end of its domain"},
		{".reader@example.org", "dot at the start or end of the part before the @"},
		{"reader.@example.org", "dot at the start or end of the part before the @"},
		{"read..er@example.org", "two dots in a row"},
		{"reader@-example.org", "starts or ends with a hyphen"},
		{"reader@example-.org", "starts or ends with a hyphen"},
		{"reader@exa_mple.org", "'_' in its domain"},
		{"reader@☃.example", "'☃' in its domain"},
		{"reader@exa\u200bmple.org", "in its domain"},
		{"rea\u200bder@example.org", "unusual part before the @"},
		{`"a@b"@example.org`, "unusual part before the @"},
		{"kim,reader@example.org", "',', which an address cannot have"},
		{"reader@[192.0.2.1]", "IP address"},
		{"reader@192.0.2.1", "IP address"},
		{"reader\xff@example.org", "not valid UTF-8"},
		{strings.Repeat("a", 65) + "@example.org", "before the @"},
		{"a@" + strings.Repeat("b", 64) + ".org", "longer than 63"},
		{"a@" + strings.Repeat("가", 60) + ".kr", "longer than 63 characters once encoded"},
		{len254() + "d", "more than the 254"},
		{strings.Repeat("a", 3000) + "@example.org", "too long"},
	}
	for _, tt := range tests {
		got, err := NormalizeEmail(tt.in)
		if err == nil {
			t.Errorf("NormalizeEmail(%.80q) = %q, want an error containing %q", tt.in, got, tt.want)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.want) {
			t.Errorf("NormalizeEmail(%.80q) error %q, want it to contain %q", tt.in, msg, tt.want)
		}
		if strings.ContainsAny(msg, "\r\n") {
			t.Errorf("NormalizeEmail(%q) error %q is more than one line", tt.in, msg)
		}
		// The operator must see which cell was wrong.
		if in := strings.TrimSpace(tt.in); in != "" && len(in) < 80 && !strings.Contains(msg, strconv.Quote(in)) {
			t.Errorf("NormalizeEmail(%q) error %q does not name the input", tt.in, msg)
		}
		if len(msg) > 300 {
			t.Errorf("NormalizeEmail(%.20q…) error is %d bytes long; a long input must be cut", tt.in, len(msg))
		}
	}
}

func TestEmailKey(t *testing.T) {
	a, _ := NormalizeEmail("Kim.Reader@Example.ORG")
	b, _ := NormalizeEmail("kim.reader@example.org")
	if a == b {
		t.Fatalf("the local part must be kept as written, got %q for both", a)
	}
	if EmailKey(a) != EmailKey(b) {
		t.Errorf("EmailKey(%q) = %q, EmailKey(%q) = %q; they are the same subscriber", a, EmailKey(a), b, EmailKey(b))
	}
	c, _ := NormalizeEmail("kim.reader2@example.org")
	if EmailKey(a) == EmailKey(c) {
		t.Errorf("EmailKey(%q) == EmailKey(%q)", a, c)
	}
}

// The samples of RFC 3492 §7.1 that cover the encoder's paths: all
// non-ASCII, mixed with ASCII, and ASCII hyphens kept.
func TestPunycode(t *testing.T) {
	tests := []struct{ in, want string }{
		{"한국", "3e0b707e"},
		{"bücher", "bcher-kva"},
		{"例え", "r8jz45g"},
		{"テスト", "zckzah"},
		{"\u0644\u064A\u0647\u0645\u0627\u0628\u062A\u0643\u0644\u0645\u0648\u0634\u0639\u0631\u0628\u064A\u061F", "egbpdaj6bu4bxfgehfvwxn"},
		{"3年B組金八先生", "3B-ww4c5e180e575a65lsy2b"},
		{"安室奈美恵-with-SUPER-MONKEYS", "-with-SUPER-MONKEYS-pc58ag80a8qai00g7n9n"},
		{"そのスピードで", "d9juau41awczczp"},
		{"\u043F\u043E\u0447\u0435\u043C\u0443\u0436\u0435\u043E\u043D\u0438\u043D\u0435\u0433\u043E\u0432\u043E\u0440\u044F\u0442\u043F\u043E\u0440\u0443\u0441\u0441\u043A\u0438", "b1abfaaepdrnnbgefbadotcwatmq2g4l"},
	}
	for _, tt := range tests {
		if got := punycode(tt.in); got != tt.want {
			t.Errorf("punycode(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
