package web

// Signing editors in to the desk, without passwords.
//
// An editor types an address; if it is one of review.editors, gull mails
// a sign-in link that works once, for 15 minutes. Opening it shows a
// button (mail scanners open links: a GET must change nothing, and
// would use up the link), and the POST of that button signs in: a
// session cookie, signed, naming the editor, for 12 hours. Every form of
// the desk carries a CSRF token made from the session's id.
//
// All three are subscribers.Signer tokens of their own purpose, so none
// can pass for another, nor for a reader's link: an unsubscribe token is
// no session, and a sign-in link no unsubscribe link. Their Subscriber
// field is the link's or the session's random id.

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"gull/subscribers"
)

const (
	// DeskLinkTTL is how long a mailed sign-in link works: long enough to
	// switch to the mail app, short enough that a link found later in a
	// mailbox or a log signs nobody in.
	DeskLinkTTL = 15 * time.Minute
	// DeskSessionTTL is how long a sign-in lasts: a working day.
	DeskSessionTTL = 12 * time.Hour
	// DeskCookie is the session cookie's name; it is sent to /desk only.
	DeskCookie = "gull_desk"
	deskPath   = "/desk"
	// DeskSignInPath is where a sign-in link points (GET shows a button,
	// POST signs in).
	DeskSignInPath = deskPath + "/sign-in"
)

// The ways the desk refuses an editor. Each is a line to show as it is.
var (
	ErrNotEditor = errors.New("web: that address is not one of review.editors; ask the newsletter's owner to add it")
	ErrLinkUsed  = errors.New("web: this sign-in link has been used already; ask for a new one")
	ErrSignedOut = errors.New("web: not signed in to the desk; sign in again")
	ErrDeskForm  = errors.New("web: this form is stale or not from the desk; reload the page and try again")
)

// UsedLinks remembers the sign-in links that were used, so that each
// works once. The consumer's small interface: MemoryUsedLinks for one
// instance, or the store's table when several instances serve the desk.
type UsedLinks interface {
	// Use records the link id as used until it expires, and reports
	// whether it was unused: true once per id, false ever after (until
	// the link has expired, when it is refused anyway). Entries past
	// their expiry at now may be forgotten.
	Use(ctx context.Context, id int64, expires, now time.Time) (bool, error)
}

// DeskSession is a signed-in editor.
type DeskSession struct {
	ID      int64  // random, the CSRF token is made from it
	Editor  string // the address as review.editors has it
	Expires time.Time
}

// DeskAuth makes and checks the desk's sign-in links, session cookies
// and form tokens. It holds no session state: a session is its signed
// cookie, so it survives a restart or a reload, and ends when the editor
// is taken off review.editors. Safe for concurrent use.
type DeskAuth struct {
	signer  *subscribers.Signer
	editors []string // as configured, in order
	keys    []string // subscribers.EmailKey of each
	baseURL string
	secure  bool
	used    UsedLinks
}

// NewDeskAuth checks the editors' addresses (review.editors) and returns
// the desk's sign-in. baseURL is http.base_url: links start with it, and
// when it is https the cookie is Secure. used remembers the used links;
// keep the same one across reloads, or a used link works again.
func NewDeskAuth(signer *subscribers.Signer, editors []string, baseURL string, used UsedLinks) (*DeskAuth, error) {
	if signer == nil || used == nil {
		return nil, errors.New("web: the desk needs a Signer and a UsedLinks")
	}
	if len(editors) == 0 {
		return nil, errors.New("web: review.editors is empty; list the addresses that may use the desk")
	}
	a := &DeskAuth{
		signer: signer, used: used,
		baseURL: strings.TrimRight(baseURL, "/"),
		secure:  strings.HasPrefix(strings.ToLower(baseURL), "https://"),
	}
	var errs []error
	for i, e := range editors {
		n, err := subscribers.NormalizeEmail(e)
		if err != nil {
			errs = append(errs, fmt.Errorf("review.editors[%d]: %w", i, err))
			continue
		}
		a.editors = append(a.editors, n)
		a.keys = append(a.keys, subscribers.EmailKey(n))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return a, nil
}

// SignInLink is the link to mail to the editor who typed email. It fails
// with ErrNotEditor for an address not in review.editors (the page must
// say the same thing either way, so that nobody learns who the editors
// are), and with the address check's own error for one that is not an
// address. The link names the editor by a digest of the address, so a
// proxy's log of it does not say who edits the newsletter.
func (a *DeskAuth) SignInLink(email string, now time.Time) (string, error) {
	n, err := subscribers.NormalizeEmail(email)
	if err != nil {
		return "", err
	}
	if a.editor(subscribers.EmailKey(n)) < 0 {
		return "", ErrNotEditor
	}
	tok := a.signer.Sign(subscribers.Claims{
		Purpose: subscribers.PurposeDeskSignIn, Subscriber: randomID(),
		Data: editorDigest(subscribers.EmailKey(n)), Expires: now.Add(DeskLinkTTL),
	})
	return a.baseURL + DeskSignInPath + "?t=" + url.QueryEscape(tok), nil
}

// CheckSignInLink checks a sign-in link's token without using it, and
// names its editor: for the GET that shows the button, so that an expired
// or altered link says so before the editor presses anything. (Whether it
// was used shows on the POST: asking would need UsedLinks to answer
// without recording.) Its errors are SignIn's.
func (a *DeskAuth) CheckSignInLink(token string, now time.Time) (editor string, err error) {
	_, i, err := a.verifyLink(token, now)
	if err != nil {
		return "", err
	}
	return a.editors[i], nil
}

// SignIn uses the sign-in link's token (on the POST of its button) and
// starts a session. It fails with subscribers.ErrBadToken (forged,
// altered, another key), ErrWrongPurpose (any other link of gull's, a
// reader's unsubscribe link among them), ErrExpired (older than
// DeskLinkTTL), ErrNotEditor (taken off review.editors since) or
// ErrLinkUsed.
func (a *DeskAuth) SignIn(ctx context.Context, token string, now time.Time) (DeskSession, error) {
	c, i, err := a.verifyLink(token, now)
	if err != nil {
		return DeskSession{}, err
	}
	fresh, err := a.used.Use(ctx, c.Subscriber, c.Expires, now)
	if err != nil {
		return DeskSession{}, fmt.Errorf("web: remember the used sign-in link: %w", err)
	}
	if !fresh {
		return DeskSession{}, ErrLinkUsed
	}
	// Kept to the second, as the cookie keeps it.
	exp := time.Unix(now.Add(DeskSessionTTL).Unix(), 0).UTC()
	return DeskSession{ID: randomID(), Editor: a.editors[i], Expires: exp}, nil
}

// verifyLink checks a sign-in token and finds its editor.
func (a *DeskAuth) verifyLink(token string, now time.Time) (subscribers.Claims, int, error) {
	c, err := a.signer.Verify(token, subscribers.PurposeDeskSignIn, now)
	if err != nil {
		return subscribers.Claims{}, -1, err
	}
	for i, k := range a.keys {
		if hmac.Equal([]byte(editorDigest(k)), []byte(c.Data)) {
			return c, i, nil
		}
	}
	return subscribers.Claims{}, -1, ErrNotEditor
}

// SessionCookie is the cookie that carries s: signed, HttpOnly (no script
// reads it), SameSite=Strict (no other site's page or form sends it),
// Secure when the desk is served over https, for /desk only.
func (a *DeskAuth) SessionCookie(s DeskSession, now time.Time) *http.Cookie {
	return &http.Cookie{
		Name: DeskCookie,
		Value: a.signer.Sign(subscribers.Claims{
			Purpose: subscribers.PurposeDeskSession, Subscriber: s.ID, Data: s.Editor, Expires: s.Expires,
		}),
		Path: deskPath, Expires: s.Expires, MaxAge: max(1, int(s.Expires.Sub(now).Seconds())),
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode,
	}
}

// SignOutCookie deletes the session cookie.
func (a *DeskAuth) SignOutCookie() *http.Cookie {
	return &http.Cookie{
		Name: DeskCookie, Value: "", Path: deskPath, MaxAge: -1,
		HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteStrictMode,
	}
}

// Session is the signed-in editor of r. Anything else (no cookie, an
// expired, altered or foreign one, one of an editor taken off
// review.editors) is ErrSignedOut, with the reason wrapped for the log.
func (a *DeskAuth) Session(r *http.Request, now time.Time) (DeskSession, error) {
	ck, err := r.Cookie(DeskCookie)
	if err != nil {
		return DeskSession{}, ErrSignedOut
	}
	c, err := a.signer.Verify(ck.Value, subscribers.PurposeDeskSession, now)
	if err != nil {
		return DeskSession{}, fmt.Errorf("%w (%w)", ErrSignedOut, err)
	}
	i := a.editor(subscribers.EmailKey(c.Data))
	if i < 0 {
		return DeskSession{}, fmt.Errorf("%w (%w)", ErrSignedOut, ErrNotEditor)
	}
	return DeskSession{ID: c.Subscriber, Editor: a.editors[i], Expires: c.Expires}, nil
}

// CSRFToken is the token the desk's forms of session s carry: a MAC of
// the session's id, so it is worth nothing with any other session.
func (a *DeskAuth) CSRFToken(s DeskSession) string {
	return a.signer.Sign(subscribers.Claims{Purpose: subscribers.PurposeDeskCSRF, Subscriber: s.ID, Expires: s.Expires})
}

// CheckCSRF checks a posted form's token against the session, in
// constant time. It fails with ErrDeskForm.
func (a *DeskAuth) CheckCSRF(s DeskSession, token string) error {
	if !hmac.Equal([]byte(a.CSRFToken(s)), []byte(token)) {
		return ErrDeskForm
	}
	return nil
}

// editor is the index of the editor whose EmailKey is key, or -1. The
// list is a handful of addresses; each is compared in constant time.
func (a *DeskAuth) editor(key string) int {
	found := -1
	for i, k := range a.keys {
		if hmac.Equal([]byte(k), []byte(key)) && found < 0 {
			found = i
		}
	}
	return found
}

// editorDigest names an editor in a sign-in link without the address.
func editorDigest(key string) string {
	sum := sha256.Sum256([]byte("gull-desk-editor\x00" + key))
	return base64.RawURLEncoding.EncodeToString(sum[:16])
}

// randomID is a random positive int64: a sign-in link's or a session's
// id (Claims.Subscriber must be positive).
func randomID() int64 {
	for {
		var b [8]byte
		_, _ = rand.Read(b[:]) // never fails (crypto/rand.Read crashes instead)
		if id := int64(binary.BigEndian.Uint64(b[:]) >> 1); id > 0 {
			return id
		}
	}
}

// MemoryUsedLinks remembers used sign-in links in memory: enough for one
// instance of gull run (a restart forgets them, but leaves at most 15
// minutes in which a link used before it works once more). Safe for
// concurrent use.
type MemoryUsedLinks struct {
	mu  sync.Mutex
	ids map[int64]time.Time // id -> the link's expiry
}

// NewMemoryUsedLinks returns an empty MemoryUsedLinks.
func NewMemoryUsedLinks() *MemoryUsedLinks {
	return &MemoryUsedLinks{ids: map[int64]time.Time{}}
}

// Use implements UsedLinks. Links past their expiry are forgotten: they
// are refused as expired anyway, so the map holds at most the last 15
// minutes' links.
func (m *MemoryUsedLinks) Use(_ context.Context, id int64, expires, now time.Time) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for k, exp := range m.ids {
		if now.After(exp) {
			delete(m.ids, k)
		}
	}
	if _, ok := m.ids[id]; ok {
		return false, nil
	}
	m.ids[id] = expires
	return true, nil
}
