package digest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

var testThemes = []Theme{
	{ID: "compute", Name: "Compute & Chips", Keywords: []string{"반도체", "GPU", "semiconductor", "chips", "data center", "엔비디아"}},
	{ID: "regulation", Name: "Regulation", Keywords: []string{"AI기본법", "규제", "AI Act", "regulation", "law", "저작권"}, Exclude: []string{"law school"}},
	{ID: "strategy", Name: "Strategy", Keywords: []string{"소버린", "national strategy", "sovereign AI", "과기정통부"}},
	{ID: "agents", Name: "Agents", Keywords: []string{"에이전트", "agent", "agents", "AI"}},
}

var testOther = Theme{ID: "other", Name: "More"}

func TestMatch(t *testing.T) {
	g := NewGrouper(testThemes, testOther, []string{"인공지능", "AI"})
	cases := []struct {
		name, title, summary string
		feedTheme            string
		want                 []string
	}{
		{name: "Latin keyword needs whole word: AI is not in said", title: "The minister said little about budgets", want: nil},
		{name: "Latin keyword, whole word", title: "What the AI Act means for startups", want: []string{"regulation", "agents"}},
		{name: "Hangul keyword inside a compound", title: "반도체법 국회 통과", want: []string{"compute"}},
		{name: "Hangul keyword with a particle", title: "엔비디아가 한국에 GPU 26만 장", want: []string{"compute"}},
		{name: "Latin keyword before a Korean particle", title: "AI가 바꾸는 노동시장", want: []string{"agents"}},
		{name: "mixed-script keyword", title: "AI기본법 시행령 공개", want: []string{"regulation", "agents"}},
		{name: "case-insensitive", title: "SEMICONDUCTOR tariffs loom", want: []string{"compute"}},
		{name: "full-width letters", title: "ＧＰＵ 확보 경쟁", want: []string{"compute"}},
		{name: "decomposed Hangul (NFD) still matches", title: "\u1107\u1161\u11ab\u1103\u1169\u110e\u1166 수출", want: []string{"compute"}},
		{name: "title outweighs summary", title: "Copyright law and models", summary: "Chips and GPU supply", want: []string{"regulation", "compute"}},
		{name: "summary counts when the title says nothing", title: "This week", summary: "소버린 AI 전략을 과기정통부가 발표", want: []string{"strategy", "agents"}},
		{name: "exclude vetoes the theme", title: "A law school opens an AI clinic", want: []string{"agents"}},
		{name: "tie goes to the feed's theme", title: "GPU regulation", feedTheme: "regulation", want: []string{"regulation", "compute"}},
		{name: "tie without a feed theme keeps config order", title: "GPU regulation", want: []string{"compute", "regulation"}},
		{name: "keyword as a word prefix does not match", title: "Agentic lawyers", want: nil},
		{name: "multi-word keyword across spacing", title: "Building a  data\tcenter in Busan", want: []string{"compute"}},
		{name: "no match", title: "오늘의 날씨", want: nil},
		{name: "a soft hyphen does not hide a keyword", title: "Semi\u00ADconductor subsidies", want: []string{"compute"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := g.Match(Article{Title: c.title, Summary: c.summary}, c.feedTheme)
			var ids []string
			for _, m := range got {
				ids = append(ids, m.ID)
			}
			if !slices.Equal(ids, c.want) {
				t.Errorf("Match(%q, %q) = %v, want %v", c.title, c.summary, got, c.want)
			}
		})
	}
}

func day(d int) *time.Time {
	t := time.Date(2026, 11, d, 9, 0, 0, 0, time.UTC)
	return &t
}

func TestGroup(t *testing.T) {
	themes := slices.Clone(testThemes)
	themes[0].Max = 2
	g := NewGrouper(themes, testOther, []string{"인공지능", "AI"})
	feeds := map[string]Feed{
		"https://news.example/opinion": {URL: "https://news.example/opinion", Filter: true},
		"https://actnews.example/feed": {URL: "https://actnews.example/feed", Theme: "regulation"},
		"https://blog.example/feed":    {URL: "https://blog.example/feed"},
	}
	arts := []Article{
		{ID: "1", FeedURL: "https://blog.example/feed", Title: "반도체 보조금", Published: day(23)},
		{ID: "2", FeedURL: "https://blog.example/feed", Title: "HBM and GPU supply", Published: day(26)},
		{ID: "3", FeedURL: "https://blog.example/feed", Title: "Semiconductor exports fall", Published: day(25)},
		{ID: "4", FeedURL: "https://news.example/opinion", Title: "김장철 배추값", Published: day(24)},
		{ID: "5", FeedURL: "https://news.example/opinion", Title: "인공지능 시대의 교육", Published: day(24)},
		{ID: "6", FeedURL: "https://actnews.example/feed", Title: "Newsletter #92", Published: day(27)},
		{ID: "7", FeedURL: "https://blog.example/feed", Title: "Notes from Busan", Published: day(22)},
		{ID: "8", FeedURL: "https://news.example/opinion", Title: "저작권과 AI기본법", Published: day(28)},
	}
	sections, dropped := g.Group(arts, feeds)

	got := map[string][]string{}
	var order []string
	for _, s := range sections {
		order = append(order, s.ID)
		for _, a := range s.Articles {
			got[s.ID] = append(got[s.ID], a.ID)
		}
	}
	// strategy and agents have nothing: left out. compute is capped at 2,
	// newest first. The filtered feed's cabbage column is dropped; its
	// 인공지능 column passes through the relevance words into "other".
	if want := []string{"compute", "regulation", "other"}; !slices.Equal(order, want) {
		t.Fatalf("sections %v, want %v", order, want)
	}
	want := map[string][]string{"compute": {"2", "3"}, "regulation": {"8", "6"}, "other": {"5", "7"}}
	for id, ids := range want {
		if !slices.Equal(got[id], ids) {
			t.Errorf("section %s has %v, want %v", id, got[id], ids)
		}
	}
	reasons := map[string]string{}
	for _, d := range dropped {
		reasons[d.Title] = d.Reason
	}
	if reasons["김장철 배추값"] != ReasonNotRelevant {
		t.Errorf("off-topic column of a filtered feed: dropped %q, want %q", reasons["김장철 배추값"], ReasonNotRelevant)
	}
	if !strings.Contains(reasons["반도체 보조금"], "max of 2") {
		t.Errorf("third compute article: dropped %q, want the section cap", reasons["반도체 보조금"])
	}
	if len(dropped) != 2 {
		t.Errorf("dropped %d articles, want 2: %+v", len(dropped), dropped)
	}
	// The article with no keyword from a feed with a theme goes to that
	// theme and carries it; every article carries what it matched.
	for _, s := range sections {
		for _, a := range s.Articles {
			switch a.ID {
			case "6":
				if !slices.Equal(a.Themes, []string{"regulation"}) {
					t.Errorf("feed-theme article themes %v, want [regulation]", a.Themes)
				}
			case "8":
				// "AI" before a Hangul compound is a whole word.
				if !slices.Equal(a.Themes, []string{"regulation", "agents"}) {
					t.Errorf("article 8 themes %v, want [regulation agents]", a.Themes)
				}
			case "5", "7":
				if len(a.Themes) != 0 {
					t.Errorf("article %s in other has themes %v", a.ID, a.Themes)
				}
			}
		}
	}
}

func TestIssueFor(t *testing.T) {
	is := Issue{Sections: []Section{
		{ID: "compute", Articles: []Article{{ID: "a", Themes: []string{"compute", "regulation"}}, {ID: "b", Themes: []string{"compute"}}}},
		{ID: "regulation", Articles: []Article{{ID: "c", Themes: []string{"regulation"}}}},
		{ID: "other", Articles: []Article{{ID: "d"}}},
	}}
	ids := func(is Issue) []string {
		var out []string
		for _, s := range is.Sections {
			for _, a := range s.Articles {
				out = append(out, s.ID+"/"+a.ID)
			}
		}
		return out
	}
	for _, c := range []struct {
		themes []string
		want   []string
	}{
		{nil, []string{"compute/a", "compute/b", "regulation/c", "other/d"}},
		{[]string{"regulation"}, []string{"compute/a", "regulation/c"}},
		{[]string{"other"}, []string{"other/d"}},
		{[]string{"safety"}, nil},
	} {
		if got := ids(is.For(c.themes)); !slices.Equal(got, c.want) {
			t.Errorf("For(%v) = %v, want %v", c.themes, got, c.want)
		}
	}
	if is.Count() != 4 || is.For([]string{"regulation"}).Count() != 2 {
		t.Errorf("Count: %d, %d", is.Count(), is.For([]string{"regulation"}).Count())
	}
}

func TestIssueID(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	end := time.Date(2026, 11, 30, 8, 0, 0, 0, seoul) // a Monday: the send day
	if got := IssueID(WeekEnding(end, 7*24*time.Hour, seoul)); got != "2026-W48" {
		t.Errorf("weekly issue sent Monday 30 Nov: %s, want 2026-W48 (the week it covers)", got)
	}
	for _, c := range []struct {
		window time.Duration
		want   string
	}{
		{24 * time.Hour, "2026-11-30"},
		{3 * 24 * time.Hour, "2026-11-30"},
		{12 * time.Hour, "2026-11-30T08"},   // twice a day: 08 and 20
		{30 * 24 * time.Hour, "2026-11-30"}, // a weekly send of a month's window stays unique
		{14 * 24 * time.Hour, "2026-11-30"},
	} {
		if got := IssueID(WeekEnding(end, c.window, seoul)); got != c.want {
			t.Errorf("window %v: %s, want %s", c.window, got, c.want)
		}
	}
}

func TestIssueJSONListsNeverNull(t *testing.T) {
	b, err := json.Marshal(Issue{ID: "2026-W48", Title: "T", Feeds: []FeedReport{{URL: "https://u:p@x.example/f", Status: FeedError, Error: "boom"}}})
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	for _, want := range []string{`"sections":[]`, `"dropped":[]`, `"status":"error"`, `"error":"boom"`} {
		if !strings.Contains(s, want) {
			t.Errorf("JSON lacks %s: %s", want, s)
		}
	}
	if strings.Contains(s, "u:p@") {
		t.Errorf("JSON leaks feed credentials: %s", s)
	}
}

// A capped section passes its overflow to the article's next theme, so a
// reader of that theme still gets it; an article with nowhere to go is
// dropped with the reason.
func TestGroupMaxOverflowsToNextTheme(t *testing.T) {
	themes := []Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"반도체"}, Max: 1},
		{ID: "regulation", Name: "Regulation", Keywords: []string{"규제"}},
	}
	g := NewGrouper(themes, testOther, nil)
	arts := []Article{
		{ID: "a", Title: "반도체 반도체 전망", Published: day(26)},
		{ID: "b", Title: "반도체 규제 강화", Published: day(25)},
		{ID: "c", Title: "반도체 수출", Published: day(24)},
	}
	sections, dropped := g.Group(arts, nil)
	is := Issue{Sections: sections}
	if got := is.For([]string{"regulation"}); got.Count() != 1 || got.Sections[0].Articles[0].ID != "b" {
		t.Errorf("a regulation reader gets %+v, want article b", got.Sections)
	}
	if len(sections) != 2 || sections[0].Articles[0].ID != "a" || sections[1].ID != "regulation" {
		t.Errorf("sections %+v", sections)
	}
	if len(dropped) != 1 || dropped[0].Title != "반도체 수출" || !strings.Contains(dropped[0].Reason, "max of 1") {
		t.Errorf("dropped %+v, want only article c, over the max", dropped)
	}
}

// A theme's exclude words veto it also as a feed's default theme.
func TestExcludeVetoesFeedTheme(t *testing.T) {
	themes := []Theme{{ID: "compute", Name: "Compute", Keywords: []string{"반도체"}, Exclude: []string{"감자칩"}}}
	g := NewGrouper(themes, testOther, nil)
	feeds := map[string]Feed{"f": {URL: "f", Theme: "compute"}}
	sections, _ := g.Group([]Article{
		{ID: "x", FeedURL: "f", Title: "감자칩 시장 동향", Published: day(25)},
		{ID: "y", FeedURL: "f", Title: "주간 노트", Published: day(26)},
	}, feeds)
	got := map[string]string{}
	for _, s := range sections {
		for _, a := range s.Articles {
			got[a.ID] = s.ID
		}
	}
	if got["x"] != "other" || got["y"] != "compute" {
		t.Errorf("sections by article %v, want x in other (vetoed), y in the feed's theme", got)
	}
}
