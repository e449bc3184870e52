package web

import (
	"fmt"
	"strings"
	"testing"
)

// Until the daemon's first fetch ends, /preview has nothing to show. That
// is the normal first minute of a start: the visitor is told, in Korean
// and English, that the page is being prepared and when to come back, and
// the log says so at INFO, not as an error.
func TestSitePreviewBeingPrepared(t *testing.T) {
	sf := newSiteFixture(t)
	sf.setPreviewErr(fmt.Errorf("daemon: %w", ErrPreviewNotReady))
	rec := sf.open("/preview")
	if rec.Code != 503 {
		t.Fatalf("/preview before the first fetch: %d, want 503\n%s", rec.Code, rec.Body)
	}
	if ra := rec.Header().Get("Retry-After"); ra == "" || ra == "0" {
		t.Errorf("Retry-After %q: the visitor is not told when to come back", ra)
	}
	if rec.Header().Get("Cache-Control") != "no-store" || !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/html") {
		t.Errorf("headers: %v", rec.Header())
	}
	body := rec.Body.String()
	for _, want := range []string{"미리보기를 준비하고 있습니다", `lang="ko"`} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q:\n%s", want, body)
		}
	}
	log := sf.log.String()
	if strings.Contains(log, "level=ERROR") {
		t.Errorf("a start is logged as an error:\n%s", log)
	}
	if !strings.Contains(log, "level=INFO") || !strings.Contains(log, "preview") {
		t.Errorf("the log does not say the preview is being prepared:\n%s", log)
	}

	// Once the fetch has ended (and the short memory of the answer has
	// passed), the preview is served.
	sf.setPreviewErr(nil)
	sf.clock.add(previewFailedFresh)
	if rec := sf.open("/preview"); rec.Code != 200 || !strings.Contains(rec.Body.String(), "preview number") {
		t.Errorf("after the first fetch: %d %q", rec.Code, rec.Body)
	}
}
