package digest

import (
	"encoding/json"
	"slices"
	"strings"
	"testing"
	"time"
)

// numberKeys are the amounts and days stories read in text published at
// pub, as "n:value" and "d:month-day".
func numberKeys(text string, pub time.Time) []string {
	s := storyText(text)
	var out []string
	numbersAndDates(s, tokenize(s), pub, func(kind byte, key string) {
		out = append(out, string(kind)+":"+key)
	})
	slices.Sort(out)
	return slices.Compact(out)
}

var kst = time.FixedZone("KST", 9*3600)

// Thursday 19 November 2026, 09:00 in Seoul.
var pubThu = time.Date(2026, 11, 19, 9, 0, 0, 0, kst)

// Amounts, counts and days written the ways Korean and English news write
// them read as one key, so an article in one language meets the other.
func TestStoryNumbersAndDates(t *testing.T) {
	cases := []struct {
		name  string
		forms []string
		want  []string
	}{
		{"won in trillions", []string{"₩9.4 trillion", "9.4 trillion won", "9.4조 원", "9조4000억 원", "9조 4천억 원", "9조 4000억원"}, []string{"n:9.4e+12"}},
		{"dollars in billions", []string{"$6.5 billion", "US$6.5bn", "65억 달러"}, []string{"n:6.5e+09"}},
		{"yen", []string{"¥1.2 trillion", "1.2 trillion yen", "1조2000억 엔", "1.2조엔"}, []string{"n:1.2e+12"}},
		{"a count with a unit", []string{"4,000 GPUs", "4000장", "4,000-GPU threshold", "GPU 4000장 이상"}, []string{"n:4000"}},
		{"Korean groups of four digits", []string{"58,000 officials", "5만8000명", "5만 8000명"}, []string{"n:5.8e+04"}},
		{"billions as 억", []string{"427 billion won", "4270억 원", "4,270억"}, []string{"n:4.27e+11"}},
		{"a model size", []string{"72B", "72 billion parameters", "720억 개"}, []string{"n:7.2e+10"}},
		{"a share", []string{"14.2%", "14.2 per cent", "14.2퍼센트"}, []string{"n:14.2"}},
		{"a day with its month", []string{"Nov 18", "November 18", "18 November", "Nov. 18", "11월 18일", "11월18일"}, []string{"d:11-18"}},
		// Published on Thursday the 19th: "Wednesday" and "18일" are the day before.
		{"a day by its weekday or alone", []string{"on Wednesday", "18일 발표했다", "18일(현지시간)"}, []string{"d:11-18"}},
		{"a day later than publication is last month's", []string{"25일"}, []string{"d:10-25"}},
		{"a year", []string{"2027", "2027년"}, []string{"n:2027"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			for _, f := range c.forms {
				if got := numberKeys(f, pubThu); !slices.Equal(got, c.want) {
					t.Errorf("%q reads %q, want %q", f, got, c.want)
				}
			}
		})
	}
	// What is not an amount stays out: small counts, months, the digits
	// of a name, a number that is part of a date.
	for _, text := range []string{"HBM4E", "7 models", "10월까지", "4월부터", "Maru-R2", "6종"} {
		if got := numberKeys(text, pubThu); len(got) != 0 {
			t.Errorf("%q reads %q, want nothing", text, got)
		}
	}
}

// Places, bodies and terms of the bilingual table meet across languages;
// the longest form wins, and capitals matter where they should.
func TestStoryAliases(t *testing.T) {
	s := NewStories("ko", [][]string{{"누리봇", "Acme Robotics"}})
	keys := func(text string) []string {
		st := storyText(text)
		var out []string
		s.aliases.match(st, tokenize(st), func(kind byte, key string) {
			out = append(out, string(kind)+key)
		})
		slices.Sort(out)
		return slices.Compact(out)
	}
	same := [][]string{
		{"경찰청은", "the National Police Agency said"},
		{"공정위가", "공정거래위원회는", "the Korea Fair Trade Commission (KFTC)"},
		{"美 상무부", "the US Commerce Department", "the U.S. Commerce Department"},
		{"관세를", "tariffs"},
		{"수출통제는", "export controls"},
		{"누리봇이", "Acme Robotics"},
	}
	for _, forms := range same {
		want := keys(forms[0])
		if len(want) == 0 {
			t.Errorf("%q matches nothing", forms[0])
			continue
		}
		for _, f := range forms[1:] {
			if got := keys(f); !isSubset(want, got) {
				t.Errorf("%q gives %q, %q gives %q: want the same", forms[0], want, f, got)
			}
		}
	}
	for _, c := range []struct{ a, b string }{
		{"인도네시아", "인도"},           // the longest form: Indonesia is not India
		{"ask us about it", "US"}, // capitals: "us" is not the United States
		{"e-commerce sites", "Commerce"},
		{"Daily Korea news", "Daily Korea news. Brazil"},
	} {
		if got, other := keys(c.a), keys(c.b); isSubset(other, got) && len(other) > 0 && c.a != c.b {
			t.Errorf("%q gives %q, which holds %q's %q", c.a, got, c.b, other)
		}
	}
}

func isSubset(small, big []string) bool {
	for _, s := range small {
		if !slices.Contains(big, s) {
			return false
		}
	}
	return true
}

// storyArticle is an article of a test week; feed names the outlet.
func storyArticle(id, feed string, day, hour int, title, summary string) Article {
	p := time.Date(2026, 11, day, hour, 0, 0, 0, kst)
	return Article{ID: id, FeedURL: "https://" + feed + ".example/feed", FeedName: feed, Title: title, Summary: summary,
		Link: "https://" + feed + ".example/" + id, Published: &p}
}

// storyIDs runs story finding on arts and returns each story as the ids of
// its articles, joined by "+".
func storyIDs(s *Stories, arts []Article) []string {
	var out []string
	for _, g := range s.find(arts) {
		var ids []string
		for _, i := range g {
			ids = append(ids, arts[i].ID)
		}
		slices.Sort(ids)
		out = append(out, strings.Join(ids, "+"))
	}
	slices.Sort(out)
	return out
}

// backgroundWeek is the rest of a week: articles about other things, so
// that what a story's articles share is rare, as in a real week.
func backgroundWeek() []Article {
	return []Article{
		storyArticle("b1", "ledger", 16, 9, "Cloud GPU rental prices fall 12% as new capacity comes online",
			"On-demand prices for top-tier GPU instances fell 12% between July and October across the providers we track. Smaller clouds are cutting hardest."),
		storyArticle("b2", "policyreview", 17, 9, "Nine frontier safety frameworks compared",
			"We scored the published safety frameworks of nine AI developers on 22 criteria, from capability thresholds to who can pause a deployment."),
		storyArticle("b3", "aitime", 17, 10, "생성형 AI 표시 가이드라인 개정안 공개",
			"과학기술정보통신부가 생성형 AI 결과물 표시 가이드라인 개정안을 공개했다. 업계 의견을 받은 뒤 내년 1월 확정한다."),
		storyArticle("b4", "nextdaily", 18, 8, "보험사 콜센터에 AI 상담 에이전트 확산",
			"주요 손해보험사들이 콜센터에 AI 상담 에이전트를 도입하면서 단순 문의의 절반 이상을 자동으로 처리하고 있다."),
		storyArticle("b5", "harbor", 18, 12, "Universities rethink take-home essays as AI detection disputes mount",
			"A growing number of universities are dropping AI-detection software after students challenged false accusations of cheating."),
		storyArticle("b6", "techinsight", 20, 9, "AI 데이터센터 전력 수요 2030년 6GW",
			"국내에서 계획된 AI 데이터센터의 전력 수요는 약 6GW로, 대부분이 수도권에 몰려 있다. 송전망 확충은 2030년 이후에나 효과를 낼 전망이다."),
	}
}

// Two events on one topic in one week stay two: one firm's new HBM line
// and a rival's HBM yields; two different AI scams. Each event's Korean
// and English coverage is one story.
func TestStoriesTwoEventsOnOneTopicStayApart(t *testing.T) {
	arts := append(backgroundWeek(),
		storyArticle("line-en", "ledger", 17, 8, "Daon Memory to build ₩5.2 trillion HBM line in Pyeongtaek",
			"Daon Memory said on Tuesday it will invest 5.2 trillion won, about $3.6 billion, in a new HBM4 line at its Pyeongtaek campus, with mass production planned for the first half of 2028."),
		storyArticle("line-ko", "techinsight", 17, 15, "다온메모리, 평택에 5조2000억 HBM4 라인… 2028년 상반기 양산",
			"다온메모리가 평택 캠퍼스에 5조2000억 원을 들여 HBM4 전용 라인을 짓는다고 17일 밝혔다. 2028년 상반기부터 양산한다."),
		storyArticle("yield-en", "harbor", 18, 10, "Gyeol Semiconductor says HBM3E yields reached 75%",
			"Gyeol Semiconductor told analysts on Wednesday that yields on its 12-high HBM3E stacks have passed 75%, up from about 55% in the spring, and that it expects a second accelerator customer by March."),
		storyArticle("yield-ko", "nextdaily", 18, 16, "결반도체 HBM3E 수율 75% 돌파… 두 번째 고객사 3월 확보 목표",
			"결반도체가 18일 실적 설명회에서 12단 HBM3E 수율이 75%를 넘었다고 밝혔다. 봄에는 55% 안팎이었다. 회사는 3월까지 두 번째 가속기 고객사 인증을 마칠 계획이다."),
		storyArticle("scam-voice", "meridian", 19, 7, "Voice-clone scams surge as banks urge families to agree on a safe word",
			"Banks reported a sharp rise in fraud in which callers use AI-generated copies of relatives' voices to demand urgent transfers, with older customers most often targeted."),
		storyArticle("scam-ads", "aitime", 20, 11, "유명인 딥페이크 투자 광고 사기 피해 300억… 금감원 소비자경보",
			"금융감독원이 유명인의 얼굴과 목소리를 합성한 딥페이크 투자 광고로 올해 300억 원의 피해가 났다며 소비자경보를 발령했다."),
	)
	got := storyIDs(NewStories("ko", nil), arts)
	want := []string{"line-en+line-ko", "yield-en+yield-ko"}
	if !slices.Equal(got, want) {
		t.Errorf("stories %q, want %q", got, want)
	}
}

// A Korean and an English article on one event are one story though they
// share no word: the amounts, the date, the acronyms, the body (from the
// alias table) and the company's name (romanized) are the same.
func TestStoriesJoinKoreanAndEnglish(t *testing.T) {
	arts := append(backgroundWeek(),
		storyArticle("en", "harbor", 18, 21, "Korea's antitrust regulator fines Sora Platform ₩12.8 billion over self-preferencing",
			"The Korea Fair Trade Commission said on Wednesday it would fine Sora Platform 12.8 billion won for ranking its own AI shopping agent above rivals, and ordered it to open its API to 14 competing services by March."),
		storyArticle("ko", "aitime", 18, 11, "공정위, 소라플랫폼에 과징금 128억… AI 쇼핑 에이전트 자사 우대",
			"공정거래위원회가 자사 AI 쇼핑 에이전트를 경쟁 서비스보다 우선 노출한 소라플랫폼에 과징금 128억 원을 부과한다고 18일 밝혔다. 14개 경쟁 서비스에 API를 3월까지 개방하라는 시정명령도 내렸다."),
	)
	if got, want := storyIDs(NewStories("ko", nil), arts), []string{"en+ko"}; !slices.Equal(got, want) {
		t.Errorf("stories %q, want %q", got, want)
	}
}

// A weekly round-up touches several stories; it joins none of them.
func TestStoriesRoundupStandsAlone(t *testing.T) {
	arts := append(backgroundWeek(),
		storyArticle("budget-1", "aitime", 17, 9, "국회 과방위, 내년 AI 예산 3180억 증액… GPU 확보에 1650억",
			"국회 과학기술정보방송통신위원회 예산소위가 내년 AI 예산을 3180억 원 순증했다. GPU 확보 예산이 1650억 원으로 가장 많이 늘었다."),
		storyArticle("budget-2", "nextdaily", 17, 15, "AI 예산 3180억 늘린 과방위… 예결위 문턱 넘을까",
			"과방위 예산소위가 AI 예산을 3180억 원 늘려 예결위로 넘겼다. GPU 확보 1650억 원이 가장 크다. 예결위에서 일부가 조정될 수 있다."),
		storyArticle("rule-1", "aitime", 18, 10, "美 상무부, 클라우드 GPU 2만장 이상 임차 외국 고객 신원확인 의무화",
			"미국 상무부 산업안보국(BIS)이 GPU 2만 장 이상을 빌리는 외국 고객의 신원확인을 클라우드 기업에 의무화하는 규칙을 발표했다. 규칙은 2027년 3월 1일 시행된다."),
		storyArticle("rule-2", "techinsight", 18, 17, "美 클라우드 신원확인 규칙, 국내 기업 영향은",
			"미국 상무부가 GPU 2만 장 이상 임차 고객의 신원확인 규칙을 내놓으면서 미국 클라우드를 쓰는 국내 AI 기업들이 영향 분석에 나섰다. 시행일은 2027년 3월 1일이다."),
		storyArticle("deal-1", "aitime", 19, 9, "한-사우디, 리야드에 AI 데이터센터 MOU… 1단계 300MW",
			"한국과 사우디아라비아가 리야드에서 AI 데이터센터 협력 양해각서를 체결했다. 국내 컨소시엄이 1단계 300MW를 맡는다."),
		storyArticle("deal-2", "techinsight", 19, 14, "사우디 리야드 AI 데이터센터 300MW, 국내 컨소시엄 수주",
			"사우디아라비아 리야드 AI 데이터센터 1단계 300MW 사업을 국내 컨소시엄이 맡는다. 양해각서는 19일 체결됐다."),
		storyArticle("roundup", "nextdaily", 21, 8, "[주간 AI 정책] 예산 3180억 증액, 美 클라우드 신원확인, 사우디 MOU",
			"이번 주 AI 정책 뉴스를 정리했다. 과방위가 AI 예산을 3180억 원 순증했고 GPU 확보에 1650억 원을 얹었다. 미국 상무부는 GPU 2만 장 이상 임차 고객 신원확인 규칙을 내놨다. 한-사우디는 리야드 AI 데이터센터 300MW 양해각서를 맺었다."),
	)
	got := storyIDs(NewStories("ko", nil), arts)
	want := []string{"budget-1+budget-2", "deal-1+deal-2", "rule-1+rule-2"}
	if !slices.Equal(got, want) {
		t.Errorf("stories %q, want %q", got, want)
	}
}

// config.yaml's aliases join what the shipped table cannot know: here a
// company whose Korean and English names share no sound.
func TestStoriesConfigAliases(t *testing.T) {
	arts := append(backgroundWeek(),
		storyArticle("en", "harbor", 18, 21, "Acme Robotics opens humanoid plant",
			"Acme Robotics opened a humanoid robot plant on Wednesday and said it would hire engineers for its new assembly lines."),
		storyArticle("ko", "aitime", 18, 11, "누리봇, 휴머노이드 공장 가동",
			"누리봇이 휴머노이드 로봇 공장을 18일 가동했다. 새 조립 라인에 엔지니어를 채용한다."),
	)
	if got := storyIDs(NewStories("ko", nil), arts); len(got) != 0 {
		t.Fatalf("without the alias: stories %q, want none (the test needs a pair only the alias joins)", got)
	}
	if got, want := storyIDs(NewStories("ko", [][]string{{"누리봇", "Acme Robotics"}}), arts), []string{"en+ko"}; !slices.Equal(got, want) {
		t.Errorf("with the alias: stories %q, want %q", got, want)
	}
}

// Hangul names meet their romanized spelling: 한울 is Hanul.
func TestRomanization(t *testing.T) {
	for _, c := range []struct{ hangul, latin string }{
		{"한울반도체", "Hanul"}, {"청주", "Cheongju"}, {"경기도", "Gyeonggi"}, {"부산", "Pusan"}, {"대구", "Taegu"},
	} {
		key := plainName(token{text: c.latin, kind: 'l'}, false)
		if got := romanMatch(c.hangul, map[string]bool{key: true}); got != key {
			t.Errorf("%s does not meet %s (key %q, got %q)", c.hangul, c.latin, key, got)
		}
	}
	if got := romanMatch("한국", map[string]bool{plainName(token{text: "Hanoi", kind: 'l'}, false): true}); got != "" {
		t.Errorf("한국 meets Hanoi: %q", got)
	}
}

// storyWeek is a week in which three outlets cover one fine (Korean and
// English), two outlets one chip plant, and others write about other
// things, newer.
func storyWeek() ([]Article, map[string]Feed) {
	arts := append(backgroundWeek(),
		storyArticle("fine-ko", "aitime", 18, 11, "공정위, 소라플랫폼에 과징금 128억… AI 쇼핑 에이전트 자사 우대",
			"공정거래위원회가 자사 AI 쇼핑 에이전트를 경쟁 서비스보다 우선 노출한 소라플랫폼에 과징금 128억 원을 부과한다고 18일 밝혔다. 14개 경쟁 서비스에 API를 3월까지 개방하라는 시정명령도 내렸다."),
		storyArticle("fine-en", "harbor", 18, 21, "Korea's antitrust regulator fines Sora Platform ₩12.8 billion over self-preferencing",
			"The Korea Fair Trade Commission said on Wednesday it would fine Sora Platform 12.8 billion won for ranking its own AI shopping agent above rivals, and ordered it to open its API to 14 competing services by March."),
		storyArticle("fine-en2", "ledger", 19, 7, "Sora Platform fine: what the KFTC's ₩12.8 billion penalty means for AI agents",
			"The Korea Fair Trade Commission's 12.8 billion won fine on Sora Platform is the first against an AI shopping agent. Opening the API to 14 rivals by March matters more than the money."),
		storyArticle("plant-en", "harbor", 17, 9, "Daon Memory to build ₩5.2 trillion semiconductor line in Pyeongtaek",
			"Daon Memory said on Tuesday it will invest 5.2 trillion won in a new semiconductor line at its Pyeongtaek campus, with mass production planned for the first half of 2028."),
		storyArticle("plant-ko", "techinsight", 17, 15, "다온메모리, 평택에 5조2000억 반도체 라인… 2028년 상반기 양산",
			"다온메모리가 평택 캠퍼스에 5조2000억 원을 들여 반도체 라인을 짓는다고 17일 밝혔다. 2028년 상반기부터 양산한다."),
	)
	feeds := map[string]Feed{}
	for _, a := range arts {
		feeds[a.FeedURL] = Feed{URL: a.FeedURL, Name: a.FeedName}
	}
	return arts, feeds
}

// Several outlets covering one event are one entry: the lead in the
// digest's language, the others under it in Also; the entry's themes are
// the union; stories covered by more outlets come first in a section.
func TestGroupJoinsStories(t *testing.T) {
	arts, feeds := storyWeek()
	themes := []Theme{
		{ID: "compute", Name: "Compute", Keywords: []string{"반도체", "semiconductor", "GPU", "HBM", "데이터센터"}},
		{ID: "regulation", Name: "Regulation", Keywords: []string{"공정위", "과징금", "antitrust", "fine"}},
		{ID: "agents", Name: "Agents", Keywords: []string{"에이전트", "agent", "agents"}},
	}
	g := NewGrouper(themes, testOther, nil).WithStories(NewStories("ko", nil))
	sections, _ := g.Group(arts, feeds)
	entries := map[string]Article{}
	seen := map[string]int{}
	for _, s := range sections {
		for _, a := range s.Articles {
			entries[a.ID] = a
			seen[a.ID]++
			for _, o := range a.Also {
				seen[o.ID]++
			}
		}
	}
	for _, a := range arts {
		if seen[a.ID] != 1 {
			t.Errorf("article %s shown %d times, want once", a.ID, seen[a.ID])
		}
	}
	fine, ok := entries["fine-ko"]
	if !ok {
		t.Fatalf("the Korean article does not lead the fine's story (ko digest); entries %v", mapsKeys(entries))
	}
	var also []string
	for _, o := range fine.Also {
		also = append(also, o.ID)
	}
	if want := []string{"fine-en", "fine-en2"}; !slices.Equal(also, want) {
		t.Errorf("the fine's story lists %v, want %v (earliest first)", also, want)
	}
	// fine-en matched agents only through "agent"; the Korean lead matched
	// regulation and agents: the union, the section's theme first.
	if want := []string{"regulation", "agents"}; !slices.Equal(fine.Themes, want) {
		t.Errorf("the fine's themes %v, want %v", fine.Themes, want)
	}
	if len(entries["plant-ko"].Also) != 1 || entries["plant-ko"].Also[0].ID != "plant-en" {
		t.Errorf("the plant's story: %+v", entries["plant-ko"])
	}
	// In compute, the plant (two outlets) comes before newer single
	// articles.
	for _, s := range sections {
		if s.ID == "compute" && s.Articles[0].ID != "plant-ko" {
			t.Errorf("compute starts with %s, want the story covered by two outlets", s.Articles[0].ID)
		}
	}

	// An English digest leads with an English article; of two, the one
	// from the feed of higher weight, though it came later.
	heavy := feeds["https://ledger.example/feed"]
	heavy.Weight = 2
	feeds["https://ledger.example/feed"] = heavy
	g = NewGrouper(themes, testOther, nil).WithStories(NewStories("en", nil))
	sections, _ = g.Group(arts, feeds)
	found := false
	for _, s := range sections {
		for _, a := range s.Articles {
			if a.ID == "fine-en2" {
				found = true
				if len(a.Also) != 2 || a.Also[0].ID != "fine-en" || a.Also[1].ID != "fine-ko" {
					t.Errorf("English lead's also: %v", a.Also)
				}
			}
		}
	}
	if !found {
		t.Errorf("the weight-2 feed's English article does not lead the story in an English digest")
	}
}

func mapsKeys(m map[string]Article) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// max caps a section's entries; a story cut whole lists every one of its
// articles under dropped.
func TestGroupMaxCutsWholeStories(t *testing.T) {
	arts, feeds := storyWeek()
	themes := []Theme{{ID: "all", Name: "All", Keywords: []string{"AI", "반도체", "semiconductor", "공정위", "antitrust", "GPU", "데이터센터"}, Max: 1}}
	g := NewGrouper(themes, testOther, nil).WithStories(NewStories("ko", nil))
	sections, dropped := g.Group(arts, feeds)
	if len(sections) == 0 || len(sections[0].Articles) != 1 || sections[0].Articles[0].ID != "fine-ko" {
		t.Fatalf("sections %+v, want the three-outlet story alone", sections)
	}
	cut := map[string]string{}
	for _, d := range dropped {
		cut[d.Link] = d.Reason
	}
	for _, id := range []string{"plant-ko", "plant-en"} {
		link := ""
		for _, a := range arts {
			if a.ID == id {
				link = a.Link
			}
		}
		if !strings.Contains(cut[link], "max of 1") {
			t.Errorf("%s: dropped %q, want the section's max", id, cut[link])
		}
	}
}

// In the JSON every entry carries also: the other outlets' articles, with
// title, link, feed and date; [] when it leads no story.
func TestIssueJSONAlso(t *testing.T) {
	arts, feeds := storyWeek()
	g := NewGrouper([]Theme{{ID: "chips", Name: "Chips", Keywords: []string{"반도체", "semiconductor"}}}, testOther, nil).WithStories(NewStories("ko", nil))
	sections, _ := g.Group(arts, feeds)
	b, err := json.Marshal(Issue{ID: "2026-W47", Sections: sections})
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Sections []struct {
			Articles []struct {
				Link string `json:"link"`
				Also []struct {
					Title, Link, Feed string
					Published         *time.Time
				} `json:"also"`
			} `json:"articles"`
		} `json:"sections"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(b), `"also":[]`) {
		t.Errorf("an entry without a story lacks \"also\":[]: %s", b)
	}
	found := false
	for _, s := range doc.Sections {
		for _, a := range s.Articles {
			if a.Link == "https://techinsight.example/plant-ko" {
				found = true
				if len(a.Also) != 1 {
					t.Fatalf("also %+v", a.Also)
				}
				o := a.Also[0]
				if o.Link != "https://harbor.example/plant-en" || o.Feed != "harbor" || !strings.HasPrefix(o.Title, "Daon Memory") || o.Published == nil {
					t.Errorf("also %+v", o)
				}
			}
		}
	}
	if !found {
		t.Errorf("no entry for the plant's Korean article: %s", b)
	}
}

// A story is other outlets' coverage within a week: an outlet's own
// follow-up, or a piece on the same figures a month later, is not.
func TestStoriesNeedTwoOutletsWithinAWeek(t *testing.T) {
	en := storyArticle("en", "harbor", 18, 21, "Korea's antitrust regulator fines Sora Platform ₩12.8 billion over self-preferencing",
		"The Korea Fair Trade Commission said on Wednesday it would fine Sora Platform 12.8 billion won for ranking its own AI shopping agent above rivals, and ordered it to open its API to 14 competing services by March.")
	ko := storyArticle("ko", "aitime", 18, 11, "공정위, 소라플랫폼에 과징금 128억… AI 쇼핑 에이전트 자사 우대",
		"공정거래위원회가 자사 AI 쇼핑 에이전트를 경쟁 서비스보다 우선 노출한 소라플랫폼에 과징금 128억 원을 부과한다고 18일 밝혔다. 14개 경쟁 서비스에 API를 3월까지 개방하라는 시정명령도 내렸다.")
	s := NewStories("ko", nil)
	if got := storyIDs(s, append(backgroundWeek(), en, ko)); !slices.Equal(got, []string{"en+ko"}) {
		t.Fatalf("two outlets the same day: stories %q, want [en+ko]", got)
	}
	sameOutlet := ko
	sameOutlet.FeedURL, sameOutlet.FeedName = en.FeedURL, en.FeedName
	if got := storyIDs(s, append(backgroundWeek(), en, sameOutlet)); len(got) != 0 {
		t.Errorf("one outlet's two articles: stories %q, want none", got)
	}
	later := ko
	p := ko.Published.AddDate(0, 0, 10)
	later.Published = &p
	if got := storyIDs(s, append(backgroundWeek(), en, later)); len(got) != 0 {
		t.Errorf("ten days apart: stories %q, want none", got)
	}
}

// A reader who chose themes gets a story when any of its articles matched
// one of them: the whole entry, in the story's section, with every
// outlet's coverage. (Here two of the three articles matched only agents,
// so the story sits in agents; the Korean lead matched regulation.)
func TestIssueForKeepsWholeStories(t *testing.T) {
	arts, feeds := storyWeek()
	themes := []Theme{
		{ID: "regulation", Name: "Regulation", Keywords: []string{"공정위", "과징금"}},
		{ID: "agents", Name: "Agents", Keywords: []string{"shopping agent"}},
	}
	g := NewGrouper(themes, testOther, nil).WithStories(NewStories("ko", nil))
	sections, _ := g.Group(arts, feeds)
	got := Issue{Sections: sections}.For([]string{"regulation"})
	if len(got.Sections) != 1 || got.Sections[0].ID != "agents" || len(got.Sections[0].Articles) != 1 {
		t.Fatalf("a regulation reader gets %d sections, want the fine's story in agents: %+v", len(got.Sections), got.Sections)
	}
	if a := got.Sections[0].Articles[0]; a.ID != "fine-ko" || len(a.Also) != 2 || !slices.Equal(a.Themes, []string{"agents", "regulation"}) {
		t.Errorf("a regulation reader gets %s (themes %v) with %d others, want fine-ko [agents regulation] with its 2 others", a.ID, a.Themes, len(a.Also))
	}
}

// The articles an issue mailed, which never come again, include every
// story's other outlets, not only its lead.
func TestIssueArticlesIncludeStories(t *testing.T) {
	arts, feeds := storyWeek()
	g := NewGrouper(nil, testOther, nil).WithStories(NewStories("ko", nil))
	sections, _ := g.Group(arts, feeds)
	var ids []string
	for _, a := range (Issue{Sections: sections}).Articles() {
		ids = append(ids, a.ID)
	}
	slices.Sort(ids)
	var want []string
	for _, a := range arts {
		want = append(want, a.ID)
	}
	slices.Sort(want)
	if !slices.Equal(ids, want) {
		t.Errorf("Issue.Articles() = %v, want every article %v", ids, want)
	}
}
