package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestDaemonSignUpWithHungSMTP: with a mail server that takes the
// confirmation's DATA and never answers, sign-ups beyond the
// confirmation workers are still answered at once (the mail is queued,
// not sent in the request), and SIGTERM still stops the daemon.
func TestDaemonSignUpWithHungSMTP(t *testing.T) {
	d := newDaemonSetup(t, "0 8 1 1 *", 1, time.Now)
	// Each sign-up comes from its own client, through a proxy on this
	// machine, so the per-client rate limit lets them all through.
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.cfg, []byte(strings.Replace(string(cfg), "http: {", "http: {trusted_proxies: [127.0.0.1], ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { close(release) }) })
	d.smtp.Data = func(string, int) error { <-release; return nil }
	p := d.start(t)

	// A hung request fails the test instead of hanging it.
	client := &http.Client{Timeout: 15 * time.Second}
	for i := range 12 { // more than the confirmation workers (8)
		req, err := http.NewRequest("POST", d.base+"/subscribe", strings.NewReader(url.Values{"email": {fmt.Sprintf("new%d@example.org", i)}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		resp, err := client.Do(req)
		if err != nil {
			t.Fatalf("sign-up %d with the mail server hung: %v", i+1, err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("sign-up %d: %d, want 200", i+1, resp.StatusCode)
		}
	}
	// The server answers again: the queued confirmations go out. (A
	// SIGTERM while the server still hangs is
	// TestDaemonStopsWithinTheGraceWhileMailingASignUp.)
	once.Do(func() { close(release) })
	waitMessage(t, d.smtp, "new11@example.org", func(r received) bool { return strings.Contains(r.subject, "confirm") })
	if code := p.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
}
