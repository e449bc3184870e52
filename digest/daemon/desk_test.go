package daemon

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
)

// deskSite is the daemon's web side for its config, as Serve puts it in
// force (and a reload swaps it).
func deskSite(t *testing.T, d *testDaemon, h *siteHolder) {
	t.Helper()
	c := d.config()
	parts, handler, err := d.newSite(context.Background(), c.cfg, c.r)
	if err != nil {
		t.Fatal(err)
	}
	h.swap(parts, handler)
}

// post sends form to path on h as a browser's form does.
func post(h http.Handler, path string, form url.Values) *httptest.ResponseRecorder {
	req := httptest.NewRequest("POST", path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

// The daemon serves the desk when review.editors is set: an editor asks
// for a link, it comes by mail (both languages), and signs in once; after
// a reload (SIGHUP) the same link is refused, since the record of used
// links is the store's, not the config's: at another daemon too.
func TestDaemonServesTheDesk(t *testing.T) {
	d, _, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org]}")
	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/desk", nil))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/desk/sign-in" {
		t.Fatalf("GET /desk signed out: %d to %q, want 303 to the sign-in form\n%s", w.Code, w.Header().Get("Location"), w.Body.String())
	}
	w = httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/desk/sign-in", nil))
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `name="email"`) {
		t.Fatalf("GET /desk/sign-in: %d, want the sign-in form\n%s", w.Code, w.Body.String())
	}
	if w := post(h, "/desk/sign-in", url.Values{"email": {"ed@example.org"}}); w.Code != http.StatusOK {
		t.Fatalf("asking for a link: %d\n%s", w.Code, w.Body.String())
	}
	h.wait() // the link is mailed after the answer
	msgs := to(d.inbox(t), "ed@example.org")
	if len(msgs) != 1 {
		t.Fatalf("%d sign-in mails to the editor, want 1", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(m.subject, "Sign in to the desk") || !strings.Contains(m.text, "편집 데스크") {
		t.Errorf("sign-in mail: subject %q, text:\n%s", m.subject, m.text)
	}
	link := regexp.MustCompile(`http\S+/desk/sign-in\?t=(\S+)`).FindStringSubmatch(m.text)
	if link == nil {
		t.Fatalf("no desk link in the mail:\n%s", m.text)
	}
	tok, err := url.QueryUnescape(link[1])
	if err != nil {
		t.Fatal(err)
	}
	w = post(h, "/desk/sign-in", url.Values{"t": {tok}})
	if w.Code != http.StatusSeeOther || w.Result().Cookies() == nil {
		t.Fatalf("signing in with the mailed link: %d\n%s", w.Code, w.Body.String())
	}
	// The draft as the desk shows it: its "view in browser" is the
	// signed view link, since the draft is not published.
	if !d.draftRound(context.Background(), draftAt, true) {
		t.Fatal("no draft built")
	}
	req := httptest.NewRequest("GET", "/desk", nil)
	for _, c := range w.Result().Cookies() {
		req.AddCookie(c)
	}
	desk := httptest.NewRecorder()
	h.ServeHTTP(desk, req)
	if desk.Code != http.StatusOK || !strings.Contains(desk.Body.String(), "/issues/") || !strings.Contains(desk.Body.String(), "?view=") {
		t.Errorf("the desk's mail has no view link: %d\n%.2000s", desk.Code, desk.Body.String())
	}
	deskSite(t, d, h) // SIGHUP
	if w := post(h, "/desk/sign-in", url.Values{"t": {tok}}); w.Code == http.StatusSeeOther {
		t.Error("after a reload, the used sign-in link signed in again")
	}
	// Another daemon over the same store (a load balancer sends the
	// editor's second press there) refuses it too: the store, not a
	// daemon's memory, records the used links.
	other := d.beside(t)
	h2 := &siteHolder{}
	deskSite(t, other, h2)
	t.Cleanup(func() { h2.stop(); h2.wait(); h2.close() })
	if w := post(h2, "/desk/sign-in", url.Values{"t": {tok}}); w.Code == http.StatusSeeOther || !strings.Contains(w.Body.String(), "used already") {
		t.Errorf("a sign-in link used at one daemon, pressed at another: %d\n%.1000s", w.Code, w.Body.String())
	}
}

// Without review.editors there is no desk.
func TestDaemonWithoutEditorsHasNoDesk(t *testing.T) {
	d := newTestDaemon(t, 1)
	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/desk", nil))
	if w.Code != http.StatusNotFound {
		t.Errorf("GET /desk without editors: %d, want 404", w.Code)
	}
}
