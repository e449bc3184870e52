package digest

import (
	"html/template"
	"strings"
	"testing"
	"time"
)

var day0 = time.Date(2026, 11, 25, 9, 0, 0, 0, time.UTC)

func at(days float64) *time.Time {
	t := day0.Add(time.Duration(days * float64(24*time.Hour)))
	return &t
}

func titlesOf(as []Article) []string {
	var out []string
	for _, a := range as {
		out = append(out, a.Title)
	}
	return out
}

func idsOf(as []Article) string {
	var out []string
	for _, a := range as {
		out = append(out, a.ID)
	}
	return strings.Join(out, ",")
}

func TestDedupe(t *testing.T) {
	tests := []struct {
		name     string
		in       []Article
		wantKept string // IDs of the kept articles, in order
		reason   string // the Reason every dropped copy must give, if set
	}{
		{
			name: "same link with tracking params from two feeds",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "EU AI Act enters into force", Link: "https://www.example.com/eu-ai-act/?utm_source=rss", Published: at(0), Summary: "The regulation's first obligations apply from today."},
				{ID: "b", FeedURL: "https://f2/rss", Title: "The AI Act is now law in Europe", Link: "http://example.com/eu-ai-act?fbclid=abc", Published: at(0.1)},
			},
			wantKept: "a", reason: "same link",
		},
		{
			name: "one letter apart but about different countries",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "UK AI Safety Institute publishes its evaluation", Link: "https://f1.example/uk", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "US AI Safety Institute publishes its evaluation", Link: "https://f2.example/us", Published: at(0)},
			},
			wantKept: "a,b",
		},
		{
			name: "a chain of one-letter steps does not merge its ends",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "Weekly notes on compute policy: part aaa", Link: "https://f1.example/1", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "Weekly notes on compute policy: part aab", Link: "https://f2.example/2", Published: at(0)},
				{ID: "c", FeedURL: "https://f3/rss", Title: "Weekly notes on compute policy: part abb", Link: "https://f3.example/3", Published: at(0)},
				{ID: "d", FeedURL: "https://f4/rss", Title: "Weekly notes on compute policy: part bbb", Link: "https://f4.example/4", Published: at(0)},
			},
			wantKept: "a,c",
		},
		{
			name: "same global tag guid across feeds",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", GUID: "tag:example.com,2026:col-7", Title: "반도체 수출 통제의 역설", Link: "https://f1.example/p/1", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", GUID: "tag:example.com,2026:col-7", Title: "Export controls backfire", Link: "https://f2.example/p/9", Published: at(0)},
			},
			wantKept: "a", reason: "same guid",
		},
		{
			name: "short local guids in different feeds are different stories",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", GUID: "123", Title: "반도체 수출 통제의 역설", Link: "https://f1.example/p/1", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", GUID: "123", Title: "Data centers and the grid", Link: "https://f2.example/p/1", Published: at(0)},
			},
			wantKept: "a,b",
		},
		{
			name: "short local guid repeated in one feed",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", GUID: "123", Title: "반도체 수출 통제의 역설", Link: "https://f1.example/p/1", Published: at(0), Summary: "수출 통제가 오히려 국산화를 앞당긴다."},
				{ID: "b", FeedURL: "https://f1/rss", GUID: "123", Title: "반도체 수출 통제의 역설 (수정)", Link: "https://f1.example/p/1-fixed", Published: at(0)},
			},
			wantKept: "a", reason: "same guid",
		},
		{
			name: "same title with different outlet labels",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "[칼럼] 인공지능 기본법, 무엇을 규제하나", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "[기고] 인공지능 기본법, 무엇을 규제하나", Link: "https://news2.example/b", Published: at(1)},
			},
			wantKept: "a", reason: "same title",
		},
		{
			name: "near-identical title: a particle changed",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "인공지능 기본법은 혁신을 막는가", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "인공지능 기본법이 혁신을 막는가", Link: "https://news2.example/b", Published: at(0.5)},
			},
			wantKept: "a", reason: "near-identical title",
		},
		{
			name: "near-identical title: a typo fixed",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "Why complute caps will not stop frontier AI", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "Why compute caps will not stop frontier AI", Link: "https://news2.example/b", Published: at(0)},
			},
			wantKept: "a", reason: "near-identical title",
		},
		{
			name: "titles differing only in Part number stay apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "Understanding the EU AI Act, Part 1", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f1/rss", Title: "Understanding the EU AI Act, Part 2", Link: "https://news1.example/b", Published: at(1)},
			},
			wantKept: "a,b",
		},
		{
			name: "titles differing only in (1)/(2) stay apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "인공지능 기본법 시행령의 쟁점 (1)", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f1/rss", Title: "인공지능 기본법 시행령의 쟁점 (2)", Link: "https://news1.example/b", Published: at(1)},
			},
			wantKept: "a,b",
		},
		{
			name: "leading (1)/(2) stay apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "(1) 인공지능 기본법 시행령의 쟁점", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f1/rss", Title: "(2) 인공지능 기본법 시행령의 쟁점", Link: "https://news1.example/b", Published: at(1)},
			},
			wantKept: "a,b",
		},
		{
			name: "weekly column reusing its title two weeks apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "[칼럼] 이번 주 AI 정책 돌아보기", Link: "https://news1.example/w47", Published: at(-14)},
				{ID: "b", FeedURL: "https://f1/rss", Title: "[칼럼] 이번 주 AI 정책 돌아보기", Link: "https://news1.example/w49", Published: at(0)},
			},
			wantKept: "a,b",
		},
		{
			name: "diary entries on one page stay apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "AI 규제에 대한 단상", Link: "http://example.com/2017/06/26.html#a080605", Published: at(0)},
				{ID: "b", FeedURL: "https://f1/rss", Title: "반도체 보조금 이야기", Link: "http://example.com/2017/06/26.html#a080617", Published: at(0)},
			},
			wantKept: "a,b",
		},
		{
			name: "short titles are never compared",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "AI 정책", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "AI 정책", Link: "https://news2.example/b", Published: at(0)},
			},
			wantKept: "a,b",
		},
		{
			name: "different stories stay apart",
			in: []Article{
				{ID: "a", FeedURL: "https://f1/rss", Title: "인공지능 기본법은 혁신을 막는가", Link: "https://news1.example/a", Published: at(0)},
				{ID: "b", FeedURL: "https://f2/rss", Title: "데이터센터 전력 수요와 전력망", Link: "https://news2.example/b", Published: at(0)},
			},
			wantKept: "a,b",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, dropped := Dedupe(tt.in)
			if got := idsOf(kept); got != tt.wantKept {
				t.Errorf("kept %s %q, want %s", got, titlesOf(kept), tt.wantKept)
			}
			if len(kept)+len(dropped) != len(tt.in) {
				t.Errorf("%d kept + %d dropped != %d in", len(kept), len(dropped), len(tt.in))
			}
			for _, d := range dropped {
				if d.Reason == "" {
					t.Errorf("dropped %s has no reason", d.Dropped.ID)
				}
				if tt.reason != "" && d.Reason != tt.reason {
					t.Errorf("dropped %s: reason %q, want %q", d.Dropped.ID, d.Reason, tt.reason)
				}
				if d.Kept.ID == d.Dropped.ID {
					t.Errorf("dropped %s in favour of itself", d.Dropped.ID)
				}
			}
		})
	}
}

func TestDedupeKeepsFullestCopy(t *testing.T) {
	link := "https://example.com/ai-basic-act"
	tests := []struct {
		name     string
		in       []Article
		wantKept string
	}{
		{"longer summary wins", []Article{
			{ID: "short", Title: "AI 기본법 시행 첫해", Link: link, Summary: "짧다", Published: at(0)},
			{ID: "long", Title: "AI 기본법 시행 첫해", Link: link + "?utm_source=x", Summary: strings.Repeat("긴 요약입니다. ", 20), Published: at(0)},
		}, "long"},
		{"longer content wins", []Article{
			{ID: "long", Title: "AI 기본법 시행 첫해", Link: link, Content: template.HTML("<p>" + strings.Repeat("본문 ", 100) + "</p>"), Published: at(0)},
			{ID: "short", Title: "AI 기본법 시행 첫해", Link: link, Summary: "요약", Published: at(0)},
		}, "long"},
		{"a date beats a few more characters", []Article{
			{ID: "undated", Title: "AI 기본법 시행 첫해", Link: link, Summary: "조금 더 긴 요약", FirstSeen: day0},
			{ID: "dated", Title: "AI 기본법 시행 첫해", Link: link, Summary: "요약", Published: at(0)},
		}, "dated"},
		{"tie keeps the first", []Article{
			{ID: "first", Title: "AI 기본법 시행 첫해", Link: link, Summary: "같은 길이", Published: at(0)},
			{ID: "second", Title: "AI 기본법 시행 첫해", Link: link, Summary: "같은 길이", Published: at(0)},
		}, "first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			kept, dropped := Dedupe(tt.in)
			if got := idsOf(kept); got != tt.wantKept {
				t.Fatalf("kept %s, want %s", got, tt.wantKept)
			}
			if len(dropped) != 1 || dropped[0].Kept.ID != tt.wantKept {
				t.Fatalf("dropped = %+v, want one copy pointing at %s", dropped, tt.wantKept)
			}
		})
	}
}

func TestDedupeKeptCopyGetsDate(t *testing.T) {
	link := "https://example.com/ai-basic-act"
	in := []Article{
		{ID: "dated", Title: "AI 기본법 시행 첫해", Link: link, Summary: "요약", Published: at(-1)},
		{ID: "full", Title: "AI 기본법 시행 첫해", Link: link, FirstSeen: day0,
			Content: template.HTML("<p>" + strings.Repeat("아주 긴 본문 ", 200) + "</p>")},
	}
	kept, _ := Dedupe(in)
	if len(kept) != 1 || kept[0].ID != "full" {
		t.Fatalf("kept %s, want full", idsOf(kept))
	}
	if kept[0].Published == nil || !kept[0].Published.Equal(*at(-1)) {
		t.Errorf("kept copy Published = %v, want the dropped copy's date %v", kept[0].Published, at(-1))
	}
	if in[1].Published != nil {
		t.Errorf("Dedupe changed its input")
	}
}

func TestDedupeOrderAndGroups(t *testing.T) {
	in := []Article{
		{ID: "1", FeedURL: "https://f1/rss", Title: "Compute thresholds are the wrong tool", Link: "https://a.example/1", Published: at(0)},
		{ID: "2", FeedURL: "https://f1/rss", Title: "[칼럼] 인공지능 기본법, 무엇을 규제하나", Link: "https://b.example/2", Published: at(0)},
		{ID: "3", FeedURL: "https://f2/rss", Title: "Opinion: Compute thresholds are the wrong tool", Link: "https://c.example/3", Published: at(0),
			Summary: strings.Repeat("A longer summary. ", 10)},
		{ID: "4", FeedURL: "https://f2/rss", Title: "Chips, subsidies and the grid", Link: "https://d.example/4", Published: at(1)},
		{ID: "5", FeedURL: "https://f3/rss", Title: "[기고] 인공지능 기본법, 무엇을 규제하나", Link: "http://www.b.example/2/?utm_source=x", Published: at(0)},
		{ID: "6", FeedURL: "https://f3/rss", Title: "Data centres and water", Link: "https://e.example/6", Published: at(2)},
	}
	kept, dropped := Dedupe(in)
	// 3 is fuller than 1, so it stands for that story; kept order is input order.
	if got, want := idsOf(kept), "2,3,4,6"; got != want {
		t.Errorf("kept %s, want %s", got, want)
	}
	got := map[string]string{}
	for _, d := range dropped {
		got[d.Dropped.ID] = d.Kept.ID
		if d.Reason == "" {
			t.Errorf("dropped %s has no reason", d.Dropped.ID)
		}
	}
	if got["1"] != "3" || got["5"] != "2" || len(got) != 2 {
		t.Errorf("dropped -> kept = %v, want map[1:3 5:2]", got)
	}
}

func TestDedupeEmpty(t *testing.T) {
	kept, dropped := Dedupe(nil)
	if len(kept) != 0 || len(dropped) != 0 {
		t.Errorf("Dedupe(nil) = %v, %v", kept, dropped)
	}
}

func TestEditDistanceWithin(t *testing.T) {
	tests := []struct {
		a, b string
		k    int
		want bool
	}{
		{"kitten", "sitting", 3, true},
		{"kitten", "sitting", 2, false},
		{"abc", "abc", 0, true},
		{"abc", "abd", 0, false},
		{"abcdef", "abdef", 1, true},
		{"abcdef", "abcdefgh", 1, false},
		{"인공지능기본법은", "인공지능기본법이", 1, true},
		{"", "a", 1, true},
		{"", "ab", 1, false},
	}
	for _, tt := range tests {
		if got := editDistanceWithin([]rune(tt.a), []rune(tt.b), tt.k); got != tt.want {
			t.Errorf("editDistanceWithin(%q, %q, %d) = %v, want %v", tt.a, tt.b, tt.k, got, tt.want)
		}
	}
}

// FuzzEditDistanceWithin checks the banded, trimmed edit distance against
// the textbook full-table one.
func FuzzEditDistanceWithin(f *testing.F) {
	f.Add("인공지능 기본법은", "인공지능 기본법이", 1)
	f.Add("kitten", "sitting", 2)
	f.Add("", "ab", 2)
	f.Fuzz(func(t *testing.T, a, b string, k int) {
		k = 1 + abs(k)%3
		ra, rb := []rune(a), []rune(b)
		if len(ra) > 40 || len(rb) > 40 {
			return
		}
		want := naiveLevenshtein(ra, rb) <= k
		if got := editDistanceWithin(ra, rb, k); got != want {
			t.Fatalf("editDistanceWithin(%q, %q, %d) = %v; full table says distance %d", a, b, k, got, naiveLevenshtein(ra, rb))
		}
	})
}

func naiveLevenshtein(a, b []rune) int {
	d := make([][]int, len(a)+1)
	for i := range d {
		d[i] = make([]int, len(b)+1)
		d[i][0] = i
	}
	for j := range d[0] {
		d[0][j] = j
	}
	for i := 1; i <= len(a); i++ {
		for j := 1; j <= len(b); j++ {
			c := 1
			if a[i-1] == b[j-1] {
				c = 0
			}
			d[i][j] = min(d[i-1][j]+1, d[i][j-1]+1, d[i-1][j-1]+c)
		}
	}
	return d[len(a)][len(b)]
}
