package collect

import (
	"math/rand/v2"
	"strings"
	"testing"
	"unicode"
)

// foldSpace reads bytes and tells ASCII apart before decoding; it must
// give what ranging over the runes gave (foldSpaceByRange, the version
// before), for every kind of space, line end and invalid byte.
func TestFoldSpaceIsTheRuneFold(t *testing.T) {
	pieces := []string{" ", "\t", "\n", "\r", "\r\n", "\v", "\f", "\u0085", "\u00a0", "\u3000", "\u2028", "\u200b",
		"a", "Z", "가", "힣", "é", "\xff", "\xc3", "\xe3\x80", "\x00", "\x1f", "~", "AI기본법", "  \n\n\n  "}
	rng := rand.New(rand.NewPCG(18, 3))
	for i := 0; i < 20000; i++ {
		var b strings.Builder
		for j := rng.IntN(30); j > 0; j-- {
			b.WriteString(pieces[rng.IntN(len(pieces))])
		}
		if got, want := foldSpace(b.String()), foldSpaceByRange(b.String()); got != want {
			t.Fatalf("foldSpace(%q) = %q, want %q", b.String(), got, want)
		}
	}
}

func BenchmarkFoldSpace(b *testing.B) {
	s := strings.Repeat("인공지능 기본법 시행령이  발표됐다.\n\nThe AI Basic Act's decree, in  force from January. ", 20)
	b.Run("bytes", func(b *testing.B) {
		for b.Loop() {
			foldSpace(s)
		}
	})
	b.Run("runes", func(b *testing.B) {
		for b.Loop() {
			foldSpaceByRange(s)
		}
	})
}

func foldSpaceByRange(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines := false, 0
	for _, r := range s {
		switch {
		case r == '\n':
			newlines++
			pendingSpace = false
		case r == '\r':
		case unicode.IsSpace(r):
			pendingSpace = true
		default:
			if b.Len() > 0 {
				switch {
				case newlines == 1:
					b.WriteByte('\n')
				case newlines > 1:
					b.WriteString("\n\n")
				case pendingSpace:
					b.WriteByte(' ')
				}
			}
			newlines, pendingSpace = 0, false
			b.WriteRune(r)
		}
	}
	return b.String()
}
