package digest

import (
	"strings"
	"unicode/utf8"
)

// stemText rewrites the English words of s (already in match form: folded,
// NFKC) as their stems, so a keyword matches the word's inflected and
// derived forms: "regulators", "regulating" and "regulation" all read
// "regul". Other scripts pass through unchanged: Korean keywords already
// match with particles and inside compounds. A hyphenated word is read both
// as its parts and joined ("start-ups" gives "start up startup"), so
// "startup" and "red team" match whichever spelling an outlet uses.
func stemText(s string) string {
	var b strings.Builder
	b.Grow(len(s) + len(s)/4)
	for i := 0; i < len(s); {
		j := latinRunEnd(s, i)
		if j == i {
			_, size := utf8.DecodeRuneInString(s[i:])
			b.WriteString(s[i : i+size])
			i += size
			continue
		}
		// A run of Latin-word runes; join it with the runs a hyphen ties on.
		parts := []string{s[i:j]}
		for j < len(s) && s[j] == '-' {
			k := latinRunEnd(s, j+1)
			if k == j+1 {
				break
			}
			parts = append(parts, s[j+1:k])
			j = k
		}
		for n, p := range parts {
			if n > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(stemWord(p))
		}
		if len(parts) > 1 {
			b.WriteByte(' ')
			b.WriteString(stemWord(strings.Join(parts, "")))
		}
		i = j
	}
	return b.String()
}

// latinRunEnd is the end of the run of Latin-word runes starting at i.
func latinRunEnd(s string, i int) int {
	for i < len(s) {
		r, size := utf8.DecodeRuneInString(s[i:])
		if !isLatinWordRune(r) {
			break
		}
		i += size
	}
	return i
}

// stemWord is a light English stemmer for lower-case words: it removes
// plural and verb endings (-s, -es, -ies, -ed, -ing) and the few
// derivational endings policy writing turns one root into (-ation, -ator,
// -ate, -tion, -sion, a final -e), so regulator, regulators,
// regulating, regulated and regulation meet, as do chipmaker and
// chipmakers, export and exporting. It is deliberately lighter than
// Porter's: it never cuts -er, -ive, -al or -ity, which would join words a
// reader keeps apart (workers and work, productivity and product, general
// and generative).
// Words with digits or letters outside a-z (HBM4E, café) stay as they are.
func stemWord(w string) string {
	for i := 0; i < len(w); i++ {
		if w[i] < 'a' || w[i] > 'z' {
			return w
		}
	}
	if len(w) <= 3 {
		return w
	}
	w = stemPlural(w)
	w = stemVerb(w)
	return stemDerived(w)
}

func stemPlural(w string) string {
	switch {
	case strings.HasSuffix(w, "ies") && len(w) > 4:
		return w[:len(w)-3] + "y"
	case strings.HasSuffix(w, "sses"), strings.HasSuffix(w, "ches"), strings.HasSuffix(w, "shes"),
		strings.HasSuffix(w, "xes"), strings.HasSuffix(w, "ases"):
		return w[:len(w)-2]
	case strings.HasSuffix(w, "ss"), strings.HasSuffix(w, "us"), strings.HasSuffix(w, "is"),
		strings.HasSuffix(w, "as"):
		// class, status, analysis, bias: not plurals.
		return w
	case strings.HasSuffix(w, "s"):
		return w[:len(w)-1]
	}
	return w
}

// stemVerb removes -ing and -ed when what is left is a plausible root
// (three letters or more, with a vowel: "bring" and "red" stay), and undoes
// the doubled consonant ("planned", "controlled").
func stemVerb(w string) string {
	for _, suf := range []string{"ing", "ed"} {
		root, ok := strings.CutSuffix(w, suf)
		if !ok || len(root) < 3 || !strings.ContainsAny(root, "aeiouy") {
			continue
		}
		if n := len(root); root[n-1] == root[n-2] && !strings.ContainsRune("aeiousz", rune(root[n-1])) && (root[n-1] != 'l' || n > 4) {
			root = root[:n-1]
		}
		if strings.HasSuffix(root, "at") {
			root += "e" // regulat(ing) reads as regulate, as regulation does
		}
		return root
	}
	return w
}

func stemDerived(w string) string {
	for _, suf := range []string{"ation", "ator", "ate", "tion", "sion", "e"} {
		root, ok := strings.CutSuffix(w, suf)
		if !ok || len(root) < 3 {
			continue
		}
		if suf == "tion" || suf == "sion" {
			root += suf[:1] // election -> elect, expansion -> expans
		}
		return root
	}
	return w
}
