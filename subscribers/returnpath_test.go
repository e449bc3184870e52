package subscribers

import (
	"errors"
	"strings"
	"testing"
)

func TestReturnTokenRoundTrip(t *testing.T) {
	s := testSigner(t)
	rp, err := ParseReturnPath("bounces+{token}@example.org")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []ReturnClaims{
		{1, "2026-W49"}, {42, "2026-11-30"}, {7, "2026-11-30T08"}, {1<<63 - 1, "9999-W53"},
		{300000, "an-odd-issue.id"}, {5, "2026-W00x"},
	} {
		addr := rp.Address(s, c.Subscriber, c.Issue)
		local, domain, _ := strings.Cut(addr, "@")
		if domain != "example.org" || !strings.HasPrefix(local, "bounces+") || len(local) > 64 {
			t.Fatalf("%+v: address %q", c, addr)
		}
		tok := strings.TrimPrefix(local, "bounces+")
		for _, r := range tok {
			if !(r >= 'a' && r <= 'z' || r >= '2' && r <= '7') {
				t.Fatalf("%+v: token %q holds %q", c, tok, r)
			}
		}
		if len(tok) > MaxReturnToken && (c.Issue == "2026-W49" || c.Issue == "9999-W53") {
			t.Fatalf("%+v: token of %d chars, more than MaxReturnToken", c, len(tok))
		}
		// An MTA upper-cases the address on the way back.
		found := rp.Token(strings.ToUpper(addr))
		got, err := s.VerifyReturnToken(found)
		if err != nil || got != c {
			t.Fatalf("%+v: token %q from %q verifies to %+v, %v", c, found, addr, got, err)
		}
	}
	// What cannot be named within 64 octets leaves with mail.from.
	long, _ := ParseReturnPath(strings.Repeat("b", 25) + "{token}@example.org")
	for _, c := range []ReturnClaims{{0, "2026-W49"}, {5, strings.Repeat("x", 30)}, {5, "an-odd-issue.id"}} {
		if addr := long.Address(s, c.Subscriber, c.Issue); addr != "" {
			t.Errorf("Address(%+v) = %q; want none", c, addr)
		}
	}
	if addr := long.Address(s, 1<<63-1, "9999-W53"); addr == "" || len(addr) > 64+len("@example.org") {
		t.Errorf("the longest digest token does not fit: %q", addr)
	}
	if tok := s.ReturnToken(ReturnClaims{12345, "2026-W49"}); len(tok) > 32 {
		t.Errorf("a weekly token for reader 12345 is %d chars (%s); it should be short", len(tok), tok)
	}
}

func TestReturnTokenRefusesForgery(t *testing.T) {
	s := testSigner(t)
	tok := s.ReturnToken(ReturnClaims{42, "2026-W49"})
	other, _ := NewSigner([]byte("another key, sixteen bytes or more"))
	for _, bad := range []string{
		"", "a", tok[:len(tok)-1], tok + "a", strings.Repeat("a", len(tok)),
		tok[:5] + string(rune(tok[5]^1)) + tok[6:], other.ReturnToken(ReturnClaims{42, "2026-W49"}),
		s.Sign(Claims{Purpose: PurposeUnsubscribe, Subscriber: 42, Data: "2026-W49"}),
	} {
		if c, err := s.VerifyReturnToken(bad); !errors.Is(err, ErrBadToken) {
			t.Errorf("VerifyReturnToken(%q) = %+v, %v; want ErrBadToken", bad, c, err)
		}
	}
}

func TestParseReturnPath(t *testing.T) {
	for _, good := range []string{"bounces+{token}@example.org", "{token}@bounce.example.org", "b-{token}-x@example.org"} {
		if _, err := ParseReturnPath(good); err != nil {
			t.Errorf("ParseReturnPath(%q): %v", good, err)
		}
	}
	for bad, want := range map[string]string{
		"bounces@example.org":                     "exactly once",
		"bounces+{token}{token}@example.org":      "exactly once",
		"bounces@{token}.example.org":             "before the @",
		"Bounces <bounces+{token}@example.org>":   "bare ASCII address",
		"bounces+{token}":                         "before the @",
		"bounces +{token}@example.org":            "bare ASCII address",
		"반송+{token}@example.org":                  "bare ASCII address",
		strings.Repeat("b", 30) + "{token}@x.org": "beside {token}",
	} {
		_, err := ParseReturnPath(bad)
		if err == nil || !errors.Is(err, ErrReturnPath) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("ParseReturnPath(%q) = %v; want an error saying %q", bad, err, want)
		}
	}
	rp, _ := ParseReturnPath("bounces+{token}@example.org")
	for _, addr := range []string{"bounces@example.org", "bounces+abc@example.com", "digest@example.org", "bounces+@example.org"} {
		if tok := rp.Token(addr); tok != "" {
			t.Errorf("Token(%q) = %q; want none", addr, tok)
		}
	}
}

// FuzzVerifyReturnToken: nothing verifies but what ReturnToken makes,
// in one spelling up to case.
func FuzzVerifyReturnToken(f *testing.F) {
	s := testSigner(f)
	f.Add(s.ReturnToken(ReturnClaims{42, "2026-W49"}))
	f.Add(s.ReturnToken(ReturnClaims{1, "odd id"}))
	f.Add("")
	f.Fuzz(func(t *testing.T, tok string) {
		c, err := s.VerifyReturnToken(tok)
		if err != nil {
			return
		}
		if again := s.ReturnToken(c); again != strings.ToLower(tok) {
			t.Fatalf("VerifyReturnToken(%q) = %+v, but ReturnToken gives %q", tok, c, again)
		}
	})
}
