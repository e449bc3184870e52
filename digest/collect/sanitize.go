package collect

import (
	"html/template"
	"net/url"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/microcosm-cc/bluemonday"
	"golang.org/x/net/html"
	"golang.org/x/net/html/atom"
	"golang.org/x/text/encoding/charmap"

	"gull/digest"
)

// policy is the allowlist feed HTML passes through: text formatting,
// links, lists, quotes, tables and images over http(s). No script, style,
// iframe, form, event handler or javascript: URL survives it.
var policy = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	// AllowImages turns on bluemonday's standard URL rules (relative URLs,
	// rel=nofollow), so it goes first and the choices below override it.
	p.AllowImages()
	p.AllowElements("p", "br", "hr", "b", "strong", "i", "em", "u", "s", "sub", "sup", "small",
		"mark", "q", "cite", "abbr", "code", "pre", "kbd", "blockquote", "ul", "ol", "li", "dl", "dt", "dd",
		"h1", "h2", "h3", "h4", "h5", "h6", "figure", "figcaption", "table", "thead", "tbody", "tfoot",
		"tr", "th", "td", "caption", "span", "div")
	p.AllowAttrs("href").OnElements("a")
	p.AllowAttrs("src", "alt", "title", "width", "height").OnElements("img")
	p.AllowAttrs("title").OnElements("abbr", "a")
	p.AllowAttrs("colspan", "rowspan").OnElements("td", "th")
	p.AllowURLSchemes("http", "https", "mailto")
	p.RequireParseableURLs(true)
	p.AllowRelativeURLs(false)
	p.RequireNoFollowOnLinks(false)
	p.AddTargetBlankToFullyQualifiedLinks(false)
	return p
}()

// sanitizeHTML makes feed HTML safe to put in the digest: relative links
// and image sources resolved against base, tracking parameters dropped from
// links, then the allowlist applied. This is the one place in gull where
// outside HTML becomes template.HTML.
func sanitizeHTML(s string, base *url.URL) template.HTML {
	if strings.TrimSpace(s) == "" {
		return ""
	}
	if !strings.ContainsAny(s, "<&") {
		return template.HTML(template.HTMLEscapeString(s))
	}
	resolved := rewriteURLs(s, base)
	return template.HTML(strings.TrimSpace(policy.Sanitize(resolved)))
}

// rewriteURLs resolves href and src attributes against base and cleans
// tracking parameters from links. It works on tokens, so it never changes
// text.
func rewriteURLs(s string, base *url.URL) string {
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	b.Grow(len(s))
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			return b.String()
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			b.Write(z.Raw())
			continue
		}
		tok := z.Token()
		changed := false
		for i, a := range tok.Attr {
			if a.Key != "href" && a.Key != "src" {
				continue
			}
			abs := resolveURL(base, a.Val)
			if a.Key == "href" {
				abs = digest.CleanLink(abs)
			}
			if abs != a.Val {
				tok.Attr[i].Val = abs
				changed = true
			}
		}
		if changed {
			b.WriteString(tok.String())
		} else {
			b.Write(z.Raw())
		}
	}
}

// resolveURL makes ref absolute against base; on any parse failure it
// returns ref unchanged and the allowlist decides.
func resolveURL(base *url.URL, ref string) string {
	ref = strings.TrimSpace(ref)
	if ref == "" || base == nil {
		return ref
	}
	r, err := url.Parse(ref)
	if err != nil {
		return ref
	}
	if r.IsAbs() {
		return ref
	}
	return base.ResolveReference(r).String()
}

var blockElements = map[atom.Atom]bool{
	atom.P: true, atom.Br: true, atom.Div: true, atom.Li: true, atom.Tr: true, atom.H1: true,
	atom.H2: true, atom.H3: true, atom.H4: true, atom.H5: true, atom.H6: true, atom.Blockquote: true,
	atom.Pre: true, atom.Hr: true, atom.Table: true, atom.Ul: true, atom.Ol: true, atom.Figure: true,
}

// plainText turns HTML (or text with entities) into readable plain text:
// tags dropped, entities decoded, script and style left out, paragraphs
// kept as line breaks and runs of spaces folded.
func plainText(s string) string {
	if !strings.ContainsAny(s, "<&") {
		return foldSpace(s)
	}
	z := html.NewTokenizer(strings.NewReader(s))
	var b strings.Builder
	skip := 0
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			return foldSpace(b.String())
		case html.TextToken:
			if skip == 0 {
				b.Write(z.Text())
			}
		case html.StartTagToken, html.SelfClosingTagToken, html.EndTagToken:
			name, _ := z.TagName()
			a := atom.Lookup(name)
			switch a {
			case atom.Script, atom.Style, atom.Noscript, atom.Template:
				if tt == html.StartTagToken {
					skip++
				} else if tt == html.EndTagToken && skip > 0 {
					skip--
				}
			}
			if blockElements[a] {
				b.WriteByte('\n')
			}
		}
	}
}

// foldSpace folds runs of spaces (including no-break and ideographic
// spaces) to one, trims each line and keeps at most one empty line in a
// row, so text from any markup reads evenly. Written as one pass rather
// than with regular expressions: it runs on every item's text.
func foldSpace(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	pendingSpace, newlines := false, 0
	// Byte by byte with ASCII told apart at once: this runs over every
	// item's whole description.
	for i := 0; i < len(s); {
		r, size := rune(s[i]), 1
		if r >= utf8.RuneSelf {
			r, size = utf8.DecodeRuneInString(s[i:])
		}
		switch {
		case r == '\n':
			newlines++
			pendingSpace = false
		case r == '\r':
		case r == ' ' || r == '\t' || (r >= utf8.RuneSelf || r < ' ') && unicode.IsSpace(r):
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
			if size == 1 && r < utf8.RuneSelf {
				b.WriteByte(byte(r))
			} else {
				b.WriteRune(r) // an invalid byte becomes U+FFFD, as ranging did
			}
		}
		i += size
	}
	return b.String()
}

// oneLine is plainText on a single line, for titles and names.
func oneLine(s string) string {
	return strings.Join(strings.Fields(fixMojibake(plainText(s))), " ")
}

// fixMojibake undoes text that was UTF-8, read as windows-1252 and encoded
// to UTF-8 again ("donâ€™t" for "don’t"). It changes s only when the whole
// string maps back to windows-1252 bytes that are valid UTF-8, which real
// Latin-1 text ("café", "Müller") never is.
func fixMojibake(s string) string {
	// Each of these letters is 0xC3 and a second byte in UTF-8: one byte
	// search rules most text out before the slower search for runes.
	if strings.IndexByte(s, 0xC3) < 0 || !strings.ContainsAny(s, "ÃÂâÅÆÐÑìíëêãäåèé") {
		return s
	}
	b, err := charmap.Windows1252.NewEncoder().String(s)
	if err != nil || b == s || !utf8.ValidString(b) {
		return s
	}
	return b
}

// truncateRunes cuts s to at most n runes at a word boundary when one is
// near, adding "…". It never splits a UTF-8 sequence. It reads only the
// first n runes and allocates only the result: it runs for every item of
// every feed, and converting each whole summary to runes was a fifth of
// normalizing (bench/collect.sh).
func truncateRunes(s string, n int) string {
	if !utf8.ValidString(s) {
		return truncateRuneSlice(s, n) // its U+FFFD for each bad byte
	}
	end, idx := -1, 0 // end: where rune n starts
	for i := range s {
		if idx == n {
			end = i
			break
		}
		idx++
	}
	if end < 0 {
		return s // n runes or fewer
	}
	// Back from rune n to rune n*3/4+1, as the rune slice was read.
	cut, pos := end, end
	for i := n; i > n*3/4; i-- {
		if r, _ := utf8.DecodeRuneInString(s[pos:]); unicode.IsSpace(r) {
			cut = pos
			break
		}
		_, size := utf8.DecodeLastRuneInString(s[:pos])
		pos -= size
	}
	return strings.TrimRightFunc(s[:cut], unicode.IsSpace) + "…"
}

// truncateRuneSlice is truncateRunes on the runes of s, as Go converts
// them: each invalid byte becomes U+FFFD.
func truncateRuneSlice(s string, n int) string {
	rs := []rune(s)
	if len(rs) <= n {
		return s
	}
	cut := n
	for i := n; i > n*3/4; i-- {
		if unicode.IsSpace(rs[i]) {
			cut = i
			break
		}
	}
	return strings.TrimRightFunc(string(rs[:cut]), unicode.IsSpace) + "…"
}
