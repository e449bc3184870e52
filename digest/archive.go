package digest

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// ArchivedArticle is one article of a published issue as the archive
// shows it: on a theme's page and in the search's results.
type ArchivedArticle struct {
	IssueID     string
	IssueNumber int
	Period      Period
	Section     string // the theme id of its section in that issue
	Title       string
	Link        string
	Feed        string
	Summary     string
	Published   *time.Time
	// Story is the title of the story's lead when the article is another
	// outlet's coverage of it (readers got it under that lead); "" for a
	// lead.
	Story string
}

// ArchivePage is one page of the archive's articles and how many there
// are in all.
type ArchivePage struct {
	Articles []ArchivedArticle
	Total    int
	// Scanned, when not 0, is how many of the newest articles a search
	// of short words only looked at: the older ones were not searched.
	Scanned int
}

// The search's bounds: a query longer than this is cut (a search box
// takes a few words, and each term costs a scan), and at most this many
// terms count.
const (
	MaxSearchRunes = 200
	MaxSearchTerms = 8
)

// SearchTerms reads a search query the same way for every store: valid
// UTF-8 only (other bytes dropped), control characters as spaces, at most
// MaxSearchRunes characters, split at spaces into at most MaxSearchTerms
// distinct terms, each folded (FoldSearch). An article matches when
// every term is inside its title, summary or feed name. Nothing in a
// query is syntax: quotes, *, -, NEAR( and SQL are characters to find.
func SearchTerms(q string) []string {
	q = strings.ToValidUTF8(q, "")
	if utf8.RuneCountInString(q) > MaxSearchRunes {
		q = string([]rune(q)[:MaxSearchRunes])
	}
	q = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, q)
	var out []string
	for _, f := range strings.Fields(FoldSearch(q)) {
		dup := false
		for _, o := range out {
			dup = dup || o == f
		}
		if !dup && len(out) < MaxSearchTerms {
			out = append(out, f)
		}
	}
	return out
}

// FoldSearch is the text the search compares: SearchText, each character
// then lower-cased on its own (so a match found in the folded text is at
// the same character positions in SearchText's, which the highlight
// needs).
func FoldSearch(s string) string {
	return strings.Map(unicode.ToLower, SearchText(s))
}

// SearchText is text as the search sees it and shows it: valid UTF-8
// (anything else dropped), NFC normalized, so that decomposed Hangul
// (conjoining jamo, from macOS and some CMSes) finds and is found as the
// syllables a reader types. (NFC, not the themes' NFKC: NFKC would change
// the text a result shows, full-width letters and all, and a highlight
// must mark the text as it is.)
func SearchText(s string) string {
	return norm.NFC.String(strings.ToValidUTF8(s, ""))
}

// ArchiveFold is what the archive's search reads of an article: its
// title, summary and feed name, folded, a line each.
func ArchiveFold(title, summary, feed string) string {
	return FoldSearch(title) + "\n" + FoldSearch(summary) + "\n" + FoldSearch(feed)
}

// MatchesAll says whether every term is in folded (a FoldSearch text).
func MatchesAll(folded string, terms []string) bool {
	for _, t := range terms {
		if !strings.Contains(folded, t) {
			return false
		}
	}
	return len(terms) > 0
}

// MatchSpans are the byte ranges of text where a term is found, compared
// character by character after FoldSearch, in order and merged where
// they touch or overlap. text must be a SearchText (valid UTF-8, NFC).
func MatchSpans(text string, terms []string) [][2]int {
	runes := []rune(text)
	offs := make([]int, len(runes)+1) // byte offset of each rune
	for i, r := range runes {
		offs[i+1] = offs[i] + utf8.RuneLen(r)
	}
	covered := make([]bool, len(runes))
	for _, t := range terms {
		tr := []rune(t)
		if len(tr) == 0 {
			continue
		}
	scan:
		for i := 0; i+len(tr) <= len(runes); i++ {
			for j, c := range tr {
				if unicode.ToLower(runes[i+j]) != c {
					continue scan
				}
			}
			for j := range tr {
				covered[i+j] = true
			}
		}
	}
	var out [][2]int
	for i := 0; i < len(runes); i++ {
		if !covered[i] {
			continue
		}
		j := i
		for j < len(runes) && covered[j] {
			j++
		}
		out = append(out, [2]int{offs[i], offs[j]})
		i = j
	}
	return out
}
