package digest

import (
	"fmt"
	"testing"
	"time"
)

// BenchmarkDedupe: a week of 5,000 distinct articles (far more than a real
// week) with titles of similar length, the worst case for the
// near-identical pass.
func BenchmarkDedupe5000(b *testing.B) {
	pub := time.Date(2026, 11, 24, 0, 0, 0, 0, time.UTC)
	arts := make([]Article, 5000)
	words := []string{"반도체", "규제", "전략", "데이터", "교육", "안전", "통상", "예산", "인재", "전력",
		"chips", "agents", "privacy", "labour", "cloud", "models", "export", "energy", "health", "trust"}
	for i := range arts {
		p := pub.Add(time.Duration(i) * time.Minute)
		title := fmt.Sprintf("이번 주 %s와 %s, 그리고 %s를 둘러싼 논쟁", words[i%20], words[i/20%20], words[i/400%20])
		arts[i] = Article{FeedURL: fmt.Sprintf("f%d", i%20), Title: title, Link: fmt.Sprintf("https://n.example/%d", i), Published: &p}
	}
	for b.Loop() {
		kept, _ := Dedupe(arts)
		if len(kept) < 4000-400 {
			b.Fatalf("kept %d", len(kept))
		}
	}
}
