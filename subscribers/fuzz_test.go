package subscribers

import (
	"bytes"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzReadCSV feeds ReadCSV arbitrary files: whatever an operator
// uploads, every row it returns must be importable as it is, and every
// line it names must be a line of the file.
func FuzzReadCSV(f *testing.F) {
	f.Add([]byte(mixedCSV))
	f.Add([]byte(toSemicolons(mixedCSV)))
	f.Add([]byte(strings.ReplaceAll(mixedCSV, "\n", "\r\n")))
	f.Add([]byte("Name;Status;EMAIL;Themes\nKim;bounced;kim@example.org;safety\n"))
	f.Add([]byte("email,,name\nkim@example.org,,Kim\n\"lee@example.org\nx\",x,Lee\n"))
	f.Add([]byte("kim@한국.kr,\"Kim \"\"KK\"\"\",compute|safety,pending\n\"unclosed,\n"))
	f.Add([]byte("\xff\xfee\x00"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		rows, rej, err := ReadCSV(bytes.NewReader(data), testThemes)
		if err != nil {
			if rows != nil || rej != nil {
				t.Fatalf("rows with an error: %v", err)
			}
			return
		}
		// CR, LF and CRLF each end a line.
		lines := bytes.Count(data, []byte("\n")) + bytes.Count(data, []byte("\r")) - bytes.Count(data, []byte("\r\n")) + 1
		used := make(map[int]bool)
		keys := make(map[string]bool)
		prev := 0
		for _, r := range rows {
			s := r.Subscriber
			if r.Line <= prev || r.Line > lines {
				t.Fatalf("row on line %d after line %d, in a file of %d lines", r.Line, prev, lines)
			}
			prev = r.Line
			used[r.Line] = true
			if n, err := NormalizeEmail(s.Email); n != s.Email || err != nil {
				t.Fatalf("line %d: address %q normalizes to %q, %v", r.Line, s.Email, n, err)
			}
			if keys[EmailKey(s.Email)] {
				t.Fatalf("line %d: %q twice among the rows", r.Line, s.Email)
			}
			keys[EmailKey(s.Email)] = true
			if !utf8.ValidString(s.Name) || CheckName(s.Name) != nil || strings.TrimSpace(s.Name) != s.Name {
				t.Fatalf("line %d: name %q", r.Line, s.Name)
			}
			if !slices.Contains(Statuses, s.Status) {
				t.Fatalf("line %d: status %q", r.Line, s.Status)
			}
			for i, th := range s.Themes {
				if !slices.Contains(testThemes, th) || slices.Contains(s.Themes[:i], th) {
					t.Fatalf("line %d: themes %q", r.Line, s.Themes)
				}
			}
		}
		prev = 0
		for _, r := range rej {
			if r.Line < 1 || r.Line <= prev || r.Line > lines || used[r.Line] {
				t.Fatalf("rejected line %d after line %d, in a file of %d lines (rows on %v)", r.Line, prev, lines, used)
			}
			prev = r.Line
			if r.Reason == "" || strings.ContainsAny(r.Reason, "\r\n") || !utf8.ValidString(r.Reason) || !utf8.ValidString(r.Value) {
				t.Fatalf("line %d: value %q, reason %q", r.Line, r.Value, r.Reason)
			}
		}
	})
}

// FuzzVerifyToken checks that no string verifies unless it is exactly
// what Sign makes for the claims it carries: no forgery, and no second
// spelling of a genuine token.
func FuzzVerifyToken(f *testing.F) {
	s := testSigner(f)
	for _, c := range testClaims() {
		f.Add(s.Sign(c))
	}
	f.Add(s.Sign(Claims{Purpose: PurposeConfirm, Subscriber: 1, Expires: time.Unix(1, 0)}))
	f.Add("")
	f.Add("AQIBAAA.AAAAAAAAAAAAAAAAAAAAAA")
	f.Add("AQIqAAA=.AAAA\n")
	f.Fuzz(func(t *testing.T, tok string) {
		for p := range PurposeDeskCSRF + 2 {
			c, err := s.Verify(tok, p, testNow)
			switch {
			case err == nil, errors.Is(err, ErrExpired):
				if again := s.Sign(c); again != tok {
					t.Fatalf("Verify(%q) = %+v, %v, but Sign gives %q", tok, c, err, again)
				}
				if c.Purpose != p {
					t.Fatalf("Verify(%q, %v) returned purpose %v", tok, p, c.Purpose)
				}
			case errors.Is(err, ErrBadToken), errors.Is(err, ErrWrongPurpose):
				if c != (Claims{}) {
					t.Fatalf("Verify(%q) failed with %v but returned %+v", tok, err, c)
				}
			default:
				t.Fatalf("Verify(%q): unexpected error %v", tok, err)
			}
		}
	})
}

// FuzzSignVerify checks that every claims Sign takes come back from
// Verify, to the second.
func FuzzSignVerify(f *testing.F) {
	s := testSigner(f)
	f.Add(uint8(1), int64(1), "compute regulation", testNow.Unix())
	f.Add(uint8(2), int64(1<<62), "2025-W11", int64(0))
	f.Add(uint8(3), int64(7), "", int64(-5))
	f.Fuzz(func(t *testing.T, p uint8, sub int64, data string, exp int64) {
		c := Claims{Purpose: Purpose(p), Subscriber: sub, Data: data}
		if exp != 0 {
			c.Expires = time.Unix(exp, 0).UTC()
		}
		if !validPurpose(c.Purpose) || sub <= 0 || len(data) > maxTokenData {
			return
		}
		tok := s.Sign(c)
		want := c
		if exp < 0 && !c.Expires.IsZero() { // Unix(-62135596800) is the zero Time
			want.Expires = time.Unix(1, 0).UTC()
		}
		at := want.Expires
		if at.IsZero() {
			at = testNow
		}
		got, err := s.Verify(tok, c.Purpose, at)
		if err != nil || got != want {
			t.Fatalf("Verify(Sign(%+v)) at its expiry = %+v, %v", c, got, err)
		}
		if !want.Expires.IsZero() && exp < 1<<62 {
			if _, err := s.Verify(tok, c.Purpose, at.Add(time.Second)); !errors.Is(err, ErrExpired) {
				t.Fatalf("Verify(Sign(%+v)) a second after its expiry: %v", c, err)
			}
		}
	})
}

// FuzzNormalizeEmail checks that a normalized address is a fixed point
// and a plain ASCII one, apart from an international local part.
func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"reader@한국.kr", "Reader@BÜCHER.example", "a@例え.テスト", "Kim <a@b.org>", `"a b"@x.org`, "a@xn--3e0b707e.kr", "독자@한국。kr"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := NormalizeEmail(in)
		if err != nil {
			if msg := err.Error(); strings.ContainsAny(msg, "\r\n") || !utf8.ValidString(msg) {
				t.Fatalf("NormalizeEmail(%q) error %q", in, msg)
			}
			return
		}
		if again, err := NormalizeEmail(out); again != out || err != nil {
			t.Fatalf("NormalizeEmail(%q) = %q, then %q, %v", in, out, again, err)
		}
		at := strings.LastIndexByte(out, '@')
		domain := out[at+1:]
		if len(out) > maxAddress || at < 1 || !isASCII(domain) || domain != strings.ToLower(domain) {
			t.Fatalf("NormalizeEmail(%q) = %q", in, out)
		}
	})
}

// FuzzCSVRoundTrip checks the export against the import for any
// subscriber the import could have produced.
func FuzzCSVRoundTrip(f *testing.F) {
	f.Add("kim@example.org", `=HYPERLINK("x"), "Kim"`, "compute, safety", "pending")
	f.Add("독자@한국.kr", "한지민", "", "")
	f.Add("+a@example.org", "-1;@2", "agents", "bounced")
	f.Fuzz(func(t *testing.T, email, name, themes, status string) {
		e, err := NormalizeEmail(email)
		if err != nil || !utf8.ValidString(name) || strings.TrimSpace(name) != name || CheckName(name) != nil {
			return
		}
		th, err := ParseThemes(themes, testThemes)
		if err != nil {
			return
		}
		st, err := ParseStatus(status)
		if err != nil {
			return
		}
		subs := []Subscriber{
			{Email: "first@example.org", Status: Active},
			{Email: e, Name: name, Themes: th, Status: st},
		}
		if EmailKey(e) == EmailKey(subs[0].Email) {
			return
		}
		var b bytes.Buffer
		if err := WriteCSV(&b, subs); err != nil {
			t.Fatal(err)
		}
		rows, rej, err := ReadCSV(&b, testThemes)
		if err != nil || len(rej) != 0 || len(rows) != 2 {
			t.Fatalf("ReadCSV(WriteCSV(%+v)) = %+v, %+v, %v\n%s", subs[1], rows, rej, err, b.String())
		}
		g := rows[1].Subscriber
		if g.Email != e || g.Name != name || !slices.Equal(g.Themes, th) || g.Status != st || rows[1].Line != 3 {
			t.Fatalf("round trip of %q %q %q %q gave %+v", e, name, th, st, rows[1])
		}
	})
}
