package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// lockedBuffer is a stderr the test reads while run writes to it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

const serveConfig = `title: Serve Weekly
language: en
timezone: Asia/Seoul
feeds:
  - {url: columns.xml, name: Columns}
themes:
  - {id: compute, name: Compute, keywords: [GPU]}
store: {path: gull.db}
`

const serveFeed = `<rss version="2.0"><channel><title>Columns</title><link>https://c.example.org/</link>
<item><title>GPU diplomacy</title><link>https://c.example.org/gpu</link><pubDate>Tue, 24 Nov 2026 09:00:00 +0900</pubDate></item>
</channel></rss>`

// TestPreviewServe is the editor's loop: start the preview server, change
// a template, reload, see the change; break a template, reload, see the
// error naming the file; fix it, and the page is back.
func TestPreviewServe(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"config.yaml": serveConfig, "columns.xml": serveFeed} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	tmpl := filepath.Join(dir, "tmpl")
	if err := os.Mkdir(tmpl, 0o755); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stderr lockedBuffer
	done := make(chan int, 1)
	go func() {
		done <- run(ctx, []string{"--config", filepath.Join(dir, "config.yaml"), "preview",
			"--serve", "127.0.0.1:0", "--templates", tmpl, "--now", "2026-11-30T08:00:00+09:00"}, io.Discard, &stderr)
	}()
	addrRE := regexp.MustCompile(`previewing at (http://127\.0\.0\.1:\d+/)`)
	var base string
	for deadline := time.Now().Add(10 * time.Second); base == ""; {
		if m := addrRE.FindStringSubmatch(stderr.String()); m != nil {
			base = m[1]
		} else if time.Now().After(deadline) {
			t.Fatalf("no address on stderr: %s", stderr.String())
		}
		time.Sleep(10 * time.Millisecond)
	}

	get := func(path string) (int, string, http.Header) {
		t.Helper()
		resp, err := http.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b), resp.Header
	}

	code, body, h := get("")
	if code != 200 || !strings.Contains(body, "GPU diplomacy") || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %d %s\n%s", code, h.Get("Content-Type"), body)
	}
	if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("preview page without a CSP: %v", h)
	}
	for path, want := range map[string]string{"text": "[1] GPU diplomacy", "json": `"title": "GPU diplomacy"`, "eml": "Content-Type: multipart/alternative"} {
		if code, body, _ := get(path); code != 200 || !strings.Contains(body, want) {
			t.Errorf("GET /%s: %d, want %q in\n%s", path, code, want, body)
		}
	}

	// The editor changes the subject and the text template: the next
	// request shows it, with no restart.
	write := func(name, text string) {
		if err := os.WriteFile(filepath.Join(tmpl, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("digest.txt.tmpl", "EDITED {{ .Title }}: {{ .CountText }}\n")
	if _, body, _ := get("text"); strings.TrimSpace(body) != "EDITED Serve Weekly: 1 column" {
		t.Errorf("after editing the template, /text is %q", body)
	}
	// A keyword change in the config shows at the next reload too.
	cfg := strings.Replace(serveConfig, "keywords: [GPU]}", "keywords: [diplomacy]}\n  - {id: first, name: First, keywords: [GPU]}", 1)
	if err := os.WriteFile(filepath.Join(dir, "config.yaml"), []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, body, _ := get("json"); !strings.Contains(body, `"themes": [
            "compute",
            "first"`) {
		t.Errorf("after the keyword change, /json is\n%s", body)
	}

	write("digest.html.tmpl", "<p>{{ .Title }</p>")
	code, body, _ = get("")
	if code != 500 || !strings.Contains(body, "digest.html.tmpl:1: unexpected") {
		t.Errorf("broken template: %d\n%s", code, body)
	}
	if err := os.Remove(filepath.Join(tmpl, "digest.html.tmpl")); err != nil {
		t.Fatal(err)
	}
	if code, body, _ := get(""); code != 200 || !strings.Contains(body, "GPU diplomacy") {
		t.Errorf("after the fix: %d", code)
	}

	resp, err := http.Post(base, "text/plain", strings.NewReader("x"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /: %d, want 405", resp.StatusCode)
	}

	cancel()
	select {
	case code := <-done:
		if code != 0 {
			t.Errorf("preview --serve exited %d after Ctrl-C; stderr:\n%s", code, stderr.String())
		}
	case <-time.After(10 * time.Second):
		t.Fatal("preview --serve did not stop")
	}
}

// --out replaces a regular file atomically, keeping its permissions, but
// writes through anything else: a symlink stays a symlink, a device stays
// a device.
func TestWriteOut(t *testing.T) {
	dir := t.TempDir()
	a := &app{stdout: io.Discard}
	private := filepath.Join(dir, "private.html")
	if err := os.WriteFile(private, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := writeOut(private, []byte("new"), a); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Stat(private); st.Mode().Perm() != 0o600 {
		t.Errorf("mode %v after --out, want 0600 kept", st.Mode().Perm())
	}
	target := filepath.Join(dir, "target.html")
	link := filepath.Join(dir, "link.html")
	os.WriteFile(target, []byte("old"), 0o644)
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	if err := writeOut(link, []byte("through the link"), a); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(link); st.Mode()&os.ModeSymlink == 0 {
		t.Errorf("--out replaced the symlink with a file")
	}
	if b, _ := os.ReadFile(target); string(b) != "through the link" {
		t.Errorf("target holds %q", b)
	}
	if err := writeOut(os.DevNull, []byte("x"), a); err != nil {
		t.Fatal(err)
	}
	if st, _ := os.Lstat(os.DevNull); st.Mode()&os.ModeDevice == 0 {
		t.Fatalf("%s is no longer a device", os.DevNull)
	}
}
