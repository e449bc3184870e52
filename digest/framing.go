package digest

import "strings"

// A Frame is text shared by many messages, cut where each reader's values
// go: Lits[0], the value Slots[0] names, Lits[1], ... render.Batch makes
// one per distinct content; deliver encodes its literals once for all the
// readers of the frame (quoted-printable was a fifth of a send's CPU).
// A Frame is never changed once made, and is compared by its address.
type Frame struct {
	Lits  []string // len(Slots)+1 pieces
	Slots []uint8  // indices into Framing.Vals
}

// Framing says how a message's HTML and Text were made: from frames (nil
// for a part that was not) filled with this reader's Vals. It is only a
// shortcut: the message's HTML and Text are the truth, and a consumer
// must check that the framing spells them before using it.
type Framing struct {
	HTML, Text *Frame
	Vals       []string
}

// Spells reports whether the frame filled with vals is s, without
// building the filled string.
func (f *Frame) Spells(vals []string, s string) bool {
	for i, slot := range f.Slots {
		if int(slot) >= len(vals) {
			return false
		}
		for _, p := range [2]string{f.Lits[i], vals[slot]} {
			if !strings.HasPrefix(s, p) {
				return false
			}
			s = s[len(p):]
		}
	}
	return s == f.Lits[len(f.Lits)-1]
}
