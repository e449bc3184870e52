package deliver

import (
	"bytes"
	"mime/quotedprintable"
	"runtime"
	"sync"
	"weak"

	"gull/digest"
)

// Quoted-printable of a framed part, its frame's literals encoded once.
//
// A digest's HTML and text are a frame shared by every reader of the same
// themes with the reader's address, name and links in a few slots
// (render.Batch); encoding the whole 30 KB again for each reader was a
// fifth of a send's CPU. The encoding cannot be cut at the slots, because
// quoted-printable breaks lines every 76 characters: a longer name moves
// every soft break after it. But it can be cut at the text's own line
// ends. mime/quotedprintable's Writer (go-mail's) carries nothing past a
// line feed (but see syncPoints): after one its line is flushed, its
// column is 0 and it is not inside a CR LF, exactly as at the start. So
// the text from a line feed to the next one that has no slot in it
// encodes the same wherever it is, and is encoded once; only the lines a slot is on, from the line feed
// before the slot to the one after it, are encoded per reader, through
// the same Writer. The result is byte for byte the Writer over the whole
// text (TestFramedQPIsQP, TestComposeFramedIsCompose).

// qpFrame is a frame's encoding plan. For literal i: pre[i] is its text
// up to and including its first line feed, the end of the line the slot
// before it is on; mid[i] the encoding of the lines after that up to and
// including its last line feed (for the last literal, up to its end,
// closed); post[i] the text after its last line feed, the start of the
// line the next slot is on. A literal without a line feed is all pre and
// nl[i] is false: the slots on both sides of it share one line.
type qpFrame struct {
	pre, mid, post []string
	nl             []bool
}

func newQPFrame(f *digest.Frame) *qpFrame {
	n := len(f.Lits)
	p := &qpFrame{pre: make([]string, n), mid: make([]string, n), post: make([]string, n), nl: make([]bool, n)}
	for i, lit := range f.Lits {
		first, last := syncPoints(lit, i == 0)
		if first < 0 {
			p.pre[i] = lit
			continue
		}
		p.nl[i] = true
		start := first + 1
		if i == 0 {
			start = 0 // nothing before it: its first lines are static too
		}
		if i == n-1 {
			p.pre[i], p.mid[i] = lit[:start], encodeQP(lit[start:])
			continue
		}
		p.pre[i], p.mid[i], p.post[i] = lit[:start], encodeQP(lit[start:last+1]), lit[last+1:]
	}
	return p
}

// syncPoints are the first and the last line feed of lit after which the
// Writer is as new (-1 when none), lit beginning the text (start) or
// following a slot. Not every line feed is one: the Writer ends the line
// at a CR and then swallows the LF after it, and it forgets the CR only at
// a byte it writes as it is, not at one it escapes, so in "\r=C3=A9\n"
// the LF is swallowed and the escaped byte stays on the line. A line feed
// counts when the CR flag is known clear before it (cleared by a plain
// byte or a line feed since the last CR, or by the start of the text) or
// when a CR is just before it.
func syncPoints(lit string, start bool) (first, last int) {
	first, last = -1, -1
	crClear, prevCR := start, false
	for j := 0; j < len(lit); j++ {
		switch b := lit[j]; {
		case b == '\n':
			if crClear || prevCR {
				if first < 0 {
					first = j
				}
				last = j
			}
			crClear, prevCR = true, false
		case b == '\r':
			crClear, prevCR = false, true
		case b == ' ' || b == '\t' || b >= '!' && b <= '~' && b != '=':
			crClear, prevCR = true, false
		default: // escaped: the flag stays as it is
			prevCR = false
		}
	}
	return first, last
}

// encodeQP is s as go-mail encodes a part: mime/quotedprintable, closed.
func encodeQP(s string) string {
	var b bytes.Buffer
	w := quotedprintable.NewWriter(&b)
	_, _ = w.Write([]byte(s)) // a bytes.Buffer does not fail
	_ = w.Close()
	return b.String()
}

// write writes the encoding of the frame filled with vals to out.
func (p *qpFrame) write(out *bytes.Buffer, f *digest.Frame, vals []string) {
	w := quotedprintable.NewWriter(out)
	ws := func(s string) {
		if s != "" {
			_, _ = w.Write([]byte(s)) // into a bytes.Buffer: cannot fail
		}
	}
	for i := range f.Lits {
		if i > 0 {
			ws(vals[f.Slots[i-1]])
		}
		ws(p.pre[i])
		if p.nl[i] {
			// The Writer has flushed the line and is as new: the
			// static lines follow as encoded once.
			out.WriteString(p.mid[i])
			ws(p.post[i])
		}
	}
	_ = w.Close() // after a closed last mid, a no-op
}

// qpFrames holds each frame's plan while the frame lives: a frame belongs
// to one send's render.Batch, and a plan outliving it would pin both.
var qpFrames sync.Map // weak.Pointer[digest.Frame] -> *qpFrame

func qpFrameOf(f *digest.Frame) *qpFrame {
	key := weak.Make(f)
	if p, ok := qpFrames.Load(key); ok {
		return p.(*qpFrame)
	}
	p, loaded := qpFrames.LoadOrStore(key, newQPFrame(f))
	if !loaded {
		runtime.AddCleanup(f, func(k weak.Pointer[digest.Frame]) { qpFrames.Delete(k) }, key)
	}
	return p.(*qpFrame)
}
