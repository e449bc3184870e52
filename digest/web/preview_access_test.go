package web

import (
	"net/url"
	"strings"
	"testing"
)

// With editors, the coming issue is theirs until it is sent: /preview
// shows it to a signed-in editor or through a test send's view link of
// that issue, and to nobody else.
func TestPreviewNeedsAnEditorWhenThereAreEditors(t *testing.T) {
	df := newDeskFixture(t)
	links := Links{BaseURL: baseURL, Signer: df.pages.Signer}

	for _, target := range []string{"/preview", "/desk/preview"} {
		rec := df.do("GET", target, nil, nil)
		if rec.Code == 200 || strings.Contains(rec.Body.String(), "preview number") {
			t.Errorf("GET %s by anyone: %d, shows the coming issue\n%s", target, rec.Code, rec.Body)
		}
	}
	if rec := df.do("GET", "/preview", nil, nil); rec.Code != 303 || rec.Header().Get("Location") != baseURL+"/desk/preview" {
		t.Errorf("GET /preview by anyone: %d %v, want a redirect to the desk's preview", rec.Code, rec.Header())
	}
	if rec := df.do("GET", "/desk/preview", nil, nil); rec.Code != 303 || rec.Header().Get("Location") != baseURL+DeskSignInPath {
		t.Errorf("GET /desk/preview signed out: %d %v, want a redirect to the sign-in", rec.Code, rec.Header())
	}
	if df.renders.Load() != 0 {
		t.Errorf("a refused request rendered the preview %d times", df.renders.Load())
	}

	cookie := df.signIn(deskEditor)
	if rec := df.do("GET", "/desk/preview", nil, cookie); rec.Code != 200 || !strings.Contains(rec.Body.String(), "preview number") ||
		!strings.Contains(rec.Body.String(), robotsLine) || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("GET /desk/preview signed in: %d %v\n%s", rec.Code, rec.Header(), rec.Body)
	}

	view := links.View("2026-W48", df.clock.now())
	tok := url.QueryEscape(strings.SplitN(view, "view=", 2)[1])
	if rec := df.do("GET", "/preview?view="+tok, nil, nil); rec.Code != 200 || !strings.Contains(rec.Body.String(), "preview number") {
		t.Errorf("GET /preview with the coming issue's view link: %d\n%s", rec.Code, rec.Body)
	}
	other := links.View("2026-W47", df.clock.now())
	otherTok := url.QueryEscape(strings.SplitN(other, "view=", 2)[1])
	for what, target := range map[string]string{
		"another week's link": "/preview?view=" + otherTok,
		"a forged link":       "/preview?view=" + tok[:len(tok)-3] + "AAA",
	} {
		if rec := df.do("GET", target, nil, nil); rec.Code != 400 || strings.Contains(rec.Body.String(), "preview number") {
			t.Errorf("%s: %d\n%s", what, rec.Code, rec.Body)
		}
	}
}

// Without editors nothing is hidden and nothing approved: /preview stays
// open (the README says to block it at the proxy if wanted).
func TestPreviewIsOpenWithoutEditors(t *testing.T) {
	sf := newSiteFixture(t)
	if rec := sf.open("/preview"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "preview number") {
		t.Errorf("GET /preview: %d\n%s", rec.Code, rec.Body)
	}
}

// A test send's view link of a week with nothing stored shows the coming
// issue only when it is that week's; another week's link says the issue
// is not yet published, never this week's articles.
func TestViewLinkOfAnotherWeekIsNotThePreview(t *testing.T) {
	sf := newSiteFixture(t)
	links := Links{BaseURL: baseURL, Signer: sf.pages.Signer}
	sf.previewID = "2026-W49"
	rec := sf.open(path(t, links.View("2026-W48", sf.clock.now())))
	checkSitePage(t, "a view link of a week the preview is not", rec, 404, "no-store", "아직 나오지 않은 호입니다")
	if strings.Contains(rec.Body.String(), "preview number") {
		t.Errorf("another week's view link shows the coming issue:\n%s", rec.Body)
	}
}
