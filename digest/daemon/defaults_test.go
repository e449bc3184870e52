package daemon

import (
	"strings"
	"testing"
)

// A config that names no catch-all section: the sign-up form in Korean
// offers it under its Korean default name, the English one under the
// English, and neither shows the other language's.
func TestSignUpFormNamesTheDefaultCatchAllInEachLanguage(t *testing.T) {
	d := newTestDaemon(t, 0)
	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })

	ko := get(h, "/subscribe?lang=ko", "").Body.String()
	mustHave(t, "the Korean sign-up form", ko, `<html lang="ko">`, "이번 주 더 읽을거리")
	if strings.Contains(ko, "More this week") {
		t.Errorf("the Korean sign-up form names the catch-all in English:\n%s", ko)
	}
	en := get(h, "/subscribe?lang=en", "").Body.String()
	mustHave(t, "the English sign-up form", en, `<html lang="en">`, "More this week")
	if strings.Contains(en, "이번 주 더 읽을거리") {
		t.Errorf("the English sign-up form names the catch-all in Korean:\n%s", en)
	}
}
