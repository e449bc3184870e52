package digest

// Where text may be cut: the mail's subject and excerpts (render) and the
// archive's (web) cut by this one rule, so that no cut leaves half a
// character.

import "unicode"

// GraphemeBoundary reports whether r may be cut between r[i-1] and r[i]
// without leaving a dangling piece of a user-visible character.
//
// This is a deliberately small subset of the Unicode text segmentation rules
// (UAX #29) that covers what newsletter text actually contains; it errs on
// the side of keeping runes together, because cutting one character early is
// invisible while a broken emoji or a lone accent is not.
func GraphemeBoundary(r []rune, i int) bool {
	if i <= 0 || i >= len(r) {
		return true
	}
	prev, cur := r[i-1], r[i]
	switch {
	case prev == '\r' && cur == '\n':
		return false
	case prev == zeroWidthJoiner:
		// Whatever follows a ZWJ is glued to what precedes it (👩‍👧).
		return false
	case attachesToPrevious(cur):
		return false
	case isRegionalIndicator(cur) && isRegionalIndicator(prev):
		// Flags are pairs of regional indicators; count the run before
		// the cut to know whether cur is the first or the second half.
		run := 0
		for j := i - 1; j >= 0 && isRegionalIndicator(r[j]); j-- {
			run++
		}
		return run%2 == 0
	case isLeadingJamo(prev) && (isLeadingJamo(cur) || isHangulSyllable(cur)):
		// Old Hangul and other sequences NFC cannot compose stay as
		// jamo; leading consonants cluster with what follows them.
		return false
	}
	return true
}

const zeroWidthJoiner = '\u200D'

// attachesToPrevious reports runes that never start a user-visible
// character of their own: they modify or extend the rune before them.
func attachesToPrevious(c rune) bool {
	switch {
	case c == zeroWidthJoiner:
		return true
	case isVariationSelector(c):
		return true
	case c >= 0x1F3FB && c <= 0x1F3FF: // emoji skin-tone modifiers
		return true
	case c >= 0xE0020 && c <= 0xE007F: // emoji tag sequences (subdivision flags)
		return true
	case IsConjoiningJamo(c) && !isLeadingJamo(c):
		// A medial vowel or final consonant jamo completes the syllable
		// before it (e.g. old Hangul ᄒᆞᆫ, which NFC leaves decomposed).
		return true
	}
	// Mc (spacing marks, e.g. Devanagari vowel signs) also belong to the
	// preceding letter, so they are kept with it too.
	return unicode.In(c, unicode.Mn, unicode.Me, unicode.Mc)
}

func isVariationSelector(c rune) bool {
	return (c >= 0xFE00 && c <= 0xFE0F) || (c >= 0xE0100 && c <= 0xE01EF)
}

func isRegionalIndicator(c rune) bool { return c >= 0x1F1E6 && c <= 0x1F1FF }

func isHangulSyllable(c rune) bool { return c >= 0xAC00 && c <= 0xD7A3 }

// isLeadingJamo reports choseong (initial consonant) jamo, which combine
// with a following vowel or precomposed syllable.
func isLeadingJamo(c rune) bool {
	return (c >= 0x1100 && c <= 0x115F) || (c >= 0xA960 && c <= 0xA97F)
}

// IsConjoiningJamo covers the three conjoining jamo blocks (modern and old
// leading consonants, vowels and trailing consonants), not the compatibility
// jamo (ㄱ, ㅋㅋ) which are standalone characters.
func IsConjoiningJamo(c rune) bool {
	return (c >= 0x1100 && c <= 0x11FF) || (c >= 0xA960 && c <= 0xA97F) || (c >= 0xD7B0 && c <= 0xD7FF)
}
