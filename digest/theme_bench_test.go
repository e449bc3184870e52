package digest

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// BenchmarkGroup5000: relevance, themes and the week's evidence for 5,000
// articles (far more than a real week), Korean and English, half of them
// from filtered feeds, with eight themes of twenty keywords each.
func BenchmarkGroup5000(b *testing.B) {
	words := []string{"반도체", "규제", "전략", "데이터센터", "교육", "안전", "통상", "예산", "인재", "전력",
		"chips", "agents", "privacy", "labour", "cloud", "models", "exports", "energy", "health", "trust",
		"인공지능은", "AI가", "regulators", "said", "Dubai", "maintains", "start-ups", "GPUs", "노동", "수출통제"}
	var themes []Theme
	for t := range 8 {
		var kws []string
		for k := range 20 {
			kws = append(kws, words[(t*7+k)%len(words)]+strings.Repeat("x", k%3))
		}
		themes = append(themes, Theme{ID: fmt.Sprintf("t%d", t), Name: "T", Keywords: kws})
	}
	g := NewGrouper(themes, Theme{ID: "other"}, []string{"AI", "인공지능", "artificial intelligence", "LLM"})
	feeds := map[string]Feed{}
	for f := range 20 {
		u := fmt.Sprintf("f%d", f)
		feeds[u] = Feed{URL: u, Filter: f%2 == 0}
	}
	pub := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	arts := make([]Article, 5000)
	for i := range arts {
		p := pub.Add(time.Duration(i) * time.Minute)
		w := func(n int) string { return words[(i*7+n*13)%len(words)] }
		arts[i] = Article{
			ID: fmt.Sprint(i), FeedURL: fmt.Sprintf("f%d", i%20), Published: &p,
			Title:   fmt.Sprintf("이번 주 %s와 %s, 그리고 %s %d", w(1), w(2), w(3), i),
			Summary: strings.Repeat(fmt.Sprintf("%s and %s, %s의 %s. ", w(4), w(5), w(6), w(7)), 6),
		}
	}
	for b.Loop() {
		sections, _ := g.Group(arts, feeds)
		if len(sections) == 0 {
			b.Fatal("no sections")
		}
	}
}
