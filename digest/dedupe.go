package digest

import (
	"strings"
	"time"
	"unicode"
)

// Duplicate records an article dropped because another copy of the story
// was kept.
type Duplicate struct {
	Dropped Article
	Kept    Article
	// Reason says which key matched: "same link", "same guid", "same title",
	// "near-identical title".
	Reason string
}

// Dedupe keeps one copy of each story. Two articles are the same story when
// they share a canonical link or a GUID, or when their normalized titles are
// equal or differ by a character or two (and carry the same numbers, so
// "Part 1" and "Part 2" stay apart). Of each story it keeps the fullest copy;
// the kept articles stay in input order.
func Dedupe(articles []Article) (kept []Article, dropped []Duplicate) {
	n := len(articles)
	parent := make([]int, n)
	reason := make([]string, n)
	for i := range parent {
		parent[i] = i
	}
	var find func(int) int
	find = func(i int) int {
		for parent[i] != i {
			parent[i] = parent[parent[i]]
			i = parent[i]
		}
		return i
	}
	union := func(i, j int, why string) {
		ri, rj := find(i), find(j)
		if ri == rj {
			return
		}
		if rj < ri {
			ri, rj = rj, ri
		}
		parent[rj] = ri
		if reason[j] == "" {
			reason[j] = why
		}
		if reason[i] == "" {
			reason[i] = why
		}
	}

	byKey := map[string]int{}
	titles := make([]string, n)
	for i, a := range articles {
		for _, k := range MailKeys(a) {
			why := "same link"
			if strings.HasPrefix(k, "guid:") {
				why = "same guid"
			}
			if j, ok := byKey[k]; ok {
				union(j, i, why)
			} else {
				byKey[k] = i
			}
		}
		titles[i] = TitleKey(a.Title)
		if titles[i] == "" {
			continue
		}
		if j, ok := byKey["title:"+titles[i]]; ok && closeInTime(articles[i], articles[j]) {
			union(j, i, "same title")
		} else if !ok {
			byKey["title:"+titles[i]] = i
		}
	}
	// Near-identical titles: a changed particle or a typo fixed between two
	// outlets' copies. Compared pairwise with a banded edit distance, which is
	// cheap because only titles of similar length are compared at all.
	for i := 0; i < n; i++ {
		ti := []rune(titles[i])
		if len(ti) < 12 {
			continue
		}
		for j := i + 1; j < n; j++ {
			if find(i) == find(j) {
				continue
			}
			tj := []rune(titles[j])
			k := max(1, min(len(ti), len(tj))/15)
			if len(tj) < 12 || abs(len(ti)-len(tj)) > k {
				continue
			}
			if digitsOf(ti) != digitsOf(tj) || !closeInTime(articles[i], articles[j]) {
				continue
			}
			if editDistanceWithin(ti, tj, k) {
				union(i, j, "near-identical title")
			}
		}
	}

	best := map[int]int{}
	for i := range articles {
		r := find(i)
		b, ok := best[r]
		if !ok || fullness(articles[i]) > fullness(articles[b]) {
			best[r] = i
		}
	}
	for i, a := range articles {
		r := find(i)
		if best[r] == i {
			kept = append(kept, fillFrom(a, articles, r, find))
			continue
		}
		why := reason[i]
		if why == "" {
			why = "same story"
		}
		dropped = append(dropped, Duplicate{Dropped: a, Kept: articles[best[r]], Reason: why})
	}
	return kept, dropped
}

// fillFrom gives the kept copy a date when only another copy had one, so a
// story is never undated just because the fullest copy was.
func fillFrom(a Article, all []Article, root int, find func(int) int) Article {
	if a.Published != nil {
		return a
	}
	for i, o := range all {
		if o.Published != nil && find(i) == root {
			a.Published = o.Published
			return a
		}
	}
	return a
}

// fullness ranks copies of one story: text first, then a date and an author.
func fullness(a Article) int {
	score := len(a.Content) + len(a.Summary) + len(a.Title)
	if a.Published != nil {
		score += 500
	}
	if a.Author != "" {
		score += 50
	}
	return score
}

// closeInTime: copies of one story appear within days of each other. Two
// dated items far apart with the same title are different stories (a weekly
// column that reuses its title).
func closeInTime(a, b Article) bool {
	if a.Published == nil || b.Published == nil {
		return true
	}
	d := a.Published.Sub(*b.Published)
	return d < 4*24*time.Hour && d > -4*24*time.Hour
}

func digitsOf(rs []rune) string {
	var b strings.Builder
	for _, r := range rs {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func abs(x int) int {
	if x < 0 {
		return -x
	}
	return x
}

// editDistanceWithin reports whether the Levenshtein distance of a and b is
// at most k, looking only at the diagonal band of width 2k+1.
func editDistanceWithin(a, b []rune, k int) bool {
	if abs(len(a)-len(b)) > k {
		return false
	}
	const inf = 1 << 30
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		if j <= k {
			prev[j] = j
		} else {
			prev[j] = inf
		}
	}
	for i := 1; i <= len(a); i++ {
		lo, hi := max(1, i-k), min(len(b), i+k)
		for j := range cur {
			cur[j] = inf
		}
		if i <= k {
			cur[0] = i
		}
		rowMin := cur[0]
		for j := lo; j <= hi; j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			v := prev[j-1] + cost
			if prev[j]+1 < v {
				v = prev[j] + 1
			}
			if cur[j-1]+1 < v {
				v = cur[j-1] + 1
			}
			cur[j] = v
			if v < rowMin {
				rowMin = v
			}
		}
		if rowMin > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)] <= k
}
