package config_test

import (
	"strings"
	"testing"
)

// A name is one string for both languages, or one per language; either
// reads back in each language, and a wrong shape names the key and the fix.
func TestNamesInEachLanguage(t *testing.T) {
	cfg, err := parse(t, `title: {ko: AI 정책 주간, en: AI Policy Weekly}
feeds:
  - url: https://example.org/feed.xml
themes:
  - {id: compute, name: {ko: 반도체와 컴퓨팅, en: Compute & Chips}, keywords: [GPU]}
  - {id: law, name: Law, keywords: [law]}
other: {id: other, name: {en: More this week}}
`)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ got, want string }{
		{cfg.Title.In("ko"), "AI 정책 주간"}, {cfg.Title.In("en"), "AI Policy Weekly"},
		{cfg.Themes[0].Name.In("ko"), "반도체와 컴퓨팅"}, {cfg.Themes[0].Name.In("en"), "Compute & Chips"},
		{cfg.Themes[1].Name.In("ko"), "Law"}, {cfg.Themes[1].Name.In("en"), "Law"},
		{cfg.Other.Name.In("ko"), "More this week"}, // only English given: both read it
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}

	got := strings.Join(problems(t, minimal+"other: {id: other, name: {ko: 더 보기, jp: もっと}}\n"), "\n")
	if !strings.Contains(got, `config.yaml:5: other.name: "jp" is not a language; write {ko: ..., en: ...}`) {
		t.Errorf("unknown language: %s", got)
	}
	got = strings.Join(problems(t, minimal+"other: {id: other, name: [a, b]}\n"), "\n")
	if !strings.Contains(got, "other.name: write a name, or one per language: {ko: ..., en: ...}") {
		t.Errorf("a list for a name: %s", got)
	}
	got = strings.Join(problems(t, minimal+"other: {id: other, name: {ko: '', en: ' '}}\n"), "\n")
	if !strings.Contains(got, "other.name: must not be empty") {
		t.Errorf("blank names: %s", got)
	}
}

// A language given twice in one name is refused, naming the line of the
// repeat, rather than the last one silently winning.
func TestNameWithALanguageTwice(t *testing.T) {
	got := strings.Join(problems(t, "title: {ko: 가, ko: 나}\n"+minimal), "\n")
	if !strings.Contains(got, "config.yaml:1: title: ko is given twice (first at line 1); keep one") {
		t.Errorf("a flow mapping: %s", got)
	}
	got = strings.Join(problems(t, minimal+"other:\n  id: other\n  name:\n    en: More\n    ko: 더 보기\n    en: Extra\n"), "\n")
	if !strings.Contains(got, "config.yaml:10: other.name: en is given twice (first at line 8); keep one") {
		t.Errorf("a block mapping: %s", got)
	}
	got = strings.Join(problems(t, minimal+"other:\n  id: other\n  name:\n    en: More\n    jp: もっと\n"), "\n")
	if !strings.Contains(got, `config.yaml:9: other.name: "jp" is not a language`) {
		t.Errorf("an unknown language on its own line: %s", got)
	}
}
