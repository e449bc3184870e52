package digest_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/config"
)

// syntheticWeek is a week of n articles (far more than a real week), half
// Korean and half English, as the shipped config sees them: words drawn
// with a long tail like real text, the config's theme words among them,
// and about a third of the articles in stories of two to five outlets
// that share a figure, a date and a name, in both languages.
func syntheticWeek(n int, cfg *config.Config) ([]digest.Article, map[string]digest.Feed) {
	r := rand.New(rand.NewPCG(1, 2))
	zipf := func(max int) int {
		// rank ~ 1/x: most words are rare, a few are everywhere.
		return int(float64(max) * r.Float64() * r.Float64() * r.Float64())
	}
	const syllables = "가나다라마바사아자차카타파하고노도로모보소오조초코토포호구누두루무부수우주추쿠투푸후기니디리미비시이지치키티피히개내대래매배새재채태해강남당랑망방상장창탕항"
	hangul := []rune(syllables)
	koWords := make([]string, 4000)
	for i := range koWords {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteRune(hangul[r.IntN(len(hangul))])
		}
		koWords[i] = b.String()
	}
	enWords := make([]string, 4000)
	for i := range enWords {
		var b strings.Builder
		for range 2 + r.IntN(3) {
			b.WriteByte("bcdfghklmnprstvw"[r.IntN(16)])
			b.WriteByte("aeiou"[r.IntN(5)])
		}
		enWords[i] = b.String()
	}
	var themeWords []string
	for _, t := range cfg.Themes {
		themeWords = append(themeWords, t.Keywords...)
	}
	particles := []string{"", "은", "는", "이", "가", "을", "를", "의", "에", "에서", "으로"}
	text := func(korean bool, words int, shared []string) string {
		var out []string
		for i := range words {
			switch {
			case i%9 == 4 && len(shared) > 0:
				out = append(out, shared[r.IntN(len(shared))])
			case i%7 == 3:
				out = append(out, themeWords[r.IntN(len(themeWords))])
			case korean:
				out = append(out, koWords[zipf(len(koWords))]+particles[r.IntN(len(particles))])
			default:
				out = append(out, enWords[zipf(len(enWords))])
			}
		}
		return strings.Join(out, " ")
	}
	start := time.Date(2026, 11, 16, 8, 0, 0, 0, time.UTC)
	feeds := map[string]digest.Feed{}
	for i := range 40 {
		u := fmt.Sprintf("https://f%d.example/feed", i)
		feeds[u] = digest.Feed{URL: u, Name: fmt.Sprint("Outlet ", i), Filter: i%2 == 0}
	}
	arts := make([]digest.Article, 0, n)
	for len(arts) < n {
		size := 1
		if r.IntN(3) == 0 {
			size = 2 + r.IntN(4)
		}
		figure := fmt.Sprintf("%d", 100+r.IntN(9900))
		name := fmt.Sprintf("%c%cX%d", 'A'+r.IntN(26), 'A'+r.IntN(26), r.IntN(100))
		day := 1 + r.IntN(6)
		for k := 0; k < size && len(arts) < n; k++ {
			korean := r.IntN(2) == 0
			shared := []string{figure, name}
			if korean {
				shared = append(shared, fmt.Sprintf("11월 %d일", 16+day))
			} else {
				shared = append(shared, fmt.Sprintf("Nov %d", 16+day))
			}
			if size == 1 {
				shared = nil
			}
			p := start.Add(time.Duration(day)*24*time.Hour + time.Duration(r.IntN(1440))*time.Minute)
			i := len(arts)
			feed := fmt.Sprintf("https://f%d.example/feed", r.IntN(40))
			arts = append(arts, digest.Article{
				ID: fmt.Sprint("a", i), FeedURL: feed, FeedName: feeds[feed].Name, Link: fmt.Sprintf("https://n.example/%d", i),
				Title: text(korean, 10, shared), Summary: text(korean, 55, shared), Published: &p,
			})
		}
	}
	return arts, feeds
}

// BenchmarkGroupStories5000: relevance, themes and stories of a 5,000
// article week with the shipped config, what `gull preview` runs after
// the feeds are read (README "Speed": under 2 s).
func BenchmarkGroupStories5000(b *testing.B) {
	cfg, err := config.Load("../config.yaml")
	if err != nil {
		b.Fatal(err)
	}
	arts, feeds := syntheticWeek(5000, cfg)
	for b.Loop() {
		sections, _ := cfg.Grouper().Group(arts, feeds)
		entries, stories := 0, 0
		for _, s := range sections {
			for _, a := range s.Articles {
				entries++
				if len(a.Also) > 0 {
					stories++
				}
			}
		}
		if stories < 300 {
			b.Fatalf("%d entries, %d stories: the synthetic week has about 500", entries, stories)
		}
	}
}
