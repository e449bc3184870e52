package subscribers

import (
	"encoding/base64"
	"errors"
	"net/url"
	"strings"
	"testing"
	"time"
)

var (
	testKey  = []byte("0123456789abcdef-test-key")
	testNow  = time.Date(2025, 3, 14, 9, 26, 53, 589793238, time.UTC)
	b64Chars = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
)

func testSigner(t testing.TB) *Signer {
	t.Helper()
	s, err := NewSigner(testKey)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// testClaims is one link of each purpose as the application makes them.
func testClaims() []Claims {
	return []Claims{
		{Purpose: PurposeConfirm, Subscriber: 1, Data: "compute regulation", Expires: testNow.Add(ConfirmTTL)},
		{Purpose: PurposeUnsubscribe, Subscriber: 42, Data: "2025-W11"},
		{Purpose: PurposePreferences, Subscriber: 1 << 40},
		{Purpose: PurposeConfirm, Subscriber: 7, Data: "", Expires: testNow.Add(ConfirmTTL)},
		{Purpose: PurposeUnsubscribe, Subscriber: 1<<63 - 1, Data: strings.Repeat("가", maxTokenData/3)},
		// The desk's: a sign-in link names its editor by a digest, a form
		// token carries only the session's id.
		{Purpose: PurposeDeskSignIn, Subscriber: 1<<61 + 5, Data: "3q2-7wY1XyZ0aBcDeFgHiJ", Expires: testNow.Add(15 * time.Minute)},
		{Purpose: PurposeDeskCSRF, Subscriber: 77, Expires: testNow.Add(12 * time.Hour)},
	}
}

func TestTokenRoundTrip(t *testing.T) {
	s := testSigner(t)
	for _, c := range testClaims() {
		tok := s.Sign(c)
		got, err := s.Verify(tok, c.Purpose, testNow)
		if err != nil {
			t.Errorf("Verify(Sign(%+v)): %v", c, err)
			continue
		}
		want := c
		if !want.Expires.IsZero() {
			// Kept to the second.
			want.Expires = time.Unix(c.Expires.Unix(), 0).UTC()
		}
		if got != want {
			t.Errorf("Verify(Sign(%+v)) = %+v", c, got)
		}
		if again := s.Sign(got); again != tok {
			t.Errorf("Sign(Verify(tok)) = %q, want %q", again, tok)
		}
	}
}

func TestTokenURLSafeAndNoAddress(t *testing.T) {
	s := testSigner(t)
	for _, c := range testClaims() {
		tok := s.Sign(c)
		if url.QueryEscape(tok) != tok || url.PathEscape(tok) != tok {
			t.Errorf("token %q needs escaping in a URL", tok)
		}
		if len(tok) > maxToken {
			t.Errorf("token is %d chars, more than Verify takes", len(tok))
		}
		payload, _, _ := strings.Cut(tok, ".")
		raw, err := base64.RawURLEncoding.DecodeString(payload)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(string(raw), "@") || strings.Contains(tok, "example") {
			t.Errorf("token %q carries an address", tok)
		}
	}
}

func TestTokenForged(t *testing.T) {
	s := testSigner(t)
	other, err := NewSigner([]byte("another-key-of-16+bytes"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range testClaims() {
		if _, err := s.Verify(other.Sign(c), c.Purpose, testNow); !errors.Is(err, ErrBadToken) {
			t.Errorf("a token from another key: err = %v, want ErrBadToken", err)
		}
	}
}

func TestTokenTruncated(t *testing.T) {
	s := testSigner(t)
	for _, c := range testClaims() {
		tok := s.Sign(c)
		for i := range len(tok) {
			if _, err := s.Verify(tok[:i], c.Purpose, testNow); !errors.Is(err, ErrBadToken) {
				t.Errorf("prefix %q of %q: err = %v, want ErrBadToken", tok[:i], tok, err)
			}
		}
		// Cutting from the front is just as bad.
		for i := 1; i < len(tok); i++ {
			if _, err := s.Verify(tok[i:], c.Purpose, testNow); !errors.Is(err, ErrBadToken) {
				t.Errorf("suffix %q of %q: err = %v, want ErrBadToken", tok[i:], tok, err)
			}
		}
	}
}

func TestTokenEveryChangeFails(t *testing.T) {
	s := testSigner(t)
	for _, c := range testClaims() {
		tok := s.Sign(c)
		for i := range len(tok) {
			for _, r := range b64Chars + "." {
				if byte(r) == tok[i] {
					continue
				}
				bad := tok[:i] + string(r) + tok[i+1:]
				if _, err := s.Verify(bad, c.Purpose, testNow); !errors.Is(err, ErrBadToken) {
					t.Errorf("%q with char %d changed to %q: err = %v, want ErrBadToken", tok, i, r, err)
				}
			}
		}
		// Decoders that skip line breaks or take padding would let
		// these through.
		for _, bad := range []string{
			tok + "=", tok + "==", tok + ".", "." + tok, tok + "\n", tok[:5] + "\n" + tok[5:],
			tok[:5] + "\r\n" + tok[5:], " " + tok, strings.Replace(tok, ".", "..", 1),
			strings.Replace(tok, ".", "=.", 1), tok + "A", "A" + tok,
		} {
			if _, err := s.Verify(bad, c.Purpose, testNow); !errors.Is(err, ErrBadToken) {
				t.Errorf("%q: err = %v, want ErrBadToken", bad, err)
			}
		}
	}
}

func TestTokenWrongPurpose(t *testing.T) {
	s := testSigner(t)
	for _, c := range testClaims() {
		tok := s.Sign(c)
		for _, p := range []Purpose{PurposeConfirm, PurposeUnsubscribe, PurposePreferences, PurposeDeskSignIn, PurposeDeskSession, PurposeDeskCSRF, 0, 9} {
			if p == c.Purpose {
				continue
			}
			got, err := s.Verify(tok, p, testNow)
			if !errors.Is(err, ErrWrongPurpose) || errors.Is(err, ErrBadToken) {
				t.Errorf("a %v token verified as %v: err = %v, want ErrWrongPurpose only", c.Purpose, p, err)
			}
			if got != (Claims{}) {
				t.Errorf("a %v token verified as %v returned claims %+v", c.Purpose, p, got)
			}
		}
	}
}

// A token for subscriber 1 must not become one for subscriber 2, by
// editing the payload or by pairing one payload with another's MAC.
func TestTokenOtherSubscriber(t *testing.T) {
	s := testSigner(t)
	c1 := Claims{Purpose: PurposeUnsubscribe, Subscriber: 1, Data: "2025-W11"}
	c2 := c1
	c2.Subscriber = 2
	t1, t2 := s.Sign(c1), s.Sign(c2)
	p1, m1, _ := strings.Cut(t1, ".")
	p2, m2, _ := strings.Cut(t2, ".")
	raw, _ := base64.RawURLEncoding.DecodeString(p1)
	raw[2] = 2 // the subscriber id's only byte
	edited := base64.RawURLEncoding.EncodeToString(raw)
	if edited != p2 {
		t.Fatalf("edited payload %q, want %q; the layout changed", edited, p2)
	}
	for _, bad := range []string{edited + "." + m1, p2 + "." + m1, p1 + "." + m2} {
		if got, err := s.Verify(bad, PurposeUnsubscribe, testNow); !errors.Is(err, ErrBadToken) {
			t.Errorf("%q: %+v, %v; want ErrBadToken", bad, got, err)
		}
	}
	got, err := s.Verify(t1, PurposeUnsubscribe, testNow)
	if err != nil || got.Subscriber != 1 {
		t.Errorf("subscriber 1's own token: %+v, %v", got, err)
	}
}

func TestTokenExpiry(t *testing.T) {
	s := testSigner(t)
	c := Claims{Purpose: PurposeConfirm, Subscriber: 9, Data: "safety", Expires: testNow.Add(ConfirmTTL)}
	tok := s.Sign(c)
	expires := time.Unix(c.Expires.Unix(), 0)
	for _, now := range []time.Time{testNow, testNow.Add(ConfirmTTL - time.Second), expires} {
		if _, err := s.Verify(tok, PurposeConfirm, now); err != nil {
			t.Errorf("Verify at %v: %v; the link is still valid", now, err)
		}
	}
	got, err := s.Verify(tok, PurposeConfirm, testNow.Add(ConfirmTTL+time.Second))
	if !errors.Is(err, ErrExpired) || errors.Is(err, ErrBadToken) {
		t.Fatalf("Verify a second after ConfirmTTL: err = %v, want ErrExpired only", err)
	}
	if got.Subscriber != 9 || got.Data != "safety" {
		t.Errorf("an expired token returned %+v; want its claims, to offer a fresh link", got)
	}
	// Purpose comes first: an expired link of the wrong kind is the
	// wrong kind.
	if _, err := s.Verify(tok, PurposeUnsubscribe, testNow.Add(2*ConfirmTTL)); !errors.Is(err, ErrWrongPurpose) {
		t.Errorf("expired, wrong purpose: err = %v, want ErrWrongPurpose", err)
	}

	never := s.Sign(Claims{Purpose: PurposeUnsubscribe, Subscriber: 9, Data: "2025-W11"})
	later := testNow.AddDate(30, 0, 0)
	if got, err := s.Verify(never, PurposeUnsubscribe, later); err != nil || !got.Expires.IsZero() {
		t.Errorf("an unsubscribe link 30 years later: %+v, %v; it never expires", got, err)
	}

	old := s.Sign(Claims{Purpose: PurposePreferences, Subscriber: 9, Expires: time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC)})
	if _, err := s.Verify(old, PurposePreferences, testNow); !errors.Is(err, ErrExpired) {
		t.Errorf("a link that expired before 1970: err = %v, want ErrExpired", err)
	}
}

func TestTokenGarbage(t *testing.T) {
	s := testSigner(t)
	long := s.Sign(Claims{Purpose: PurposeUnsubscribe, Subscriber: 1, Data: strings.Repeat("x", maxTokenData)})
	if _, err := s.Verify(long, PurposeUnsubscribe, testNow); err != nil {
		t.Fatalf("the longest token: %v", err)
	}
	for _, bad := range []string{
		"", ".", "..", "a.b", "AAAA.AAAA", "AQIBAAA.AAAAAAAAAAAAAAAAAAAAAA",
		strings.Repeat("A", maxToken+1),
		long + strings.Repeat("A", maxToken-len(long)+1),
		"%41%41.%41", "token with spaces", "가.나", "\x00.\x00", "\xff.\xff",
	} {
		if _, err := s.Verify(bad, PurposeUnsubscribe, testNow); !errors.Is(err, ErrBadToken) {
			t.Errorf("Verify(%.40q): err = %v, want ErrBadToken", bad, err)
		}
	}
}

func TestNewSigner(t *testing.T) {
	for _, k := range [][]byte{nil, {}, []byte("15-bytes-key..."), make([]byte, 15)} {
		if _, err := NewSigner(k); err == nil {
			t.Errorf("NewSigner(%d bytes) accepted a short key", len(k))
		}
	}
	key := []byte("exactly-16-bytes")
	s, err := NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	c := Claims{Purpose: PurposePreferences, Subscriber: 3}
	tok := s.Sign(c)
	key[0] = 'X' // the caller reusing its buffer
	if _, err := s.Verify(tok, PurposePreferences, testNow); err != nil {
		t.Errorf("the signer changed with the caller's key buffer: %v", err)
	}
}

func TestSignPanicsOnBadClaims(t *testing.T) {
	s := testSigner(t)
	for _, c := range []Claims{
		{Purpose: 0, Subscriber: 1},
		{Purpose: PurposeDeskCSRF + 1, Subscriber: 1},
		{Purpose: PurposeConfirm, Subscriber: 0},
		{Purpose: PurposeConfirm, Subscriber: -1},
		{Purpose: PurposeConfirm, Subscriber: 1, Data: strings.Repeat("x", maxTokenData+1)},
	} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Sign(%+v) did not panic", c)
				}
			}()
			s.Sign(c)
		}()
	}
}

func TestPurposeString(t *testing.T) {
	for p, want := range map[Purpose]string{
		PurposeConfirm: "confirm", PurposeUnsubscribe: "unsubscribe", PurposePreferences: "preferences",
		PurposeDeskSignIn: "desk sign-in", PurposeDeskSession: "desk session", PurposeDeskCSRF: "desk form", 9: "Purpose(9)",
	} {
		if got := p.String(); got != want {
			t.Errorf("Purpose(%d).String() = %q, want %q", p, got, want)
		}
	}
}
