package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// The daemon's /preview is what the next scheduled send would mail: the
// period ending at the schedule's next run, not the seven days ending now.
// The next run is three days away, so an article of four and a half days
// ago is in this week but not in the coming issue's.
func TestDaemonPreviewShowsComingIssue(t *testing.T) {
	kst, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	next := now.Add(72 * time.Hour).In(kst)
	spec := fmt.Sprintf("%d %d %d %d *", next.Minute(), next.Hour(), next.Day(), int(next.Month()))
	// The feed's items are dated feedAt-20h, -12h and -3h: 4d10h and 4d2h
	// before now (before the coming period, which starts at next-7d =
	// now-4d) and 3d17h before now (inside it).
	feedAt := now.Add(-4*24*time.Hour + 10*time.Hour)
	d := newDaemonSetup(t, spec, 1, func() time.Time { return feedAt })
	p := d.start(t)
	p.waitLog(t, "feeds refreshed", nil)

	code, body := httpGet(t, d.base+"/preview")
	if code != 200 {
		t.Fatalf("/preview: %d\n%.500s", code, body)
	}
	if !strings.Contains(body, "AI기본법 시행령의 쟁점") {
		t.Errorf("/preview lacks the article of the coming period:\n%.2000s", body)
	}
	for _, old := range []string{"HBM chips and the data centre boom", "반도체 수출과 GPU 공급망"} {
		if strings.Contains(body, old) {
			t.Errorf("/preview shows %q, dated before the coming issue's period (it starts %s)", old, next.Add(-7*24*time.Hour).Format(time.RFC3339))
		}
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}
