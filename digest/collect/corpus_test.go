//go:build corpus

// The real-world corpus check: run with
//
//	GULL_CORPUS=../shared/corpus go test -tags corpus -run Corpus -v ./digest/collect
//
// from the repository root. It is behind a build tag, not a skip, because
// the corpus lives outside the repository; .ci/run adds it where it exists.
package collect

import (
	"bufio"
	"bytes"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/mmcdole/gofeed"

	"gull/digest"
)

type manifestRow struct {
	name, format, encoding, languages, notes string
	items                                    int
}

func readManifest(t *testing.T, dir string) []manifestRow {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, "MANIFEST.tsv"))
	if err != nil {
		t.Fatalf("GULL_CORPUS=%s: %v", dir, err)
	}
	defer f.Close()
	var rows []manifestRow
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for first := true; sc.Scan(); first = false {
		if first {
			continue
		}
		c := strings.Split(sc.Text(), "\t")
		if len(c) < 8 {
			continue
		}
		n, _ := strconv.Atoi(c[5])
		rows = append(rows, manifestRow{name: c[0], format: c[3], encoding: c[4], items: n, languages: c[6], notes: c[7]})
	}
	return rows
}

func corpusDir(t *testing.T) string {
	dir := os.Getenv("GULL_CORPUS")
	if dir == "" {
		t.Fatal("set GULL_CORPUS to the corpus folder (../shared/corpus from the repository root)")
	}
	abs, err := filepath.Abs(dir)
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func TestCorpus(t *testing.T) {
	dir := corpusDir(t)
	rows := readManifest(t, dir)
	if len(rows) < 100 {
		t.Fatalf("MANIFEST.tsv lists %d files; expected the whole corpus", len(rows))
	}
	var gofeedOK, gullOK, total int
	var notRead []string
	for _, row := range rows {
		row := row
		total++
		body, err := os.ReadFile(filepath.Join(dir, row.name))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := gofeed.NewParser().Parse(bytes.NewReader(body)); err == nil {
			gofeedOK++
		}
		start := time.Now()
		p, err := parseBody(body, "", 10<<20)
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("%s: took %s to read; a hostile feed must not hang a run", row.name, d)
		}
		if err != nil {
			notRead = append(notRead, row.name+": "+err.Error())
			if strings.HasPrefix(row.name, "real/") {
				t.Errorf("%s: %v", row.name, err)
			}
			continue
		}
		gullOK++
		arts := Normalize(p.feed, digest.Feed{URL: "file://" + row.name, Location: time.UTC}, nil)
		if strings.HasPrefix(row.name, "real/") {
			checkRealFile(t, row, p, arts)
		}
	}
	t.Logf("corpus: gull reads %d of %d files; gofeed alone reads %d", gullOK, total, gofeedOK)
	for _, s := range notRead {
		t.Logf("not read: %s", s)
	}
}

func checkRealFile(t *testing.T, row manifestRow, p parsed, arts []digest.Article) {
	t.Helper()
	if len(p.feed.Items) != row.items {
		t.Errorf("%s: %d items, MANIFEST says %d", row.name, len(p.feed.Items), row.items)
	}
	if row.items > 0 && len(arts) == 0 {
		t.Errorf("%s: no articles after normalizing", row.name)
	}
	for _, a := range arts {
		for field, s := range map[string]string{"title": a.Title, "summary": a.Summary, "content": string(a.Content)} {
			if strings.ContainsRune(s, '\uFFFD') {
				t.Errorf("%s: %s has U+FFFD (read as %s): %.80q", row.name, field, p.charset, s)
				break
			}
		}
	}
	var script []*unicode.RangeTable
	switch {
	case strings.Contains(row.languages, "Hangul"):
		script = []*unicode.RangeTable{unicode.Hangul}
	case strings.Contains(row.languages, "Kana"):
		script = []*unicode.RangeTable{unicode.Hiragana, unicode.Katakana, unicode.Han}
	case strings.Contains(row.languages, "script:Han"):
		script = []*unicode.RangeTable{unicode.Han}
	default:
		return
	}
	if frac := scriptShare(arts, script); frac < 0.5 {
		t.Errorf("%s: only %.0f%% of titles are in their own script (read as %s); mojibake?", row.name, frac*100, p.charset)
	}
}

// scriptShare is the share of articles whose title or summary has a letter
// of script.
func scriptShare(arts []digest.Article, script []*unicode.RangeTable) float64 {
	if len(arts) == 0 {
		return 0
	}
	n := 0
	for _, a := range arts {
		for _, r := range a.Title + " " + a.Summary {
			if unicode.In(r, script...) {
				n++
				break
			}
		}
	}
	return float64(n) / float64(len(arts))
}

// TestCorpusLanguages: each real feed's articles get the language its
// MANIFEST row gives: Korean (declared or by script) "ko", English "en",
// any other language "", and a declaration that lies ("decl:en-us but
// content ko") gives way to the text.
func TestCorpusLanguages(t *testing.T) {
	dir := corpusDir(t)
	checked := 0
	for _, row := range readManifest(t, dir) {
		if !strings.HasPrefix(row.name, "real/") {
			continue
		}
		want, ok := corpusLang(row.languages)
		if !ok {
			continue
		}
		body, err := os.ReadFile(filepath.Join(dir, row.name))
		if err != nil {
			t.Fatal(err)
		}
		p, err := parseBody(body, "", 10<<20)
		if err != nil {
			continue // TestCorpus reports it
		}
		arts := Normalize(p.feed, digest.Feed{URL: "file://" + row.name, Location: time.UTC}, nil)
		n := 0
		for _, a := range arts {
			if a.Lang == want {
				n++
			}
		}
		checked++
		// Most, not all: a Korean blog's post may be titled in English.
		if len(arts) > 0 && float64(n) < 0.7*float64(len(arts)) {
			got := map[string]int{}
			for _, a := range arts {
				got[a.Lang]++
			}
			t.Errorf("%s (%s): %d of %d articles are %q; by language %v", row.name, row.languages, n, len(arts), want, got)
		}
	}
	t.Logf("checked the language of %d real feeds", checked)
}

// corpusLang is the article language a MANIFEST languages cell implies,
// and false when it implies none to check ("-": undeclared and not said).
func corpusLang(cell string) (string, bool) {
	switch {
	case strings.Count(cell, "decl:") > 1:
		return "", false // two declarations: the MANIFEST does not say which holds
	case strings.Contains(cell, "but content ko"):
		return "ko", true
	case strings.Contains(cell, "but content"):
		return "", true
	case strings.HasPrefix(cell, "decl:ko") || strings.HasPrefix(cell, "ko"):
		return "ko", true
	case strings.HasPrefix(cell, "decl:en"):
		return "en", true
	case strings.HasPrefix(cell, "decl:"):
		return "", true
	}
	return "", false
}
