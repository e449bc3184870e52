package digest

import (
	"encoding/json"
	"strings"
	"testing"
)

// langIssue: a Korean-led story covered in English and Korean, an English
// article, a Korean one, and one of unknown language.
func langIssue() Issue {
	story := Article{ID: "s-ko", Title: "반도체 보조금", Lang: "ko", Themes: []string{"compute"}, Pinned: true, Blurb: "편집자 요약",
		Also: []Article{{ID: "s-en", Title: "Chip subsidies", Lang: "en"}, {ID: "s-ko2", Title: "보조금 논쟁", Lang: "ko"}}}
	return Issue{Sections: []Section{
		{ID: "compute", Name: "Compute", Articles: []Article{story, {ID: "en1", Title: "GPU export rules", Lang: "en"}}},
		{ID: "other", Name: "Other", Articles: []Article{{ID: "ko1", Title: "국가 전략", Lang: "ko"}, {ID: "x", Title: "12345"}}},
	}}
}

// ids lists an issue as a reader sees it: each entry, its coverage in brackets.
func ids(is Issue) string {
	var out []string
	for _, s := range is.Sections {
		for _, a := range s.Articles {
			e := a.ID
			if len(a.Also) > 0 {
				var also []string
				for _, o := range a.Also {
					also = append(also, o.ID)
				}
				e += "[" + strings.Join(also, ",") + "]"
			}
			out = append(out, s.ID+":"+e)
		}
	}
	return strings.Join(out, " ")
}

func TestForReader(t *testing.T) {
	for _, c := range []struct{ lang, articles, want string }{
		// Korean reader, every article: the story keeps its Korean lead.
		{"ko", "both", "compute:s-ko[s-en,s-ko2] compute:en1 other:ko1 other:x"},
		{"ko", "", "compute:s-ko[s-en,s-ko2] compute:en1 other:ko1 other:x"},
		// English reader: the English coverage leads, the Korean lead joins the coverage.
		{"en", "both", "compute:s-en[s-ko,s-ko2] compute:en1 other:ko1 other:x"},
		// English articles only: Korean ones and Korean coverage are gone; unknown stays.
		{"ko", "en", "compute:s-en compute:en1 other:x"},
		{"en", "ko", "compute:s-ko[s-ko2] other:ko1 other:x"},
	} {
		if got := ids(langIssue().ForReader(c.lang, c.articles)); got != c.want {
			t.Errorf("ForReader(%q, %q) = %s, want %s", c.lang, c.articles, got, c.want)
		}
	}
	// The swapped lead keeps the story's place: its themes and the pin.
	lead := langIssue().ForReader("en", "").Sections[0].Articles[0]
	if !lead.Pinned || len(lead.Themes) != 1 || lead.Blurb != "" {
		t.Errorf("swapped lead: %+v", lead)
	}
	// The shared issue is not changed.
	if got := ids(langIssue()); got != ids(func() Issue { is := langIssue(); is.ForReader("en", "ko"); return is }()) {
		t.Errorf("ForReader changed its input: %s", got)
	}
	// An excluded lead whose coverage is of unknown language: that leads.
	unknown := Issue{Sections: []Section{{ID: "a", Articles: []Article{{ID: "en", Lang: "en", Also: []Article{{ID: "u"}, {ID: "en2", Lang: "en"}}}}}}}
	if got := ids(unknown.ForReader("ko", "ko")); got != "a:u" {
		t.Errorf("articles=ko reader of an English story with unknown coverage: %s, want a:u", got)
	}
	// A lead of unknown language (a title of digits and names, a feed
	// that declares none) gives way to coverage in the reader's language,
	// as a lead in the other language does; with none, it stays.
	undetected := Issue{Sections: []Section{{ID: "a", Articles: []Article{{ID: "u", Themes: []string{"a"}, Pinned: true,
		Also: []Article{{ID: "en", Lang: "en"}, {ID: "ko", Lang: "ko"}}}}}}}
	for _, c := range []struct{ lang, articles, want string }{
		{"ko", "", "a:ko[en,u]"},
		{"en", "", "a:en[u,ko]"},
		{"en", "ko", "a:ko[u]"},
	} {
		if got := ids(undetected.ForReader(c.lang, c.articles)); got != c.want {
			t.Errorf("ForReader(%q, %q) of a story led by an article of unknown language = %s, want %s", c.lang, c.articles, got, c.want)
		}
	}
	if lead := undetected.ForReader("ko", "").Sections[0].Articles[0]; !lead.Pinned || len(lead.Themes) != 1 {
		t.Errorf("the lead that replaced one of unknown language lost the story's place: %+v", lead)
	}
	alone := Issue{Sections: []Section{{ID: "a", Articles: []Article{{ID: "u", Also: []Article{{ID: "u2"}, {ID: "en", Lang: "en"}}}}}}}
	if got := ids(alone.ForReader("ko", "")); got != "a:u[u2,en]" {
		t.Errorf("a story of unknown language with no Korean coverage, for a Korean reader: %s, want a:u[u2,en]", got)
	}
	// Nothing left: no sections.
	only := Issue{Sections: []Section{{ID: "a", Articles: []Article{{ID: "1", Lang: "ko"}}}}}
	if n := only.ForReader("en", "en").Count(); n != 0 {
		t.Errorf("an English-only reader of a Korean week gets %d articles", n)
	}
}

func TestIssueJSONHasLang(t *testing.T) {
	b, err := json.Marshal(langIssue())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"id":"s-ko","title":"반도체 보조금","link":"","feed":"","author":"","lang":"ko"`, `"feed":"","lang":"en","published":null,"id":"s-en"`, `"id":"x","title":"12345","link":"","feed":"","author":"","lang":""`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b)
		}
	}
}
