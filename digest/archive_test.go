package digest

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSearchTerms(t *testing.T) {
	for q, want := range map[string][]string{
		"인공지능 AI":                 {"인공지능", "ai"},
		"  AI\tai  ":              {"ai"},
		"\xff인공\xfe지능\x00법":       {"인공지능", "법"},
		`"NEAR(a b)" -x *`:        {`"near(a`, `b)"`, "-x", "*"},
		"a b c d e f g h i j k l": {"a", "b", "c", "d", "e", "f", "g", "h"},
		"":                        nil,
	} {
		if got := SearchTerms(q); !slices.Equal(got, want) {
			t.Errorf("SearchTerms(%q) = %q, want %q", q, got, want)
		}
	}
	long := SearchTerms(strings.Repeat("가", 500))
	if len(long) != 1 || utf8.RuneCountInString(long[0]) != MaxSearchRunes {
		t.Errorf("a long query: %d terms, %d characters", len(long), utf8.RuneCountInString(long[0]))
	}
}

func TestMatchSpans(t *testing.T) {
	for _, c := range []struct {
		text  string
		terms []string
		want  string // the matches in [ ]
	}{
		{"인공지능법 시행", []string{"인공지능"}, "[인공지능]법 시행"},
		{"The AI Act, ai rules", []string{"ai"}, "The [AI] Act, [ai] rules"},
		{"반도체 보조금", []string{"반도", "도체"}, "[반도체] 보조금"},
		{"ÀI ai", []string{"ài"}, "[ÀI] ai"},
		{"no match", []string{"x1"}, "no match"},
	} {
		var b strings.Builder
		at := 0
		for _, sp := range MatchSpans(c.text, c.terms) {
			b.WriteString(c.text[at:sp[0]] + "[" + c.text[sp[0]:sp[1]] + "]")
			at = sp[1]
		}
		b.WriteString(c.text[at:])
		if b.String() != c.want {
			t.Errorf("MatchSpans(%q, %q) marks %q, want %q", c.text, c.terms, b.String(), c.want)
		}
	}
}
