package send

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
	"gull/digest/store/pgtest"
	"gull/subscribers"
)

// The proofs that several `gull send --all` share one send over one
// PostgreSQL store: real gull binaries (built once), a real PostgreSQL,
// the strict in-process SMTP server counting what each reader got.

var gullBin struct {
	once sync.Once
	path string
	err  error
}

// buildGull builds cmd/gull once for the test binary's run.
func buildGull(t *testing.T) string {
	t.Helper()
	gullBin.once.Do(func() {
		dir, err := os.MkdirTemp("", "gull-bin-")
		if err != nil {
			gullBin.err = err
			return
		}
		gullBin.path = filepath.Join(dir, "gull")
		out, err := exec.Command("go", "build", "-o", gullBin.path, "gull/cmd/gull").CombinedOutput()
		if err != nil {
			gullBin.err = fmt.Errorf("go build gull/cmd/gull: %v\n%s", err, out)
		}
	})
	if gullBin.err != nil {
		t.Fatal(gullBin.err)
	}
	return gullBin.path
}

// sendersConns is each sender's SMTP connections: it sends on two
// workers per connection, each of which has at most one message whose
// mark is not committed (on the wire, or answered and not yet recorded).
const sendersConns = 2

// senderWorld is a config over the store at dsn with n readers, and the
// SMTP server every sender mails.
type senderWorld struct {
	t      *testing.T
	bin    string
	config string
	dir    string
	srv    *smtptest.Server
	dsn    string
	n      int
}

func newSenderWorld(t *testing.T, dsn string, n int) *senderWorld {
	t.Helper()
	w := &senderWorld{t: t, bin: buildGull(t), dir: t.TempDir(), dsn: dsn, n: n}
	srv, err := smtptest.StartWith(smtptest.Options{Discard: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	w.srv = srv
	feed := filepath.Join(w.dir, "week.xml")
	if err := os.WriteFile(feed, []byte(`<rss version="2.0"><channel><title>Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><pubDate>Sat, 28 Nov 2026 10:00:00 +0900</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/2</link><pubDate>Sun, 29 Nov 2026 10:00:00 +0900</pubDate></item>
</channel></rss>`), 0o644); err != nil {
		t.Fatal(err)
	}
	w.config = filepath.Join(w.dir, "config.yaml")
	host, port, _ := strings.Cut(srv.Addr, ":")
	body := fmt.Sprintf(`title: AI Policy Weekly
language: ko
timezone: Asia/Seoul
feeds: [{url: %s, name: Columns}]
themes:
  - {id: compute, name: 반도체와 컴퓨팅, keywords: [반도체, GPU]}
  - {id: regulation, name: 규제와 법, keywords: [AI기본법]}
store: {dsn: %q}
mail:
  from: "AI Policy Weekly <digest@news.gull-test.org>"
  outbox: %s
  smtp: {host: %s, port: %s, tls: none, connections: %d}
http: {base_url: "https://news.example.org"}
`, feed, dsn, filepath.Join(w.dir, "outbox"), host, port, sendersConns)
	if err := os.WriteFile(w.config, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	rows := make([]subscribers.Row, n)
	for i := range n {
		rows[i] = subscribers.Row{Line: i + 1, Given: subscribers.AllFields,
			Subscriber: subscribers.Subscriber{Email: fmt.Sprintf("reader%06d@example.org", i), Status: subscribers.Active}}
	}
	if _, err := st.ImportSubscribers(ctx, rows, time.Now()); err != nil {
		t.Fatal(err)
	}
	return w
}

// sender is one `gull send --all` process.
type sender struct {
	cmd    *exec.Cmd
	stderr *bytes.Buffer
	done   chan struct{}
	err    error
}

func (w *senderWorld) start() *sender {
	s := &sender{stderr: &bytes.Buffer{}, done: make(chan struct{})}
	s.cmd = exec.Command(w.bin, "--config", w.config, "send", "--all", "--yes", "--now", "2026-11-30T08:00:00+09:00")
	s.cmd.Env = append(os.Environ(), "GULL_LEASE=4s", "GULL_SECRET=a-link-secret-for-the-tests")
	s.cmd.Stdout, s.cmd.Stderr = s.stderr, s.stderr
	if err := s.cmd.Start(); err != nil {
		w.t.Fatal(err)
	}
	go func() { s.err = s.cmd.Wait(); close(s.done) }()
	return s
}

func (s *sender) running() bool {
	select {
	case <-s.done:
		return false
	default:
		return true
	}
}

// copies is how many messages each reader got.
func (w *senderWorld) copies() map[string]int {
	got := map[string]int{}
	for _, m := range w.srv.Messages() {
		got[m.To[0]]++
	}
	return got
}

// check says every reader has the issue, the ledger agrees, and at most
// extra copies went out beyond one each.
func (w *senderWorld) check(maxExtra int) {
	t := w.t
	got := w.copies()
	missing, extra := 0, 0
	for i := range w.n {
		switch n := got[fmt.Sprintf("reader%06d@example.org", i)]; {
		case n == 0:
			missing++
		case n > 1:
			extra += n - 1
		}
	}
	t.Logf("%d readers, %d messages, %d extra copies (bound %d)", w.n, len(w.srv.Messages()), extra, maxExtra)
	if missing > 0 {
		t.Errorf("%d readers of %d never got the issue", missing, w.n)
	}
	if extra > maxExtra {
		t.Errorf("%d extra copies, more than the %d messages that can be in flight", extra, maxExtra)
	}
	st, err := store.Open(context.Background(), w.dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	counts, err := st.DeliveryCounts(context.Background(), "2026-W48")
	if err != nil || counts[digest.DeliverySent] != w.n || counts.Left() != 0 {
		t.Errorf("the ledger: %v %v, want %d sent and none left", counts, err, w.n)
	}
	_, rec, err := st.Issue(context.Background(), "2026-W48")
	if err != nil || rec.Status != digest.IssueDone {
		t.Errorf("the issue: %+v %v, want it done", rec, err)
	}
}

// TestSendersSurviveKills: three `gull send --all` over one PostgreSQL
// store share the issue; ten times a random one is SIGKILLed and started
// again. Every reader gets the issue, and the extra copies are at most
// the messages in flight at the kills: each killed sender has two
// workers per connection, each with at most one message sent (or on the
// wire) and not yet marked, so the bound is kills x 2 x connections.
// The killed senders' claims lapse after $GULL_LEASE (4 s here), and
// the others, waiting for them, take their readers then. Under -race the
// list is 5,000 readers (the SMTP server in this process runs slower
// under the detector), else 20,000.
func TestSendersSurviveKills(t *testing.T) {
	n := 20000
	if raceOn {
		n = 5000
	}
	w := newSenderWorld(t, pgtest.DSN(t), n)
	senders := []*sender{w.start(), w.start(), w.start()}
	defer func() {
		for _, s := range senders {
			s.cmd.Process.Kill()
		}
	}()
	rng := rand.New(rand.NewPCG(18, uint64(time.Now().UnixNano())))
	kills := 0
	for kills < 10 {
		// The kills are spread over the send: the k-th once k/12 of the
		// readers have their copy, at a random moment after that.
		for len(w.srv.Messages()) < (kills+1)*n/12 && senders[0].running() {
			time.Sleep(10 * time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(200)) * time.Millisecond)
		i := rng.IntN(len(senders))
		s := senders[i]
		if !s.running() {
			break // the send is over: no more to kill
		}
		s.cmd.Process.Signal(syscall.SIGKILL)
		<-s.done
		kills++
		senders[i] = w.start()
	}
	sent := len(w.srv.Messages())
	t.Logf("%d kills, the last after %d messages", kills, sent)
	if kills < 10 {
		t.Fatalf("the send ended after %d kills (%d messages): too quick to prove anything", kills, sent)
	}
	deadline := time.After(3 * time.Minute)
	for i, s := range senders {
		select {
		case <-s.done:
		case <-deadline:
			t.Fatalf("sender %d still running after 3 minutes:\n%s", i, s.stderr)
		}
		if s.err != nil {
			t.Errorf("sender %d: %v:\n%s", i, s.err, s.stderr)
		}
	}
	w.check(kills * 2 * sendersConns)
}

// TestSendersWaitOutAPostgresRestart: PostgreSQL restarts in the middle
// of a send by two senders. They wait for it (their log says so, with
// the tries), go on when it is back, and finish: each exits 0, every
// reader has the issue, and no more extra copies went out than the
// messages in flight at the restart.
func TestSendersWaitOutAPostgresRestart(t *testing.T) {
	pg := pgtest.StartPrivate(t)
	const n = 4000
	w := newSenderWorld(t, pg.DSN, n)
	w.srv.Set(func() { w.srv.Delay = time.Millisecond }) // a send of a few seconds
	senders := []*sender{w.start(), w.start()}
	defer func() {
		for _, s := range senders {
			s.cmd.Process.Kill()
		}
	}()
	for len(w.srv.Messages()) < n/4 {
		time.Sleep(10 * time.Millisecond)
	}
	before := len(w.srv.Messages())
	pg.Restart()
	t.Logf("PostgreSQL restarted after %d messages", before)
	deadline := time.After(3 * time.Minute)
	waited := false
	for i, s := range senders {
		select {
		case <-s.done:
		case <-deadline:
			t.Fatalf("sender %d still running after 3 minutes:\n%s", i, s.stderr)
		}
		if s.err != nil {
			t.Errorf("sender %d: %v:\n%s", i, s.err, s.stderr)
		}
		log := s.stderr.String()
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "the store is") {
				t.Logf("sender %d: %s", i, line)
			}
		}
		if strings.Contains(log, "the store is out of reach; waiting to try again") && strings.Contains(log, "the store is back") {
			waited = true
		}
		if strings.Count(log, "out of reach") > 40 {
			t.Errorf("sender %d tried the store %d times: not a bounded wait:\n%s", i, strings.Count(log, "out of reach"), log)
		}
	}
	if !waited {
		t.Errorf("no sender said it waited for the store and went on:\n%s\n%s", senders[0].stderr, senders[1].stderr)
	}
	w.check(len(senders) * 2 * sendersConns)
}

// TestSendersOutlastAnOutageLongerThanTheirLease: PostgreSQL is down for
// 9 s, longer than the senders' lease (4 s): their claims lapse meanwhile.
// They stop starting messages while their claims cannot be renewed, wait
// for the store (bounded, logged), and finish: every reader has the issue,
// and no more extra copies went out than the messages in flight.
func TestSendersOutlastAnOutageLongerThanTheirLease(t *testing.T) {
	pg := pgtest.StartPrivate(t)
	const n = 4000
	w := newSenderWorld(t, pg.DSN, n)
	w.srv.Set(func() { w.srv.Delay = time.Millisecond }) // a send of a few seconds
	senders := []*sender{w.start(), w.start()}
	defer func() {
		for _, s := range senders {
			s.cmd.Process.Kill()
		}
	}()
	for len(w.srv.Messages()) < n/4 {
		time.Sleep(10 * time.Millisecond)
	}
	before := len(w.srv.Messages())
	pg.Outage(9 * time.Second)
	t.Logf("PostgreSQL was down for 9 s after %d messages", before)
	deadline := time.After(4 * time.Minute)
	waited := false
	for i, s := range senders {
		select {
		case <-s.done:
		case <-deadline:
			t.Fatalf("sender %d still running after 4 minutes:\n%s", i, s.stderr)
		}
		if s.err != nil {
			t.Errorf("sender %d: %v:\n%s", i, s.err, s.stderr)
		}
		log := s.stderr.String()
		for _, line := range strings.Split(log, "\n") {
			if strings.Contains(line, "the store is") {
				t.Logf("sender %d: %s", i, line)
			}
		}
		if strings.Contains(log, "the store is out of reach; waiting to try again") && strings.Contains(log, "the store is back") {
			waited = true
		}
		if strings.Count(log, "out of reach") > 40 {
			t.Errorf("sender %d tried the store %d times: not a bounded wait:\n%s", i, strings.Count(log, "out of reach"), log)
		}
	}
	if !waited {
		t.Errorf("no sender said it waited for the store and went on:\n%s\n%s", senders[0].stderr, senders[1].stderr)
	}
	w.check(len(senders) * 2 * sendersConns)
}

// TestSendLeaseFromTheEnvironment: $GULL_LEASE sets how long a
// send's claims hold; a value out of range is refused, naming the
// variable and the fix.
func TestSendLeaseFromTheEnvironment(t *testing.T) {
	for v, want := range map[string]string{"": "1m0s", "30s": "30s", "1s": "1s", "500ms": "", "soon": "", "1h": ""} {
		s := &Sender{Env: Env{Getenv: func(string) string { return v }}}
		got, err := s.claimTTL()
		switch {
		case want == "" && (err == nil || !strings.Contains(err.Error(), "$GULL_LEASE") || !strings.Contains(err.Error(), "1s to 10m")):
			t.Errorf("%q: %v %v, want it refused with the range", v, got, err)
		case want != "" && (err != nil || got.String() != want):
			t.Errorf("%q: %v %v, want %s", v, got, err, want)
		}
	}
}
