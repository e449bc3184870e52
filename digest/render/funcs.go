package render

// Text helpers for the newsletter templates.
//
// The digest is read in Korean and English mail clients, and the source text
// (feed titles, summaries) arrives in every script and in every state of
// Unicode hygiene: decomposed Hangul from macOS, flags and family emoji,
// stray invalid bytes from mislabelled feeds. A subject line or preview cut
// in the wrong place shows up as a tofu box or a broken emoji in the reader's
// inbox, so every function here works on user-visible characters rather than
// bytes, and the cutting functions share one notion of a "safe" cut.
//
// All functions are pure: no globals are mutated, no clock is read, and the
// same input always gives the same output, so they can be registered in a
// template FuncMap and tested in isolation.

import (
	"fmt"
	"math"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"gull/digest"
)

// ellipsis is appended whenever text is shortened. It is a single rune so
// that it can be counted within the caller's limit.
const ellipsis = "…"

// cleanText makes s safe to cut by rune and by grapheme.
//
// Invalid UTF-8 is replaced with U+FFFD first: feeds with a wrong charset
// label are common, and a template helper has no way to report an error, so
// the honest fallback is the replacement character rather than passing bytes
// through that would produce invalid mail bodies. NFC normalization then
// composes decomposed text (conjoining Hangul jamo from macOS file names and
// some CMSes, e + U+0301) into precomposed characters, so that rune counts
// match what the reader sees and a cut cannot land between a jamo and its
// syllable.
func cleanText(s string) string {
	return norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
}

// collapseSpace turns every run of Unicode whitespace into a single ASCII
// space and trims both ends, because feed summaries carry hard line breaks
// and indentation from their HTML source that mean nothing in a one-line
// excerpt.
func collapseSpace(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// leadingRunes decodes at most max runes of s. Truncating a long article only
// needs to look at the first few hundred characters, so there is no reason to
// decode all of it.
func leadingRunes(s string, limit int) []rune {
	r := make([]rune, 0, min(limit, len(s)))
	for _, c := range s {
		if len(r) == limit {
			break
		}
		r = append(r, c)
	}
	return r
}

// Truncate shortens s to at most n user-visible characters (runes, after NFC
// normalization). When s has to be cut, the result ends with "…" and the
// ellipsis is counted within n, so the result always fits the caller's
// budget (e.g. a preheader or a subject line limit).
//
// The cut never splits a UTF-8 sequence and never separates a character from
// what attaches to it: combining marks, variation selectors, emoji skin-tone
// modifiers and tag characters, ZWJ emoji sequences such as 👩‍👩‍👧, regional
// indicator pairs (flags such as 🇰🇷) and Hangul conjoining jamo. If the last
// whole character does not fit it is dropped entirely rather than shown
// half-formed. Whitespace left before the ellipsis is trimmed so the result
// reads "word…" rather than "word …".
//
// Invalid UTF-8 in s is replaced with U+FFFD, so the result is always valid
// UTF-8. If s already fits, it is returned unchanged apart from that cleanup
// and NFC normalization. n <= 0 returns "".
func Truncate(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = cleanText(s)
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	// n+1 runes are enough: we keep at most n-1 and only need to look at
	// the rune after the cut to decide whether the cut is safe.
	r := leadingRunes(s, n+1)
	c := cutBack(r, n-1, unicode.IsSpace)
	return string(r[:c]) + ellipsis
}

// FitWidth shortens s to at most cols columns as DisplayWidth counts them
// (Hangul and other wide characters two), for a line whose room is
// measured on screen rather than in characters: the subject. When s has
// to be cut it ends with "…" (one column, counted within cols), at the end
// of a word when one ends in the second half of the room (a Korean word is
// a space-separated eojeol, so no word is split), else at the last whole
// character that fits, never inside a grapheme (Truncate's rules). Spaces,
// clause punctuation and a separating " · " left before the ellipsis are
// trimmed. Invalid UTF-8 becomes U+FFFD and the text is NFC normalized.
// cols <= 0 returns "".
func FitWidth(s string, cols int) string {
	if cols <= 0 {
		return ""
	}
	s = cleanText(s)
	if DisplayWidth(s) <= cols {
		return s
	}
	r := []rune(s)
	// k runes fit beside the ellipsis.
	k, w := 0, 0
	for k < len(r) && w+runeWidth(r[k])+1 <= cols {
		w += runeWidth(r[k])
		k++
	}
	cut := k
	for i := k; i > k/2; i-- {
		if unicode.IsSpace(r[i]) && graphemeBoundary(r, i) {
			cut = i
			break
		}
	}
	cut = cutBack(r, cut, func(c rune) bool { return trimBeforeEllipsis(c) || c == '·' })
	return string(r[:cut]) + ellipsis
}

// cutBack returns the largest cut position c <= k such that r[:c] ends on a
// grapheme boundary and does not end in a rune that trim reports. The two
// conditions interact (trimming a space can expose a ZWJ that must not end
// the text, backing off a grapheme can expose a space), so they are applied
// until both hold. Each round strictly lowers k, so the loop ends.
func cutBack(r []rune, k int, trim func(rune) bool) int {
	if k > len(r) {
		k = len(r)
	}
	for {
		for k > 0 && !graphemeBoundary(r, k) {
			k--
		}
		j := k
		for j > 0 && trim(r[j-1]) {
			j--
		}
		if j == k {
			return k
		}
		k = j
	}
}

// graphemeBoundary reports whether r may be cut between r[i-1] and r[i]
// without leaving a dangling piece of a user-visible character: the
// archive's excerpts cut by the same rule (digest.GraphemeBoundary).
func graphemeBoundary(r []rune, i int) bool { return digest.GraphemeBoundary(r, i) }

// isConjoiningJamo: digest.IsConjoiningJamo.
func isConjoiningJamo(c rune) bool { return digest.IsConjoiningJamo(c) }

// Excerpt returns the leading whole sentences of s that fit in n runes, for
// story teasers where a sentence cut in half reads worse than a shorter,
// complete one. Whitespace runs are collapsed to one space and the text is
// trimmed first; invalid UTF-8 is replaced with U+FFFD and the text is NFC
// normalized, as in Truncate. If all of s fits it is returned whole.
//
// A sentence ends at '.', '!', '?', '…' (optionally followed by closing
// quotes or brackets) when whitespace or the end of the text follows, so
// "3.5" and "example.com" do not end sentences, and at the full-width marks
// '。', '！', '？' even without whitespace, because Chinese and Japanese do not
// put a space after them. Abbreviations are not sentence ends: a single
// capital letter before the dot ("U.S.", "J. Smith") and a short list of
// titles and Latin forms ("Mr.", "Dr.", "vs.", "e.g.", "i.e."). Korean
// sentences end in "다." and the like, which the '.' rule already covers.
//
// If even the first sentence is longer than n, the text is cut at the last
// space that leaves room for the "…" (so no word or Hangul syllable is
// split), or, when there is no space in reach (Chinese, Japanese, a long
// URL), at the last grapheme-safe rune boundary as Truncate does. In both
// cases the result ends with "…", counted within n. n <= 0 returns "".
func Excerpt(s string, n int) string {
	if n <= 0 {
		return ""
	}
	s = collapseSpace(cleanText(s))
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := leadingRunes(s, n+1)

	// Keep the last sentence end that fits. r holds one rune past the
	// limit, which is enough to see whether an end at n is followed by a
	// space; sentenceEnd treats the end of r as "more text follows".
	end := 0
	for i := range r {
		if e := sentenceEnd(r, i); e > 0 && e <= n {
			end = e
		}
	}
	if end > 0 {
		return string(r[:end])
	}

	// The first sentence alone is too long. Prefer a word boundary.
	limit := n - 1 // room for the ellipsis
	cut := 0
	for w := limit; w > 0; w-- {
		if r[w] == ' ' && graphemeBoundary(r, w) {
			cut = w
			break
		}
	}
	if cut == 0 {
		cut = limit
	}
	cut = cutBack(r, cut, trimBeforeEllipsis)
	return string(r[:cut]) + ellipsis
}

// trimBeforeEllipsis reports runes that look wrong right before a "…":
// spaces and clause punctuation ("AI 기본법은,…" reads as a typo).
func trimBeforeEllipsis(c rune) bool {
	return unicode.IsSpace(c) || strings.ContainsRune(",;:、，；：", c)
}

// sentenceEnd reports where the sentence ends if a run of sentence-ending
// punctuation starts at r[i]: it returns the index just past the punctuation
// and any closing quotes or brackets, or 0 if r[i] does not end a sentence.
//
// r may be a prefix of the text. A sentence end is then only accepted when
// the rune after it is visible in r, except for the full-width marks which
// end a sentence whatever follows; the caller decodes one rune past its
// limit so that every end that could fit is seen.
func sentenceEnd(r []rune, i int) int {
	if !isTerminator(r[i]) || (i > 0 && isTerminator(r[i-1])) {
		return 0
	}
	j, fullWidth := i, false
	for j < len(r) && isTerminator(r[j]) {
		if r[j] == '。' || r[j] == '！' || r[j] == '？' {
			fullWidth = true
		}
		j++
	}
	for j < len(r) && isCloser(r[j]) {
		j++
	}
	if !fullWidth {
		// Half-width marks need a following space: "3.5", "gull.dev",
		// "U.S" and "Yahoo!Japan" are not sentence ends. Running off the
		// end of a prefix is not proof of the text's end either.
		if j >= len(r) || r[j] != ' ' {
			return 0
		}
	}
	if j-i == 1 && r[i] == '.' && isAbbreviationDot(r, i) {
		return 0
	}
	if !graphemeBoundary(r, j) {
		return 0
	}
	return j
}

func isTerminator(c rune) bool {
	switch c {
	case '.', '!', '?', '。', '！', '？', '…':
		return true
	}
	return false
}

// isCloser reports closing quotes and brackets that belong to the sentence
// they follow: `He said "no."` ends after the quote.
func isCloser(c rune) bool {
	return strings.ContainsRune("\"')]}’”»」』）》〉】〕］｝", c)
}

// nonFinalAbbreviations are words that are written with a dot but almost
// never end a sentence. "etc." is left out on purpose: it ends list
// sentences as often as it sits inside one.
var nonFinalAbbreviations = map[string]bool{
	"mr": true, "mrs": true, "ms": true, "dr": true, "prof": true,
	"sr": true, "jr": true, "st": true, "vs": true, "cf": true,
	"e.g": true, "i.e": true,
}

// isAbbreviationDot reports whether the '.' at r[i] closes an abbreviation
// rather than a sentence.
func isAbbreviationDot(r []rune, i int) bool {
	if i == 0 {
		return false
	}
	// The word before the dot, including inner dots ("e.g", "U.S").
	k := i
	for k > 0 && (unicode.IsLetter(r[k-1]) || r[k-1] == '.') {
		k--
	}
	word := string(r[k:i])
	if nonFinalAbbreviations[strings.ToLower(word)] {
		return true
	}
	// A single capital letter: an initial ("J. Smith") or the last part
	// of a dotted acronym ("U.S.", "U.K."). "AI." is a word and ends.
	prev := r[i-1]
	return unicode.IsUpper(prev) && (i-1 == 0 || !unicode.IsLetter(r[i-2]))
}

// Reading rates used by ReadingTime.
//
// Korean is measured in syllables because a space-separated Korean word
// (eojeol) glues particles and endings onto the stem and is much longer than
// an English word; counting eojeol as words would badly underestimate the
// time. Published silent-reading studies put adult Korean readers at roughly
// 450-600 syllables per minute, Chinese and Japanese readers at roughly
// 350-500 characters per minute (each character carries more), and English
// readers at 200-260 words per minute for non-fiction on screen (Brysbaert
// 2019: 238 wpm mean). We take values near the middle, rounded to keep the
// estimate slightly conservative for dense policy text.
const (
	hangulPerMinute = 500.0 // Hangul syllables per minute
	cjkPerMinute    = 400.0 // Han ideographs and kana per minute
	wordsPerMinute  = 230.0 // words of other scripts per minute
)

// ReadingTime estimates how many minutes s takes to read, for the "N min
// read" labels. Hangul is counted per character at hangulPerMinute, Han
// ideographs and kana per character at cjkPerMinute, and everything else
// per word (a run of letters and digits, as in Latin script) at
// wordsPerMinute. The fractional minutes of the three are added, so mixed
// text such as a Korean article quoting English names is handled, and the
// sum is rounded to the nearest minute. Any non-blank text takes at least
// 1 minute (a "0 min read" label looks broken); empty or whitespace-only
// text returns 0.
//
// Scripts written without spaces other than CJK (Thai, for example) count
// as one long word per run; the newsletter does not carry them.
func ReadingTime(s string) int {
	s = cleanText(s)
	if strings.TrimSpace(s) == "" {
		return 0
	}
	var hangul, cjk, words int
	inWord := false
	r := []rune(s)
	for i, c := range r {
		switch {
		case unicode.Is(unicode.Hangul, c) && unicode.IsLetter(c):
			hangul++
			inWord = false
		case unicode.In(c, unicode.Han, unicode.Hiragana, unicode.Katakana) || c == 'ー':
			// U+30FC (the katakana length mark) has the Common script
			// but is read as part of the kana word.
			cjk++
			inWord = false
		case unicode.IsLetter(c) || unicode.IsDigit(c):
			if !inWord {
				words++
				inWord = true
			}
		case inWord && unicode.In(c, unicode.Mn, unicode.Mc, unicode.Me):
			// Combining marks that NFC could not compose stay in the word.
		case inWord && isWordJoiner(r, i):
			// "don't", "3.5" and "1,000" are read as one word.
		default:
			inWord = false
		}
	}
	minutes := float64(hangul)/hangulPerMinute + float64(cjk)/cjkPerMinute + float64(words)/wordsPerMinute
	return max(1, int(math.Round(minutes)))
}

// isWordJoiner reports punctuation inside a word that does not split it:
// an apostrophe between letters, or a decimal or thousands separator
// between digits.
func isWordJoiner(r []rune, i int) bool {
	if i == 0 || i+1 >= len(r) {
		return false
	}
	prev, next := r[i-1], r[i+1]
	switch r[i] {
	case '\'', '’':
		return unicode.IsLetter(prev) && unicode.IsLetter(next)
	case '.', ',':
		return unicode.IsDigit(prev) && unicode.IsDigit(next)
	}
	return false
}

// koreanWeekdays are the one-syllable weekday names used in Korean dates,
// indexed by time.Weekday (Sunday first).
var koreanWeekdays = [7]string{"일", "월", "화", "수", "목", "금", "토"}

// FormatDate formats t in loc for the newsletter language lang.
//
// The time is converted to loc first (nil means UTC) because the same
// instant falls on different calendar days for Seoul and London readers,
// and the issue date must be the reader's date. lang "ko" gives Korean
// formats; any other value gives English, the safe default for an unknown
// audience. A region suffix ("ko-KR", "ko_KR") and letter case are ignored
// so that locale strings from configuration work as expected.
//
// style is one of "long" (also the default for ""), "short", "iso" or
// "time":
//
//	long   2026년 11월 24일 (화)   Tue 24 Nov 2026
//	short  11월 24일              24 Nov
//	iso    2026-11-24
//	time   08:00
//
// English uses day-month order, which no reader misreads, unlike 11/24 vs
// 24/11. An unknown style is a template bug, so it is reported as an error
// (which aborts template execution) instead of printing a wrong date.
func FormatDate(t time.Time, lang string, loc *time.Location, style string) (string, error) {
	if loc == nil {
		loc = time.UTC
	}
	t = t.In(loc)
	korean := isKorean(lang)
	switch style {
	case "long", "":
		if korean {
			return fmt.Sprintf("%d년 %d월 %d일 (%s)", t.Year(), int(t.Month()), t.Day(), koreanWeekdays[t.Weekday()]), nil
		}
		return t.Format("Mon 2 Jan 2006"), nil
	case "short":
		if korean {
			return fmt.Sprintf("%d월 %d일", int(t.Month()), t.Day()), nil
		}
		return t.Format("2 Jan"), nil
	case "iso":
		return t.Format("2006-01-02"), nil
	case "time":
		return t.Format("15:04"), nil
	}
	return "", fmt.Errorf(`render: unknown date style %q (allowed: "long", "short", "iso", "time"; "" means "long")`, style)
}

// isKorean reports whether lang names Korean, with or without a region.
func isKorean(lang string) bool {
	lang = strings.ToLower(strings.TrimSpace(lang))
	return lang == "ko" || strings.HasPrefix(lang, "ko-") || strings.HasPrefix(lang, "ko_")
}

// Plural returns one when n is 1 and many otherwise, so templates can write
// {{.N}} {{plural .N "story" "stories"}}. Only the word is returned because
// the template decides how to print the number. Korean nouns do not inflect
// for number, so Korean templates pass the same word twice or skip it.
func Plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
