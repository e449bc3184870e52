package digest

import (
	"strings"
	"unicode"
)

// An article's language is "ko", "en", or "" when it is neither or cannot
// be told (DetectLang): collect sets it on every item it reads, and the
// store on the articles it kept from before gull knew languages. It comes
// from the feed's declared language (RSS <language> or dc:language, Atom
// xml:lang, JSON Feed "language": "ko", "ko-KR", "en-us"), and from the
// script of the item's title and summary when the feed declares none.
//
// A declaration can lie: a feed template says en-us whatever its writers
// write (the corpus has a Korean newswire and a Chinese one that declare
// en-us). The declaration is the feed's, the text is the item's, so the
// text overrules it when it has enough letters (overruleLetters) and a
// good share of them is in a script the declared language is not written
// in: Hangul (hangulShare) makes an English- or other-declared item
// Korean; Han, Kana or any script but Latin and Hangul at the same share
// makes an English-declared item not English (""). Korean is written
// with many Latin letters (names, acronyms), so only text almost wholly
// Latin (latinOverrule) makes a Korean-declared item English; and since
// most languages use Latin letters, Latin text never makes an item of a
// feed declared German or Hungarian English. Short text (a title quoting
// a Korean name) keeps the declaration.

// Thresholds, as shares of an item's letters (a Hangul syllable counts
// one letter, as a Latin letter does).
const (
	// hangulShare makes text Korean. Korean writing mixes in Latin
	// acronyms and names ("AI기본법", "엔비디아 GPU 26만 장" is 6 Hangul
	// to 3 Latin letters; the corpus's Korean newswire, full of company
	// names, is about two-thirds Hangul), and a syllable holds what two
	// or three Latin letters do, so Korean text seldom falls below half
	// Hangul letters; English text that quotes a Korean term ("the 반도체
	// 특별법 passed") stays far below a quarter. 0.3 sits between with
	// room on both sides.
	hangulShare = 0.3
	// latinShare makes undeclared text without Hangul English: most of
	// its letters Latin (a Japanese or Chinese title with one Latin brand
	// name is not).
	latinShare = 0.7
	// minLetters: fewer letters than this ("12345", "Q&A") say nothing.
	minLetters = 3
	// overruleLetters: the text must be this long to overrule a
	// declaration (a headline and a little more).
	overruleLetters = 20
	// latinOverrule: the share of Latin letters that makes an item of a
	// feed declared Korean English.
	latinOverrule = 0.9
)

// DetectLang is an item's language from its feed's declaration ("" for
// none) and its own title and summary.
func DetectLang(declared, title, summary string) string {
	s := countScripts(title).add(countScripts(summary))
	long := s.letters >= overruleLetters
	switch declaredLang(declared) {
	case "":
		return s.lang()
	case "ko":
		if long && s.share(s.latin) >= latinOverrule {
			return "en"
		}
		return "ko"
	case "en":
		switch {
		case long && s.share(s.hangul) >= hangulShare:
			return "ko"
		case long && s.share(s.letters-s.hangul-s.latin) >= hangulShare:
			return ""
		}
		return "en"
	}
	// Another language.
	if long && s.share(s.hangul) >= hangulShare {
		return "ko"
	}
	return ""
}

// declaredLang reads a language tag: "ko", "en", "other" for any other
// language, "" when there is none. Only the primary subtag counts
// ("ko-KR", "en_US", "EN-us").
func declaredLang(tag string) string {
	tag = strings.ToLower(strings.TrimSpace(tag))
	if i := strings.IndexAny(tag, "-_"); i >= 0 {
		tag = tag[:i]
	}
	switch tag {
	case "":
		return ""
	case "ko", "kor":
		return "ko"
	case "en", "eng":
		return "en"
	}
	return "other"
}

// scripts counts the letters of a text by script.
type scripts struct{ hangul, latin, letters int }

// countScripts runs over every title and summary of a fetch, so the
// common letters (ASCII, Hangul syllables) are told by their range before
// the Unicode tables are asked.
func countScripts(s string) scripts {
	var c scripts
	for _, r := range s {
		switch {
		case r < 0x80:
			if 'a' <= r|0x20 && r|0x20 <= 'z' {
				c.latin++
				c.letters++
			}
			continue
		case 0xAC00 <= r && r <= 0xD7A3:
			c.hangul++
		case !unicode.IsLetter(r):
			continue
		case unicode.Is(unicode.Hangul, r):
			c.hangul++
		case unicode.Is(unicode.Latin, r):
			c.latin++
		}
		c.letters++
	}
	return c
}

func (c scripts) add(d scripts) scripts {
	return scripts{c.hangul + d.hangul, c.latin + d.latin, c.letters + d.letters}
}

// share is n's share of the letters.
func (c scripts) share(n int) float64 { return float64(n) / float64(max(c.letters, 1)) }

// lang is the language the letters show: "ko", "en" or "".
func (c scripts) lang() string {
	switch {
	case c.letters < minLetters:
		return ""
	case c.share(c.hangul) >= hangulShare:
		return "ko"
	case c.share(c.latin) >= latinShare:
		return "en"
	}
	return ""
}
