package send

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
	"gull/subscribers"
)

// newTestSender is a send as `gull send --all` makes it: a config with one
// feed, a real store with readers, the in-process SMTP server.
func newTestSender(t *testing.T, readers map[string]string) (*Sender, *smtptest.Server) {
	t.Helper()
	srv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<rss version="2.0"><channel><title>Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><pubDate>Sat, 28 Nov 2026 10:00:00 +0900</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/2</link><pubDate>Sun, 29 Nov 2026 10:00:00 +0900</pubDate></item>
</channel></rss>`)
	}))
	t.Cleanup(feed.Close)
	dir := t.TempDir()
	path := filepath.Join(dir, "config.yaml")
	body := fmt.Sprintf(`title: AI Policy Weekly
language: en
timezone: Asia/Seoul
feeds:
  - {url: %s/columns.xml, name: Columns}
themes:
  - {id: compute, name: Compute & Chips, keywords: [반도체, GPU]}
  - {id: regulation, name: Regulation, keywords: [AI기본법]}
  - {id: strategy, name: National Strategy, keywords: [sovereign]}
store: {path: gull.db}
mail:
  from: "AI Policy Weekly <digest@example.org>"
  outbox: outbox
  smtp: {host: %s, port: %d, tls: none, connections: 2}
`, feed.URL, srv.Host(), srv.Port())
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRenderer(cfg, "")
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	for email, themes := range readers {
		sub := subscribers.Subscriber{Email: email, Status: subscribers.Active}
		if themes != "" {
			sub.Themes = strings.Split(themes, ",")
		}
		if _, _, _, err := st.SaveSubscriber(ctx, sub, subscribers.AllFields, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	now, _ := time.Parse(time.RFC3339, "2026-11-30T08:00:00+09:00")
	env := Env{Getenv: func(string) string { return "" }, Log: slog.New(slog.NewTextHandler(&bytes.Buffer{}, nil)), Grace: 10 * time.Second}
	return &Sender{Env: env, Config: cfg, Store: st, Renderer: r, Now: now}, srv
}

// The week's send mails each active reader once, skips the reader whose
// themes have nothing this week, freezes the issue, and a second send
// mails nobody again.
func TestSendIssueOnceEach(t *testing.T) {
	s, srv := newTestSender(t, map[string]string{"all@example.org": "", "chips@example.org": "compute", "strategy@example.org": "strategy"})
	ctx := context.Background()
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.SendIssue(ctx, s.IssueID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Report.Sent != 2 || res.Report.Skipped != 1 || !res.Report.Done || res.Issue.Count() != 2 {
		t.Errorf("first send: %+v of %d articles; want 2 sent, 1 skipped, done, 2 articles", res.Report, res.Issue.Count())
	}
	var out bytes.Buffer
	if !s.Summarize(&out, res) || !strings.Contains(out.String(), ": 2 sent, 1 skipped, 0 failed, 0 left for the next run") {
		t.Errorf("summary:\n%s", out.String())
	}
	if _, rec, err := s.Store.Issue(ctx, s.IssueID()); err != nil || rec.Status != digest.IssueDone {
		t.Errorf("the issue's record: %+v, %v; want it done", rec, err)
	}
	again, err := s.SendIssue(ctx, s.IssueID())
	if err != nil || again.Report.Sent != 0 {
		t.Errorf("second send: %+v, %v; want nothing sent", again.Report, err)
	}
	got := map[string]int{}
	for _, m := range srv.Messages() {
		got[strings.Join(m.To, ",")]++
	}
	if len(got) != 2 || got["all@example.org"] != 1 || got["chips@example.org"] != 1 {
		t.Errorf("messages by reader: %v; want one each to all@ and chips@", got)
	}
}

// A dry run writes each reader's .eml to the outbox and records nothing:
// the real send after it still mails everyone.
func TestDryRunTouchesNoLedger(t *testing.T) {
	s, srv := newTestSender(t, map[string]string{"a@example.org": "", "b@example.org": ""})
	ctx := context.Background()
	s.DryRun = true
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	res, err := s.SendIssue(ctx, s.IssueID())
	s.Close()
	if err != nil || res.Report.Sent != 2 {
		t.Fatalf("dry run: %+v, %v; want 2 written", res.Report, err)
	}
	emls, _ := filepath.Glob(filepath.Join(s.Config.Mail.Outbox, "*", "*.eml"))
	if len(emls) != 2 || len(srv.Messages()) != 0 {
		t.Errorf("dry run: %d .eml files %v and %d messages over SMTP; want 2 and 0", len(emls), emls, len(srv.Messages()))
	}
	if recs, _ := s.Store.Issues(ctx, 10); len(recs) != 0 {
		t.Errorf("the dry run stored issues: %v", recs)
	}

	s.DryRun = false
	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if res, err := s.SendIssue(ctx, s.IssueID()); err != nil || res.Report.Sent != 2 {
		t.Errorf("the real send after the dry run: %+v, %v; want 2 sent", res.Report, err)
	}
}
