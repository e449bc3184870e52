package main

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"gull/digest/store"
	"gull/subscribers"
)

// The tests here mail a second, independent SMTP server: mailpit, which
// is as strict about the envelope as Gmail (a bare MAIL FROM address gets
// 501 5.5.4), and read what arrived back through its HTTP API. .ci/run
// builds it and names it in $GULL_MAILPIT; by hand:
//
//	go install github.com/axllent/mailpit@v1.33.1
//	GULL_MAILPIT=$(go env GOPATH)/bin/mailpit go test -run Mailpit ./cmd/gull

// mailpitBinary is $GULL_MAILPIT, else mailpit on the PATH. Without one
// the tests skip, except under CI, which must never skip them silently.
func mailpitBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("GULL_MAILPIT"); p != "" {
		if _, err := exec.LookPath(p); err != nil {
			t.Fatalf("GULL_MAILPIT=%s: %v; build it with: GOBIN=DIR go install github.com/axllent/mailpit@v1.33.1", p, err)
		}
		return p
	}
	if p, err := exec.LookPath("mailpit"); err == nil {
		return p
	}
	const missing = "mailpit not found: set GULL_MAILPIT to its path (GOBIN=DIR go install github.com/axllent/mailpit@v1.33.1; .ci/run does this)"
	if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
		t.Fatalf("%s; CI=%s, so this test may not be skipped", missing, ci)
	}
	t.Skip(missing)
	return ""
}

// mailpit is a running mailpit: SMTP on smtpPort, its API under api.
type mailpit struct {
	smtpPort int
	api      string
}

// startMailpit runs mailpit on free loopback ports until the test ends.
func startMailpit(t *testing.T) *mailpit {
	t.Helper()
	bin := mailpitBinary(t)
	dir := t.TempDir()
	m := &mailpit{smtpPort: freePort(t)}
	httpPort := freePort(t)
	m.api = fmt.Sprintf("http://127.0.0.1:%d/api/v1", httpPort)
	logPath := filepath.Join(dir, "mailpit.log")
	logf, err := os.Create(logPath)
	if err != nil {
		t.Fatal(err)
	}
	defer logf.Close()
	cmd := exec.Command(bin,
		"--smtp", fmt.Sprintf("127.0.0.1:%d", m.smtpPort),
		"--listen", fmt.Sprintf("127.0.0.1:%d", httpPort),
		"--database", filepath.Join(dir, "mailpit.db"),
		"--disable-version-check", "--smtp-disable-rdns")
	cmd.Stdout, cmd.Stderr = logf, logf
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %s: %v", bin, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
		if t.Failed() {
			log, _ := os.ReadFile(logPath)
			t.Logf("mailpit's log:\n%s", log)
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(m.api + "/info")
		if err == nil {
			resp.Body.Close()
			if c, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", m.smtpPort)); err == nil {
				c.Close()
				if resp.StatusCode == http.StatusOK {
					return m
				}
			}
		}
		select {
		case <-exited:
			log, _ := os.ReadFile(logPath)
			t.Fatalf("mailpit exited at start:\n%s", log)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("mailpit did not answer within 30 s")
		}
	}
}

// smtpConfig is mail.smtp for the config.
func (m *mailpit) smtpConfig() string {
	return fmt.Sprintf("{host: 127.0.0.1, port: %d, tls: none, connections: 4}", m.smtpPort)
}

type mailpitAddress struct{ Name, Address string }

// mailpitMessage is a message as mailpit's API shows it.
type mailpitMessage struct {
	ID, Subject, Text string
	ReturnPath        string // the envelope's MAIL FROM
	// To is the header's; mailpit adds envelope recipients the headers
	// do not name to Bcc.
	To, Bcc         []mailpitAddress
	ListUnsubscribe struct {
		Header, HeaderPost, Errors string
	}
}

func (m *mailpit) get(t *testing.T, path string, v any) {
	t.Helper()
	resp, err := http.Get(m.api + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("mailpit GET %s: %s", path, resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
		t.Fatalf("mailpit GET %s: %v", path, err)
	}
}

// waitMessages waits until mailpit holds n messages and returns them,
// each in full.
func (m *mailpit) waitMessages(t *testing.T, n int) []mailpitMessage {
	t.Helper()
	var list struct {
		Total    int
		Messages []mailpitMessage
	}
	deadline := time.Now().Add(30 * time.Second)
	for m.get(t, "/messages?limit=500", &list); list.Total < n; m.get(t, "/messages?limit=500", &list) {
		if time.Now().After(deadline) {
			t.Fatalf("mailpit holds %d messages after 30 s, want %d", list.Total, n)
		}
		time.Sleep(50 * time.Millisecond)
	}
	if list.Total != n {
		t.Fatalf("mailpit holds %d messages, want %d", list.Total, n)
	}
	full := make([]mailpitMessage, len(list.Messages))
	for i, s := range list.Messages {
		m.get(t, "/message/"+s.ID, &full[i])
	}
	return full
}

// recipient is the one address msg went to, or "" if not exactly one.
func (msg mailpitMessage) recipient() string {
	if len(msg.To) != 1 || len(msg.Bcc) != 0 {
		return ""
	}
	return msg.To[0].Address
}

// TestMailpitSend: `send --to` and `send --all` to 50 readers, through
// mailpit, arrive one per address with the sender, subject and
// List-Unsubscribe header a reader's mail program sees.
func TestMailpitSend(t *testing.T) {
	mp := startMailpit(t)
	s := &sendSetup{dir: t.TempDir()}
	s.cfg = filepath.Join(s.dir, "config.yaml")
	s.writeConfig(t, mp.smtpConfig(), weekFeed(t).URL)
	const readers = 50
	var csv strings.Builder
	csv.WriteString("email,name,themes,status\n")
	for i := range readers {
		fmt.Fprintf(&csv, "reader%02d@example.org,,,active\n", i)
	}
	list := filepath.Join(s.dir, "list.csv")
	if err := os.WriteFile(list, []byte(csv.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	s.gull(t, 0, "subscribers", "import", list)

	out, _ := s.gull(t, 0, "send", "--to", "editor@example.net", "--now", sendNow)
	if !strings.Contains(out, "editor@example.net") {
		t.Errorf("send --to:\n%s", out)
	}
	msgs := mp.waitMessages(t, 1)
	if m := msgs[0]; m.recipient() != "editor@example.net" || m.ReturnPath != "digest@example.org" ||
		!strings.Contains(m.Subject, "AI Policy Weekly") || !strings.Contains(strings.ToLower(m.Subject), "test") ||
		!strings.Contains(m.Text, "HBM chips and the data centre boom") {
		t.Errorf("the test send arrived as To %v Bcc %v, Return-Path %q, Subject %q; want to editor@example.net from digest@example.org, a test of AI Policy Weekly",
			m.To, m.Bcc, m.ReturnPath, m.Subject)
	}

	out, _ = s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	if !strings.Contains(out, fmt.Sprintf("%d sent", readers)) || !strings.Contains(out, " 0 failed") {
		t.Errorf("send --all:\n%s", out)
	}
	got := map[string]int{}
	for _, m := range mp.waitMessages(t, 1+readers) {
		to := m.recipient()
		got[to]++
		if to == "editor@example.net" {
			continue
		}
		if !strings.HasPrefix(to, "reader") {
			t.Errorf("a message to To %v Bcc %v", m.To, m.Bcc)
			continue
		}
		if m.ReturnPath != "digest@example.org" || !strings.Contains(m.Subject, "AI Policy Weekly") || strings.Contains(strings.ToLower(m.Subject), "test") {
			t.Errorf("%s: Return-Path %q, Subject %q", to, m.ReturnPath, m.Subject)
		}
		lu := m.ListUnsubscribe
		if !strings.HasPrefix(lu.Header, "<https://news.example.org/unsubscribe?t=") || lu.HeaderPost != "List-Unsubscribe=One-Click" || lu.Errors != "" {
			t.Errorf("%s: List-Unsubscribe %q, List-Unsubscribe-Post %q, mailpit's check %q", to, lu.Header, lu.HeaderPost, lu.Errors)
		}
	}
	for i := range readers {
		if addr := fmt.Sprintf("reader%02d@example.org", i); got[addr] != 1 {
			t.Errorf("%s got %d copies, want 1", addr, got[addr])
		}
	}
	t.Logf("mailpit holds %d messages: %d readers and the test", 1+readers, len(got)-1)
}

// TestMailpitSignUp: the daemon's sign-up confirmation reaches mailpit,
// and its link activates the newcomer.
func TestMailpitSignUp(t *testing.T) {
	mp := startMailpit(t)
	d := newDaemonSetup(t, "0 8 * * MON", 1, time.Now)
	cfg, err := os.ReadFile(d.cfg)
	if err != nil {
		t.Fatal(err)
	}
	smtpKey := regexp.MustCompile(`(?m)^  smtp: \{.*\}$`)
	if !smtpKey.Match(cfg) {
		t.Fatalf("the daemon's config has no mail.smtp line to point at mailpit:\n%s", cfg)
	}
	cfg = smtpKey.ReplaceAll(cfg, []byte("  smtp: "+mp.smtpConfig()))
	if err := os.WriteFile(d.cfg, cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	p := d.start(t)
	p.waitLog(t, "mail server checked", nil)

	resp, err := http.PostForm(d.base+"/subscribe", url.Values{"email": {"new@example.org"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("POST /subscribe: %d", resp.StatusCode)
	}
	m := mp.waitMessages(t, 1)[0]
	if m.recipient() != "new@example.org" || m.ReturnPath != "digest@example.org" || !strings.Contains(strings.ToLower(m.Subject), "confirm") {
		t.Errorf("the confirmation arrived as To %v Bcc %v, Return-Path %q, Subject %q", m.To, m.Bcc, m.ReturnPath, m.Subject)
	}
	link := regexp.MustCompile(regexp.QuoteMeta(d.base) + `/confirm\?t=\S+`).FindString(m.Text)
	if link == "" {
		t.Fatalf("no confirm link in the confirmation mail:\n%s", m.Text)
	}
	if code, body := pressConfirm(t, link); code != http.StatusOK {
		t.Errorf("the confirm button: %d\n%s", code, body)
	}
	if code := p.stop(t); code != 0 {
		t.Errorf("SIGTERM: exit %d", code)
	}
	st, err := store.Open(context.Background(), filepath.Join(d.dir, "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if sub, err := st.SubscriberByEmail(context.Background(), "new@example.org"); err != nil || sub.Status != subscribers.Active {
		t.Errorf("new@example.org after the confirm link: %v %v; want active", sub.Status, err)
	}
}
