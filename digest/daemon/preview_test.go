package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"gull/digest/web"
)

// Before its first fetch the daemon's preview says it is not ready, in the
// words the site turns into its "being prepared" page (503, INFO), not a
// failure of its own (500, ERROR).
func TestDaemonPreviewBeforeFirstFetch(t *testing.T) {
	d := &Daemon{}
	_, err := d.preview(context.Background())
	if !errors.Is(err, web.ErrPreviewNotReady) {
		t.Fatalf("preview before the first fetch: %v, want web.ErrPreviewNotReady", err)
	}
}

// A daemon that does not lead the schedule fetches nothing; its /preview
// shows the coming issue from the feeds' copies the leader stored.
func TestFollowerPreviewsFromTheStore(t *testing.T) {
	d := newTestDaemon(t, 1)
	follower := d.beside(t)
	if _, err := follower.preview(context.Background()); !errors.Is(err, web.ErrPreviewNotReady) {
		t.Fatalf("a follower's preview before any fetch: %v, want web.ErrPreviewNotReady", err)
	}
	// The leader's hourly fetch (refresh's, without its log line).
	if _, err := d.env.Gather(context.Background(), d.config().cfg, d.st, time.Now()); err != nil {
		t.Fatal(err)
	}
	page, err := follower.preview(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"반도체 수출과 GPU 공급망", "AI기본법 시행령의 쟁점", "Columns"} {
		if !strings.Contains(string(page.Body), want) {
			t.Errorf("the follower's preview does not show %q:\n%.1500s", want, page.Body)
		}
	}
}
