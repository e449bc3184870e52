package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"
)

// Help is exit 0 with the command's own usage on stdout; a mistyped
// command or flag is exit 2 with the nearest on stderr (issue 12 §3).
func TestHelpAndSuggestionExitStatus(t *testing.T) {
	cases := []struct {
		args   []string
		want   int
		stdout string // a line stdout must start with
		stderr string // text stderr must hold
	}{
		{[]string{"subscribers", "--help"}, exitOK, "usage: gull subscribers COMMAND", ""},
		{[]string{"preview", "--help"}, exitOK, "usage: gull preview ", ""},
		{[]string{"send", "-h"}, exitOK, "usage: gull send ", ""},
		{[]string{"subscribers", "add", "--help"}, exitOK, "usage: gull subscribers add EMAIL", ""},
		{[]string{"feeds", "--help"}, exitOK, "usage: gull feeds COMMAND", ""},
		{[]string{"feeds", "check", "--help"}, exitOK, "usage: gull feeds check ", ""},
		{[]string{"config", "check", "-h"}, exitOK, "usage: gull config check", ""},
		{[]string{"run", "--help"}, exitOK, "usage: gull run [--once]", ""},
		{[]string{"help", "send"}, exitOK, "usage: gull send ", ""},
		{[]string{"help", "subscribers", "import"}, exitOK, "usage: gull subscribers import FILE.csv", ""},
		{[]string{"sned"}, exitUsage, "", `did you mean "send"?`},
		{[]string{"send", "--al"}, exitUsage, "", "did you mean --all?"},
		{[]string{"subscribers", "lst"}, exitUsage, "", `did you mean "subscribers list"?`},
		{[]string{"help", "sned"}, exitUsage, "", `did you mean "send"?`},
		{[]string{"send", "--all", "--to", "x@example.org"}, exitUsage, "", "--all and --to cannot be combined"},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		got := run(context.Background(), c.args, &out, &errOut)
		if got != c.want {
			t.Errorf("gull %q exited %d, want %d\nstderr: %s", c.args, got, c.want, errOut.String())
		}
		if c.stdout != "" && !strings.HasPrefix(out.String(), c.stdout) {
			t.Errorf("gull %q: stdout starts %.60q, want %q", c.args, out.String(), c.stdout)
		}
		if !strings.Contains(errOut.String(), c.stderr) {
			t.Errorf("gull %q: stderr %q lacks %q", c.args, errOut.String(), c.stderr)
		}
	}
}

// Every command named in the help exists with a usage of its own: each
// subcommand a group lists answers --help with its synopsis.
func TestEveryCommandHasItsHelp(t *testing.T) {
	for _, h := range commands {
		name := h.name
		var out, errOut bytes.Buffer
		if got := run(context.Background(), append(strings.Fields(name), "--help"), &out, &errOut); got != exitOK {
			t.Errorf("gull %s --help exited %d: %s", name, got, errOut.String())
		}
		if want := "usage: gull " + h.synopsis + "\n"; !strings.HasPrefix(out.String(), want) {
			t.Errorf("gull %s --help: got %.80q, want it to start %q", name, out.String(), want)
		}
		if h.short == "" || h.about == "" {
			t.Errorf("%s: the help lacks a line for its group or a description", name)
		}
	}
}

// --now: RFC 3339 as it says, or a date or a zone-less time in the
// configured zone; anything else names the three forms.
func TestParseNow(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	for in, want := range map[string]string{
		"2026-11-30":                "2026-11-30T00:00:00+09:00",
		"2026-11-30T08:00":          "2026-11-30T08:00:00+09:00",
		"2026-11-30T08:00:30":       "2026-11-30T08:00:30+09:00",
		"2026-11-30T08:00:00+01:00": "2026-11-30T16:00:00+09:00",
		"2026-11-29T23:00:00Z":      "2026-11-30T08:00:00+09:00",
	} {
		got, err := parseNow(in, seoul)
		if err != nil {
			t.Errorf("parseNow(%q): %v", in, err)
			continue
		}
		if s := got.In(seoul).Format(time.RFC3339); s != want {
			t.Errorf("parseNow(%q) = %s, want %s", in, s, want)
		}
	}
	for _, in := range []string{"tomorrow", "2026-11-31", "2026-11-30 08:00", "30/11/2026", "2026-11-30T08"} {
		_, err := parseNow(in, seoul)
		if err == nil || !strings.Contains(err.Error(), "write a date (2026-11-27), a time (2026-11-27T09:00), both in the config's timezone, or RFC 3339") {
			t.Errorf("parseNow(%q): %v", in, err)
		}
	}
}
