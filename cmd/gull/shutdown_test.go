package main

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
)

// testGrace is $GULL_STOP_GRACE in these tests: the documented 30 s,
// scaled down so a test takes seconds.
const testGrace = 3 * time.Second

// graceEnv is the environment of a gull these tests stop. A -race build
// sleeps a second at exit unless told not to, which is not gull's time.
func graceEnv(grace string) []string {
	return []string{"GULL_STOP_GRACE=" + grace, "GORACE=atexit_sleep_ms=0"}
}

// hangs are the hung mail servers of issue 13: each makes srv hang and
// reports on reached each time a connection reaches the hang. release
// ends a hang that is a held reply.
var hangs = []struct {
	name string
	hang func(srv *smtptest.Server, reached chan<- string, release <-chan struct{})
	// inFlight: messages go out in full and wait for an answer.
	inFlight bool
}{
	{"silent after the greeting", func(srv *smtptest.Server, reached chan<- string, _ <-chan struct{}) {
		srv.Set(func() {
			srv.Stall = func(verb string) bool {
				if verb == "EHLO" {
					reached <- verb
					return true
				}
				return false
			}
		})
	}, false},
	{"never answers DATA", func(srv *smtptest.Server, reached chan<- string, release <-chan struct{}) {
		srv.Set(func() {
			srv.Data = func(to string, _ int) error {
				reached <- to
				<-release
				return nil
			}
		})
	}, true},
}

// exitAfter signals p with sig and waits for it to exit, at most limit;
// it returns the exit status and how long it took.
func (p *daemonProc) exitAfter(t *testing.T, sig os.Signal, limit time.Duration) (int, time.Duration) {
	t.Helper()
	sent := time.Now()
	if err := p.cmd.Process.Signal(sig); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.exited:
		took := time.Since(sent)
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), took
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0, took
	case <-time.After(limit):
		t.Fatalf("gull still runs %v after %v", limit, sig)
		return -1, 0
	}
}

// ledgerCounts opens the store in dir and counts the issue's rows.
func ledgerCounts(t *testing.T, dir, issueID string) digest.DeliveryCounts {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.DeliveryCounts(context.Background(), issueID)
	if err != nil {
		t.Fatal(err)
	}
	return counts
}

// onlyOnce fails when the server was offered a message for any address
// more than once.
func onlyOnce(t *testing.T, srv *smtptest.Server) {
	t.Helper()
	tries := map[string]int{}
	for _, r := range srv.RcptTries() {
		if tries[r.To]++; tries[r.To] > 1 {
			t.Errorf("%s was offered twice", r.To)
		}
	}
}

// TestSendStopsWithinTheGrace: SIGTERM to `gull send --all` ends it
// within the grace whatever the mail server does; the messages it never
// answered are in doubt in the ledger (not lost, not sent twice) and the
// rest pending.
func TestSendStopsWithinTheGrace(t *testing.T) {
	for _, h := range hangs {
		t.Run(h.name, func(t *testing.T) {
			s := newSendSetup(t)
			reached, release := make(chan string, 16), make(chan struct{})
			defer close(release)
			h.hang(s.smtp, reached, release)
			p := startGull(t, s.dir, graceEnv(testGrace.String()),
				"--config", s.cfg, "--log-format", "json", "send", "--all", "--yes", "--now", sendNow)
			<-reached
			code, took := p.exitAfter(t, syscall.SIGTERM, testGrace+time.Minute)
			t.Logf("exit %d %v after SIGTERM", code, took.Round(time.Millisecond))
			if took > testGrace+time.Second {
				t.Errorf("send --all took %v to stop after SIGTERM; the grace is %v", took, testGrace)
			}
			if code != exitFailure {
				t.Errorf("exit %d, want 1: nothing was sent", code)
			}
			if n := len(s.smtp.Messages()); n != 0 {
				t.Errorf("the server has %d messages", n)
			}
			onlyOnce(t, s.smtp)
			if !h.inFlight {
				if !strings.Contains(p.log(), "gull: stopped while connecting to the mail server; nothing was sent") {
					t.Errorf("send --all did not say it stopped before sending:\n%s", p.log())
				}
				return
			}
			counts := ledgerCounts(t, s.dir, "2026-W48")
			inDoubt := len(reached) + 1
			if counts[digest.DeliverySending] != inDoubt || counts[digest.DeliverySent] != 0 || counts.Left() != len(readers)-1 {
				t.Errorf("ledger after SIGTERM: %v; want the %d unanswered in doubt (sending) and the rest pending", counts, inDoubt)
			}
		})
	}
}

// TestDaemonStopsWithinTheGrace: SIGTERM to `gull run` ends it within the
// grace whatever the mail server does, with exit 0; a message the server
// never answered is in doubt in the ledger, not lost, not sent twice.
func TestDaemonStopsWithinTheGrace(t *testing.T) {
	for _, h := range hangs {
		t.Run(h.name, func(t *testing.T) {
			const readers = 3
			d := newDaemonSetup(t, "@every 2s", readers, time.Now)
			reached, release := make(chan string, 16), make(chan struct{})
			defer close(release)
			h.hang(d.smtp, reached, release)
			p := startGull(t, d.dir, graceEnv(testGrace.String()),
				"--config", d.cfg, "--log-format", "json", "run")
			<-reached // the check at start, or the scheduled run's first message
			code, took := p.exitAfter(t, syscall.SIGTERM, testGrace+time.Minute)
			t.Logf("exit %d %v after SIGTERM", code, took.Round(time.Millisecond))
			if took > testGrace+time.Second {
				t.Errorf("gull run took %v to stop after SIGTERM; the grace is %v", took, testGrace)
			}
			if code != 0 {
				t.Errorf("exit %d, want 0", code)
			}
			if n := len(d.smtp.Messages()); n != 0 {
				t.Errorf("the server has %d messages", n)
			}
			onlyOnce(t, d.smtp)
			if !h.inFlight {
				return
			}
			ran := p.waitLog(t, "run", nil)
			if ran["stopped"] != "interrupted" {
				t.Errorf("the run's log line: %v; want stopped=interrupted", ran)
			}
			counts := ledgerCounts(t, d.dir, ran["issue"].(string))
			if counts[digest.DeliverySending] != 1 || counts[digest.DeliveryPending] != readers-1 || counts[digest.DeliverySent] != 0 {
				t.Errorf("ledger after SIGTERM: %v; want the unanswered message in doubt (sending) and the rest pending", counts)
			}
		})
	}
}

// TestDaemonStopsWithinTheGraceWhileMailingASignUp: a confirmation mail
// that the server never answers does not hold the daemon past its grace
// either; the reader can sign up again.
func TestDaemonStopsWithinTheGraceWhileMailingASignUp(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 1, time.Now)
	reached, release := make(chan string, 16), make(chan struct{})
	defer close(release)
	hangs[1].hang(d.smtp, reached, release) // never answers DATA
	p := startGull(t, d.dir, graceEnv(testGrace.String()), "--config", d.cfg, "--log-format", "json", "run")
	p.waitLog(t, "gull run started", nil)
	go func() {
		// The answer may never come: the daemon is stopped under it.
		if resp, err := http.PostForm(d.base+"/subscribe", url.Values{"email": {"new@example.org"}}); err == nil {
			resp.Body.Close()
		}
	}()
	if to := <-reached; to != "new@example.org" {
		t.Fatalf("the server was sent a message to %s, want the confirmation to new@example.org", to)
	}
	code, took := p.exitAfter(t, syscall.SIGTERM, testGrace+time.Minute)
	t.Logf("exit %d %v after SIGTERM", code, took.Round(time.Millisecond))
	if took > testGrace+time.Second {
		t.Errorf("gull run took %v to stop after SIGTERM; the grace is %v", took, testGrace)
	}
	if code != 0 {
		t.Errorf("exit %d, want 0", code)
	}
}

// TestSecondSignalQuitsAtOnce: with a grace far longer than the test, a
// second Ctrl-C (or SIGTERM) makes gull exit at once with the shell's
// status for the signal, leaving the messages on the wire in doubt. gull
// is started as a shell starts a background job, with SIGINT ignored:
// that is how a second Ctrl-C did nothing.
func TestSecondSignalQuitsAtOnce(t *testing.T) {
	for _, c := range []struct {
		name string
		sig  syscall.Signal
		want int
	}{{"SIGINT", syscall.SIGINT, 130}, {"SIGTERM", syscall.SIGTERM, 143}} {
		t.Run(c.name, func(t *testing.T) {
			s := newSendSetup(t)
			reached, release := make(chan string, 16), make(chan struct{})
			defer close(release)
			hangs[1].hang(s.smtp, reached, release) // never answers DATA
			cmd := exec.Command("sh", "-c", `trap "" INT; exec "$0" "$@"`, os.Args[0],
				"--config", s.cfg, "--log-format", "json", "send", "--all", "--yes", "--now", sendNow)
			cmd.Env = append(append(os.Environ(), "GULL_TEST_AS_GULL=1"), graceEnv("10m")...)
			cmd.Dir = s.dir
			p := runProc(t, cmd)
			<-reached
			p.cmd.Process.Signal(c.sig)
			// The first signal took: the readers waiting for a connection
			// are left for the next run, while the messages on the wire
			// wait for their answers.
			p.waitLog(t, "left for the next run", nil)
			code, took := p.exitAfter(t, c.sig, 20*time.Second)
			t.Logf("exit %d %v after the second %s", code, took.Round(time.Millisecond), c.name)
			if code != c.want {
				t.Errorf("exit %d after a second %s, want %d", code, c.name, c.want)
			}
			if !strings.Contains(p.log(), "a second Ctrl-C or SIGTERM quits at once") || !strings.Contains(p.log(), "again: quitting at once") {
				t.Errorf("gull did not say how to quit at once, or why it did:\n%s", p.log())
			}
			counts := ledgerCounts(t, s.dir, "2026-W48")
			// At least the messages that went out in full are in doubt
			// (claimed, never marked); any other claimed one as well.
			if counts[digest.DeliverySending] < len(reached)+1 || counts[digest.DeliverySent] != 0 || counts.Left() != len(readers)-1 {
				t.Errorf("ledger after a second %s: %v; want the %d messages on the wire in doubt (sending)", c.name, counts, len(reached)+1)
			}
		})
	}
}
