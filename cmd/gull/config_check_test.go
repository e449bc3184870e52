package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// The exit statuses of the checks config check adds (DESIGN.md §3): a
// broken template is an invalid config (2); the example sender and a
// loopback base_url are warnings for config check (0) and refused, as bad
// config, by send --all and run (2) when mail goes to an SMTP server.
func TestConfigCheckMailSetupExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("feed.xml", `<rss version="2.0"><channel><title>t</title><item><title>chips</title><link>https://e.example/1</link></item></channel></rss>`)
	write("tmpl/subject.tmpl", `{{ (index .Sections 5).Name }}`)
	base := "feeds: [{url: feed.xml}]\nthemes: [{id: a, name: A, keywords: [chips]}]\nstore: {path: g.db}\n"
	broken := write("broken.yaml", base+"templates: tmpl\n")
	smtp := write("smtp.yaml", base+"mail: {smtp: {host: smtp.mailer.test}}\n")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"--config", broken, "config", "check"}, exitUsage},
		{[]string{"--config", smtp, "config", "check"}, exitOK},
		{[]string{"--config", smtp, "send", "--all"}, exitUsage},
		{[]string{"--config", smtp, "run", "--once"}, exitUsage},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		if got := run(context.Background(), c.args, &out, &errOut); got != c.want {
			t.Errorf("gull %q exited %d, want %d\nstderr: %s", c.args[2:], got, c.want, errOut.String())
		}
	}
}

// A plain-http base_url on a public host stays a warning even where a
// send --all refuses: the links work; only one-click unsubscribe is lost,
// which an intranet list may accept.
func TestPlainHTTPBaseURLIsOnlyAWarning(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "c.yaml")
	body := "feeds: [{url: feed.xml}]\nthemes: [{id: a, name: A, keywords: [chips]}]\nstore: {path: g.db}\n" +
		"mail: {from: \"Weekly <digest@news.example.kr>\", smtp: {host: smtp.mailer.test}}\nhttp: {base_url: \"http://news.example.kr\"}\n"
	if err := os.WriteFile(path, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	var errOut bytes.Buffer
	a := &app{stderr: &errOut, getenv: func(string) string { return "" }, configPath: path}
	cfg, err := a.loadConfig()
	if err != nil {
		t.Fatal(err)
	}
	if err := warnMailSetup(a.stderr, cfg, true); err != nil {
		t.Fatalf("a send --all refused a plain-http base_url: %v", err)
	}
	if !strings.Contains(errOut.String(), "gull: warning: ") || !strings.Contains(errOut.String(), "is plain http") {
		t.Errorf("no warning about plain http: %q", errOut.String())
	}
}
