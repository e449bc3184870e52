package render

// The editor's note: a small Markdown subset, rendered for both parts.
//
// The note is typed by an editor, but it is still outside input: it may
// hold markup pasted from anywhere. So nothing of it reaches the HTML as
// markup. The parser below knows four things, paragraphs (blank lines
// apart), [links](url) to http(s) and mailto only, *emphasis* and
// **strong**, and everything else is text, escaped when written. The
// HTML is built here from those nodes alone, the only template.HTML this
// package makes from data.

import (
	"html"
	"html/template"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A noteNode is a piece of a paragraph.
type noteNode struct {
	kind     noteKind
	text     string     // noteText
	href     string     // noteLink: checked, normalized
	children []noteNode // noteEm, noteStrong, noteLink
}

type noteKind uint8

const (
	noteText noteKind = iota
	noteEm
	noteStrong
	noteLink
)

// maxNoteDepth bounds how deep emphasis and links nest: a person nests
// two or three; thousands would only make every reader of the HTML (the
// inliner, a mail client) recurse as deep.
const maxNoteDepth = 8

// maxNoteURL bounds a link's target: longer is no link a person typed,
// and the bound keeps the scan for the closing parenthesis short.
const maxNoteURL = 2048

// parseNote splits src into paragraphs of nodes. Invalid UTF-8 becomes
// U+FFFD; line breaks inside a paragraph are spaces, as in Markdown.
func parseNote(src string) [][]noteNode {
	src = strings.ReplaceAll(valid(src), "\r\n", "\n")
	var paras [][]noteNode
	var lines []string
	flush := func() {
		if p := strings.Join(strings.Fields(strings.Join(lines, " ")), " "); p != "" {
			paras = append(paras, parseInline(p))
		}
		lines = lines[:0]
	}
	for line := range strings.SplitSeq(src, "\n") {
		if strings.TrimSpace(line) == "" {
			flush()
			continue
		}
		lines = append(lines, line)
	}
	flush()
	return paras
}

// An item is a node of the paragraph being parsed, or an opening
// delimiter ("*", "**", "[") still waiting for its closer.
type item struct {
	node   noteNode
	opener string // "" for a node
}

// starParts are the delimiters a run of one, two or three stars stands
// for: "***" is "*" and "**", closed innermost first, opened outermost
// first.
var starParts = [3][]string{{"*"}, {"**"}, {"*", "**"}}

// parseInline parses one paragraph. Openers wait on a stack of their
// kind; a closer takes the nearest opener of its kind and wraps what lies
// between, and the openers left between turn into text. Each item is
// wrapped at most once per level and each opener leaves its stack once,
// so the work is linear in the paragraph, whatever it holds.
func parseInline(p string) []noteNode {
	var items []item
	opens := map[string][]int{} // indices into items, innermost last
	var text strings.Builder
	flushText := func() {
		if text.Len() > 0 {
			items = append(items, item{node: noteNode{kind: noteText, text: text.String()}})
			text.Reset()
		}
	}
	push := func(opener string) {
		if len(opens["*"])+len(opens["**"])+len(opens["["]) >= maxNoteDepth {
			text.WriteString(opener)
			return
		}
		flushText()
		opens[opener] = append(opens[opener], len(items))
		items = append(items, item{opener: opener})
	}
	// wrap closes the innermost opener of kind around the items after it.
	wrap := func(kind string, n noteNode) {
		flushText()
		st := opens[kind]
		at := st[len(st)-1]
		for _, it := range items[at+1:] {
			if it.opener != "" {
				it.node = noteNode{kind: noteText, text: it.opener}
			}
			n.children = appendNode(n.children, it.node)
		}
		items = append(items[:at], item{node: n})
		// The openers inside are text now.
		for k, st := range opens {
			for len(st) > 0 && st[len(st)-1] >= at {
				st = st[:len(st)-1]
			}
			opens[k] = st
		}
	}
	for i := 0; i < len(p); {
		c := p[i]
		switch {
		case c == '\\' && i+1 < len(p) && strings.IndexByte(`\*[]()`, p[i+1]) >= 0:
			// An escaped delimiter is text, as in Markdown.
			text.WriteByte(p[i+1])
			i += 2
		case c == '*':
			n := 1
			for i+n < len(p) && p[i+n] == '*' {
				n++
			}
			before, _ := utf8.DecodeLastRuneInString(p[:i])
			after, _ := utf8.DecodeRuneInString(p[i+n:])
			canClose := i > 0 && !unicode.IsSpace(before)
			canOpen := i+n < len(p) && !unicode.IsSpace(after)
			run := p[i : i+n]
			i += n
			if n > 3 {
				text.WriteString(run)
				continue
			}
			parts := starParts[n-1]
			if canClose {
				var rest []string // not closed: may open
				for _, d := range parts {
					if len(opens[d]) == 0 {
						rest = append(rest, d)
						continue
					}
					kind := noteEm
					if d == "**" {
						kind = noteStrong
					}
					wrap(d, noteNode{kind: kind})
				}
				parts = rest
			}
			switch {
			case len(parts) == 0:
			case !canOpen:
				text.WriteString(strings.Join(parts, ""))
			default:
				for k := len(parts) - 1; k >= 0; k-- {
					push(parts[k])
				}
			}
		case c == '[':
			push("[")
			i++
		case c == ']':
			href, end, ok := "", 0, false
			if len(opens["["]) > 0 && strings.HasPrefix(p[i+1:], "(") {
				href, end, ok = linkTarget(p, i+2)
			}
			if !ok {
				text.WriteByte(']')
				i++
				continue
			}
			flushText()
			if st := opens["["]; st[len(st)-1] == len(items)-1 {
				// [](url): no text to show; the link shows its address.
				text.WriteString(displayURL(href))
			}
			wrap("[", noteNode{kind: noteLink, href: href})
			// No link inside a link: brackets still open stay text.
			opens["["] = nil
			i = end
		default:
			// Up to the next delimiter as one piece of text.
			j := i + 1
			for j < len(p) && strings.IndexByte(`\*[]`, p[j]) < 0 {
				j++
			}
			text.WriteString(p[i:j])
			i = j
		}
	}
	flushText()
	var out []noteNode
	for _, it := range items {
		if it.opener != "" {
			it.node = noteNode{kind: noteText, text: it.opener}
		}
		out = appendNode(out, it.node)
	}
	return out
}

// appendNode appends n. Text nodes side by side are left apart: joining
// them would copy the text again for every piece, and the writers below
// write them one after the other anyway.
func appendNode(ns []noteNode, n noteNode) []noteNode {
	return append(ns, n)
}

// linkTarget reads the "url)" of a link starting at p[i], allowing one
// level of balanced parentheses inside (Wikipedia's addresses have them)
// and no more, so a run of "(" ends the scan at once.
// It returns the checked address and where the link ends; ok is false for
// anything that is not an allowed address, and the brackets stay text.
func linkTarget(p string, i int) (href string, end int, ok bool) {
	depth := 0
	for j := i; j < len(p) && j-i <= maxNoteURL; j++ {
		switch c := p[j]; {
		case c == '(' && depth == 0:
			depth++
		case c == '(':
			return "", 0, false
		case c == ')' && depth > 0:
			depth--
		case c == ')':
			href, ok = checkNoteURL(p[i:j])
			return href, j + 1, ok
		case c <= ' ' || strings.IndexByte(`<>"'\`+"`", c) >= 0:
			return "", 0, false
		}
	}
	return "", 0, false
}

// checkNoteURL accepts http(s) addresses with a host and mailto:
// addresses, and returns them in a form safe in an href and in the plain
// text's angle brackets. Everything else (javascript:, data:, relative
// paths) is refused: the link's source then stays as text.
func checkNoteURL(s string) (string, bool) {
	u, err := url.Parse(s)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https":
		if u.Host == "" || u.User != nil {
			return "", false
		}
	case "mailto":
		if u.Opaque == "" || !strings.Contains(u.Opaque, "@") {
			return "", false
		}
	default:
		return "", false
	}
	u.Scheme = strings.ToLower(u.Scheme)
	return u.String(), true
}

// displayURL is how a link's address reads as text: a mailto: link shows
// the address alone.
func displayURL(href string) string {
	if a, ok := strings.CutPrefix(href, "mailto:"); ok {
		return a
	}
	return href
}

// noteHTML is the note's HTML: a <p> a paragraph, built from the parsed
// nodes only, every piece of text escaped.
func noteHTML(paras [][]noteNode) template.HTML {
	if len(paras) == 0 {
		return ""
	}
	var b strings.Builder
	for _, p := range paras {
		b.WriteString(`<p class="note-p">`)
		writeNoteHTML(&b, p)
		b.WriteString("</p>")
	}
	return template.HTML(b.String())
}

func writeNoteHTML(b *strings.Builder, ns []noteNode) {
	for _, n := range ns {
		switch n.kind {
		case noteText:
			b.WriteString(html.EscapeString(n.text))
		case noteEm:
			b.WriteString("<em>")
			writeNoteHTML(b, n.children)
			b.WriteString("</em>")
		case noteStrong:
			b.WriteString("<strong>")
			writeNoteHTML(b, n.children)
			b.WriteString("</strong>")
		case noteLink:
			b.WriteString(`<a href="` + html.EscapeString(n.href) + `" class="note-link">`)
			writeNoteHTML(b, n.children)
			b.WriteString("</a>")
		}
	}
}

// noteLines is the note for the plain part: a string a paragraph, not yet
// wrapped (the template wraps it). Emphasis reads as *text*, the
// plain-text custom; a link as "text <url>", or "<url>" when its text is
// the address itself.
func noteLines(paras [][]noteNode) []string {
	var out []string
	for _, p := range paras {
		var b strings.Builder
		writeNoteText(&b, p)
		out = append(out, b.String())
	}
	return out
}

func writeNoteText(b *strings.Builder, ns []noteNode) {
	for _, n := range ns {
		switch n.kind {
		case noteText:
			b.WriteString(n.text)
		case noteEm, noteStrong:
			b.WriteByte('*')
			writeNoteText(b, n.children)
			b.WriteByte('*')
		case noteLink:
			var t strings.Builder
			writeNoteText(&t, n.children)
			if s := strings.TrimSpace(t.String()); s != "" && s != n.href && s != displayURL(n.href) {
				b.WriteString(s + " ")
			}
			b.WriteString("<" + n.href + ">")
		}
	}
}
