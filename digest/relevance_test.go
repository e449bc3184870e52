package digest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
)

var testRelevance = []string{"AI", "인공지능", "artificial intelligence", "LLM", "생성형"}

// A filtered feed's article is in the digest only when it is about AI.
// Theme keywords do not count; words that merely contain "ai" do not count.
func TestAboutAI(t *testing.T) {
	themes := []Theme{
		{ID: "regulation", Name: "Regulation", Keywords: []string{"규제", "regulation"}},
		{ID: "strategy", Name: "Strategy", Keywords: []string{"예산", "budget"}},
	}
	g := NewGrouper(themes, testOther, testRelevance)
	long := strings.Repeat("정부는 공급 확대와 세제 정비를 서둘러야 한다. ", 60) // ~1,600 runes
	cases := []struct {
		name, title, summary string
		categories           []string
		want                 bool
	}{
		{name: "a theme keyword alone: a housing column about 규제", title: "[사설] 대출 규제 또 땜질, 집값 잡을 대책 내놔야", summary: "올해만 세 번째 대출 규제다.", want: false},
		{name: "a theme keyword alone: a budget editorial", title: "[사설] 여야, 예산 심사를 볼모로 삼지 말라", summary: "예산은 민생과 직결된다.", want: false},
		{name: "relevance word in the title", title: "AI 예산 4270억 증액", want: true},
		{name: "Korean relevance word with a particle", title: "인공지능은 얼마나 안전한가", want: true},
		{name: "acronym with a Korean particle", title: "[칼럼] 등대지기의 고민", summary: "AI가 내놓은 결과를 점검해야 한다.", want: true},
		{name: "acronym glued to a Korean compound", title: "AI안전연구소, 첫 평가 결과", want: true},
		{name: "said, Dubai, Taiwan, maintain do not contain AI", title: "Dubai airport said to maintain record pace; Taiwan prices rise", summary: "The operator said it would maintain its plans in Taiwan and Dubai.", want: false},
		{name: "AIDS and the name Ai are not AI", title: "Ai Weiwei on AIDS funding", summary: "The artist Ai said the fund is small.", want: false},
		{name: "OpenAI-style compounds do not contain the word AI", title: "Xaiomi retail update", summary: "Plain news.", want: false},
		{name: "AI in the summary of a short piece", title: "[칼럼] 약속의 유통기한", summary: "금융 노사가 AI 도입을 이유로 구조조정은 없다고 합의했다.", want: true},
		{name: "AI-generated counts", title: "Voice-clone scams surge", summary: "Callers use AI-generated copies of voices.", want: true},
		{name: "plural acronym", title: "Regulators weigh rules", summary: "Rules for LLMs are coming.", want: true},
		{name: "full-width acronym", title: "ＡＩ 기본법 시행", want: true},
		{name: "lower-case ai is not the acronym", title: "ai weiwei show", want: false},
		{name: "one passing mention in a long piece is not enough", title: "[사설] 주거 로드맵을 내놔야", summary: long + " AI 시대라 하지만 집값이 먼저다.", want: false},
		{name: "a long piece that keeps coming back to AI", title: "[칼럼] 긴 글", summary: "AI 이야기. " + long + " AI와 일자리. 인공지능 전환.", want: true},
		{name: "relevance word in the categories", title: "Weekly notes", categories: []string{"Artificial Intelligence"}, want: true},
		{name: "supporting words together: GPUs for rent", title: "클라우드 GPU 임차 외국 고객 신원확인", summary: "첨단 GPU 4000장 이상을 임차하는 고객이 대상이다.", want: true},
		{name: "one supporting word alone: a data centre outage", title: "Email outage at a hosting provider", summary: "A failed upgrade at one of its data centres cut email.", want: false},
		{name: "chips in general are not AI", title: "[사설] 반도체 특별법, 근로시간 예외 논란", summary: "반도체 업계는 연구개발 인력의 근로시간 예외를 요구한다. 반도체 경쟁력이 걸렸다.", want: false},
	}
	feeds := map[string]Feed{"op": {URL: "op", Filter: true}}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			sections, dropped := g.Group([]Article{{ID: "1", FeedURL: "op", Title: c.title, Summary: c.summary, Categories: c.categories, Published: day(20)}}, feeds)
			if got := len(sections) == 1; got != c.want {
				t.Errorf("%q / %q kept: %v, want %v (dropped %+v)", c.title, c.summary, got, c.want, dropped)
			}
			if !c.want && (len(dropped) != 1 || dropped[0].Reason != ReasonNotRelevant) {
				t.Errorf("dropped %+v, want the article as %q", dropped, ReasonNotRelevant)
			}
		})
	}
}

// What a filtered feed leaves out is under dropped with the reason, even
// when a theme keyword matched it; what it keeps is in its theme.
func TestGroupFiltersByAINotThemes(t *testing.T) {
	themes := []Theme{{ID: "regulation", Name: "Regulation", Keywords: []string{"규제"}}}
	g := NewGrouper(themes, testOther, testRelevance)
	feeds := map[string]Feed{"op": {URL: "op", Filter: true}}
	sections, dropped := g.Group([]Article{
		{ID: "h", FeedURL: "op", Title: "[사설] 대출 규제 또 땜질", Published: day(20)},
		{ID: "a", FeedURL: "op", Title: "AI 규제 논의 본격화", Published: day(21)},
	}, feeds)
	if len(sections) != 1 || len(sections[0].Articles) != 1 || sections[0].Articles[0].ID != "a" {
		t.Errorf("sections %+v, want only the AI article, in regulation", sections)
	}
	if len(dropped) != 1 || dropped[0].Title != "[사설] 대출 규제 또 땜질" || dropped[0].Reason != ReasonNotRelevant {
		t.Errorf("dropped %+v, want the housing column as %q", dropped, ReasonNotRelevant)
	}
}

// English keywords match inflected and derived forms; a word that only
// begins like a keyword does not.
func TestMatchInflections(t *testing.T) {
	themes := []Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"chipmaker", "data center", "compute"}},
		{ID: "regulation", Name: "Regulation", Keywords: []string{"regulator", "law", "bill", "AI Act"}},
		{ID: "geopolitics", Name: "Geopolitics", Keywords: []string{"export", "trade"}},
		{ID: "agents", Name: "Agents", Keywords: []string{"startup", "red team"}},
	}
	g := NewGrouper(themes, testOther, nil)
	cases := []struct{ title, want string }{
		{"Regulators circle", "regulation"},
		{"Regulating models", "regulation"},
		{"New regulation lands", "regulation"},
		{"Who regulated it", "regulation"},
		{"Chipmakers rally", "compute"},
		{"Korean chipmaker invests", "compute"},
		{"Exporting servers", "geopolitics"},
		{"Exports jump", "geopolitics"},
		{"Traders and trading desks", "geopolitics"},
		{"New data centers", "compute"},
		{"Computing costs", "compute"},
		{"Laws of the sea", "regulation"},
		{"Two bills pass", "regulation"},
		{"Start-ups pile in", "agents"},
		{"Red-teaming results", "agents"},
		{"What the AI Acts say", "regulation"},
		// Not forms of the keywords.
		{"A billion won", ""},
		{"Lawyers and lawns", ""},
		{"Exporter notes", ""},
		{"Regular season", ""},
	}
	for _, c := range cases {
		got := g.Match(Article{Title: c.title}, "")
		id := ""
		if len(got) > 0 {
			id = got[0].ID
		}
		if id != c.want {
			t.Errorf("Match(%q) = %v, want %q", c.title, got, c.want)
		}
	}
}

func TestStemWord(t *testing.T) {
	same := [][]string{
		{"regulator", "regulators", "regulating", "regulation", "regulated", "regulate", "regulations"},
		{"chipmaker", "chipmakers"},
		{"export", "exporting", "exports", "exported"},
		{"policy", "policies"},
		{"bias", "biases", "biased"},
		{"control", "controls", "controlled", "controlling"},
		{"plan", "planned", "planning", "plans"},
		{"trade", "trades", "trading", "traded"},
	}
	for _, words := range same {
		want := stemWord(words[0])
		for _, w := range words[1:] {
			if got := stemWord(w); got != want {
				t.Errorf("stemWord(%q) = %q, want %q (as %q)", w, got, want, words[0])
			}
		}
	}
	apart := [][2]string{{"bill", "billion"}, {"law", "lawyer"}, {"product", "productivity"}, {"general", "generative"},
		{"work", "workers"}, {"police", "policy"}, {"regular", "regulation"}, {"said", "sad"}}
	for _, p := range apart {
		if stemWord(p[0]) == stemWord(p[1]) {
			t.Errorf("stemWord(%q) = stemWord(%q) = %q, want them apart", p[0], p[1], stemWord(p[0]))
		}
	}
	for _, w := range []string{"hbm4e", "café", "ai", "gpu"} {
		if got := stemWord(w); got != w {
			t.Errorf("stemWord(%q) = %q, want it unchanged", w, got)
		}
	}
}

// Where the keywords are silent, the week's articles decide: an article
// about AI goes where the most similar articles the keywords placed went.
// An article not about AI, or like nothing, stays in the catch-all section.
func TestGroupWeekEvidence(t *testing.T) {
	themes := []Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"HBM", "반도체"}},
		{ID: "society", Name: "Society", Keywords: []string{"일자리", "노동"}},
	}
	g := NewGrouper(themes, testOther, testRelevance)
	arts := []Article{
		{ID: "c1", Title: "HBM 반도체 증설 경쟁", Summary: "메모리 업계가 고대역폭메모리 적층 수율과 패키징 설비에 투자한다.", Published: day(20)},
		{ID: "c2", Title: "반도체 HBM 수출 호조", Summary: "고대역폭메모리 적층 제품의 패키징 수요가 늘었다.", Published: day(21)},
		{ID: "s1", Title: "일자리 노동 전환", Summary: "노사가 직무전환 교육 시간을 합의했다.", Published: day(19)},
		{ID: "s2", Title: "노동 일자리 협약", Summary: "직무전환 교육과 고용 안정에 합의했다.", Published: day(18)},
		// No keyword: its words are those of the compute articles.
		{ID: "x", Title: "AI 가속기, 적층 수율이 관건", Summary: "고대역폭메모리 패키징 설비와 적층 수율 확보가 과제다.", Published: day(22)},
		// No keyword and nothing like the rest.
		{ID: "y", Title: "AI 시대의 날씨", Summary: "맑음.", Published: day(22)},
		// Like the compute articles, but not about AI.
		{ID: "z", Title: "적층 수율 이야기", Summary: "고대역폭메모리 패키징 설비와 적층 수율 확보가 과제다.", Published: day(22)},
	}
	sections, _ := g.Group(arts, nil)
	got := map[string]Article{}
	section := map[string]string{}
	for _, s := range sections {
		for _, a := range s.Articles {
			got[a.ID], section[a.ID] = a, s.ID
		}
	}
	if section["x"] != "compute" || !slices.Equal(got["x"].Themes, []string{"compute"}) {
		t.Errorf("article x in %q with themes %v, want compute (like c1, c2)", section["x"], got["x"].Themes)
	}
	if section["y"] != "other" || section["z"] != "other" {
		t.Errorf("articles y, z in %q, %q, want other", section["y"], section["z"])
	}
}

// Each placement says why, in the issue's JSON: the keywords found and the
// score per theme, or the week's articles the article is like.
func TestWhyExplainsPlacement(t *testing.T) {
	themes := []Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"HBM", "반도체"}},
		{ID: "regulation", Name: "Regulation", Keywords: []string{"규제"}},
	}
	g := NewGrouper(themes, testOther, testRelevance)
	sections, _ := g.Group([]Article{
		{ID: "c1", Title: "HBM 반도체 증설 경쟁", Summary: "고대역폭메모리 적층 수율과 패키징 설비. 규제 완화 요구도.", Published: day(20)},
		{ID: "c2", Title: "반도체 HBM 수출 호조", Summary: "고대역폭메모리 적층 제품의 패키징 수요.", Published: day(21)},
		{ID: "x", Title: "AI 적층 수율이 관건", Summary: "고대역폭메모리 패키징 설비와 적층 수율 확보가 과제다.", Published: day(22)},
	}, nil)
	b, err := json.Marshal(Issue{Sections: sections})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sections []struct {
			Articles []struct {
				Title string                     `json:"title"`
				Why   map[string]json.RawMessage `json:"why"`
			} `json:"articles"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	why := map[string]map[string]string{}
	for _, s := range doc.Sections {
		for _, a := range s.Articles {
			why[a.Title] = map[string]string{}
			for id, w := range a.Why {
				why[a.Title][id] = string(w)
			}
		}
	}
	if got, want := why["HBM 반도체 증설 경쟁"]["compute"], `{"score":6,"terms":["HBM","반도체"]}`; got != want {
		t.Errorf("why of the HBM article, compute: %s, want %s", got, want)
	}
	if got, want := why["HBM 반도체 증설 경쟁"]["regulation"], `{"score":1,"terms":["규제"]}`; got != want {
		t.Errorf("why of the HBM article, regulation: %s, want %s", got, want)
	}
	if got := why["AI 적층 수율이 관건"]["compute"]; !strings.Contains(got, `"terms":[]`) || !strings.Contains(got, `"like":[`) || !strings.Contains(got, "HBM 반도체 증설 경쟁") {
		t.Errorf("why of the article placed by the week: %s, want the articles it is like", got)
	}
}
