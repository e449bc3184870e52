package config_test

import (
	"strings"
	"testing"
)

// mail.return_path: optional; one {token} in a bare address with room
// for it, else one line naming the key and the fix.
func TestReturnPath(t *testing.T) {
	cfg, err := parse(t, minimal+"mail: {return_path: \"bounces+{token}@example.org\"}\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Mail.ReturnPath != "bounces+{token}@example.org" {
		t.Errorf("return_path = %q", cfg.Mail.ReturnPath)
	}
	if cfg, err := parse(t, minimal); err != nil || cfg.Mail.ReturnPath != "" {
		t.Errorf("default return_path = %q, %v; want none", cfg.Mail.ReturnPath, err)
	}
	for bad, want := range map[string]string{
		"bounces@example.org":                            "{token} exactly once",
		"Bounces <bounces+{token}@example.org>":          "bare ASCII address",
		strings.Repeat("b", 40) + "+{token}@example.org": "may have 25 characters beside {token}",
	} {
		got := problems(t, minimal+"mail:\n  return_path: \""+bad+"\"\n")
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:6: mail.return_path: \""+bad+"\" is not a return path") || !strings.Contains(got[0], want) {
			t.Errorf("return_path %q: got %q; want one line saying %q", bad, got, want)
		}
	}
}
