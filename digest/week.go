package digest

import (
	"cmp"
	"math"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// ThemeWhy is why an article has a theme: the keywords it contains and
// their score, or, where the keywords were silent or tied, the titles of
// the week's articles it resembles that the keywords placed there.
type ThemeWhy struct {
	Score int      `json:"score"`
	Terms []string `json:"terms"`
	Like  []string `json:"like,omitempty"`
}

// placement is one article on its way into a section.
type placement struct {
	a       Article
	m       matchText
	matched []ThemeScore
	section string
	// open: the keywords were silent (and no feed theme took it) or tied
	// between the themes in tied; the week's evidence decides.
	open bool
	tied []string
}

// Week evidence: an article the keywords left open goes where the most
// similar articles the keywords placed with confidence went.
const (
	// confidentScore and confidentMargin: a placement with at least this
	// score, this far ahead of the runner-up, is evidence for the others.
	confidentScore  = 3
	confidentMargin = 2
	// neighbours is how many of the most similar confident articles vote.
	neighbours = 5
	// minSimilarity is the cosine below which an article is not "like"
	// another: below it, sharing a few common words says nothing.
	minSimilarity = 0.12
)

func (p *placement) confident() bool {
	if len(p.matched) == 0 || p.open || p.matched[0].Score < confidentScore {
		return false
	}
	return len(p.matched) == 1 || p.matched[0].Score-p.matched[1].Score >= confidentMargin
}

// placeByWeek decides the open placements by similarity to the confident
// ones: shared English stems and Hangul bigrams, weighted by how rare they
// are in the week (tf-idf, cosine). Each of the nearest neighbours votes
// for its section with its similarity; a tie may only go to a tied theme.
// An article with no neighbour close enough keeps what the keywords gave
// it (the config's order, or the catch-all section). Deterministic: ties
// between votes go to the config's order.
func (g *Grouper) placeByWeek(ps []placement) {
	var open []int
	for i := range ps {
		if ps[i].open {
			open = append(open, i)
		}
	}
	if len(open) == 0 {
		return
	}
	vecs := weekVectors(ps)
	// An inverted index of the confident articles' features.
	index := map[string][]int{}
	for i := range ps {
		if ps[i].confident() {
			for f := range vecs[i] {
				index[f] = append(index[f], i)
			}
		}
	}
	for _, i := range open {
		sims := map[int]float64{}
		for f, w := range vecs[i] {
			for _, j := range index[f] {
				sims[j] += w * vecs[j][f]
			}
		}
		type near struct {
			j   int
			sim float64
		}
		var nears []near
		for j, s := range sims {
			if s >= minSimilarity {
				nears = append(nears, near{j, s})
			}
		}
		slices.SortFunc(nears, func(x, y near) int {
			return cmp.Or(cmp.Compare(y.sim, x.sim), cmp.Compare(x.j, y.j))
		})
		nears = nears[:min(len(nears), neighbours)]
		votes := map[string]float64{}
		like := map[string][]string{}
		for _, n := range nears {
			id := ps[n.j].section
			if len(ps[i].tied) > 0 && !slices.Contains(ps[i].tied, id) {
				continue
			}
			votes[id] += n.sim
			like[id] = append(like[id], ps[n.j].a.Title)
		}
		best, bestVote := "", 0.0
		for _, t := range g.themes { // config order breaks equal votes
			if v := votes[t.ID]; v > bestVote {
				best, bestVote = t.ID, v
			}
		}
		if best == "" {
			continue
		}
		g.settle(&ps[i], best, like[best])
	}
}

// settle puts an open placement in the theme the week's evidence chose and
// records why.
func (g *Grouper) settle(p *placement, id string, like []string) {
	p.section = id
	if !slices.Contains(p.a.Themes, id) {
		p.a.Themes = append([]string{id}, p.a.Themes...)
	} else {
		// Best first: the chosen theme leads the tied ones.
		i := slices.Index(p.a.Themes, id)
		p.a.Themes = append([]string{id}, slices.Delete(slices.Clone(p.a.Themes), i, i+1)...)
	}
	if p.a.Why == nil {
		p.a.Why = map[string]ThemeWhy{}
	}
	w := p.a.Why[id]
	if w.Terms == nil {
		w.Terms = []string{}
	}
	w.Like = like
	p.a.Why[id] = w
}

// weekVectors are the articles' tf-idf vectors over the week, normalized
// to length 1: features are English stems of three letters or more and
// Hangul character bigrams, from the title (counted twice) and summary.
func weekVectors(ps []placement) []map[string]float64 {
	tfs := make([]map[string]float64, len(ps))
	df := map[string]int{}
	for i := range ps {
		tf := map[string]float64{}
		addFeatures(tf, ps[i].m.title.stemmed, 2)
		addFeatures(tf, ps[i].m.summary.stemmed, 1)
		for f := range tf {
			df[f]++
		}
		tfs[i] = tf
	}
	n := float64(len(ps))
	for _, tf := range tfs {
		norm := 0.0
		for f, c := range tf {
			if df[f] < 2 { // a feature of one article links it to nothing
				delete(tf, f)
				continue
			}
			w := (1 + math.Log(c)) * math.Log(n/float64(df[f]))
			tf[f] = w
			norm += w * w
		}
		if norm > 0 {
			norm = math.Sqrt(norm)
			for f := range tf {
				tf[f] /= norm
			}
		}
	}
	return tfs
}

// addFeatures adds the features of text (in stemmed match form) to tf.
func addFeatures(tf map[string]float64, text string, weight float64) {
	for _, w := range strings.FieldsFunc(text, func(r rune) bool {
		return !isLatinWordRune(r) && !unicode.Is(unicode.Hangul, r)
	}) {
		if !isHangulWord(w) {
			if len(w) >= 3 && !stopWords[w] {
				tf[w] += weight
			}
			continue
		}
		// Hangul: bigrams survive particles and compounds (반도체가, 반도체법).
		var prev rune
		for _, r := range w {
			if unicode.Is(unicode.Hangul, r) && prev != 0 {
				tf[string([]rune{prev, r})] += weight
			}
			prev = r
			if !unicode.Is(unicode.Hangul, r) {
				prev = 0
			}
		}
	}
}

func isHangulWord(w string) bool {
	r, _ := utf8.DecodeRuneInString(w)
	return unicode.Is(unicode.Hangul, r)
}

// stopWords are English function words (stemmed) too common to say what an
// article is about; idf discounts the rest.
var stopWords = map[string]bool{}

func init() {
	for _, w := range strings.Fields(`the and for with that this from have has had are was were
		will would its their they them than then there these those which who whom what when where
		into onto over under about after before between also more most such other some any each
		not but can could should may might must our your his her she him been being said says
		one two three new year week last first next all per`) {
		stopWords[stemWord(w)] = true
	}
}
