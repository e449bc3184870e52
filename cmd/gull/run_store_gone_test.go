package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// removeStoreFiles is `rm gull.db*` in the daemon's folder.
func removeStoreFiles(t *testing.T, dir string) {
	t.Helper()
	files, _ := filepath.Glob(filepath.Join(dir, "gull.db*"))
	if len(files) == 0 {
		t.Fatal("no gull.db* to remove")
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
}

// `rm gull.db*` under a running daemon: its monitor sees it (/healthz
// 503 with the reason), and the next start does not silently make an
// empty store as if none had been there.
func TestDaemonNoticesItsStoreDeleted(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 2, time.Now)
	p := d.start(t)
	p.waitLog(t, "feeds refreshed", nil)
	if code, body := httpGet(t, d.base+"/healthz"); code != 200 {
		t.Fatalf("/healthz of a healthy daemon: %d %q", code, body)
	}
	removeStoreFiles(t, d.dir)
	code, body := httpGet(t, d.base+"/healthz")
	if code != 503 || !strings.Contains(body, "gull.db was deleted since gull opened it") {
		t.Errorf("/healthz after rm gull.db*: %d %q; want 503 with the reason", code, body)
	}
	p.stop(t)

	// The bound only ends a daemon that wrongly started; a refusal is
	// immediate.
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	code = run(ctx, []string{"--config", d.cfg, "run"}, &out, &errb)
	if code == 0 || !strings.Contains(errb.String(), "gull.db is missing, but a store") || !strings.Contains(errb.String(), "restore it from a backup") {
		t.Errorf("start after rm gull.db*: exit %d\n%s; want a refusal that says what happened and the fix", code, errb.String())
	}
	if _, err := os.Stat(filepath.Join(d.dir, "gull.db")); err == nil {
		t.Error("the refused start made an empty gull.db")
	}
}
