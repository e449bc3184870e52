package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"
)

// Exit statuses are a contract (DESIGN.md §3): scripts branch on them.
func TestExitStatus(t *testing.T) {
	dir := t.TempDir()
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	feed := write("feed.xml", `<rss version="2.0"><channel><title>t</title><item><title>AI 칼럼</title><link>https://e.example/1</link></item></channel></rss>`)
	good := write("good.yaml", "feeds: [{url: "+feed+"}]\nthemes: [{id: a, name: A, keywords: [x]}]\nstore: {path: "+filepath.Join(dir, "g.db")+"}\n")
	broken := write("broken.yaml", "feeds: [{url: "+filepath.Join(dir, "missing.xml")+"}]\nthemes: [{id: a, name: A, keywords: [x]}]\nstore: {path: "+filepath.Join(dir, "b.db")+"}\n")
	invalid := write("invalid.yaml", "feeds: []\nwindow: soon\n")
	cases := []struct {
		args []string
		want int
	}{
		{[]string{"version"}, exitOK},
		{[]string{"--help"}, exitOK},
		{[]string{"--config", good, "feeds", "check"}, exitOK},
		{[]string{"--config", good, "config", "check"}, exitOK},
		{[]string{"--config", broken, "feeds", "check"}, exitFailure},
		{[]string{"--config", invalid, "feeds", "check"}, exitUsage},
		{[]string{"--config", invalid, "config", "check"}, exitUsage},
		{[]string{"--config", filepath.Join(dir, "none.yaml"), "config", "check"}, exitUsage},
		{[]string{}, exitUsage},
		{[]string{"nope"}, exitUsage},
		{[]string{"--nope", "version"}, exitUsage},
		{[]string{"feeds", "check", "--now", "monday"}, exitUsage},
		{[]string{"feeds", "check", "extra-arg"}, exitUsage},
	}
	for _, c := range cases {
		var out, errOut bytes.Buffer
		if got := run(context.Background(), c.args, &out, &errOut); got != c.want {
			t.Errorf("gull %q exited %d, want %d\nstderr: %s", c.args, got, c.want, errOut.String())
		}
	}
}
