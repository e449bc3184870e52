package digest

import (
	"sort"
	"strings"
	"time"
	"unicode"

	"golang.org/x/text/unicode/norm"
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
	// outlets' copies. Guarded, because "UK AI Safety Institute ..." and
	// "US AI Safety Institute ..." are one letter apart and two stories:
	// the numbers and the capitalized acronyms must be the same, each
	// article joins at most one near-identical partner (so a chain of
	// one-letter steps cannot pull unrelated titles together), and only
	// titles long enough for one edit to be a small part are compared.
	// Titles are visited in order of length, each compared only with those
	// at most k runes longer, with a banded edit distance that stops as soon
	// as the band exceeds k.
	type titleInfo struct {
		idx   int
		runes []rune
		sig   string // digits and acronyms that must match exactly
	}
	var long []titleInfo
	for i, t := range titles {
		if rs := []rune(t); weight(rs) >= 16 {
			long = append(long, titleInfo{i, rs, digitsOf(rs) + "|" + acronyms(articles[i].Title)})
		}
	}
	sort.SliceStable(long, func(a, b int) bool { return len(long[a].runes) < len(long[b].runes) })
	nearPaired := make([]bool, n)
	for a := range long {
		ti := long[a]
		k := 1 // a particle, a typo
		if weight(ti.runes) >= 60 {
			k = 2
		}
		for b := a + 1; b < len(long) && len(long[b].runes)-len(ti.runes) <= k; b++ {
			tj := long[b]
			i, j := ti.idx, tj.idx
			if nearPaired[i] || nearPaired[j] || ti.sig != tj.sig || find(i) == find(j) || !closeInTime(articles[i], articles[j]) {
				continue
			}
			if editDistanceWithin(ti.runes, tj.runes, k) {
				nearPaired[i], nearPaired[j] = true, true
				union(min(i, j), max(i, j), "near-identical title")
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

// weight measures how much a title says: a Hangul syllable or a Han
// character carries about what two Latin letters do, so a 14-syllable
// Korean title is compared like a 28-letter English one.
func weight(rs []rune) int {
	w := 0
	for _, r := range rs {
		if unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana) {
			w += 2
		} else {
			w++
		}
	}
	return w
}

// acronyms lists a title's all-capital words of two or more letters
// (US, UK, EU, HBM, OECD), which name who or what a story is about.
func acronyms(title string) string {
	var out []string
	for _, w := range strings.FieldsFunc(norm.NFKC.String(title), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	}) {
		upper := 0
		for _, r := range w {
			if unicode.IsUpper(r) {
				upper++
			} else if unicode.IsLetter(r) {
				upper = -1
				break
			}
		}
		if upper >= 2 {
			out = append(out, w)
		}
	}
	sort.Strings(out)
	return strings.Join(out, " ")
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
// at most k. The common prefix and suffix are cut first (titles of one
// story differ in one place), which decides most pairs at once; what is
// left goes through a dynamic program that stops when a row exceeds k.
func editDistanceWithin(a, b []rune, k int) bool {
	for len(a) > 0 && len(b) > 0 && a[0] == b[0] {
		a, b = a[1:], b[1:]
	}
	for len(a) > 0 && len(b) > 0 && a[len(a)-1] == b[len(b)-1] {
		a, b = a[:len(a)-1], b[:len(b)-1]
	}
	if max(len(a), len(b)) <= k {
		return true
	}
	if abs(len(a)-len(b)) > k || min(len(a), len(b)) == 0 {
		return false
	}
	// Only the diagonal band |i-j| <= k can stay within k, so each row
	// keeps 2k+1 cells; d is the offset of column j = i + d - k.
	const inf = 1 << 30
	w := 2*k + 1
	prev, cur := make([]int, w), make([]int, w)
	for d := range w {
		if j := d - k; j >= 0 && j <= len(b) {
			prev[d] = j
		} else {
			prev[d] = inf
		}
	}
	for i := 1; i <= len(a); i++ {
		rowMin := inf
		for d := range w {
			j := i + d - k
			switch {
			case j < 0 || j > len(b):
				cur[d] = inf
				continue
			case j == 0:
				cur[d] = i
			default:
				cost := 1
				if a[i-1] == b[j-1] {
					cost = 0
				}
				v := prev[d] + cost // from (i-1, j-1)
				if d+1 < w {
					v = min(v, prev[d+1]+1) // from (i-1, j)
				}
				if d > 0 {
					v = min(v, cur[d-1]+1) // from (i, j-1)
				}
				cur[d] = v
			}
			rowMin = min(rowMin, cur[d])
		}
		if rowMin > k {
			return false
		}
		prev, cur = cur, prev
	}
	return prev[len(b)-len(a)+k] <= k
}
