package collect

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"gull/digest"
)

// Started and Done hear of every feed, good or failed, before Collect
// returns: the terminal's progress line counts on them.
func TestCollectTellsProgress(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.xml")
	if err := os.WriteFile(good, []byte(rss("", "AI 정책")), 0o644); err != nil {
		t.Fatal(err)
	}
	feeds := []digest.Feed{{URL: good}, {URL: filepath.Join(dir, "missing.xml")}}
	var mu sync.Mutex
	var started, done []string
	failed := 0
	c := New(Options{
		Concurrency: 1,
		Started: func(f digest.Feed) {
			mu.Lock()
			defer mu.Unlock()
			started = append(started, f.URL)
		},
		Done: func(r digest.FeedResult) {
			mu.Lock()
			defer mu.Unlock()
			if !slices.Contains(started, r.Feed.URL) {
				t.Errorf("Done(%s) before Started", r.Feed.URL)
			}
			done = append(done, r.Feed.URL)
			if r.Status == digest.FeedError {
				failed++
			}
		},
	})
	c.Collect(context.Background(), feeds, nil)
	slices.Sort(started)
	slices.Sort(done)
	want := []string{good, feeds[1].URL}
	slices.Sort(want)
	if !slices.Equal(started, want) || !slices.Equal(done, want) || failed != 1 {
		t.Errorf("started %q, done %q (%d failed); want each of %q once, 1 failed", started, done, failed, want)
	}

	// A fetch cancelled before it began is done all the same, so a count
	// of done feeds reaches the total.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	done = nil
	New(Options{Concurrency: 1, Done: func(r digest.FeedResult) {
		mu.Lock()
		defer mu.Unlock()
		done = append(done, r.Feed.URL)
	}}).Collect(ctx, feeds, nil)
	if len(done) != 2 {
		t.Errorf("after a cancel, Done heard of %q; want both feeds", done)
	}
}
