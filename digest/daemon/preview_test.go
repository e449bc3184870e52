package daemon

import (
	"context"
	"errors"
	"testing"

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
