package web

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"gull/subscribers"
)

var deskNow = time.Date(2026, 11, 27, 16, 0, 0, 0, time.UTC)

func deskSigner(t *testing.T, key string) *subscribers.Signer {
	t.Helper()
	s, err := subscribers.NewSigner([]byte(key))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

const deskKey = "a test key of thirty-two bytes!!"

func newDeskAuth(t *testing.T, base string, used UsedLinks, editors ...string) *DeskAuth {
	t.Helper()
	if len(editors) == 0 {
		editors = []string{"Editor@Example.ORG", "둘째@example.kr"}
	}
	a, err := NewDeskAuth(deskSigner(t, deskKey), editors, base, used)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// linkToken is the token of a mailed sign-in link.
func linkToken(t *testing.T, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.Query().Get("t")
}

// flip changes the character at i of a token.
func flip(s string, i int) string {
	b := []byte(s)
	if b[i] == 'A' {
		b[i] = 'B'
	} else {
		b[i] = 'A'
	}
	return string(b)
}

// withCookie is a request to the desk carrying c, as a browser sends it.
func withCookie(c *http.Cookie) *http.Request {
	r := httptest.NewRequest("GET", "https://gull.example.org/desk", nil)
	if c != nil {
		r.AddCookie(&http.Cookie{Name: c.Name, Value: c.Value})
	}
	return r
}

// The whole way in: a link for an editor typed in any case, that names
// no address, signs in once; the cookie is what the issue asks for, and
// the session it carries is the editor's.
func TestDeskSignIn(t *testing.T) {
	ctx := context.Background()
	a := newDeskAuth(t, "https://gull.example.org/", NewMemoryUsedLinks())
	link, err := a.SignInLink("  editor@example.org ", deskNow)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(link, "https://gull.example.org/desk/sign-in?t=") {
		t.Errorf("link %q", link)
	}
	if low := strings.ToLower(link); strings.Contains(low, "editor") || strings.Count(low, "example") != 1 {
		t.Errorf("the link names the editor: %q", link)
	}
	tok := linkToken(t, link)
	if ed, err := a.CheckSignInLink(tok, deskNow.Add(time.Minute)); err != nil || ed != "Editor@example.org" {
		t.Errorf("CheckSignInLink = %q, %v", ed, err)
	}
	s, err := a.SignIn(ctx, tok, deskNow.Add(DeskLinkTTL))
	if err != nil {
		t.Fatal(err)
	}
	if s.Editor != "Editor@example.org" || !s.Expires.Equal(deskNow.Add(DeskLinkTTL+DeskSessionTTL)) || s.ID <= 0 {
		t.Errorf("session %+v", s)
	}
	now := deskNow.Add(DeskLinkTTL)
	c := a.SessionCookie(s, now)
	if c.Name != DeskCookie || !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteStrictMode || c.Path != "/desk" ||
		!c.Expires.Equal(s.Expires) || c.MaxAge != int(DeskSessionTTL.Seconds()) {
		t.Errorf("cookie %+v: want HttpOnly, Secure, SameSite=Strict, Path=/desk, 12 h", c)
	}
	if !strings.Contains(c.String(), "; HttpOnly; Secure; SameSite=Strict") {
		t.Errorf("Set-Cookie: %s", c.String())
	}
	got, err := a.Session(withCookie(c), now.Add(DeskSessionTTL))
	if err != nil || got != s {
		t.Errorf("Session = %+v, %v; want %+v", got, err, s)
	}
	// The second editor, whose address is Korean.
	link, err = a.SignInLink("둘째@EXAMPLE.KR", deskNow)
	if err != nil {
		t.Fatal(err)
	}
	if s, err := a.SignIn(ctx, linkToken(t, link), deskNow); err != nil || s.Editor != "둘째@example.kr" {
		t.Errorf("Korean editor: %+v, %v", s, err)
	}
	// Over plain http (a desk on the loopback) the cookie cannot be
	// Secure: the browser would never send it back.
	if c := newDeskAuth(t, "http://127.0.0.1:8080", NewMemoryUsedLinks()).SessionCookie(s, now); c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("http cookie %+v", c)
	}
	if c := a.SignOutCookie(); c.MaxAge >= 0 || c.Value != "" || c.Path != "/desk" {
		t.Errorf("sign-out cookie %+v", c)
	}
}

func TestDeskNotEditor(t *testing.T) {
	a := newDeskAuth(t, "https://gull.example.org", NewMemoryUsedLinks())
	for _, in := range []string{"reader@example.org", "editor@example.org.evil.example", "editor@example.com"} {
		if link, err := a.SignInLink(in, deskNow); !errors.Is(err, ErrNotEditor) || link != "" {
			t.Errorf("SignInLink(%q) = %q, %v; want ErrNotEditor", in, link, err)
		}
	}
	if _, err := a.SignInLink("not an address", deskNow); err == nil || !strings.Contains(err.Error(), "not an address") {
		t.Errorf("a typed non-address: %v; want an error naming it", err)
	}
	for _, editors := range [][]string{nil, {"ok@example.org", "Name <x@example.org>"}} {
		if _, err := NewDeskAuth(deskSigner(t, deskKey), editors, "https://x.example", NewMemoryUsedLinks()); err == nil ||
			!strings.Contains(err.Error(), "review.editors") {
			t.Errorf("editors %q: %v; want an error naming review.editors", editors, err)
		}
	}
}

// A link works for 15 minutes, a session for 12 hours, and not a second
// longer.
func TestDeskExpiry(t *testing.T) {
	ctx := context.Background()
	a := newDeskAuth(t, "https://gull.example.org", NewMemoryUsedLinks())
	link, _ := a.SignInLink("editor@example.org", deskNow)
	late := deskNow.Add(DeskLinkTTL + time.Second)
	if _, err := a.CheckSignInLink(linkToken(t, link), late); !errors.Is(err, subscribers.ErrExpired) {
		t.Errorf("CheckSignInLink after 15 min: %v", err)
	}
	if _, err := a.SignIn(ctx, linkToken(t, link), late); !errors.Is(err, subscribers.ErrExpired) {
		t.Errorf("SignIn after 15 min: %v; want ErrExpired", err)
	}
	link, _ = a.SignInLink("editor@example.org", deskNow)
	s, err := a.SignIn(ctx, linkToken(t, link), deskNow)
	if err != nil {
		t.Fatal(err)
	}
	c := a.SessionCookie(s, deskNow)
	if _, err := a.Session(withCookie(c), deskNow.Add(DeskSessionTTL)); err != nil {
		t.Errorf("session at 12 h: %v", err)
	}
	if _, err := a.Session(withCookie(c), deskNow.Add(DeskSessionTTL+time.Second)); !errors.Is(err, ErrSignedOut) || !errors.Is(err, subscribers.ErrExpired) {
		t.Errorf("session after 12 h: %v; want ErrSignedOut (expired)", err)
	}
}

// A link signs in once, also after a reload that made a new DeskAuth
// with the same memory of used links, and whoever holds it second gets a
// clear refusal. The memory forgets links once they have expired.
func TestDeskLinkOnce(t *testing.T) {
	ctx := context.Background()
	used := NewMemoryUsedLinks()
	a := newDeskAuth(t, "https://gull.example.org", used)
	link, _ := a.SignInLink("editor@example.org", deskNow)
	tok := linkToken(t, link)
	if _, err := a.SignIn(ctx, tok, deskNow.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	if _, err := a.SignIn(ctx, tok, deskNow.Add(2*time.Minute)); !errors.Is(err, ErrLinkUsed) {
		t.Errorf("second use: %v; want ErrLinkUsed", err)
	}
	reloaded := newDeskAuth(t, "https://gull.example.org", used)
	if _, err := reloaded.SignIn(ctx, tok, deskNow.Add(3*time.Minute)); !errors.Is(err, ErrLinkUsed) {
		t.Errorf("use after a reload: %v; want ErrLinkUsed", err)
	}
	// Another link of the same editor still works.
	other, _ := a.SignInLink("editor@example.org", deskNow)
	if _, err := a.SignIn(ctx, linkToken(t, other), deskNow.Add(4*time.Minute)); err != nil {
		t.Errorf("a second link: %v", err)
	}
	if n := len(used.ids); n != 2 {
		t.Errorf("%d links remembered, want 2", n)
	}
	third, _ := a.SignInLink("editor@example.org", deskNow.Add(time.Hour))
	if _, err := a.SignIn(ctx, linkToken(t, third), deskNow.Add(time.Hour)); err != nil {
		t.Fatal(err)
	}
	if n := len(used.ids); n != 1 {
		t.Errorf("%d links remembered an hour later, want the last one", n)
	}
}

// An altered link or cookie, one made with another key, and every other
// kind of gull token (a reader's unsubscribe and preferences links, the
// desk's own other tokens) sign nobody in.
func TestDeskRefusesOtherTokens(t *testing.T) {
	ctx := context.Background()
	a := newDeskAuth(t, "https://gull.example.org", NewMemoryUsedLinks())
	signer := deskSigner(t, deskKey)
	link, _ := a.SignInLink("editor@example.org", deskNow)
	tok := linkToken(t, link)
	s, err := a.SignIn(ctx, tok, deskNow)
	if err != nil {
		t.Fatal(err)
	}
	cookie := a.SessionCookie(s, deskNow).Value
	csrf := a.CSRFToken(s)
	// A reader's links, signed with the same key: they are genuine, but
	// for something else.
	unsubscribe := signer.Sign(subscribers.Claims{Purpose: subscribers.PurposeUnsubscribe, Subscriber: 42, Data: "2026-W48"})
	preferences := signer.Sign(subscribers.Claims{Purpose: subscribers.PurposePreferences, Subscriber: 42})
	foreign := newDeskAuth(t, "https://gull.example.org", NewMemoryUsedLinks())
	foreign.signer = deskSigner(t, "another key, thirty-two bytes...")
	foreignLink, _ := foreign.SignInLink("editor@example.org", deskNow)
	foreignCookie := foreign.SessionCookie(s, deskNow).Value

	for name, c := range map[string]struct {
		tok  string
		want error
	}{
		"the reader's unsubscribe link": {unsubscribe, subscribers.ErrWrongPurpose},
		"the reader's preferences link": {preferences, subscribers.ErrWrongPurpose},
		"the session cookie":            {cookie, subscribers.ErrWrongPurpose},
		"the form token":                {csrf, subscribers.ErrWrongPurpose},
		"an altered link":               {flip(tok, 3), subscribers.ErrBadToken},
		"an altered link's signature":   {flip(tok, len(tok)-2), subscribers.ErrBadToken},
		"a link of another key":         {linkToken(t, foreignLink), subscribers.ErrBadToken},
		"nothing":                       {"", subscribers.ErrBadToken},
	} {
		if _, err := a.SignIn(ctx, c.tok, deskNow); !errors.Is(err, c.want) {
			t.Errorf("sign-in with %s: %v; want %v", name, err, c.want)
		}
	}
	for name, v := range map[string]string{
		"the reader's unsubscribe link": unsubscribe,
		"the sign-in link":              tok,
		"the form token":                csrf,
		"an altered cookie":             flip(cookie, 4),
		"a cookie of another key":       foreignCookie,
		"an empty cookie":               "",
	} {
		if _, err := a.Session(withCookie(&http.Cookie{Name: DeskCookie, Value: v}), deskNow); !errors.Is(err, ErrSignedOut) {
			t.Errorf("a session from %s: %v; want ErrSignedOut", name, err)
		}
	}
	if _, err := a.Session(withCookie(nil), deskNow); !errors.Is(err, ErrSignedOut) {
		t.Errorf("no cookie: %v", err)
	}
	// The editor's own cookie, for a check that the above is not all
	// refusals.
	if _, err := a.Session(withCookie(&http.Cookie{Name: DeskCookie, Value: cookie}), deskNow); err != nil {
		t.Errorf("the editor's cookie: %v", err)
	}
}

// An editor taken off review.editors is signed out at the next request,
// and their unused link no longer works.
func TestDeskEditorRemoved(t *testing.T) {
	ctx := context.Background()
	used := NewMemoryUsedLinks()
	before := newDeskAuth(t, "https://gull.example.org", used, "editor@example.org", "gone@example.org")
	link, _ := before.SignInLink("gone@example.org", deskNow)
	s, err := before.SignIn(ctx, linkToken(t, link), deskNow)
	if err != nil {
		t.Fatal(err)
	}
	unused, _ := before.SignInLink("gone@example.org", deskNow)
	after := newDeskAuth(t, "https://gull.example.org", used, "editor@example.org")
	if _, err := after.Session(withCookie(before.SessionCookie(s, deskNow)), deskNow); !errors.Is(err, ErrSignedOut) || !errors.Is(err, ErrNotEditor) {
		t.Errorf("removed editor's session: %v", err)
	}
	if _, err := after.SignIn(ctx, linkToken(t, unused), deskNow); !errors.Is(err, ErrNotEditor) {
		t.Errorf("removed editor's link: %v", err)
	}
}

// A form token is worth something only with its own session.
func TestDeskCSRF(t *testing.T) {
	ctx := context.Background()
	a := newDeskAuth(t, "https://gull.example.org", NewMemoryUsedLinks())
	session := func() DeskSession {
		link, _ := a.SignInLink("editor@example.org", deskNow)
		s, err := a.SignIn(ctx, linkToken(t, link), deskNow)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s1, s2 := session(), session()
	tok := a.CSRFToken(s1)
	if err := a.CheckCSRF(s1, tok); err != nil {
		t.Errorf("own token: %v", err)
	}
	if tok == a.CSRFToken(s2) {
		t.Errorf("two sessions share a form token")
	}
	unsubscribe := deskSigner(t, deskKey).Sign(subscribers.Claims{Purpose: subscribers.PurposeUnsubscribe, Subscriber: s1.ID})
	for name, bad := range map[string]string{
		"another session's":     a.CSRFToken(s2),
		"none":                  "",
		"altered":               flip(tok, len(tok)-1),
		"the session cookie":    a.SessionCookie(s1, deskNow).Value,
		"an unsubscribe link's": unsubscribe,
	} {
		if err := a.CheckCSRF(s1, bad); !errors.Is(err, ErrDeskForm) {
			t.Errorf("%s token: %v; want ErrDeskForm", name, err)
		}
	}
}
