package digest

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// What two articles about one event share, whatever outlet wrote them.
// Each kind is a prefix of the feature's key; the kinds marked cross are
// the same in Korean and English text, so they alone compare articles in
// two languages.
const (
	featWord  = 'w' // an English word stem ("regulator", "regulators" -> "regulator")
	featGram  = 'k' // two neighbouring Hangul syllables: survives particles ("공정위가", "공정위는")
	featNum   = 'n' // cross: a number with its scale ("₩9.4 trillion", "9.4조", "9조 4천억 원")
	featDate  = 'd' // cross: a day of the year ("Nov 18", "11월 18일", "on Wednesday", "18일")
	featName  = 'x' // cross: a Latin name or acronym (HBM4E, BIS, KYC, KoRisk)
	featAlias = 'a' // cross: a place or body of the bilingual table (경찰청, National Police Agency)
	featTerm  = 't' // cross: a policy term of the bilingual table (관세, tariffs)
	featRoman = 'r' // cross: a Hangul name whose romanization is a Latin name (한울 -> Hanul)
)

func crossKind(kind byte) bool {
	switch kind {
	case featNum, featDate, featName, featAlias, featTerm, featRoman:
		return true
	}
	return false
}

// token is a piece of an article's text: a run of Latin letters and
// digits, of Hangul, one Han character, or a number.
type token struct {
	text  string
	kind  byte // 'l' Latin word, 'h' Hangul run, 'c' Han character, 'n' number
	start int  // byte offsets in the text
	end   int
	// sentenceStart: the first word of a sentence, where a capital says
	// nothing about a name.
	sentenceStart bool
}

func isHangul(r rune) bool {
	return r >= 0xAC00 && r <= 0xD7A3
}

// tokenize splits s into tokens. A number is digits with thousands commas
// and a decimal point ("4,000", "9.4"); letters glued to digits stay one
// Latin token when the letters come first ("HBM4E", "R2"), while "72B" and
// "9조" are a number and what follows it.
func tokenize(s string) []token {
	var out []token
	sentence := true
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		start := i
		switch {
		case r < utf8.RuneSelf && '0' <= r && r <= '9':
			i = scanNumber(s, i)
			out = append(out, token{text: s[start:i], kind: 'n', start: start, end: i})
			sentence = false
		case isHangul(r):
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !isHangul(r) {
					break
				}
				i += size
			}
			out = append(out, token{text: s[start:i], kind: 'h', start: start, end: i})
			sentence = false
		case unicode.Is(unicode.Han, r):
			i += size
			out = append(out, token{text: s[start:i], kind: 'c', start: start, end: i})
			sentence = false
		case unicode.IsLetter(r):
			for i < len(s) {
				r, size := utf8.DecodeRuneInString(s[i:])
				if !(unicode.IsLetter(r) || unicode.IsDigit(r)) || isHangul(r) || unicode.Is(unicode.Han, r) {
					break
				}
				i += size
			}
			out = append(out, token{text: s[start:i], kind: 'l', start: start, end: i, sentenceStart: sentence})
			sentence = false
		default:
			// Punctuation is no token; the gaps it leaves keep "(LLM) 6종"
			// from reading as one amount.
			i += size
			switch r {
			case '.', '!', '?', ':', '…', '|':
				sentence = true
			}
		}
	}
	return out
}

// scanNumber returns the end of the number at s[i:]: digits, commas
// followed by exactly three digits, and one decimal point between digits.
func scanNumber(s string, i int) int {
	digits := func(j int) int {
		for j < len(s) && '0' <= s[j] && s[j] <= '9' {
			j++
		}
		return j
	}
	i = digits(i)
	for i+3 < len(s) && s[i] == ',' && digits(i+1) == i+4 {
		i += 4
	}
	if i+1 < len(s) && s[i] == '.' && '0' <= s[i+1] && s[i+1] <= '9' {
		i = digits(i + 1)
	}
	return i
}

func numberValue(t string) (float64, bool) {
	v, err := strconv.ParseFloat(strings.ReplaceAll(t, ",", ""), 64)
	return v, err == nil
}

var englishScale = map[string]float64{
	"thousand": 1e3, "million": 1e6, "billion": 1e9, "trillion": 1e12,
	"k": 1e3, "mn": 1e6, "bn": 1e9, "tn": 1e12, "m": 1e6, "b": 1e9, "t": 1e12,
}

// Korean numerals count in groups of four digits: 만 (10^4), 억 (10^8),
// 조 (10^12); 천, 백 and 십 count inside a group ("9조 4천억" is 9.4e12).
var koreanBig = map[string]float64{"만": 1e4, "억": 1e8, "조": 1e12}
var koreanSmall = map[string]float64{"천": 1e3, "백": 1e2, "십": 10}

var months = map[string]time.Month{
	"jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
	"may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9, "sept": 9,
	"september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11, "dec": 12, "december": 12,
}

var weekdays = map[string]time.Weekday{
	"monday": time.Monday, "tuesday": time.Tuesday, "wednesday": time.Wednesday, "thursday": time.Thursday,
	"friday": time.Friday, "saturday": time.Saturday, "sunday": time.Sunday,
}

// adjacent reports whether toks[i+1] follows toks[i] with nothing between
// them, or, when loose, only a space or a hyphen ("4,000 GPUs", "16-high",
// "9조 4천억").
func adjacent(s string, toks []token, i int, loose bool) bool {
	if i+1 >= len(toks) {
		return false
	}
	gap := s[toks[i].end:toks[i+1].start]
	return gap == "" || loose && (gap == " " || gap == "-" || gap == "\u00a0")
}

// numbersAndDates reads the amounts, counts and days in toks. Small whole
// numbers (under 10) say too little to tell events apart and are left
// out; a number that is part of a date is the date, not a number.
// published resolves a day without a month ("18일") or a weekday ("on
// Wednesday") to the latest such day on or before it.
func numbersAndDates(s string, toks []token, published time.Time, emit func(kind byte, key string)) {
	for i := 0; i < len(toks); i++ {
		switch toks[i].kind {
		case 'l':
			i = latinDate(s, toks, i, published, emit)
		case 'n':
			i = number(s, toks, i, published, emit)
		}
	}
}

func emitDate(m time.Month, d int, emit func(kind byte, key string)) {
	if d >= 1 && d <= 31 && m >= 1 && m <= 12 {
		emit(featDate, strconv.Itoa(int(m))+"-"+strconv.Itoa(d))
	}
}

// latinDate reads "Nov 18", "November 18" and a weekday at toks[i] and
// returns the index of the last token it used.
func latinDate(s string, toks []token, i int, published time.Time, emit func(kind byte, key string)) int {
	t := toks[i]
	lower := strings.ToLower(t.text)
	if m, ok := months[lower]; ok && (lower != "may" || t.text == "May") && i+1 < len(toks) && toks[i+1].kind == 'n' {
		gap := s[t.end:toks[i+1].start]
		if d, err := strconv.Atoi(toks[i+1].text); err == nil && d <= 31 && (gap == " " || gap == ". " || gap == "\u00a0") {
			emitDate(m, d, emit)
			return i + 1
		}
	}
	if wd, ok := weekdays[lower]; ok && !published.IsZero() {
		day := published.AddDate(0, 0, -((int(published.Weekday()) - int(wd) + 7) % 7))
		emitDate(day.Month(), day.Day(), emit)
	}
	return i
}

// number reads the number at toks[i] with what makes it a date, an amount
// or a count, and returns the index of the last token it used.
func number(s string, toks []token, i int, published time.Time, emit func(kind byte, key string)) int {
	v, ok := numberValue(toks[i].text)
	if !ok {
		return i
	}
	if !adjacent(s, toks, i, true) {
		emitNumber(v, emit)
		return i
	}
	next := toks[i+1]
	whole := v == math.Trunc(v)
	switch next.kind {
	case 'h':
		switch {
		// 11월 18일
		case next.text == "월" && whole && i+3 < len(toks) && toks[i+2].kind == 'n' && adjacent(s, toks, i+1, true) &&
			adjacent(s, toks, i+2, true) && strings.HasPrefix(toks[i+3].text, "일"):
			if d, err := strconv.Atoi(toks[i+2].text); err == nil {
				emitDate(time.Month(v), d, emit)
			}
			return i + 3
		case strings.HasPrefix(next.text, "월"):
			return i + 1 // a month ("10월까지") is no amount
		// 18일: a day of the publishing month, or of the month before when
		// it is later than the publishing day.
		case strings.HasPrefix(next.text, "일") && !strings.HasPrefix(next.text, "일본") && !strings.HasPrefix(next.text, "일간") &&
			!strings.HasPrefix(next.text, "일째") && whole && v >= 1 && v <= 31 && !published.IsZero():
			d := int(v)
			m := published.Month()
			if d > published.Day() {
				m--
			}
			day := time.Date(published.Year(), m, d, 12, 0, 0, 0, published.Location())
			emitDate(day.Month(), day.Day(), emit)
			return i + 1
		}
		if total, last, ok := koreanAmount(s, toks, i, v); ok {
			emitNumber(total, emit)
			return last
		}
	case 'l':
		word := strings.ToLower(next.text)
		// 18 November
		if m, ok := months[word]; ok && whole && v >= 1 && v <= 31 {
			emitDate(m, int(v), emit)
			return i + 1
		}
		// 9.4 trillion, $83 million, 72B, 4bn (a one- or two-letter scale
		// only when glued on: "200 m" may be metres).
		if scale, ok := englishScale[word]; ok && (len(word) > 2 || adjacent(s, toks, i, false)) {
			emitNumber(v*scale, emit)
			return i + 1
		}
	}
	emitNumber(v, emit)
	return i
}

// koreanAmount reads a Korean numeral that starts with the number v at
// toks[i]: 4270억, 9조4000억, 9조 4천억, 5만8000, 5만 8000. It returns the
// value and the index of the last token used; ok is false when no unit
// follows.
func koreanAmount(s string, toks []token, i int, v float64) (total float64, last int, ok bool) {
	group, j := v, i
	lastBig := math.Inf(1) // the last group's unit: a lower group is below it
	for adjacent(s, toks, j, true) && toks[j+1].kind == 'h' {
		h := toks[j+1].text
		u := firstRune(h)
		rest := h[len(u):]
		if small, isSmall := koreanSmall[u]; isSmall {
			group *= small
			if big, isBig := koreanBig[firstRune(rest)]; rest != "" && isBig {
				total += group * big
				group = 0
				lastBig = big
				rest = rest[len(firstRune(rest)):]
			}
		} else if big, isBig := koreanBig[u]; isBig {
			total += group * big
			group = 0
			lastBig = big
		} else {
			break
		}
		j++
		ok = true
		// A particle or a counter ends the numeral ("9조를", "1만원").
		if rest != "" || !adjacent(s, toks, j, true) || toks[j+1].kind != 'n' {
			break
		}
		nv, isNum := numberValue(toks[j+1].text)
		if !isNum {
			break
		}
		glued := adjacent(s, toks, j, false)
		unitNext := adjacent(s, toks, j+1, true) && toks[j+2].kind == 'h' && isKoreanUnit(firstRune(toks[j+2].text))
		switch {
		case unitNext:
			group = nv // another group with its unit: 조 4천억
			j++
		case glued || nv < lastBig:
			group = nv // the last group: 5만8000명, 5만 8000명
			j++
			return total + group, j, true
		default:
			return total + group, j, ok
		}
	}
	return total + group, j, ok
}

func isKoreanUnit(u string) bool {
	_, big := koreanBig[u]
	_, small := koreanSmall[u]
	return big || small
}

func firstRune(s string) string {
	_, size := utf8.DecodeRuneInString(s)
	return s[:size]
}

// emitNumber writes v with four significant digits, so 9.4e12 read from
// "9조4000억" and from "9.4 trillion" are one key.
func emitNumber(v float64, emit func(kind byte, key string)) {
	if v < 10 && v == math.Trunc(v) {
		return
	}
	emit(featNum, strconv.FormatFloat(v, 'g', 4, 64))
}

// stopwords are English words too common to say which event an article is
// about. Rarer words are weighed by how few articles of the week use them.
var stopwords = func() map[string]bool {
	m := map[string]bool{}
	for _, w := range strings.Fields(`a about above after again against all also am an and any are as at be
		because been before being below between both but by can could did do does doing down during each
		few for from further had has have having he her here hers him his how i if in into is it its itself
		just me more most my no nor not now of off on once only or other our ours out over own same she
		should so some such than that the their theirs them then there these they this those through to too
		under until up very was we were what when where which while who whom why will with would you your
		said says say according new week year years month months day days first last next one two three
		four five six seven eight nine ten its it's one's per via while whose upon amid among within without
		than however still even many much several since yet though although whether`) {
		m[w] = true
	}
	return m
}()

// stem folds an English word's common inflections: regulate, regulated
// and regulating become "regulat", chipmakers "chipmaker", exporting
// "export".
func stem(w string) string {
	switch {
	case len(w) > 4 && strings.HasSuffix(w, "ies"):
		w = w[:len(w)-3] + "y"
	case len(w) > 5 && strings.HasSuffix(w, "ing"):
		w = w[:len(w)-3]
	case len(w) > 4 && strings.HasSuffix(w, "ed"):
		w = w[:len(w)-2]
	case len(w) > 4 && (strings.HasSuffix(w, "sses") || strings.HasSuffix(w, "xes") || strings.HasSuffix(w, "ches") || strings.HasSuffix(w, "shes")):
		w = w[:len(w)-2]
	case len(w) > 3 && strings.HasSuffix(w, "s") && !strings.HasSuffix(w, "ss") && !strings.HasSuffix(w, "us") && !strings.HasSuffix(w, "is"):
		w = w[:len(w)-1]
	}
	if len(w) > 4 && strings.HasSuffix(w, "e") {
		w = w[:len(w)-1]
	}
	return w
}

// latinName is the name or acronym a Latin token stands for, lower-cased,
// or "": in Korean text every Latin word is one; in English text a word
// with two capitals or with digits (GPU, HBM4E, KoRisk, R2), or a
// capitalized word inside a sentence (Hanul, Geneva). An acronym's plural
// is the acronym (GPUs).
func latinName(t token, inKorean bool) string {
	upper, digits, letters := 0, 0, 0
	for _, r := range t.text {
		switch {
		case unicode.IsUpper(r):
			upper++
			letters++
		case unicode.IsDigit(r):
			digits++
		default:
			letters++
		}
	}
	lower := strings.ToLower(t.text)
	if upper >= 2 && strings.HasSuffix(t.text, "s") && upper == letters-1 {
		lower = strings.TrimSuffix(lower, "s")
	}
	switch {
	case letters == 0 || len(t.text) < 2 || units[lower]:
		return ""
	case inKorean, upper >= 2, digits > 0 && letters > 0:
		return lower
	case upper == 1 && unicode.IsUpper(firstRuneR(t.text)) && !t.sentenceStart && len(t.text) >= 3 &&
		!stopwords[lower] && months[lower] == 0 && !isWeekday(lower):
		return lower
	}
	return ""
}

// units are the Latin abbreviations that follow a number; they name no
// one thing ("200MW" and "6GW" are two different sizes).
var units = func() map[string]bool {
	m := map[string]bool{}
	for _, u := range strings.Fields("kw mw gw tw kwh mwh gwh twh kb mb gb tb pb kbps mbps gbps hz khz mhz ghz nm mm cm km kg mt usd krw jpy eur cny pct bps") {
		m[u] = true
	}
	return m
}()

func firstRuneR(s string) rune {
	r, _ := utf8.DecodeRuneInString(s)
	return r
}

func isWeekday(w string) bool {
	_, ok := weekdays[w]
	return ok
}

// storyText is an article's title and summary in the form stories read:
// NFKC (full-width digits and letters are ASCII, decomposed Hangul is
// composed) with invisible characters removed, case kept for names.
func storyText(s string) string {
	return dottedAcronyms.Replace(norm.NFKC.String(invisible.Replace(s)))
}

// dottedAcronyms are written as the alias table writes them ("U.S." is
// "US"), so the dots do not split them into letters.
var dottedAcronyms = strings.NewReplacer("U.S.", "US", "U.K.", "UK", "U.N.", "UN", "E.U.", "EU")

// Romanization (the Revised Romanization of Korean) lets a Hangul name
// meet the Latin spelling an English article gives it: 한울 is "hanul",
// 청주 "cheongju", 마루랩스 begins "maru". looseRoman then forgets the
// differences older spellings make (Pusan/Busan, Taegu/Daegu).
var (
	romanInitial = []string{"g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s", "ss", "", "j", "jj", "ch", "k", "t", "p", "h"}
	romanVowel   = []string{"a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae", "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i"}
	romanFinal   = []string{"", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l", "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t"}
)

// looseSyllables are the folded romanizations of the Hangul syllables,
// made once.
var looseSyllables = sync.OnceValue(func() []string {
	out := make([]string, 0xD7A4-0xAC00)
	for i := range out {
		ini, vow, fin := i/(21*28), i/28%21, i%28
		out[i] = looseRoman(romanInitial[ini] + romanVowel[vow] + romanFinal[fin])
	}
	return out
})

func looseSyllable(r rune) string {
	if !isHangul(r) {
		return ""
	}
	return looseSyllables()[r-0xAC00]
}

var romanFold = strings.NewReplacer("ch", "j", "sh", "s")

// looseRoman folds the consonants that spellings of one Korean sound
// differ in (l/r, k/g, t/d, p/b, ch/j: Pusan and Busan, Taegu and Daegu)
// and doubled letters. Vowels are kept: 하늘 (haneul) is not Hanul.
func looseRoman(s string) string {
	s = romanFold.Replace(strings.ToLower(s))
	var b strings.Builder
	var last rune
	for _, r := range s {
		switch r {
		case 'l':
			r = 'r'
		case 'k':
			r = 'g'
		case 't':
			r = 'd'
		case 'p':
			r = 'b'
		}
		if r == last {
			continue
		}
		b.WriteRune(r)
		last = r
	}
	return b.String()
}

// aliasTable finds the names of the alias groups in a text. Each group is
// a concept; a text naming it in any form gets the concept's feature.
type aliasTable struct {
	// hangul: forms with Hangul or Han, by their first rune (lower-cased),
	// longest first; matched in the text as written.
	hangul map[rune][]hangulAlias
	// latin: Latin forms by the stem of their first word, longest first;
	// matched word by word.
	latin map[string][]latinAlias
}

type hangulAlias struct {
	text    string
	concept string
}

type latinAlias struct {
	words []string // stems
	// caps: the form is in capitals (US, KYC) and matches only so;
	// initial: a capitalized single word (Commerce) matches only
	// capitalized.
	caps, initial bool
	concept       string
}

// aliasGroup is the forms of one thing; kind says whether it is a name
// (featAlias) or a policy term (featTerm).
type aliasGroup struct {
	forms   []string
	kind    byte
	concept string
}

// aliasGroups are the shipped names and terms and the config's groups
// (names, each its own concept).
func aliasGroups(extra [][]string) []aliasGroup {
	var out []aliasGroup
	add := func(list [][]string, kind byte, prefix string) {
		for i, forms := range list {
			out = append(out, aliasGroup{forms: forms, kind: kind, concept: prefix + strconv.Itoa(i)})
		}
	}
	add(shippedAliases, featAlias, "")
	add(shippedTerms, featTerm, "")
	add(extra, featAlias, "c")
	return out
}

func newAliasTable(groups []aliasGroup) *aliasTable {
	t := &aliasTable{hangul: map[rune][]hangulAlias{}, latin: map[string][]latinAlias{}}
	for _, g := range groups {
		concept := string(g.kind) + g.concept
		group := g.forms
		for _, form := range group {
			form = storyText(strings.TrimSpace(form))
			if form == "" {
				continue
			}
			if strings.IndexFunc(form, func(r rune) bool { return isHangul(r) || unicode.Is(unicode.Han, r) }) >= 0 {
				lower := strings.ToLower(form)
				r, _ := utf8.DecodeRuneInString(lower)
				t.hangul[r] = append(t.hangul[r], hangulAlias{text: lower, concept: concept})
				continue
			}
			toks := tokenize(form)
			if len(toks) == 0 {
				continue
			}
			la := latinAlias{concept: concept}
			for _, tok := range toks {
				la.words = append(la.words, stem(strings.ToLower(tok.text)))
			}
			if len(toks) == 1 {
				la.caps = len(toks[0].text) >= 2 && strings.ToUpper(toks[0].text) == toks[0].text
				la.initial = !la.caps && unicode.IsUpper(firstRuneR(toks[0].text))
			}
			t.latin[la.words[0]] = append(t.latin[la.words[0]], la)
		}
	}
	for r, list := range t.hangul {
		slices.SortStableFunc(list, func(a, b hangulAlias) int { return cmp.Compare(len(b.text), len(a.text)) })
		t.hangul[r] = list
	}
	for w, list := range t.latin {
		slices.SortStableFunc(list, func(a, b latinAlias) int { return cmp.Compare(len(b.words), len(a.words)) })
		t.latin[w] = list
	}
	return t
}

// match emits the concept of every alias form in text (whose tokens are
// toks) and reports which Latin tokens a form used, so they are not
// counted again as names. At each place the longest form wins.
func (t *aliasTable) match(text string, toks []token, emit func(kind byte, key string)) []bool {
	used := make([]bool, len(toks))
	lower := strings.ToLower(text)
	for i := 0; i < len(lower); {
		r, size := utf8.DecodeRuneInString(lower[i:])
		n := 0
		for _, a := range t.hangul[r] {
			if strings.HasPrefix(lower[i:], a.text) {
				emit(a.concept[0], a.concept[1:])
				n = len(a.text)
				break
			}
		}
		i += max(n, size)
	}
	for k := 0; k < len(toks); k++ {
		if toks[k].kind != 'l' {
			continue
		}
		first := stem(strings.ToLower(toks[k].text))
		for _, a := range t.latin[first] {
			if t.latinAt(a, toks, k) {
				emit(a.concept[0], a.concept[1:])
				for j := k; j < k+len(a.words); j++ {
					used[j] = true
				}
				k += len(a.words) - 1
				break
			}
		}
	}
	return used
}

func (t *aliasTable) latinAt(a latinAlias, toks []token, k int) bool {
	if k+len(a.words) > len(toks) {
		return false
	}
	tok := toks[k].text
	switch {
	case a.caps:
		return strings.ToUpper(tok) == tok || strings.ToUpper(tok) == strings.TrimSuffix(tok, "s")+"S"
	case a.initial:
		if !unicode.IsUpper(firstRuneR(tok)) {
			return false
		}
	}
	for j, w := range a.words[1:] {
		next := toks[k+1+j]
		if next.kind != 'l' || stem(strings.ToLower(next.text)) != w {
			return false
		}
	}
	return true
}
