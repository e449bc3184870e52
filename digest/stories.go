package digest

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A story is one event covered by several outlets: the issue shows it as
// one entry, its lead article with the others listed under it (Article.Also).
//
// Two articles are one story when they share enough of what is specific to
// an event, each shared thing weighed by how few of the week's articles
// have it (a number that one other article has says more than "AI"):
//
//   - in one language, content words (English stems) or pairs of Hangul
//     syllables (which survive particles: 공정위가, 공정위는);
//   - in any language, numbers with their scale (₩9.4 trillion = 9.4조 =
//     9조 4천억 원, 4,000 GPUs = 4000장), days (Nov 18 = 11월 18일 = "18일"
//     or "on Wednesday" in an article of that week), Latin names and
//     acronyms (HBM4E, KYC), Hangul names whose romanization is an English
//     article's Latin name (한울 = Hanul), and the bilingual alias table
//     (aliases.go plus config.yaml's aliases:).
//
// Articles in one language are compared by the cosine of all that; an
// article in Korean and one in English by the cosine of what the two
// languages can share. A pair must come from two outlets, lie within a
// week, and share two such things at least. Pairs above a threshold are
// joined, most similar first, and two groups only merge when their
// articles are similar on average, so a chain of loose resemblances does
// not make one story of a topic's week. A round-up that touches several
// stories joins none.
//
// Only pairs that share a rare feature are compared at all (features used
// by many of the week's articles say nothing about one event), so a week
// of thousands of articles is not compared pair by pair.

// Stories holds what finding stories needs from the config: the digest's
// language (a story's lead is in it where one is) and the aliases.
type Stories struct {
	lang    string
	aliases *aliasTable
}

// NewStories prepares story finding for a digest in lang ("ko" or "en"),
// with the shipped alias table extended by extra (each a group of names of
// one thing, in any language).
func NewStories(lang string, extra [][]string) *Stories {
	return &Stories{lang: lang, aliases: newAliasTable(aliasGroups(extra))}
}

// WithStories makes Group join the articles of one story into one entry.
func (g *Grouper) WithStories(s *Stories) *Grouper {
	g.stories = s
	return g
}

// The thresholds of similarity. A pair in one language has many words to
// share, a pair across languages only names and numbers, so their scales
// differ. linkShare is how much of the threshold two groups must keep on
// average over all their pairs to merge.
const (
	sameLangThreshold  = 0.16
	crossLangThreshold = 0.28
	linkShare          = 0.75
	// roundupShare: an article this alike (as a share of the threshold,
	// on average over a story's articles) to two stories besides its own
	// is a round-up.
	roundupShare = 0.4
	// bridgeShare: two articles less alike than this (a share of their
	// threshold) are about different events.
	bridgeShare = 0.3
	// nearShare: pairs less alike than this are not kept at all.
	nearShare = 0.5
	// blockShare: a pair is compared in full only when its blocking
	// features alone reach this share of the threshold.
	blockShare = 0.15
	// storySpan is how far apart in time (seconds) two articles on one
	// event may be: a week, the span of a weekly issue, also when the
	// issue's window is longer.
	storySpan = 7 * 24 * 3600
	// titleBoost weighs what the title says above the summary.
	titleBoost = 1.5
	// idfPrior smooths the weights of a small week: in a week of three
	// articles a word two of them share still says something.
	idfPrior = 20
	// normPrior is added to every vector's squared length, as if each
	// article had a few more features no other has: two short texts that
	// share "AI" and a common term are not alike just because they say
	// little else.
	normPrior = 60
)

// Weights of the kinds of features, relative to a content word.
var featureWeight = map[byte]float64{
	featWord: 1, featGram: 0.7, featNum: 1, featDate: 1, featName: 1.5, featAlias: 1, featTerm: 0.6, featRoman: 1.5,
}

// keyWeight is the weight of one feature before its rarity: a number
// written with more significant digits (963, 14.2%, 4270억) is less
// likely shared by chance than a round one (40, 200), and a year least.
func keyWeight(key string) float64 {
	w := featureWeight[key[0]]
	if key[0] != featNum {
		return w
	}
	v, err := strconv.ParseFloat(key[1:], 64)
	if err != nil {
		return w
	}
	if v >= 1990 && v <= 2100 && v == math.Trunc(v) {
		return 0.6 * w
	}
	digits := strings.TrimLeft(strings.ReplaceAll(strconv.FormatFloat(v, 'e', -1, 64), ".", ""), "0")
	if i := strings.IndexByte(digits, 'e'); i >= 0 {
		digits = digits[:i]
	}
	switch len(digits) {
	case 1:
		return w
	case 2:
		return 1.3 * w
	}
	return 1.6 * w
}

// storyDoc is an article reduced to its weighted features, sorted by id.
type storyDoc struct {
	korean bool
	feed   string // the outlet: the feed's name, else its URL
	at     int64  // the article's date, Unix seconds
	ids    []int32
	w      []float64
	// norm is the length of the whole vector, crossNorm of the part that
	// Korean and English share.
	norm, crossNorm float64
}

// storyIndex is the week's articles as vectors, with the features that
// block candidates.
type storyIndex struct {
	docs  []storyDoc
	cross []bool // feature id -> a cross-language kind
	// specific: feature id -> few enough articles have it to tell events
	// apart ("AI" is in most of an AI digest's articles).
	specific []bool
	post     [][]posting
}

// posting is an article that has a blocking feature, with its weight.
type posting struct {
	doc int32
	w   float64
}

// find returns the stories among arts as groups of indexes into arts, each
// with at least two articles, in the order of their first article.
func (s *Stories) find(arts []Article) [][]int {
	x := s.index(arts)
	n := len(arts)
	near := x.nearPairs()

	// A round-up ("this week: the budget, the chip rule, the deal...")
	// is alike to articles of several events, which are not alike to each
	// other: it would bridge their stories. It stands alone.
	bridge := x.bridges(near)

	// Average-linkage joining, most similar pair first: two groups merge
	// when their pairs keep, on average, linkShare of the threshold.
	var edges []nearPair
	for _, ps := range near {
		for _, p := range ps {
			if p.i < p.j && p.ratio >= 1 && !bridge[p.i] && !bridge[p.j] {
				edges = append(edges, p)
			}
		}
	}
	slices.SortFunc(edges, func(a, b nearPair) int {
		return cmp.Or(cmp.Compare(b.ratio, a.ratio), cmp.Compare(a.i, b.i), cmp.Compare(a.j, b.j))
	})
	group := make([]int, n) // article -> group id
	members := make([][]int, n)
	for i := range n {
		group[i] = i
		members[i] = []int{i}
	}
	for _, e := range edges {
		a, b := group[e.i], group[e.j]
		if a == b {
			continue
		}
		total := 0.0
		apart := false
		for _, p := range members[a] {
			for _, q := range members[b] {
				total += x.sim(p, q) / x.threshold(p, q)
				apart = apart || !x.close(p, q)
			}
		}
		if apart || total < linkShare*float64(len(members[a])*len(members[b])) {
			continue
		}
		if len(members[a]) < len(members[b]) {
			a, b = b, a
		}
		for _, y := range members[b] {
			group[y] = a
		}
		members[a] = append(members[a], members[b]...)
		members[b] = nil
	}

	// A round-up may also resemble several stories only a little each
	// and have joined one of them. An article alike, on average over their
	// articles, to two or more other stories is one and stands alone. (An
	// article about one event that mentions another resembles at most one
	// other story, and only some of its articles.)
	var roundups []int
	for i := range n {
		if len(members[group[i]]) < 2 {
			continue
		}
		mean := map[int]float64{}
		for _, p := range near[i] {
			if g := group[p.j]; g != group[i] && len(members[g]) >= 2 {
				mean[g] += p.ratio / float64(len(members[g]))
			}
		}
		others := 0
		for _, m := range mean {
			if m >= roundupShare {
				others++
			}
		}
		if others >= 2 {
			roundups = append(roundups, i)
		}
	}
	for _, i := range roundups {
		g := group[i]
		members[g] = slices.DeleteFunc(members[g], func(m int) bool { return m == i })
	}

	var out [][]int
	for _, ms := range members {
		if len(ms) >= 2 {
			slices.Sort(ms)
			out = append(out, ms)
		}
	}
	slices.SortFunc(out, func(a, b []int) int { return cmp.Compare(a[0], b[0]) })
	return out
}

// bridges finds the articles that are alike (above the threshold) to
// two articles hardly alike to each other (under bridgeShare of theirs):
// each covers two events. The one bridging the most pairs goes first, and
// the rest are counted again without it, so the articles next to a
// round-up are not taken for round-ups themselves.
func (x *storyIndex) bridges(near [][]nearPair) []bool {
	n := len(near)
	bridge := make([]bool, n)
	count := func(i int) int {
		c := 0
		ps := near[i]
		for a := range ps {
			if ps[a].ratio < 1 || bridge[ps[a].j] {
				continue
			}
			for b := a + 1; b < len(ps); b++ {
				if ps[b].ratio < 1 || bridge[ps[b].j] {
					continue
				}
				p, q := ps[a].j, ps[b].j
				if x.sim(p, q)/x.threshold(p, q) < bridgeShare {
					c++
				}
			}
		}
		return c
	}
	counts := make([]int, n)
	for i := range n {
		counts[i] = count(i)
	}
	for {
		best := -1
		for i, c := range counts {
			if c > 0 && !bridge[i] && (best < 0 || c > counts[best]) {
				best = i
			}
		}
		if best < 0 {
			return bridge
		}
		bridge[best] = true
		counts[best] = 0
		for _, p := range near[best] {
			if p.ratio >= 1 && counts[p.j] > 0 {
				counts[p.j] = count(p.j)
			}
		}
	}
}

// nearPair is a pair of articles and their similarity as a share of the
// threshold that would join them.
type nearPair struct {
	i, j  int
	ratio float64
}

// nearPairs lists, for every article, the articles at least nearShare of
// the threshold alike. Only pairs that share blocking features (ones few
// articles have) are compared, and only those whose blocking features
// alone make up a good part of the threshold: the dot products over them
// are summed posting by posting, so a week is never compared pair by pair.
func (x *storyIndex) nearPairs() [][]nearPair {
	n := len(x.docs)
	near := make([][]nearPair, n)
	acc := make([]float64, n)
	var touched []int32
	for i := range n {
		d := &x.docs[i]
		for k, f := range d.ids {
			for _, p := range x.post[f] {
				j := p.doc
				if int(j) <= i || d.korean != x.docs[j].korean && !x.cross[f] || !x.close(i, int(j)) {
					continue
				}
				if acc[j] == 0 {
					touched = append(touched, j)
				}
				acc[j] += d.w[k] * p.w
			}
		}
		for _, j32 := range touched {
			j := int(j32)
			thr := x.threshold(i, j)
			if acc[j]/x.norms(i, j) >= blockShare*thr {
				if r := x.sim(i, j) / thr; r >= nearShare {
					near[i] = append(near[i], nearPair{i, j, r})
					near[j] = append(near[j], nearPair{j, i, r})
				}
			}
			acc[j] = 0
		}
		touched = touched[:0]
	}
	return near
}

// close reports whether two articles are near enough in time to cover
// one event (storySpan), and come from two outlets: an outlet's two
// articles in a week are a series or a follow-up, not other coverage.
func (x *storyIndex) close(i, j int) bool {
	d := x.docs[i].at - x.docs[j].at
	return x.docs[i].feed != x.docs[j].feed && d <= storySpan && -d <= storySpan
}

// norms is the denominator of the cosine of articles i and j.
func (x *storyIndex) norms(i, j int) float64 {
	a, b := &x.docs[i], &x.docs[j]
	if a.korean != b.korean {
		return a.crossNorm * b.crossNorm
	}
	return a.norm * b.norm
}

func (x *storyIndex) threshold(i, j int) float64 {
	if x.docs[i].korean != x.docs[j].korean {
		return crossLangThreshold
	}
	return sameLangThreshold
}

// sim is the cosine of two articles: of everything in one language, of
// the cross-language features across two.
func (x *storyIndex) sim(i, j int) float64 {
	a, b := &x.docs[i], &x.docs[j]
	cross := a.korean != b.korean
	dot := 0.0
	shared := 0
	for p, q := 0, 0; p < len(a.ids) && q < len(b.ids); {
		switch {
		case a.ids[p] < b.ids[q]:
			p++
		case a.ids[p] > b.ids[q]:
			q++
		default:
			if id := a.ids[p]; !cross || x.cross[id] {
				dot += a.w[p] * b.w[q]
				if x.specific[id] {
					shared++
				}
			}
			p++
			q++
		}
	}
	// One shared thing, however rare, can be chance (a name that sounds
	// like a word); two articles on one event share two or more.
	if shared < 2 {
		return 0
	}
	if cross {
		return dot / (a.crossNorm * b.crossNorm)
	}
	return dot / (a.norm * b.norm)
}

// index turns the articles into weighted feature vectors.
func (s *Stories) index(arts []Article) *storyIndex {
	n := len(arts)
	type raw struct {
		korean bool
		feats  map[string]bool // key -> in the title
	}
	texts := make([]articleTokens, n)
	romans := map[string]bool{} // the Latin names of the week, romanization-folded
	for i, a := range arts {
		texts[i] = s.tokens(a)
		texts[i].latinRomans(romans)
	}
	ids := map[string]int32{}
	var df []int
	var kinds []byte
	raws := make([]raw, n)
	for i, a := range arts {
		r := raw{korean: texts[i].korean, feats: map[string]bool{}}
		s.features(a, &texts[i], romans, func(key string, inTitle bool) {
			r.feats[key] = r.feats[key] || inTitle
		})
		for key := range r.feats {
			id, ok := ids[key]
			if !ok {
				id = int32(len(df))
				ids[key] = id
				df = append(df, 0)
				kinds = append(kinds, key[0])
			}
			df[id]++
		}
		raws[i] = r
	}
	x := &storyIndex{docs: make([]storyDoc, n), cross: make([]bool, len(df)), specific: make([]bool, len(df)), post: make([][]posting, len(df))}
	for id, k := range kinds {
		x.cross[id] = crossKind(k)
		x.specific[id] = df[id] <= max(3, n/5)
	}
	// Features in many articles are not what one event's coverage shares:
	// they block no candidates (their weight still counts in the cosine).
	// A story has a handful of articles; a feature in fifty is a topic's.
	blockMax := max(8, min(50, n/10))
	for i, r := range raws {
		d := storyDoc{korean: r.korean, feed: cmp.Or(arts[i].FeedName, arts[i].FeedURL), at: arts[i].Date().Unix()}
		for key, inTitle := range r.feats {
			id := ids[key]
			w := math.Log(float64(n+idfPrior)/float64(df[id])) * keyWeight(key)
			if inTitle {
				w *= titleBoost
			}
			d.ids = append(d.ids, id)
			d.w = append(d.w, w)
			d.norm += w * w
			if x.cross[id] {
				d.crossNorm += w * w
			}
			if df[id] >= 2 && df[id] <= blockMax {
				x.post[id] = append(x.post[id], posting{int32(i), w})
			}
		}
		d.norm, d.crossNorm = math.Sqrt(d.norm+normPrior), math.Sqrt(d.crossNorm+normPrior)
		sortByID(&d)
		x.docs[i] = d
	}
	return x
}

func sortByID(d *storyDoc) {
	order := make([]int, len(d.ids))
	for i := range order {
		order[i] = i
	}
	slices.SortFunc(order, func(a, b int) int { return cmp.Compare(d.ids[a], d.ids[b]) })
	ids, w := make([]int32, len(order)), make([]float64, len(order))
	for k, o := range order {
		ids[k], w[k] = d.ids[o], d.w[o]
	}
	d.ids, d.w = ids, w
}

// articleTokens are an article's title and summary, tokenized once.
type articleTokens struct {
	korean                 bool
	title, summary         string
	titleToks, summaryToks []token
}

func (s *Stories) tokens(a Article) articleTokens {
	t := articleTokens{title: storyText(a.Title), summary: storyText(a.Summary)}
	t.titleToks, t.summaryToks = tokenize(t.title), tokenize(t.summary)
	t.korean = isKoreanText(t.title + " " + t.summary)
	return t
}

// isKoreanText: Hangul makes up a fifth or more of the letters. Korean
// articles are full of Latin acronyms; English ones have no Hangul.
func isKoreanText(s string) bool {
	hangul, letters := 0, 0
	for _, r := range s {
		if unicode.IsLetter(r) {
			letters++
			if isHangul(r) {
				hangul++
			}
		}
	}
	return letters > 0 && hangul*5 >= letters
}

// latinRomans adds the romanization-folded form of every plain Latin name
// in the article to set, for Hangul names to meet.
func (t *articleTokens) latinRomans(set map[string]bool) {
	for _, toks := range [][]token{t.titleToks, t.summaryToks} {
		for _, tok := range toks {
			if tok.kind == 'l' {
				if key := plainName(tok, t.korean); key != "" {
					set[key] = true
				}
			}
		}
	}
}

// plainName is the romanization key of a capitalized Latin word that
// names something ("Hanul", "Cheongju"), or "".
func plainName(t token, inKorean bool) string {
	if len(t.text) < 4 || !unicode.IsUpper(firstRuneR(t.text)) {
		return ""
	}
	for _, r := range t.text[1:] {
		if !unicode.IsLower(r) || r >= utf8.RuneSelf {
			return ""
		}
	}
	if !inKorean && t.sentenceStart {
		return ""
	}
	lower := strings.ToLower(t.text)
	if stopwords[lower] || months[lower] != 0 || isWeekday(lower) {
		return ""
	}
	return looseRoman(lower)
}

// features emits the article's features, each with whether it is in the
// title. romans are the week's Latin names (plainName keys).
func (s *Stories) features(a Article, t *articleTokens, romans map[string]bool, emit func(key string, inTitle bool)) {
	pub := a.Date()
	for _, part := range []struct {
		text  string
		toks  []token
		title bool
	}{{t.title, t.titleToks, true}, {t.summary, t.summaryToks, false}} {
		e := func(kind byte, key string) { emit(string(kind)+key, part.title) }
		used := s.aliases.match(part.text, part.toks, e)
		numbersAndDates(part.text, part.toks, pub, e)
		for k, tok := range part.toks {
			switch tok.kind {
			case 'l':
				if used[k] {
					continue
				}
				if key := plainName(tok, t.korean); key != "" {
					e(featRoman, key)
				} else if name := latinName(tok, t.korean); name != "" {
					e(featName, name)
				}
				if !t.korean {
					lower := strings.ToLower(tok.text)
					if len(lower) >= 3 && !stopwords[lower] && isLetters(lower) {
						e(featWord, stem(lower))
					}
				}
			case 'h':
				rs := []rune(tok.text)
				for i := 0; i+1 < len(rs); i++ {
					e(featGram, string(rs[i:i+2]))
				}
				if key := romanMatch(tok.text, romans); key != "" {
					e(featRoman, key)
				}
			}
		}
	}
}

func isLetters(s string) bool {
	for _, r := range s {
		if !unicode.IsLetter(r) {
			return false
		}
	}
	return true
}

// romanMatch is the longest romanized prefix of the Hangul run h (two
// syllables or more) that is one of the week's Latin names, or "".
func romanMatch(h string, romans map[string]bool) string {
	if len(romans) == 0 {
		return ""
	}
	var b []byte
	best, n := "", 0
	for _, r := range h {
		syl := looseSyllable(r)
		// Folding drops a letter doubled across syllables as within one.
		if len(b) > 0 && len(syl) > 0 && b[len(b)-1] == syl[0] {
			syl = syl[1:]
		}
		b = append(b, syl...)
		if n++; n >= 2 && len(b) >= 4 && romans[string(b)] {
			best = string(b)
		}
	}
	return best
}

// joinStories makes one entry of each story among the sections' articles:
// the lead article carries the others in Also, sits in the section most of
// the story's articles were put in (a real theme before the catch-all,
// then the lead's own), and has the union of their themes, that section's
// first. Articles of no story stay where they are.
func (g *Grouper) joinStories(byTheme map[string][]Article, feeds map[string]Feed) map[string][]Article {
	if g.stories == nil {
		return byTheme
	}
	order := make([]string, 0, len(g.themes)+1)
	for _, t := range g.themes {
		order = append(order, t.ID)
	}
	order = append(order, g.other.ID)
	var arts []Article
	var section []string
	for _, id := range order {
		for _, a := range byTheme[id] {
			arts = append(arts, a)
			section = append(section, id)
		}
	}
	groups := g.stories.find(arts)
	if len(groups) == 0 {
		return byTheme
	}
	out := map[string][]Article{}
	joined := make([]bool, len(arts))
	for _, members := range groups {
		lead, sec := g.stories.entry(arts, section, members, order, feeds, g.other.ID)
		out[sec] = append(out[sec], lead)
		for _, m := range members {
			joined[m] = true
		}
	}
	for i, a := range arts {
		if !joined[i] {
			out[section[i]] = append(out[section[i]], a)
		}
	}
	return out
}

// entry builds the entry of one story (members index arts) and returns it
// with its section.
func (s *Stories) entry(arts []Article, section []string, members []int, order []string, feeds map[string]Feed, other string) (Article, string) {
	ms := slices.Clone(members)
	slices.SortStableFunc(ms, func(x, y int) int { return s.compareLead(arts[x], arts[y], feeds) })
	votes := map[string]int{}
	for _, m := range ms {
		votes[section[m]]++
	}
	leadSection := section[ms[0]]
	best := leadSection
	for _, id := range order {
		if better(votes[id], id != other, id == leadSection, votes[best], best != other, best == leadSection) {
			best = id
		}
	}
	lead := arts[ms[0]]
	themes := []string{}
	if best != other {
		themes = append(themes, best)
	}
	for _, m := range ms {
		for _, t := range arts[m].Themes {
			if !slices.Contains(themes, t) {
				themes = append(themes, t)
			}
		}
	}
	lead.Themes = themes
	lead.Also = nil
	for _, m := range ms[1:] {
		a := arts[m]
		a.Also = nil
		lead.Also = append(lead.Also, a)
	}
	return lead, best
}

// better: more votes, then a real theme over the catch-all, then the
// lead's own section; otherwise the earlier section keeps it.
func better(votes int, real, leads bool, bestVotes int, bestReal, bestLeads bool) bool {
	if votes != bestVotes {
		return votes > bestVotes
	}
	if real != bestReal {
		return real
	}
	return leads && !bestLeads
}

// compareLead orders a story's articles, the lead first: one in the
// digest's language, then from the feed of higher weight, then the
// earliest (the outlet that broke it), then by id for a stable order.
func (s *Stories) compareLead(x, y Article, feeds map[string]Feed) int {
	if s.lang != "" {
		xl, yl := articleLang(x) == s.lang, articleLang(y) == s.lang
		if xl != yl {
			if xl {
				return -1
			}
			return 1
		}
	}
	return cmp.Or(
		cmp.Compare(feedWeight(feeds, y), feedWeight(feeds, x)),
		x.Date().Compare(y.Date()),
		cmp.Compare(x.ID, y.ID),
		cmp.Compare(x.Link, y.Link),
	)
}

// articleLang is "ko" for an article written in Korean, else "en".
func articleLang(a Article) string {
	if isKoreanText(a.Title + " " + a.Summary) {
		return "ko"
	}
	return "en"
}

// feedWeight is the feed's weight for ranking; a feed without one weighs 1.
func feedWeight(feeds map[string]Feed, a Article) float64 {
	if w := feeds[a.FeedURL].Weight; w > 0 {
		return w
	}
	return 1
}

// Outlets is how many feeds cover the entry's story: its own and those of
// the articles in Also.
func (a Article) Outlets() int {
	seen := map[string]bool{a.FeedURL: true}
	for _, o := range a.Also {
		seen[o.FeedURL] = true
	}
	return len(seen)
}

// rankEntries orders a section: stories covered by more outlets first,
// then entries from feeds of higher weight, then the newest, then by title
// and id so an issue renders the same way every time.
func rankEntries(list []Article, feeds map[string]Feed) {
	slices.SortStableFunc(list, func(x, y Article) int {
		return cmp.Or(
			cmp.Compare(y.Outlets(), x.Outlets()),
			cmp.Compare(feedWeight(feeds, y), feedWeight(feeds, x)),
			y.Date().Compare(x.Date()),
			cmp.Compare(x.Title, y.Title),
			cmp.Compare(x.ID, y.ID),
		)
	})
}

// droppedEntry lists an entry cut from the issue: its article and every
// article of its story, all for the same reason.
func droppedEntry(a Article, reason string) []Dropped {
	out := []Dropped{droppedArticle(a, reason)}
	for _, o := range a.Also {
		out = append(out, droppedArticle(o, reason))
	}
	return out
}
