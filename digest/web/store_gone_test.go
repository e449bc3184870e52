package web

import (
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gull/subscribers"
)

// `rm gull.db*` under the running site: the monitor sees it at once
// (503 with the reason, without the folder), and a sign-up is not promised
// a mail it was never going to get: it would have gone into a deleted
// file and been lost.
func TestSiteNoticesItsStoreDeleted(t *testing.T) {
	sf := newSiteFixture(t)
	if rec := sf.open("/healthz"); rec.Code != 200 {
		t.Fatalf("healthy store: %d", rec.Code)
	}
	kim := sf.add("kim@example.com", subscribers.Active)
	path := sf.store.Path()
	files, _ := filepath.Glob(path + "*")
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}

	rec := sf.open("/healthz")
	body := rec.Body.String()
	if rec.Code != 503 || !strings.Contains(body, "gull.db was deleted") {
		t.Errorf("/healthz after rm gull.db*: %d %q, want 503 naming the deletion", rec.Code, body)
	}
	if strings.Contains(body, filepath.Dir(path)) {
		t.Errorf("/healthz shows the store's folder to anyone: %q", body)
	}

	rec = sf.submit("/subscribe", url.Values{"email": {"late@example.com"}}, "")
	if rec.Code == 200 || strings.Contains(rec.Body.String(), "메일함을 확인해 주세요") || len(sf.mailer.mails()) > 0 {
		t.Errorf("sign-up into a deleted store: %d, mails %d; want it refused, not promised", rec.Code, len(sf.mailer.mails()))
	}
	// A one-click unsubscribe is not acknowledged into a lost file either.
	rec = sf.submit("/unsubscribe", url.Values{"t": {sf.token(subscribers.PurposeUnsubscribe, kim.ID, "")}}, "")
	if rec.Code != 503 {
		t.Errorf("unsubscribe into a deleted store: %d, want 503", rec.Code)
	}
	if !strings.Contains(sf.log.String(), "was deleted since gull opened it") {
		t.Errorf("the log does not say why:\n%s", sf.log)
	}
}
