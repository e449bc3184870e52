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

// gull run reads the bounce mailbox at start: the reader whose address
// bounced is marked, the message is marked handled, /metrics counts it
// by kind, and the log names the reader by id only.
func TestDaemonReadsTheBounceMailbox(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 3, time.Now)
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(d.cfg, append(cfg, "bounces: {maildir: Maildir}\n"...), 0o644)
	// Only a copy gull sent can bounce: the week's issue goes out first.
	var sent, sendErr bytes.Buffer
	if code := run(context.Background(), []string{"--config", d.cfg, "send", "--all", "--yes"}, &sent, &sendErr); code != 0 {
		t.Fatalf("send: %d %s", code, sendErr.String())
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(d.dir, "Maildir", sub), 0o700)
	}
	dsn := strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.net
To: digest@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <dsn-1@mx.example.net>
MIME-Version: 1.0
Content-Type: multipart/report; report-type=delivery-status; boundary="b"

--b
Content-Type: text/plain

Your message could not be delivered.

--b
Content-Type: message/delivery-status

Reporting-MTA: dns; mx.example.net

Final-Recipient: rfc822; reader001@example.org
Action: failed
Status: 5.1.1
Diagnostic-Code: smtp; 550 5.1.1 <reader001@example.org>: User unknown

--b--
`, "\n", "\r\n")
	os.WriteFile(filepath.Join(d.dir, "Maildir", "new", "1764583200.M1P1.mx"), []byte(dsn), 0o600)

	p := d.start(t)
	line := p.waitLog(t, "bounce handled", nil)
	if line["kind"] != "hard" || line["effect"] != "bounced" || line["subscriber_id"] != float64(2) {
		t.Errorf("log: %v", line)
	}
	if strings.Contains(p.log(), "reader001@example.org") {
		t.Errorf("the log names the address:\n%s", p.log())
	}
	_, body := httpGet(t, d.base+"/metrics")
	if v := metricValue(t, body, `gull_bounces_total{kind="hard"}`); v != 1 {
		t.Errorf("gull_bounces_total{kind=\"hard\"} = %v, want 1", v)
	}
	if v := metricValue(t, body, "gull_complaints_total"); v != 0 {
		t.Errorf("gull_complaints_total = %v, want 0", v)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--config", d.cfg, "subscribers", "list", "--status", "bounced"}, &out, &errb); code != 0 {
		t.Fatalf("list: %d %s", code, errb.String())
	}
	if !strings.Contains(out.String(), "reader001@example.org") || !strings.Contains(out.String(), "hard bounce (5.1.1") {
		t.Errorf("bounced readers:\n%s", out.String())
	}
	if _, err := os.Stat(filepath.Join(d.dir, "Maildir", "cur", "1764583200.M1P1.mx:2,S")); err != nil {
		t.Errorf("the bounce was not marked handled: %v", err)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}
