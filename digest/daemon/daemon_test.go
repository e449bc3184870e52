package daemon

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"gull/digest/config"
	"gull/digest/deliver/smtptest"
	"gull/digest/send"
	"gull/digest/store"
	"gull/subscribers"
)

// testDaemon is a daemon on a real store in a temporary folder, with a
// feed server and the in-process SMTP server, as `gull run` makes it.
type testDaemon struct {
	*Daemon
	st       *store.Store
	smtp     *smtptest.Server
	feedDown *atomic.Bool // the feed answers 503
	late     *atomic.Bool // the feed has one more article
	log      *bytes.Buffer
}

// newTestDaemon makes the daemon; extra is YAML added to its config.
func newTestDaemon(t *testing.T, readers int, extra ...string) *testDaemon {
	t.Helper()
	srv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	down, late := new(atomic.Bool), new(atomic.Bool)
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
			return
		}
		at := time.Now().Add(-3 * time.Hour).Format(time.RFC1123Z)
		more := ""
		if late.Load() {
			more = fmt.Sprintf(`<item><title>Sovereign GPU cloud tender opens</title><link>https://columns.example/4</link><pubDate>%s</pubDate></item>`, at)
		}
		fmt.Fprintf(w, `<rss version="2.0"><channel><title>Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><pubDate>%s</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/2</link><pubDate>%s</pubDate></item>
<item><title>Data centre power for AI chips</title><link>https://columns.example/3</link><pubDate>%s</pubDate></item>%s
</channel></rss>`, at, at, at, more)
	}))
	t.Cleanup(feed.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf(`title: AI Policy Weekly
language: en
timezone: Asia/Seoul
schedule: "0 8 * * MON"
feeds:
  - {url: %s/columns.xml, name: Columns}
themes:
  - {id: compute, name: Compute & Chips, keywords: [반도체, GPU, chips]}
  - {id: regulation, name: Regulation, keywords: [AI기본법]}
store: {path: gull.db}
mail:
  from: "AI Policy Weekly <digest@example.org>"
  outbox: outbox
  smtp: {host: %s, port: %d, tls: none, connections: 1}
`, feed.URL, srv.Host(), srv.Port()) + strings.Join(extra, "\n")
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := send.NewRenderer(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for i := range readers {
		sub := subscribers.Subscriber{Email: fmt.Sprintf("reader%d@example.org", i), Status: subscribers.Active}
		if _, _, _, err := st.SaveSubscriber(ctx, sub, subscribers.AllFields, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	var logBuf bytes.Buffer
	env := send.Env{Getenv: func(string) string { return "" }, Log: slog.New(slog.NewTextHandler(&logBuf, nil)), Grace: 10 * time.Second}
	d := New(Options{Env: env, Store: st, Config: cfg, Renderer: r, Version: "test"})
	return &testDaemon{Daemon: d, st: st, smtp: srv, feedDown: down, late: late, log: &logBuf}
}

// Once is the scheduled job made now: with every feed down nothing is
// built or recorded (an outage is not a quiet week); with the feed up,
// each reader gets the issue, and a second run mails nobody again.
func TestOnceSendsTheWeekOnce(t *testing.T) {
	d := newTestDaemon(t, 3)
	ctx := context.Background()
	var out bytes.Buffer

	d.feedDown.Store(true)
	if err := d.Once(ctx, &out); !errors.Is(err, send.ErrNoFeeds) {
		t.Fatalf("run with every feed down: %v, want send.ErrNoFeeds", err)
	}
	if recs, _ := d.st.Issues(ctx, 10); len(recs) != 0 {
		t.Errorf("an issue was stored from an outage: %v", recs)
	}
	if _, ok, _ := d.st.ScheduleDoneThrough(ctx); ok {
		t.Error("the failed run was recorded as done")
	}

	d.feedDown.Store(false)
	if err := d.Once(ctx, &out); err != nil {
		t.Fatalf("run: %v\n%s", err, d.log)
	}
	if s := out.String(); !strings.Contains(s, ": 3 sent, 0 skipped, 0 failed, 0 left") || !strings.Contains(s, "is complete") {
		t.Errorf("summary of the first run:\n%s", s)
	}
	out.Reset()
	if err := d.Once(ctx, &out); err != nil {
		t.Fatalf("second run: %v", err)
	}
	if s := out.String(); !strings.Contains(s, ": 0 sent, 0 skipped, 0 failed, 0 left") {
		t.Errorf("summary of the second run:\n%s", s)
	}
	got := map[string]int{}
	for _, m := range d.smtp.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	if len(got) != 3 || got["reader0@example.org"] != 1 || got["reader1@example.org"] != 1 || got["reader2@example.org"] != 1 {
		t.Errorf("copies by reader: %v, want one each for three readers", got)
	}
	if _, ok, _ := d.st.ScheduleDoneThrough(ctx); !ok {
		t.Error("the run was not recorded as done")
	}
}

// A scheduled run on a store whose file is gone is not made: it would
// fetch, and mail readers, with nothing to record it in.
func TestDaemonRunNotMadeOnDeletedStore(t *testing.T) {
	d := newTestDaemon(t, 2)
	files, _ := filepath.Glob(d.st.Path() + "*")
	if len(files) == 0 {
		t.Fatal("no gull.db* to remove")
	}
	for _, f := range files {
		if err := os.Remove(f); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err := d.job(context.Background(), time.Now(), "schedule", "")
	var gone *store.FileGoneError
	if !errors.As(err, &gone) {
		t.Errorf("run on a deleted store: %v, want it refused as deleted", err)
	}
	if !strings.Contains(d.log.String(), "run not made") {
		t.Errorf("the log does not say the run was not made:\n%s", d.log)
	}
	if n := len(d.smtp.Messages()); n != 0 {
		t.Errorf("%d messages mailed from a run on a deleted store", n)
	}
}
