//go:build corpus

// The real-world corpus through the whole preview: every corpus feed is a
// feed of one config, with the real theme taxonomy, and the digest made
// from them must be safe and complete. Run with
//
//	GULL_CORPUS=../shared/corpus go test -tags corpus -run Corpus -v ./cmd/gull
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

func TestCorpusPreview(t *testing.T) {
	dir := os.Getenv("GULL_CORPUS")
	if dir == "" {
		t.Fatal("set GULL_CORPUS to the corpus folder (../shared/corpus from the repository root)")
	}
	var feeds []map[string]any
	for _, sub := range []string{"real", "broken"} {
		files, _ := filepath.Glob(filepath.Join(dir, sub, "*"))
		for _, f := range files {
			abs, _ := filepath.Abs(f)
			feeds = append(feeds, map[string]any{"url": abs})
		}
	}
	if len(feeds) < 50 {
		t.Fatalf("only %d corpus files under %s", len(feeds), dir)
	}
	// The shipped config's themes and relevance words; the corpus as feeds;
	// a window wide enough to take every dated item.
	raw, err := os.ReadFile("../../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(raw, &cfg); err != nil {
		t.Fatal(err)
	}
	work := t.TempDir()
	cfg["feeds"] = feeds
	cfg["window"] = "20000d"
	cfg["store"] = map[string]any{"path": filepath.Join(work, "gull.db")}
	out, _ := yaml.Marshal(cfg)
	cfgPath := filepath.Join(work, "config.yaml")
	if err := os.WriteFile(cfgPath, out, 0o644); err != nil {
		t.Fatal(err)
	}

	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"--config", cfgPath, "preview", "--now", "2027-01-01T00:00:00Z", "--format", "json"}, &stdout, &stderr)
	if code != 0 {
		t.Fatalf("preview --format json exit %d: %s", code, stderr.String())
	}
	var issue struct {
		Count    int `json:"count"`
		Sections []struct {
			ID       string `json:"id"`
			Articles []struct{ Title, Link string }
		} `json:"sections"`
		Dropped []struct{ Reason string } `json:"dropped"`
	}
	if err := json.Unmarshal(stdout.Bytes(), &issue); err != nil {
		t.Fatal(err)
	}
	bySection := map[string]int{}
	for _, s := range issue.Sections {
		bySection[s.ID] = len(s.Articles)
	}
	t.Logf("corpus digest: %d articles in %d sections %v, %d dropped", issue.Count, len(issue.Sections), bySection, len(issue.Dropped))
	if issue.Count < 100 || len(issue.Sections) < 4 {
		t.Errorf("the corpus made only %d articles in %d sections", issue.Count, len(issue.Sections))
	}

	stdout.Reset()
	stderr.Reset()
	if code := run(context.Background(), []string{"--config", cfgPath, "preview", "--now", "2027-01-01T00:00:00Z"}, &stdout, &stderr); code != 0 {
		t.Fatalf("preview exit %d: %s", code, stderr.String())
	}
	html := stdout.String()
	if !utf8.ValidString(html) {
		t.Error("the HTML is not valid UTF-8")
	}
	for _, re := range []*regexp.Regexp{regexp.MustCompile(`(?i)<script`), regexp.MustCompile(`(?i)\son[a-z]+\s*=`), regexp.MustCompile(`(?i)(?:href|src|action)\s*=\s*["']?\s*javascript:`)} {
		if loc := re.FindStringIndex(html); loc != nil {
			t.Errorf("unsafe %q in the corpus digest: …%s…", html[loc[0]:loc[1]], html[max(0, loc[0]-80):min(len(html), loc[1]+80)])
		}
	}
	for _, m := range regexp.MustCompile(`\shref="([^"]*)"`).FindAllStringSubmatch(html, -1) {
		if u := m[1]; !strings.HasPrefix(u, "https://") && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "#") {
			t.Errorf("link %q is not absolute", u)
		}
	}
}
