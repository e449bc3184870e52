package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
	"gull/digest/store/pgtest"
	"gull/subscribers"
)

// TestTwoDaemonsShareOnePostgresStore runs two real `gull run` processes
// over one PostgreSQL store, as behind a load balancer: one leads the
// schedule, and SIGKILL during its Monday run hands the schedule to the
// other, which finishes the issue: every reader gets it, a second copy
// only if their message was on the wire at the kill, and no slot is run
// by both. The web side is served by either: a sign-up made at one is
// confirmed at the other, and one whose daemon dies before mailing it is
// mailed by the other.
func TestTwoDaemonsShareOnePostgresStore(t *testing.T) {
	dsn := pgtest.DSN(t)
	const readers = 60
	d := newDaemonSetupOn(t, "@every 2s", readers, time.Now, fmt.Sprintf("{dsn: %q}", dsn))
	// A slow server, so the kill lands mid-send.
	d.smtp.Delay = 50 * time.Millisecond
	// The second daemon: the same config, its own port (base_url stays
	// the first's, as a load balancer's address would).
	port2 := freePort(t)
	base2 := fmt.Sprintf("http://127.0.0.1:%d", port2)
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	cfg2 := filepath.Join(d.dir, "config2.yaml")
	if err := os.WriteFile(cfg2, []byte(strings.Replace(string(cfg), fmt.Sprintf(`listen: "127.0.0.1:%d"`, d.port),
		fmt.Sprintf(`listen: "127.0.0.1:%d"`, port2), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	// A lease of 3 s, so the takeover comes within seconds, not a minute.
	env := append(graceEnv("3s"), "GULL_LEASE=3s")
	leader := startGull(t, d.dir, env, "--config", d.cfg, "--log-format", "json", "run")
	leader.waitLog(t, "leading the schedule", nil)
	follower := startGull(t, d.dir, env, "--config", cfg2, "--log-format", "json", "run")
	follower.waitLog(t, "another gull run leads the schedule; this one serves the web side and takes over if it stops", nil)

	// The Monday run: kill the leader once a few messages went out.
	deadline := time.Now().Add(30 * time.Second)
	for len(d.smtp.Messages()) < 10 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if len(d.smtp.Messages()) >= readers {
		t.Fatalf("the run was over before the kill (%d messages)", len(d.smtp.Messages()))
	}
	leader.cmd.Process.Kill()
	killed := time.Now()
	<-leader.exited
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	recs, err := st.Issues(ctx, 1)
	if err != nil || len(recs) != 1 {
		t.Fatalf("issues after the kill: %v %v", recs, err)
	}
	issueID := recs[0].ID
	inFlight, err := st.Deliveries(ctx, issueID, digest.DeliverySending, readers)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("killed the leader with %d messages delivered, %d in flight", len(d.smtp.Messages()), len(inFlight))

	follower.waitLog(t, "leading the schedule", nil)
	t.Logf("the follower leads %v after the kill (GULL_LEASE=3s)", time.Since(killed).Round(100*time.Millisecond))
	done := follower.waitLog(t, "run", func(l map[string]any) bool { return l["complete"] == true })
	t.Logf("the follower finished the issue: trigger %v, sent %v", done["trigger"], done["sent"])
	counts, err := st.DeliveryCounts(ctx, issueID)
	if err != nil || counts[digest.DeliverySent] != readers || counts.Left() != 0 {
		t.Errorf("the ledger after the takeover: %v %v; want all %d sent", counts, err, readers)
	}
	doubt := map[string]bool{}
	for _, r := range inFlight {
		doubt[r.Email] = true
	}
	copies := copiesByReader(d.smtp)
	if len(copies) != readers {
		t.Errorf("%d readers got the issue, want %d", len(copies), readers)
	}
	for addr, n := range copies {
		if n > 1 && !(n == 2 && doubt[addr]) {
			t.Errorf("%s got %d copies (in flight at the kill: %v)", addr, n, doubt[addr])
		}
	}

	// The leader comes back (its supervisor restarts it) and follows; a
	// newcomer signs up at it and confirms at the other daemon.
	back := startGull(t, d.dir, env, "--config", d.cfg, "--log-format", "json", "run")
	back.waitLog(t, "another gull run leads the schedule; this one serves the web side and takes over if it stops", nil)
	resp, err := http.PostForm(d.base+"/subscribe", url.Values{"email": {"new@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /subscribe at the first daemon: %d", resp.StatusCode)
	}
	confirm := waitMessage(t, d.smtp, "new@example.org", func(r received) bool { return strings.Contains(r.subject, "confirm") })
	link := regexp.MustCompile(regexp.QuoteMeta(d.base) + `/confirm\?t=\S+`).FindString(confirm.text)
	if link == "" {
		t.Fatalf("no confirm link in the confirmation mail:\n%s", confirm.text)
	}
	if code, body := pressConfirm(t, strings.Replace(link, d.base, base2, 1)); code != http.StatusOK {
		t.Fatalf("the confirm button at the second daemon: %d\n%s", code, body)
	}
	if sub, err := st.SubscriberByEmail(ctx, "new@example.org"); err != nil || sub.Status != subscribers.Active {
		t.Errorf("new@example.org after confirming at the second daemon: %q %v; want active", sub.Status, err)
	}

	// A sign-up answered by a daemon that dies before its confirmation
	// went: the other daemon mails it.
	reached, release := make(chan struct{}), make(chan struct{})
	var held atomic.Bool
	d.smtp.Set(func() {
		d.smtp.Data = func(to string, _ int) error {
			if to == "lost@example.org" && held.CompareAndSwap(false, true) {
				close(reached)
				<-release
				return smtptest.Reply(451, "4.3.0", "try later")
			}
			return nil
		}
	})
	resp, err = http.PostForm(d.base+"/subscribe", url.Values{"email": {"lost@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /subscribe at the restarted daemon: %d", resp.StatusCode)
	}
	select {
	case <-reached:
	case <-time.After(20 * time.Second):
		t.Fatal("the confirmation to lost@example.org never reached the mail server")
	}
	back.cmd.Process.Kill()
	<-back.exited
	close(release)
	lost := waitMessage(t, d.smtp, "lost@example.org", func(r received) bool { return strings.Contains(r.subject, "confirm") })
	if link := regexp.MustCompile(regexp.QuoteMeta(d.base) + `/confirm\?t=\S+`).FindString(lost.text); link == "" {
		t.Errorf("no confirm link in the confirmation the other daemon sent:\n%s", lost.text)
	}
	follower.waitLog(t, "confirmation mails left by a stopped daemon: sending them", nil)

	// No slot was run by both daemons (nor twice by one).
	runs := map[string]int{}
	for _, p := range []*daemonProc{leader, follower, back} {
		for _, l := range p.find("run", nil) {
			if tr := l["trigger"]; tr == "schedule" || tr == "catch-up" {
				runs[fmt.Sprint(l["slot"])]++
			}
		}
	}
	for slot, n := range runs {
		if n > 1 {
			t.Errorf("slot %s was run %d times", slot, n)
		}
	}
	if code := follower.stop(t); code != 0 {
		t.Errorf("SIGTERM to the leader: exit %d", code)
	}
}
