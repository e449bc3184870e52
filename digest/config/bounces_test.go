package config_test

import (
	"strings"
	"testing"
)

// bounces: an IMAP account or a Maildir (a path beside the config),
// soft_limit 3 by default; every mistake one line naming the key.
func TestBounces(t *testing.T) {
	cfg, err := parse(t, minimal)
	if err != nil || cfg.Bounces.Mailbox() != "" || cfg.Bounces.SoftLimit != 3 {
		t.Fatalf("default: %+v %v", cfg.Bounces, err)
	}
	cfg, err = parse(t, minimal+"bounces:\n  imap: {host: imap.example.org, username: bounces}\n  soft_limit: 5\n")
	if err != nil {
		t.Fatal(err)
	}
	if m := cfg.Bounces.IMAP; cfg.Bounces.Mailbox() != "imap" || m.Port != 993 || m.TLS != "tls" || m.Folder != "INBOX" ||
		m.PasswordEnv != "GULL_IMAP_PASSWORD" || cfg.Bounces.SoftLimit != 5 {
		t.Errorf("imap: %+v", cfg.Bounces)
	}
	// config check says whether the password is set, never what it is.
	out, err := cfg.Redacted(func(k string) string { return map[string]string{"GULL_IMAP_PASSWORD": "hunter2-imap"}[k] })
	if err != nil || !strings.Contains(string(out), "#   $GULL_IMAP_PASSWORD: set") || strings.Contains(string(out), "hunter2-imap") {
		t.Errorf("redacted:\n%s %v", out, err)
	}
	cfg, err = parse(t, minimal+"bounces: {maildir: Maildir}\n")
	if err != nil || cfg.Bounces.Mailbox() != "maildir" || cfg.Bounces.Maildir != "Maildir" {
		t.Errorf("maildir: %+v %v", cfg.Bounces, err)
	}
	for yml, want := range map[string]string{
		"bounces: {maildir: M, imap: {host: h.example, username: u}}":          "bounces: names both an IMAP account and a Maildir",
		"bounces: {imap: {username: u}}":                                       "bounces.imap.host: is missing",
		"bounces: {imap: {host: h.example}}":                                   "bounces.imap.username: is missing",
		"bounces: {imap: {host: h.example, username: u, tls: none}}":           "bounces.imap.tls: none would send the password in clear to h.example",
		"bounces: {imap: {host: h.example, username: u, tls: ssl}}":            "bounces.imap.tls: must be tls (port 993), starttls (143) or none",
		"bounces: {imap: {host: h.example, username: u, password_env: 'p w'}}": "bounces.imap.password_env: is not an environment variable name",
		"bounces: {imap: {host: h.example, username: u, folder: ''}}":          "bounces.imap.folder: must name the folder",
		"bounces: {soft_limit: 0}":                                             "bounces.soft_limit: must be between 1 and 100",
		"bounces: {imap: {host: h.example, username: u, port: 0}}":             "bounces.imap.port: must be a TCP port",
	} {
		got := problems(t, minimal+yml+"\n")
		if len(got) != 1 || !strings.Contains(got[0], want) {
			t.Errorf("%s: got %q; want one line with %q", yml, got, want)
		}
	}
	if _, err := parse(t, minimal+"bounces: {imap: {host: 127.0.0.1, username: u, tls: none, port: 1143}}\n"); err != nil {
		t.Errorf("tls: none on loopback: %v", err)
	}
}
