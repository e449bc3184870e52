package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a stderr that the progress goroutine and the command may
// write at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// feeds check on a terminal: a feed that hangs is named with how long it
// has kept the check waiting, and the fetch ends with a summary line.
// Off a terminal the same check writes none of it (feeds_check.txtar).
func TestFeedsCheckShowsProgressOnATerminal(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		w.Write([]byte(`<rss version="2.0"><channel><title>Slow</title></channel></rss>`))
	}))
	defer srv.Close()
	dir := t.TempDir()
	cfg := filepath.Join(dir, "config.yaml")
	body := "timezone: Asia/Seoul\nfeeds: [{url: " + srv.URL + "/feed.xml, name: 느린 피드}]\nthemes: [{id: a, name: A, keywords: [x]}]\nstore: {path: gull.db}\n"
	if err := os.WriteFile(cfg, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout bytes.Buffer
	var stderr syncBuffer
	ticks := make(chan time.Time)
	a := &app{stdout: &stdout, stderr: &stderr, getenv: func(string) string { return "" }, configPath: cfg,
		progress: &stderr, progressWidth: 80, progressTicks: ticks}
	errc := make(chan error, 1)
	go func() { errc <- a.dispatch(context.Background(), []string{"feeds", "check", "--now", "2026-11-30"}) }()
	<-arrived
	at := time.Now().Add(3 * time.Second) // the terminal's clock, three seconds on
	ticks <- at
	// The watcher may be descheduled between taking a tick and drawing it;
	// it takes the second only once the first is drawn, before the feed
	// is released (else it could draw a fetch already over: no line).
	ticks <- at
	close(release)
	if err := <-errc; err != nil {
		t.Fatalf("feeds check: %v\n%s", err, stderr.String())
	}
	got := stderr.String()
	for _, want := range []string{"\rfetched 0/1 feeds; still fetching 느린 피드 (3s)...", "\rfetched 1 feed in "} {
		if !strings.Contains(got, want) {
			t.Errorf("stderr %q lacks %q", got, want)
		}
	}
	if !strings.Contains(stdout.String(), "1 feed: 1 ok") {
		t.Errorf("stdout: %s", stdout.String())
	}
}
