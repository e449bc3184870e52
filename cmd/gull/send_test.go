package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// sendNow is a Monday morning in Seoul; the feed's articles are of the
// week before it.
const sendNow = "2026-11-30T08:00:00+09:00"

// weekFeed serves the week's columns: two on chips, two on regulation,
// none on strategy.
func weekFeed(t *testing.T) *httptest.Server {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/rss+xml")
		io.WriteString(w, `<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>AI Policy Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><description>GPU 공급 이야기.</description><pubDate>Tue, 24 Nov 2026 09:00:00 +0900</pubDate></item>
<item><title>HBM chips and the data centre boom</title><link>https://columns.example/2</link><description>Memory for compute.</description><pubDate>Wed, 25 Nov 2026 09:00:00 +0900</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/3</link><description>규제 이야기.</description><pubDate>Thu, 26 Nov 2026 09:00:00 +0900</pubDate></item>
<item><title>The AI Act code of practice, read closely</title><link>https://columns.example/4</link><description>Law and liability.</description><pubDate>Fri, 27 Nov 2026 09:00:00 +0900</pubDate></item>
</channel></rss>`)
	}))
	t.Cleanup(srv.Close)
	return srv
}

// sendSetup is a working folder with a config pointing at the feed and the
// SMTP server, and a list of subscribers.
type sendSetup struct {
	dir  string
	smtp *smtptest.Server
	cfg  string
}

// readers are the list: address -> themes ("" = all). strategy has no
// article this week, so its reader gets nothing.
var readers = map[string]string{
	"all1@example.org":     "",
	"all2@example.org":     "",
	"chips@example.org":    "compute",
	"law@example.org":      "regulation",
	"both@example.org":     "compute,regulation",
	"strategy@example.org": "strategy",
	"kim@example.kr":       "",
	"lee@example.kr":       "regulation",
}

func newSendSetup(t *testing.T) *sendSetup {
	t.Helper()
	srv, err := smtptest.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	s := &sendSetup{dir: t.TempDir(), smtp: srv}
	s.cfg = filepath.Join(s.dir, "config.yaml")
	s.writeConfig(t, fmt.Sprintf("{host: %s, port: %d, tls: none, connections: 4}", srv.Host(), srv.Port()), weekFeed(t).URL)
	var csv strings.Builder
	csv.WriteString("email,name,themes,status\n")
	for addr, themes := range readers {
		fmt.Fprintf(&csv, "%s,,\"%s\",active\n", addr, themes)
	}
	csv.WriteString("pending@example.org,,,pending\n")
	os.WriteFile(filepath.Join(s.dir, "list.csv"), []byte(csv.String()), 0o644)
	s.gull(t, 0, "subscribers", "import", filepath.Join(s.dir, "list.csv"))
	// Tests wait milliseconds between retries, not seconds.
	old := smtpBackoff
	smtpBackoff = func(int) time.Duration { return 10 * time.Millisecond }
	t.Cleanup(func() { smtpBackoff = old })
	return s
}

func (s *sendSetup) writeConfig(t *testing.T, smtp, feed string) {
	t.Helper()
	cfg := fmt.Sprintf(`title: AI Policy Weekly
language: en
timezone: Asia/Seoul
feeds:
  - {url: %s/columns.xml, name: Columns}
themes:
  - {id: compute, name: Compute & Chips, keywords: [반도체, GPU, HBM, chips]}
  - {id: regulation, name: Regulation, keywords: [AI기본법, AI Act, law]}
  - {id: strategy, name: National Strategy, keywords: [sovereign, 국가 전략]}
store: {path: gull.db}
mail:
  from: "AI Policy Weekly <digest@example.org>"
  outbox: outbox
  smtp: %s
http: {base_url: "https://news.example.org"}
`, feed, smtp)
	if err := os.WriteFile(s.cfg, []byte(cfg), 0o644); err != nil {
		t.Fatal(err)
	}
}

// gull runs the command in the folder and checks its exit status.
func (s *sendSetup) gull(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	t.Chdir(s.dir)
	code := run(context.Background(), append([]string{"--config", s.cfg}, args...), &out, &errb)
	if code != want {
		t.Fatalf("gull %s: exit %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errb.String())
	}
	return out.String(), errb.String()
}

func (s *sendSetup) store(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(s.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// received is one message as a reader's mail program sees it.
type received struct {
	header      mail.Header
	subject     string // decoded
	text, html  string
	contentType string
}

func parseMessage(t *testing.T, data []byte) received {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("unparseable message: %v\n%s", err, data)
	}
	r := received{header: m.Header}
	if r.subject, err = new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Errorf("Subject %q: %v", m.Header.Get("Subject"), err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v), want multipart/alternative", m.Header.Get("Content-Type"), err)
	}
	r.contentType = mt
	mr := multipart.NewReader(m.Body, params["boundary"])
	var order []string
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var body io.Reader = p
		switch strings.ToLower(p.Header.Get("Content-Transfer-Encoding")) {
		case "base64":
			body = base64.NewDecoder(base64.StdEncoding, p)
		case "quoted-printable":
			body = quotedprintable.NewReader(p)
		}
		b, err := io.ReadAll(body)
		if err != nil {
			t.Fatal(err)
		}
		pt, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		order = append(order, pt)
		switch pt {
		case "text/plain":
			r.text = string(b)
		case "text/html":
			r.html = string(b)
		}
	}
	if strings.Join(order, ",") != "text/plain,text/html" {
		t.Errorf("parts %v, want text/plain then text/html", order)
	}
	return r
}

// noConfirmations is the subscriber pages' mailer where none may be sent.
type noConfirmations struct{ t *testing.T }

func (n noConfirmations) SendConfirmation(_ context.Context, sub subscribers.Subscriber, _ string) error {
	n.t.Errorf("a confirmation mail to %s", sub.Email)
	return nil
}

func (n noConfirmations) SendWelcome(_ context.Context, sub subscribers.Subscriber, _ web.Welcome) error {
	n.t.Errorf("a welcome mail to %s", sub.Email)
	return nil
}

func (n noConfirmations) SendManageLink(_ context.Context, sub subscribers.Subscriber, _ string) error {
	n.t.Errorf("a manage link to %s", sub.Email)
	return nil
}

func TestSendAllEndToEnd(t *testing.T) {
	s := newSendSetup(t)
	out, _ := s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if !strings.Contains(out, "7 sent, 1 skipped, 0 failed, 0 left") || !strings.Contains(out, "is complete") {
		t.Errorf("summary:\n%s", out)
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 7 {
		t.Fatalf("%d messages arrived, want 7 (8 active readers, one with no article in their themes)", len(msgs))
	}
	if n := s.smtp.Sessions(); n > 4+1 { // + the check before the send
		t.Errorf("%d connections for 7 messages; connections should be reused", n)
	}
	st := s.store(t)
	key, err := st.TokenSecret(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	signer, _ := subscribers.NewSigner(key)
	pages := &web.SubscriberPages{Store: st, Signer: signer, Mailer: noConfirmations{t}, BaseURL: "https://news.example.org", Title: "AI Policy Weekly"}
	handler := pages.Handler()

	titles := map[string]string{"compute": "HBM chips and the data centre boom", "regulation": "The AI Act code of practice, read closely"}
	seen := map[string]bool{}
	for _, msg := range msgs {
		to := msg.To[0]
		if seen[to] {
			t.Errorf("%s got two copies", to)
		}
		seen[to] = true
		r := parseMessage(t, msg.Data)
		h := r.header
		if got, _ := mail.ParseAddress(h.Get("To")); got == nil || got.Address != to {
			t.Errorf("To %q for envelope %s", h.Get("To"), to)
		}
		if want := deliver.MessageID("2026-W48", to, "example.org"); strings.Trim(h.Get("Message-Id"), "<>") != strings.Trim(want, "<>") {
			t.Errorf("%s: Message-ID %q, want the deterministic %q", to, h.Get("Message-Id"), want)
		}
		if h.Get("Date") == "" || !strings.HasPrefix(r.subject, "AI Policy Weekly · No. 1 · ") || msg.From != "digest@example.org" {
			t.Errorf("%s: Date %q, Subject %q, MAIL FROM %q", to, h.Get("Date"), r.subject, msg.From)
		}
		if !strings.Contains(h.Get("List-Id"), "example.org>") || h.Get("List-Unsubscribe-Post") != "List-Unsubscribe=One-Click" {
			t.Errorf("%s: List-Id %q, List-Unsubscribe-Post %q", to, h.Get("List-Id"), h.Get("List-Unsubscribe-Post"))
		}
		unsub := strings.Trim(h.Get("List-Unsubscribe"), "<>")
		if !strings.HasPrefix(unsub, "https://news.example.org/unsubscribe?t=") {
			t.Fatalf("%s: List-Unsubscribe %q", to, h.Get("List-Unsubscribe"))
		}
		// The body carries the same link, and the preferences link.
		if !strings.Contains(r.text, unsub) || !strings.Contains(r.html, "/preferences?t=") {
			t.Errorf("%s: the body lacks its unsubscribe or preferences link", to)
		}
		// Only the reader's themes.
		for theme, title := range titles {
			want := readers[to] == "" || strings.Contains(readers[to], theme)
			if got := strings.Contains(r.html, title) && strings.Contains(r.text, title); got != want {
				t.Errorf("%s (themes %q): has %q = %v, want %v", to, readers[to], title, got, want)
			}
		}
		// One click, as a mail program does it (RFC 8058): the reader is off the list.
		u, _ := url.Parse(unsub)
		req := httptest.NewRequest(http.MethodPost, u.RequestURI(), strings.NewReader("List-Unsubscribe=One-Click"))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Errorf("%s: one-click unsubscribe answered %d", to, rec.Code)
		}
		sub, _ := st.SubscriberByEmail(context.Background(), to)
		if sub.Status != subscribers.Unsubscribed {
			t.Errorf("%s is %s after the one-click unsubscribe", to, sub.Status)
		}
	}
	if seen["strategy@example.org"] || seen["pending@example.org"] {
		t.Error("a reader with nothing to read, or unconfirmed, got mail")
	}
	skipped, _ := st.Deliveries(context.Background(), "2026-W48", digest.DeliverySkipped, 10)
	if len(skipped) != 1 || skipped[0].Email != "strategy@example.org" || !strings.Contains(skipped[0].Error, "strategy") {
		t.Errorf("the skip is not recorded: %+v", skipped)
	}
	pages.Wait()

	// A rerun sends nothing new.
	out, _ = s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if len(s.smtp.Messages()) != 7 || !strings.Contains(out, "0 sent") {
		t.Errorf("rerun sent again:\n%s", out)
	}
}

func TestSendFaults(t *testing.T) {
	s := newSendSetup(t)
	s.smtp.Rcpt = func(to string, try int) error {
		switch {
		case to == "law@example.org":
			return smtptest.Reply(550, "5.1.1", "no such mailbox")
		case (to == "all1@example.org" || to == "kim@example.kr") && try == 1:
			return smtptest.Reply(451, "4.3.0", "greylisted, try again")
		}
		return nil
	}
	s.smtp.DropData = func(to string, try int) bool { return to == "chips@example.org" && try == 1 }
	out, _ := s.gull(t, 1, "send", "--all", "--yes", "--now", sendNow)
	if !strings.Contains(out, "6 sent, 1 skipped, 1 failed, 0 left") || !strings.Contains(out, "failed: law@example.org") || !strings.Contains(out, "550") || !strings.Contains(out, "bounced") {
		t.Errorf("summary:\n%s", out)
	}
	got := map[string][]int{}
	for _, m := range s.smtp.Messages() {
		got[m.To[0]] = append(got[m.To[0]], m.Session)
	}
	for addr := range readers {
		want := 1
		if addr == "law@example.org" || addr == "strategy@example.org" {
			want = 0
		}
		if len(got[addr]) != want {
			t.Errorf("%s: %d copies, want %d", addr, len(got[addr]), want)
		}
	}
	st := s.store(t)
	if sub, _ := st.SubscriberByEmail(context.Background(), "law@example.org"); sub.Status != subscribers.Bounced {
		t.Errorf("law@ is %s after 550 5.1.1, want bounced", sub.Status)
	}
	failed, _ := st.Deliveries(context.Background(), "2026-W48", digest.DeliveryFailed, 10)
	if len(failed) != 1 || !strings.Contains(failed[0].Error, "550") || failed[0].Attempts != 1 {
		t.Errorf("failed rows: %+v", failed)
	}
	// A rerun never retries the permanent failure.
	out, _ = s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if len(s.smtp.Messages()) != 6 || !strings.Contains(out, "0 sent") {
		t.Errorf("rerun:\n%s", out)
	}
}

func TestSendTestTouchesNoLedger(t *testing.T) {
	s := newSendSetup(t)
	out, _ := s.gull(t, 0, "send", "--to", "editor@example.net", "--now", sendNow)
	if !strings.Contains(out, "test of issue 2026-W48 (4 articles) sent to editor@example.net") {
		t.Errorf("output:\n%s", out)
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages", len(msgs))
	}
	r := parseMessage(t, msgs[0].Data)
	if subj := r.subject; !strings.Contains(strings.ToLower(subj), "test") {
		t.Errorf("a test's subject does not say so: %q", subj)
	}
	st := s.store(t)
	if _, _, err := st.Issue(context.Background(), "2026-W48"); err == nil {
		t.Error("a test send froze the week's issue")
	}
	// The real send still mails everyone.
	s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if len(s.smtp.Messages()) != 1+7 {
		t.Errorf("%d messages after the real send", len(s.smtp.Messages()))
	}
}

// TestSendAsksOnATerminal: at a terminal, --all says what it is about to
// do and waits for a yes; "n" sends nothing, "y" sends with a progress bar.
func TestSendAsksOnATerminal(t *testing.T) {
	s := newSendSetup(t)
	t.Chdir(s.dir)
	ask := func(answer string) (string, string) {
		var out, errb bytes.Buffer
		a := &app{stdout: &out, stderr: &errb, stdin: strings.NewReader(answer), getenv: os.Getenv, interactive: true}
		if err := a.dispatch(context.Background(), []string{"--config", s.cfg, "send", "--all", "--now", sendNow}); err != nil {
			t.Fatalf("answer %q: %v\n%s", answer, err, errb.String())
		}
		return out.String(), errb.String()
	}
	out, prompt := ask("n\n")
	if !strings.Contains(prompt, `Send issue 2026-W48 "AI Policy Weekly" (4 articles) to 8 subscribers via 127.0.0.1:`) || !strings.Contains(out, "nothing sent") || len(s.smtp.Messages()) != 0 {
		t.Fatalf("after no: prompt %q, output %q, %d messages", prompt, out, len(s.smtp.Messages()))
	}
	out, bar := ask("y\n")
	if len(s.smtp.Messages()) != 7 || !strings.Contains(out, "7 sent") || !strings.Contains(bar, "sending 2026-W48") {
		t.Errorf("after yes: output %q, stderr %q, %d messages", out, bar, len(s.smtp.Messages()))
	}
	if out, _ := ask(""); !strings.Contains(out, "every subscriber has it already") {
		t.Errorf("a third run: %q", out)
	}
}
