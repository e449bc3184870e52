package daemon

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"gull/digest"
)

// With editors, the coming issue is the week's draft as readers would get
// it: an article an editor hid is not in it. And it is the editors' only:
// /preview sends anyone else to the desk's sign-in.
func TestDaemonPreviewIsTheDraftAsReadersGetIt(t *testing.T) {
	d, _, draftAt := reviewDaemon(t, "review: {editors: [ed@example.org]}")
	ctx := context.Background()
	if !d.draftRound(ctx, draftAt, true) {
		t.Fatal("no draft built")
	}
	dr, err := d.st.LatestDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	edit(t, d, dr.Base.ID, digest.Edit{Kind: digest.EditHide, Article: articleTitled(t, dr.Base, "GPU")})
	p, err := d.preview(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if p.ID != dr.Base.ID || strings.Contains(string(p.Body), "GPU") || !strings.Contains(string(p.Body), "AI기본법") {
		t.Errorf("preview of %s (draft %s) shows the hidden article, or not the others:\n%.3000s", p.ID, dr.Base.ID, p.Body)
	}

	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })
	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("GET", "/preview", nil))
	if w.Code != 303 || strings.Contains(w.Body.String(), "AI기본법") {
		t.Errorf("GET /preview by anyone, with editors: %d\n%.2000s", w.Code, w.Body.String())
	}
}
