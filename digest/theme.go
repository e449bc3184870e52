package digest

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/cases"
	"golang.org/x/text/unicode/norm"
)

// Theme is one section of the digest and the words that put an article in it.
type Theme struct {
	ID       string
	Name     string
	Keywords []string
	// Exclude vetoes the theme for an article that contains any of them.
	Exclude []string
	// Max caps the articles the section shows; 0 means no cap.
	Max int
}

// Where a keyword is found decides how much it says about the article: a
// word in the title is what the column is about, a word in the summary may
// be a passing mention.
const (
	titleWeight    = 3
	categoryWeight = 2
	summaryWeight  = 1
)

// Reasons an article is left out of the issue (the "dropped" list).
const (
	ReasonNotRelevant = "not relevant"
)

// Grouper puts articles into the sections of an issue. Build it once per
// config with NewGrouper; it holds the keywords already normalized.
type Grouper struct {
	themes    []compiledTheme
	other     Theme
	relevance []keyword
	support   []keyword // supportWords, compiled
	stories   *Stories  // nil: every article is an entry of its own
}

type compiledTheme struct {
	Theme
	keywords []keyword
	exclude  []keyword
}

// keyword is a normalized keyword and whether each end must sit at a word
// boundary. Latin words need boundaries ("AI" must not match "said"); a
// Hangul or Han end needs none, because Korean glues particles and compounds
// onto words ("반도체" must match "반도체법" and "반도체가"). English words
// are compared as stems (see stemText). An acronym (every cased letter a
// capital: AI, EU, GPU, AI기본법) is compared as written, in capitals, so
// "Ai Weiwei" or the pronoun "us" never count; a plural -s may follow
// (GPUs, LLMs).
type keyword struct {
	word               string // as configured, for the "why" of a placement
	text               string
	wordStart, wordEnd bool
	acronym            bool
}

// NewGrouper compiles themes (in section order), the catch-all section and
// the relevance words that admit articles from filtered feeds.
func NewGrouper(themes []Theme, other Theme, relevance []string) *Grouper {
	g := &Grouper{other: other, relevance: compileKeywords(relevance), support: compileKeywords(supportWords)}
	for _, t := range themes {
		g.themes = append(g.themes, compiledTheme{
			Theme:    t,
			keywords: compileKeywords(t.Keywords),
			exclude:  compileKeywords(t.Exclude),
		})
	}
	return g
}

func compileKeywords(words []string) []keyword {
	var out []keyword
	seen := map[string]bool{}
	for _, w := range words {
		k := keyword{word: strings.TrimSpace(w)}
		if raw := rawForm(w); isAcronym(raw) {
			k.text, k.acronym = raw, true
		} else {
			k.text = stemText(matchForm(w))
		}
		if k.text == "" || seen[k.text] {
			continue
		}
		seen[k.text] = true
		first, _ := utf8.DecodeRuneInString(k.text)
		last, _ := utf8.DecodeLastRuneInString(k.text)
		k.wordStart, k.wordEnd = isLatinWordRune(first), isLatinWordRune(last)
		out = append(out, k)
	}
	return out
}

// isAcronym reports whether s has two or more cased letters and all of
// them are capitals.
func isAcronym(s string) bool {
	upper := 0
	for _, r := range s {
		switch {
		case unicode.IsLower(r):
			return false
		case unicode.IsUpper(r):
			upper++
		}
	}
	return upper >= 2
}

var folder = cases.Fold()

// matchForm is the form both keywords and text are compared in: NFKC (so
// full-width "ＡＩ" is "AI" and compatibility jamo compose), case-folded,
// with runs of white space as one space.
func matchForm(s string) string {
	return folder.String(rawForm(s))
}

// rawForm is matchForm before case folding: what acronyms are compared in.
func rawForm(s string) string {
	return strings.Join(strings.Fields(norm.NFKC.String(invisible.Replace(s))), " ")
}

// invisible are characters that split a word on screen without showing:
// a soft hyphen in "semi\u00ADconductor" must not hide the keyword.
var invisible = strings.NewReplacer("\u00AD", "", "\u200B", "", "\u2060", "", "\uFEFF", "")

// isLatinWordRune reports whether r belongs to a space-separated script's
// word: a letter or digit that is not Hangul, Han or kana.
func isLatinWordRune(r rune) bool {
	if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
		return false
	}
	return !unicode.In(r, unicode.Hangul, unicode.Han, unicode.Hiragana, unicode.Katakana)
}

// in reports whether the keyword occurs in the field with the word
// boundaries it needs.
func (k keyword) in(f field) bool {
	return k.count(f, 1) > 0
}

// count counts the keyword's occurrences in the field, up to max.
func (k keyword) count(f field, max int) int {
	text := f.stemmed
	if k.acronym {
		text = f.raw
	}
	n := 0
	for from := 0; from <= len(text) && n < max; {
		i := strings.Index(text[from:], k.text)
		if i < 0 {
			break
		}
		start := from + i
		end := start + len(k.text)
		if k.acronym && strings.HasPrefix(text[end:], "s") {
			end++ // GPUs, LLMs
		}
		if (!k.wordStart || !latinBefore(text, start)) && (!k.wordEnd || !latinAfter(text, end)) {
			n++
			from = end
			continue
		}
		_, size := utf8.DecodeRuneInString(text[start:])
		from = start + size
	}
	return n
}

func latinBefore(text string, i int) bool {
	r, size := utf8.DecodeLastRuneInString(text[:i])
	return size > 0 && isLatinWordRune(r)
}

func latinAfter(text string, i int) bool {
	r, size := utf8.DecodeRuneInString(text[i:])
	return size > 0 && isLatinWordRune(r)
}

// field is one part of an article in the two forms keywords are compared
// in: stemmed match form, and raw (NFKC, case kept) for acronyms.
type field struct {
	stemmed, raw string
}

func fieldOf(s string) field {
	raw := rawForm(s)
	return field{stemmed: stemText(folder.String(raw)), raw: raw}
}

// matchText is an article's text in match form, by field.
type matchText struct {
	title, categories, summary field
}

func textOf(a Article) matchText {
	return matchText{
		title:      fieldOf(a.Title),
		categories: fieldOf(strings.Join(a.Categories, " · ")),
		summary:    fieldOf(a.Summary),
	}
}

// score weighs the keywords found by where they are; terms are the
// keywords found, as configured, in the order of the list.
func (m matchText) score(kws []keyword) (score int, terms []string) {
	for _, k := range kws {
		s := 0
		if k.in(m.title) {
			s += titleWeight
		}
		if k.in(m.categories) {
			s += categoryWeight
		}
		if k.in(m.summary) {
			s += summaryWeight
		}
		if s > 0 {
			score += s
			terms = append(terms, k.word)
		}
	}
	return score, terms
}

func (m matchText) any(kws []keyword) bool {
	for _, k := range kws {
		if k.in(m.title) || k.in(m.categories) || k.in(m.summary) {
			return true
		}
	}
	return false
}

// ThemeScore is how strongly an article matched one theme.
type ThemeScore struct {
	ID    string
	Score int
	// Terms are the theme's keywords the article contains.
	Terms []string
}

// Match scores a against every theme and returns the themes it matched,
// best first. Ties go to defaultTheme (the feed's theme) and then to the
// config's order. A theme whose exclude words appear scores nothing.
func (g *Grouper) Match(a Article, defaultTheme string) []ThemeScore {
	return g.match(textOf(a), defaultTheme)
}

// match is Match on text already in match form, which Group computes once
// an article for the themes, the relevance words and the feed's theme.
func (g *Grouper) match(m matchText, defaultTheme string) []ThemeScore {
	var out []ThemeScore
	for _, t := range g.themes {
		s, terms := m.score(t.keywords)
		if s == 0 || m.any(t.exclude) {
			continue
		}
		out = append(out, ThemeScore{ID: t.ID, Score: s, Terms: terms})
	}
	// Stable: equal scores keep the config's order, except the feed's own
	// theme, which wins a tie.
	slices.SortStableFunc(out, func(x, y ThemeScore) int {
		if c := cmp.Compare(y.Score, x.Score); c != 0 {
			return c
		}
		return boolRank(y.ID == defaultTheme) - boolRank(x.ID == defaultTheme)
	})
	return out
}

func boolRank(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Group puts each article into the section of its best theme. feeds gives
// each article's feed (by URL) for its default theme and filter. Sections
// keep the themes' order with the catch-all last; articles are newest
// first; empty sections are left out. A theme's Max caps its section: an
// article over the cap moves to the next theme it matched that has room
// (so a reader of that theme still gets it), and is dropped only when
// none has. What is left out, like what filtered feeds contributed
// off-topic, is returned as dropped with the reason.
func (g *Grouper) Group(arts []Article, feeds map[string]Feed) ([]Section, []Dropped) {
	var dropped []Dropped
	ps := make([]placement, 0, len(arts))
	for _, a := range arts {
		f := feeds[a.FeedURL]
		m := textOf(a)
		// A filtered feed's article belongs in an AI-policy digest only if
		// it is about AI; theme keywords alone (규제, budget) do not say so.
		if f.Filter && !g.aboutAI(m) {
			dropped = append(dropped, droppedArticle(a, ReasonNotRelevant))
			continue
		}
		ps = append(ps, g.place(a, m, f))
	}
	g.placeByWeek(ps)
	byTheme := map[string][]Article{}
	for _, p := range ps {
		byTheme[p.section] = append(byTheme[p.section], p.a)
	}
	byTheme = g.joinStories(byTheme, feeds)

	// Cap the sections in order. Overflow goes to the article's next
	// matched theme: one not yet capped takes it as a candidate, one
	// already capped only if it still has room.
	order := make([]Theme, 0, len(g.themes)+1)
	for _, t := range g.themes {
		order = append(order, t.Theme)
	}
	order = append(order, g.other)
	done := map[string]bool{}
	for _, t := range order {
		list := byTheme[t.ID]
		rankEntries(list, feeds)
		if t.Max > 0 && len(list) > t.Max {
			for _, a := range list[t.Max:] {
				if next := g.nextRoom(a, t.ID, byTheme, done); next != "" {
					byTheme[next] = append(byTheme[next], a)
					if done[next] {
						rankEntries(byTheme[next], feeds)
					}
					continue
				}
				dropped = append(dropped, droppedEntry(a, "over the section's max of "+strconv.Itoa(t.Max))...)
			}
			list = list[:t.Max]
		}
		byTheme[t.ID] = list
		done[t.ID] = true
	}
	var sections []Section
	for _, t := range order {
		if list := byTheme[t.ID]; len(list) > 0 {
			sections = append(sections, Section{ID: t.ID, Name: t.Name, Articles: list})
		}
	}
	return sections, dropped
}

// place is where the keywords put an article: its best theme, or the
// feed's theme when none matched, else the catch-all section. It is left
// open for the week's evidence (placeByWeek) when no keyword matched, the
// feed has no theme for it and the article is about AI (an article on
// anything else belongs in the catch-all section, whatever words it
// shares with the week), or when the best themes tie and the feed's theme
// is not among them.
func (g *Grouper) place(a Article, m matchText, f Feed) placement {
	p := placement{a: a, m: m, matched: g.match(m, f.Theme), section: g.other.ID}
	p.a.Themes = make([]string, 0, len(p.matched))
	for _, t := range p.matched {
		p.a.Themes = append(p.a.Themes, t.ID)
		if p.a.Why == nil {
			p.a.Why = map[string]ThemeWhy{}
		}
		p.a.Why[t.ID] = ThemeWhy{Score: t.Score, Terms: t.Terms}
	}
	switch {
	case len(p.matched) > 0:
		p.section = p.matched[0].ID
		if len(p.matched) > 1 && p.matched[1].Score == p.matched[0].Score && p.section != f.Theme {
			p.open = true
			for _, t := range p.matched {
				if t.Score == p.matched[0].Score {
					p.tied = append(p.tied, t.ID)
				}
			}
		}
	case g.catches(f.Theme, m):
		p.section = f.Theme
		p.a.Themes = append(p.a.Themes, f.Theme)
	default:
		p.open = g.aboutAI(m)
	}
	return p
}

// nextRoom is the theme after from, among those a matched (best first),
// that can take a: one not yet capped, or one capped with room to spare.
func (g *Grouper) nextRoom(a Article, from string, byTheme map[string][]Article, done map[string]bool) string {
	i := slices.Index(a.Themes, from)
	if i < 0 {
		return ""
	}
	for _, id := range a.Themes[i+1:] {
		t, ok := g.theme(id)
		if !ok {
			continue
		}
		if !done[id] || t.Max == 0 || len(byTheme[id]) < t.Max {
			return id
		}
	}
	return ""
}

// catches reports whether a feed's default theme takes an article that
// matched no theme: the theme must exist and its exclude words must not
// veto the article, as they would a keyword match.
func (g *Grouper) catches(id string, m matchText) bool {
	t, ok := g.theme(id)
	return ok && !m.any(t.exclude)
}

func (g *Grouper) theme(id string) (compiledTheme, bool) {
	for _, t := range g.themes {
		if t.ID == id {
			return t, true
		}
	}
	return compiledTheme{}, false
}

// SortNewestFirst orders articles by date, newest first; equal dates by
// title and then ID, so an issue renders the same way every time.
func SortNewestFirst(arts []Article) {
	slices.SortStableFunc(arts, func(x, y Article) int {
		if c := y.Date().Compare(x.Date()); c != 0 {
			return c
		}
		return cmp.Or(cmp.Compare(x.Title, y.Title), cmp.Compare(x.ID, y.ID))
	})
}

func droppedArticle(a Article, reason string) Dropped {
	return Dropped{Title: a.Title, Link: a.Link, Feed: a.FeedName, FeedURL: a.FeedURL, Reason: reason}
}
