package render

import (
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Wrap folds s into lines of at most cols columns for the plain-text part,
// breaking at spaces. Hangul, Han and other wide characters take two
// columns, as in a terminal or a fixed-width mail reader. A word wider
// than a line is broken between its wide characters, so unspaced CJK text
// still wraps; a long Latin word (a URL) is left whole, since a broken
// link no longer works.
func Wrap(cols int, s string) string {
	if cols < 8 {
		cols = 8
	}
	var b strings.Builder
	line := 0 // columns used on the current line
	for i, word := range strings.Fields(s) {
		w := DisplayWidth(word)
		if i > 0 {
			if line+1+w <= cols {
				b.WriteByte(' ')
				line++
			} else {
				b.WriteByte('\n')
				line = 0
			}
		}
		if w <= cols || w == len([]rune(word)) {
			b.WriteString(word)
			line += w
			continue
		}
		for _, r := range word {
			rw := runeWidth(r)
			if line+rw > cols && line > 0 {
				b.WriteByte('\n')
				line = 0
			}
			b.WriteRune(r)
			line += rw
		}
	}
	return b.String()
}

// DisplayWidth is how many columns s takes in a terminal or a
// fixed-width mail reader: Hangul, Han and other wide characters two,
// combining marks (and the vowel and final jamo of decomposed Hangul)
// none, since they draw on the character before them.
func DisplayWidth(s string) int {
	n := 0
	for _, r := range s {
		n += runeWidth(r)
	}
	return n
}

func runeWidth(r rune) int {
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me) || r >= 0x1160 && r <= 0x11FF || r == 0x200D:
		return 0
	}
	switch width.LookupRune(r).Kind() {
	case width.EastAsianWide, width.EastAsianFullwidth:
		return 2
	}
	return 1
}
