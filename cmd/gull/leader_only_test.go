package main

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/digest/store/pgtest"
)

// Only the schedule's leader reads the bounce mailbox (and builds the
// draft): a daemon that follows serves the web side and nothing else, so
// N daemons read one mailbox, and mail the editors, once. A bounce that
// arrives while the follower only follows is handled by it only once it
// leads.
func TestOnlyTheLeaderReadsTheBounceMailbox(t *testing.T) {
	dsn := pgtest.DSN(t)
	d := newDaemonSetupOn(t, "0 8 1 1 *", 3, time.Now, fmt.Sprintf("{dsn: %q}", dsn))
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg = append(cfg, "bounces: {maildir: Maildir}\n"...)
	if err := os.WriteFile(d.cfg, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	port2 := freePort(t)
	cfg2 := filepath.Join(d.dir, "config2.yaml")
	if err := os.WriteFile(cfg2, []byte(strings.Replace(string(cfg), fmt.Sprintf(`listen: "127.0.0.1:%d"`, d.port),
		fmt.Sprintf(`listen: "127.0.0.1:%d"`, port2), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(d.dir, "Maildir", sub), 0o700)
	}
	// Only a copy gull sent can bounce.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--config", d.cfg, "send", "--all", "--yes"}, &out, &errb); code != 0 {
		t.Fatalf("send: %d %s", code, errb.String())
	}
	env := append(graceEnv("3s"), "GULL_LEASE=3s")
	leader := startGull(t, d.dir, env, "--config", d.cfg, "--log-format", "json", "run")
	leader.waitLog(t, "leading the schedule", nil)
	time.Sleep(500 * time.Millisecond) // the leader's check at start, of an empty mailbox
	dsn1 := strings.ReplaceAll(`From: MAILER-DAEMON@mx.example.net
To: digest@example.org
Subject: Undelivered Mail Returned to Sender
Date: Tue, 01 Dec 2026 10:00:00 +0000
Message-ID: <dsn-leader@mx.example.net>
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
	if err := os.WriteFile(filepath.Join(d.dir, "Maildir", "new", "1764583200.M1P1.mx"), []byte(dsn1), 0o600); err != nil {
		t.Fatal(err)
	}
	follower := startGull(t, d.dir, env, "--config", cfg2, "--log-format", "json", "run")
	follower.waitLog(t, "another gull run leads the schedule; this one serves the web side and takes over if it stops", nil)
	leader.cmd.Process.Kill()
	<-leader.exited
	follower.waitLog(t, "bounce handled", nil)
	logged := follower.log()
	if lead, handled := strings.Index(logged, `"leading the schedule"`), strings.Index(logged, `"bounce handled"`); lead < 0 || handled < lead {
		t.Errorf("the follower read the bounce mailbox before it led the schedule:\n%s", logged)
	}
	if code := follower.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}
