package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver/smtptest"
	"gull/digest/schedule"
	"gull/digest/store"
	"gull/subscribers"
)

// daemonSetup is a folder with a config for `gull run`: a feed server, the
// in-process SMTP server, a free port for the web side, and a list.
type daemonSetup struct {
	dir, cfg string
	smtp     *smtptest.Server
	port     int
	base     string
	feedAt   func() time.Time // the articles are dated just before it
	feedDown *atomic.Bool     // the feed answers 503
}

// freePort finds a port nobody listens on (the daemon takes it a moment
// later; base_url must name it before the daemon starts).
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// liveFeed serves three columns dated in the day before feedAt(), so
// they are in the week of a run made now (or at the slot the test says).
func liveFeed(t *testing.T, feedAt func() time.Time, down *atomic.Bool) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		at := feedAt()
		date := func(h int) string { return at.Add(-time.Duration(h) * time.Hour).Format(time.RFC1123Z) }
		w.Header().Set("Content-Type", "application/rss+xml")
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>AI Policy Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><description>GPU 공급 이야기.</description><pubDate>%s</pubDate></item>
<item><title>HBM chips and the data centre boom</title><link>https://columns.example/2</link><description>Memory for compute.</description><pubDate>%s</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/3</link><description>규제 이야기.</description><pubDate>%s</pubDate></item>
</channel></rss>`, date(20), date(12), date(3))
	}))
	t.Cleanup(srv.Close)
	return srv
}

func newDaemonSetup(t *testing.T, schedule string, readers int, feedAt func() time.Time) *daemonSetup {
	t.Helper()
	return newDaemonSetupOn(t, schedule, readers, feedAt, "{path: gull.db}")
}

// newDaemonSetupOn is newDaemonSetup with the config's store (YAML).
func newDaemonSetupOn(t *testing.T, schedule string, readers int, feedAt func() time.Time, storeYAML string) *daemonSetup {
	t.Helper()
	srv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	d := &daemonSetup{dir: t.TempDir(), smtp: srv, port: freePort(t), feedAt: feedAt, feedDown: new(atomic.Bool)}
	d.base = fmt.Sprintf("http://127.0.0.1:%d", d.port)
	d.cfg = filepath.Join(d.dir, "config.yaml")
	cfg := fmt.Sprintf(`title: AI Policy Weekly
language: en
timezone: Asia/Seoul
schedule: %q
fetch: {min_interval: 1s}
feeds:
  - {url: %s/columns.xml, name: Columns}
themes:
  - {id: compute, name: Compute & Chips, keywords: [반도체, GPU, HBM, chips]}
  - {id: regulation, name: Regulation, keywords: [AI기본법, AI Act, law]}
store: %s
mail:
  from: "AI Policy Weekly <digest@example.org>"
  smtp: {host: %s, port: %d, tls: none, connections: 1}
http: {listen: "127.0.0.1:%d", base_url: %q}
`, schedule, liveFeed(t, feedAt, d.feedDown).URL, storeYAML, srv.Host(), srv.Port(), d.port, d.base)
	if err := os.WriteFile(d.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
	var csv strings.Builder
	csv.WriteString("email,themes\n")
	for i := range readers {
		fmt.Fprintf(&csv, "reader%03d@example.org,\n", i)
	}
	list := filepath.Join(d.dir, "list.csv")
	os.WriteFile(list, []byte(csv.String()), 0o644)
	var out, errb bytes.Buffer
	t.Chdir(d.dir)
	if code := run(context.Background(), []string{"--config", d.cfg, "subscribers", "import", list}, &out, &errb); code != 0 {
		t.Fatalf("import: exit %d: %s", code, errb.String())
	}
	return d
}

// daemonProc is a `gull run` process and its JSON log.
type daemonProc struct {
	cmd    *exec.Cmd
	exited chan error
	mu     sync.Mutex
	lines  []map[string]any
	raw    bytes.Buffer
}

func (d *daemonSetup) start(t *testing.T) *daemonProc {
	t.Helper()
	p := startGull(t, d.dir, nil, "--config", d.cfg, "--log-format", "json", "run")
	p.waitLog(t, "gull run started", nil)
	return p
}

// startGull runs gull with args in dir as its own process, with env
// added to the environment, and reads its JSON log as it comes.
func startGull(t *testing.T, dir string, env []string, args ...string) *daemonProc {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(append(os.Environ(), "GULL_TEST_AS_GULL=1"), env...)
	cmd.Dir = dir
	return runProc(t, cmd)
}

// runProc starts cmd, a gull, and reads its JSON log as it comes.
func runProc(t *testing.T, cmd *exec.Cmd) *daemonProc {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	p := &daemonProc{cmd: cmd, exited: make(chan error, 1)}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	logDone := make(chan struct{})
	go func() {
		defer close(logDone)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			var m map[string]any
			p.mu.Lock()
			p.raw.Write(append(sc.Bytes(), '\n'))
			if json.Unmarshal(sc.Bytes(), &m) == nil {
				p.lines = append(p.lines, m)
			}
			p.mu.Unlock()
		}
	}()
	go func() {
		<-logDone // all of stderr read before Wait closes the pipe
		p.exited <- cmd.Wait()
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		if t.Failed() {
			t.Logf("%s: its log:\n%s", strings.Join(cmd.Args[1:], " "), p.log())
		}
	})
	return p
}

func (p *daemonProc) log() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.raw.String()
}

// find returns the log lines with message msg for which match is true.
func (p *daemonProc) find(msg string, match func(map[string]any) bool) []map[string]any {
	p.mu.Lock()
	defer p.mu.Unlock()
	var out []map[string]any
	for _, l := range p.lines {
		if l["msg"] == msg && (match == nil || match(l)) {
			out = append(out, l)
		}
	}
	return out
}

func (p *daemonProc) waitLog(t *testing.T, msg string, match func(map[string]any) bool) map[string]any {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if found := p.find(msg, match); len(found) > 0 {
			return found[0]
		}
		select {
		case err := <-p.exited:
			p.exited <- err
			t.Fatalf("gull run exited (%v) before logging %q:\n%s", err, msg, p.log())
		case <-time.After(20 * time.Millisecond):
		}
	}
	t.Fatalf("gull run did not log %q within 30 s:\n%s", msg, p.log())
	return nil
}

// stop sends SIGTERM and returns the exit status.
func (p *daemonProc) stop(t *testing.T) int {
	t.Helper()
	p.cmd.Process.Signal(syscall.SIGTERM)
	sent := time.Now()
	select {
	case err := <-p.exited:
		t.Logf("gull run exited %v after SIGTERM", time.Since(sent).Round(time.Millisecond))
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return 0
	case <-time.After(time.Minute):
		t.Fatalf("gull run did not stop within a minute of SIGTERM:\n%s", p.log())
		return -1
	}
}

func trigger(want string) func(map[string]any) bool {
	return func(l map[string]any) bool { return l["trigger"] == want }
}

func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// pressConfirm does what a reader does with a confirmation mail's link:
// opens the page it shows and presses its button (the form posts the
// token back to /confirm). It answers the button's page.
func pressConfirm(t *testing.T, link string) (int, string) {
	t.Helper()
	code, page := httpGet(t, link)
	m := regexp.MustCompile(`<form method="post" action="(confirm)">\s*<input type="hidden" name="t" value="([^"]+)">`).FindStringSubmatch(page)
	if code != http.StatusOK || m == nil {
		t.Fatalf("GET the confirm link: %d, no confirm button\n%s", code, page)
	}
	action, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	action, _ = action.Parse(m[1])
	resp, err := http.PostForm(action.String(), url.Values{"t": {html.UnescapeString(m[2])}})
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// copiesByReader counts the messages each address got.
func copiesByReader(s *smtptest.Server) map[string]int {
	n := map[string]int{}
	for _, m := range s.Messages() {
		for _, to := range m.To {
			n[to]++
		}
	}
	return n
}

// TestDaemonEndToEnd runs `gull run` as the operator does: the schedule
// comes due, the issue goes out over SMTP, SIGTERM stops it mid-send,
// and a restart delivers the rest with nobody mailed twice. The archive,
// the feed, the metrics and the one-click unsubscribe of a received
// message are checked on the running daemon.
func TestDaemonEndToEnd(t *testing.T) {
	const readers = 40
	d := newDaemonSetup(t, "@every 2s", readers, time.Now)
	// A slow server, so SIGTERM lands mid-send.
	d.smtp.Delay = 60 * time.Millisecond

	first := d.start(t)
	first.waitLog(t, "mail server checked", nil)
	// A second daemon on the same store refuses to start.
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"--config", d.cfg, "run"}, &out, &errb); code != 1 ||
		!strings.Contains(errb.String(), "another gull run (pid ") {
		t.Errorf("second gull run: exit %d, stderr %q; want 1 and a message naming the first", code, errb.String())
	}

	deadline := time.Now().Add(30 * time.Second)
	for len(d.smtp.Messages()) < 8 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if code := first.stop(t); code != 0 {
		t.Fatalf("SIGTERM mid-send: exit %d, want 0\n%s", code, first.log())
	}
	before := len(d.smtp.Messages())
	if before == 0 || before >= readers {
		t.Fatalf("%d of %d messages arrived before SIGTERM; the test needs it mid-send", before, readers)
	}
	stopped := first.waitLog(t, "run", trigger("schedule"))
	if stopped["stopped"] != "interrupted" || int(stopped["sent"].(float64)) != before {
		t.Errorf("the interrupted run's log line: %v; want stopped=interrupted and sent=%d", stopped, before)
	}
	issueID, _ := stopped["issue"].(string)
	st, err := store.Open(context.Background(), filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	counts, _ := st.DeliveryCounts(context.Background(), issueID)
	st.Close()
	if counts[digest.DeliverySent] != before || counts[digest.DeliverySending] != 0 || counts[digest.DeliveryPending] != readers-before {
		t.Errorf("ledger after SIGTERM: %v; want %d sent, none in flight, the rest pending", counts, before)
	}
	t.Logf("SIGTERM after %d of %d messages; ledger %v", before, readers, counts)

	second := d.start(t)
	// The start finishes the pending readers (trigger resume; a slot that
	// came first under load would do it as well).
	resumed := second.waitLog(t, "run", func(l map[string]any) bool { return l["sent"] != float64(0) })
	if int(resumed["sent"].(float64)) != readers-before || resumed["complete"] != true || resumed["in_doubt"] != float64(0) {
		t.Errorf("the resumed run: %v; want the %d left, none in doubt, and the issue complete", resumed, readers-before)
	}
	copies := copiesByReader(d.smtp)
	if len(copies) != readers {
		t.Errorf("%d readers got the issue, want %d", len(copies), readers)
	}
	for addr, n := range copies {
		if n != 1 {
			t.Errorf("%s got %d copies", addr, n)
		}
	}

	// The archive and its feed list the issue.
	if code, body := httpGet(t, d.base+"/feed.atom"); code != 200 || !strings.Contains(body, "/issues/"+issueID) {
		t.Errorf("/feed.atom: %d, does not list %s:\n%s", code, issueID, body)
	}
	if code, body := httpGet(t, d.base+"/issues/"+issueID); code != 200 || !strings.Contains(body, "HBM chips and the data centre boom") ||
		!strings.Contains(body, d.base+"/subscribe") || strings.Contains(body, "/unsubscribe") {
		t.Errorf("/issues/%s: %d; want the articles and the sign-up, no one's unsubscribe link\n%.500s", issueID, code, body)
	}
	if code, body := httpGet(t, d.base+"/"); code != 200 || !strings.Contains(body, issueID) {
		t.Errorf("/: %d, does not list %s", code, issueID)
	}
	// Its theme page and the search find its article through the store's
	// index, on pages that wear the mail's stylesheet.
	for _, target := range []string{"/themes/compute", "/search?q=hbm+chip"} {
		if code, body := httpGet(t, d.base+target); code != 200 || !strings.Contains(body, "HBM chips and the data centre boom") && !strings.Contains(body, "<mark>HBM</mark> <mark>chip</mark>s") ||
			!strings.Contains(body, ".dateline {") {
			t.Errorf("%s: %d; want the issue's article and the mail's stylesheet\n%.800s", target, code, body)
		}
	}
	// The metrics count this process's messages.
	_, metrics := httpGet(t, d.base+"/metrics")
	if got := metricValue(t, metrics, "gull_messages_sent_total"); got != float64(readers-before) {
		t.Errorf("gull_messages_sent_total %v, want %d", got, readers-before)
	}
	if code, body := httpGet(t, d.base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d %s", code, body)
	}

	// One click on the header of a received message unsubscribes.
	msg := parseMessage(t, d.smtp.Messages()[0].Data)
	reader := d.smtp.Messages()[0].To[0]
	link := strings.Trim(strings.Split(msg.header.Get("List-Unsubscribe"), ",")[0], " <>")
	if !strings.HasPrefix(link, d.base+"/unsubscribe?t=") {
		t.Fatalf("List-Unsubscribe %q does not point at the daemon", msg.header.Get("List-Unsubscribe"))
	}
	resp, err := http.Post(link, "application/x-www-form-urlencoded", strings.NewReader("List-Unsubscribe=One-Click"))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Errorf("one-click POST: %d", resp.StatusCode)
	}
	st, err = store.Open(context.Background(), filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	sub, err := st.SubscriberByEmail(context.Background(), reader)
	st.Close()
	if err != nil || sub.Status != subscribers.Unsubscribed {
		t.Errorf("%s after the one-click POST: %v %v; want unsubscribed", reader, sub.Status, err)
	}

	// A newcomer signs up on the daemon's page: the confirmation mail
	// comes over SMTP, its link activates them, and the next scheduled run
	// sends them the week's issue, once.
	resp, err = http.PostForm(d.base+"/subscribe", url.Values{"email": {"new@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("POST /subscribe: %d", resp.StatusCode)
	}
	confirm := waitMessage(t, d.smtp, "new@example.org", func(r received) bool { return strings.Contains(r.subject, "confirm") })
	link = regexp.MustCompile(regexp.QuoteMeta(d.base) + `/confirm\?t=\S+`).FindString(confirm.text)
	if link == "" {
		t.Fatalf("no confirm link in the confirmation mail:\n%s", confirm.text)
	}
	if code, body := pressConfirm(t, link); code != 200 {
		t.Fatalf("the confirm button: %d\n%s", code, body)
	}
	// The welcome mail follows the confirmation, with the week's issue.
	waitMessage(t, d.smtp, "new@example.org", func(r received) bool {
		return strings.Contains(r.subject, "Welcome") && strings.Contains(r.text, "/issues/")
	})
	waitMessage(t, d.smtp, "new@example.org", func(r received) bool { return strings.Contains(r.text, "HBM chips") })
	// More slots come every 2 s; the week's issue is done, and nobody
	// gets it again.
	second.waitLog(t, "run", func(l map[string]any) bool {
		return l["trigger"] == "schedule" && l["left"] == float64(0) && l["sent"] == float64(0)
	})
	if code := second.stop(t); code != 0 {
		t.Errorf("SIGTERM when idle: exit %d", code)
	}
	copies = copiesByReader(d.smtp)
	if len(copies) != readers+1 {
		t.Errorf("%d addresses got mail, want %d", len(copies), readers+1)
	}
	for addr, n := range copies {
		if want := map[bool]int{true: 3, false: 1}[addr == "new@example.org"]; n != want {
			t.Errorf("%s got %d messages, want %d", addr, n, want)
		}
	}
}

// waitMessage waits for a message to addr that match accepts.
func waitMessage(t *testing.T, s *smtptest.Server, addr string, match func(received) bool) received {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		for _, m := range s.Messages() {
			if m.To[0] == addr {
				if r := parseMessage(t, m.Data); match(r) {
					return r
				}
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("no such message to %s within 20 s", addr)
	return received{}
}

// TestDaemonReloads: SIGHUP with a broken config keeps the running one
// and says why; with a good one, the new schedule and title apply without
// a restart.
func TestDaemonReloads(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 1, time.Now)
	p := d.start(t)
	good, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(d.cfg, []byte(strings.Replace(string(good), `schedule: "0 8 * * MON"`, `schedule: "0 8 * *"`, 1)), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	failed := p.waitLog(t, "reload failed; the running config stays in force", nil)
	if !strings.Contains(fmt.Sprint(failed["err"]), "schedule") {
		t.Errorf("the failed reload does not name the key: %v", failed)
	}
	if code, _ := httpGet(t, d.base+"/healthz"); code != 200 {
		t.Errorf("/healthz after a bad reload: %d", code)
	}

	edited := strings.Replace(string(good), `schedule: "0 8 * * MON"`, `schedule: "30 9 * * TUE"`, 1)
	edited = strings.Replace(edited, "title: AI Policy Weekly", "title: Policy Weekly Two", 1)
	os.WriteFile(d.cfg, []byte(edited), 0o644)
	p.cmd.Process.Signal(syscall.SIGHUP)
	reloaded := p.waitLog(t, "config reloaded", nil)
	next, err := time.Parse(time.RFC3339, fmt.Sprint(reloaded["next_run"]))
	if err != nil || next.Weekday() != time.Tuesday || next.Format("15:04 -07:00") != "09:30 +09:00" {
		t.Errorf("next run after the reload: %v (%v); want a Tuesday at 09:30 Seoul time", reloaded["next_run"], err)
	}
	if _, body := httpGet(t, d.base+"/"); !strings.Contains(body, "Policy Weekly Two") {
		t.Errorf("the archive does not show the reloaded title:\n%.300s", body)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
	// A first start on a new store owes no run: nobody was mailed.
	if n := len(d.smtp.Messages()); n != 0 {
		t.Errorf("the first start mailed %d messages", n)
	}
}

// TestDaemonSaysWhenMailIsBroken: a mail server that does not answer is
// logged at start, and the daemon serves on (it may come back).
func TestDaemonSaysWhenMailIsBroken(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 1, time.Now)
	d.smtp.Close()
	p := d.start(t)
	p.waitLog(t, "the mail server does not take gull's mail; runs will fail until it does", nil)
	if code, _ := httpGet(t, d.base+"/healthz"); code != 200 {
		t.Errorf("/healthz: %d", code)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestRunOnce: `gull run --once` makes the run now and exits; a second
// one sends nothing.
func TestRunOnce(t *testing.T) {
	d := newDaemonSetup(t, "0 8 * * MON", 3, time.Now)
	gull := func(want int) string {
		t.Helper()
		var out, errb bytes.Buffer
		if code := run(context.Background(), []string{"--config", d.cfg, "run", "--once"}, &out, &errb); code != want {
			t.Fatalf("run --once: exit %d, want %d\n%s%s", code, want, out.String(), errb.String())
		}
		return out.String()
	}
	// Every feed down: no issue is built (an outage is not a quiet week),
	// nothing is sent, exit 1.
	d.feedDown.Store(true)
	gull(1)
	st, err := store.Open(context.Background(), filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	recs, _ := st.Issues(context.Background(), 10)
	done, _, _ := st.ScheduleDoneThrough(context.Background())
	st.Close()
	if len(recs) != 0 || !done.IsZero() {
		t.Errorf("with every feed down: issues %v, schedule done through %v; want none", recs, done)
	}
	d.feedDown.Store(false)
	if out := gull(0); !strings.Contains(out, ": 3 sent, 0 skipped, 0 failed, 0 left") || !strings.Contains(out, "is complete") {
		t.Errorf("first run --once:\n%s", out)
	}
	if out := gull(0); !strings.Contains(out, ": 0 sent, 0 skipped, 0 failed, 0 left") {
		t.Errorf("second run --once:\n%s", out)
	}
	if n := len(d.smtp.Messages()); n != 3 {
		t.Errorf("%d messages, want 3", n)
	}
}

// TestDaemonCatchesUpOnce: the daemon was up last Monday and down over
// this Monday's run; at start it makes the missed run once, and a second
// start makes none.
func TestDaemonCatchesUpOnce(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	sched, err := schedule.ParseSpec("0 8 * * MON", seoul)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now().In(seoul)
	slot, ok := schedule.LatestSlot(sched, now.AddDate(0, 0, -8), now)
	if !ok {
		t.Fatal("no Monday in the last 8 days")
	}
	const readers = 5
	d := newDaemonSetup(t, "0 8 * * MON", readers, func() time.Time { return slot })
	st, err := store.Open(context.Background(), filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	st.SetScheduleDoneThrough(context.Background(), slot.AddDate(0, 0, -7))
	st.Close()

	p := d.start(t)
	run := p.waitLog(t, "run", trigger("catch-up"))
	if run["slot"] != slot.Format(time.RFC3339) || run["sent"] != float64(readers) {
		t.Errorf("catch-up run: %v; want slot %s and %d sent", run, slot.Format(time.RFC3339), readers)
	}
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}

	p = d.start(t)
	p.waitLog(t, "feeds refreshed", nil) // the start's round is over
	if code := p.stop(t); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if runs := p.find("run", nil); len(runs) != 0 {
		t.Errorf("the second start made runs: %v", runs)
	}
	if n := len(d.smtp.Messages()); n != readers {
		t.Errorf("%d messages, want %d", n, readers)
	}
}

// metricValue reads one sample of the Prometheus text format.
func metricValue(t *testing.T, body, name string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(name) + ` (\S+)$`).FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no %s in /metrics:\n%s", name, body)
	}
	v, err := strconv.ParseFloat(m[1], 64)
	if err != nil {
		t.Fatal(err)
	}
	return v
}
