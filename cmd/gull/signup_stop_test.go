package main

import (
	"fmt"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"
)

// TestDaemonSendsQueuedConfirmationsAtStop: sign-ups answered just before
// a SIGTERM, their confirmations still queued behind a slow mail server,
// are mailed in the sign-ups' share of the grace: the people just told to
// check their inbox get the mail. (They were dropped at once: the
// confirmation mailer stopped with the daemon's context.)
func TestDaemonSendsQueuedConfirmationsAtStop(t *testing.T) {
	d := newDaemonSetup(t, "0 8 1 1 *", 1, time.Now)
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(d.cfg, []byte(strings.Replace(string(cfg), "http: {", "http: {trusted_proxies: [127.0.0.1], ", 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// One connection, 300 ms a message: the later confirmations wait in
	// the queue when the SIGTERM comes.
	d.smtp.Data = func(string, int) error { time.Sleep(300 * time.Millisecond); return nil }
	p := d.start(t)
	const n = 4
	for i := range n {
		req, err := http.NewRequest("POST", d.base+"/subscribe", strings.NewReader(url.Values{"email": {fmt.Sprintf("late%d@example.org", i)}}.Encode()))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("X-Forwarded-For", fmt.Sprintf("198.51.100.%d", i+1))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("sign-up %d: %d", i, resp.StatusCode)
		}
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
	got := map[string]bool{}
	for _, m := range d.smtp.Messages() {
		got[m.To[0]] = true
	}
	for i := range n {
		if addr := fmt.Sprintf("late%d@example.org", i); !got[addr] {
			t.Errorf("%s signed up before the SIGTERM and got no confirmation (got %v)", addr, got)
		}
	}
}
