package collect

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"html"
	"io"
	"regexp"
	"strings"
)

// xmlRepairs are tried in order when a document does not parse, each on
// the result of the ones before; each returns the repaired document and a
// line for the feed's report, or "" when it found nothing to repair.
var xmlRepairs = []func([]byte) ([]byte, string){
	stripDoctype,
	escapeBareAmpersands,
	replaceHTMLEntities,
	extractEmbeddedFeed,
	reserialize,
}

var doctypeRE = regexp.MustCompile(`(?is)<!DOCTYPE[^>\[]*(\[.*?\])?\s*>`)

func stripDoctype(doc []byte) ([]byte, string) {
	loc := doctypeRE.FindIndex(doc)
	if loc == nil {
		return doc, ""
	}
	out := append(append([]byte{}, doc[:loc[0]]...), doc[loc[1]:]...)
	return out, "removed the DOCTYPE"
}

// bareAmpRE finds '&' that does not start an entity or character reference.
var bareAmpRE = regexp.MustCompile(`&([^A-Za-z#]|[A-Za-z][A-Za-z0-9]*[^A-Za-z0-9;]|#[^0-9xX]|#[0-9]+[^0-9;]|#[xX][0-9A-Fa-f]*[^0-9A-Fa-f;]|$)`)

func escapeBareAmpersands(doc []byte) ([]byte, string) {
	n := 0
	out := doc
	// Repeated because a match consumes the character after '&', which may
	// itself be the next bare '&'.
	for range 4 {
		next := bareAmpRE.ReplaceAllFunc(out, func(m []byte) []byte {
			n++
			return append([]byte("&amp;"), m[1:]...)
		})
		if bytes.Equal(next, out) {
			break
		}
		out = next
	}
	if n == 0 {
		return doc, ""
	}
	return out, fmt.Sprintf("escaped %d bare '&'", n)
}

var namedEntityRE = regexp.MustCompile(`&([A-Za-z][A-Za-z0-9]*);`)

var xmlEntities = map[string]bool{"amp": true, "lt": true, "gt": true, "quot": true, "apos": true}

// replaceHTMLEntities turns HTML-only entities such as &nbsp; into numeric
// references XML accepts; unknown ones become literal text.
func replaceHTMLEntities(doc []byte) ([]byte, string) {
	n := 0
	out := namedEntityRE.ReplaceAllFunc(doc, func(m []byte) []byte {
		name := string(m[1 : len(m)-1])
		if xmlEntities[name] {
			return m
		}
		n++
		s := html.UnescapeString(string(m))
		if s == string(m) {
			return []byte("&amp;" + name + ";")
		}
		var b strings.Builder
		for _, r := range s {
			fmt.Fprintf(&b, "&#%d;", r)
		}
		return []byte(b.String())
	})
	if n == 0 {
		return doc, ""
	}
	return out, fmt.Sprintf("replaced %d HTML entities XML does not define", n)
}

var feedRootRE = regexp.MustCompile(`(?i)<(rss|feed|rdf:rdf)[\s>]`)

// hasFeedRoot reports whether a feed's root element appears anywhere.
func hasFeedRoot(doc []byte) bool { return feedRootRE.Match(doc) }

// extractEmbeddedFeed cuts a feed out of the HTML page it was pasted into.
func extractEmbeddedFeed(doc []byte) ([]byte, string) {
	if !looksLikeHTML(doc) {
		return doc, ""
	}
	loc := feedRootRE.FindSubmatchIndex(doc)
	if loc == nil {
		return doc, ""
	}
	root := string(doc[loc[2]:loc[3]])
	end := bytes.LastIndex(bytes.ToLower(doc), []byte("</"+strings.ToLower(root)+">"))
	if end < loc[0] {
		end = len(doc)
	} else {
		end += len(root) + 3
	}
	return doc[loc[0]:end], "took the feed out of the HTML page it was embedded in"
}

// reserialize is the last resort: it reads the document as far as a
// tolerant tokenizer can (unclosed and misnested elements, unknown
// entities, a cut-off end) and writes it out again well-formed, closing
// whatever was left open. Items after the point of damage are lost; the
// ones before it are kept.
func reserialize(doc []byte) ([]byte, string) {
	d := xml.NewDecoder(bytes.NewReader(doc))
	d.Strict = false
	d.AutoClose = xml.HTMLAutoClose
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(_ string, r io.Reader) (io.Reader, error) { return r, nil }
	var out bytes.Buffer
	out.WriteString(`<?xml version="1.0" encoding="UTF-8"?>`)
	var stack []string
	complete := false
	for {
		tok, err := d.RawToken()
		if err != nil {
			complete = errors.Is(err, io.EOF) && len(stack) == 0
			break
		}
		switch t := tok.(type) {
		case xml.StartElement:
			name := qname(t.Name)
			out.WriteString("<" + name)
			for _, a := range t.Attr {
				out.WriteString(" " + qname(a.Name) + `="`)
				_ = xml.EscapeText(&out, []byte(a.Value))
				out.WriteString(`"`)
			}
			out.WriteString(">")
			stack = append(stack, name)
		case xml.EndElement:
			name := qname(t.Name)
			for i := len(stack) - 1; i >= 0; i-- {
				if stack[i] == name {
					for len(stack) > i {
						out.WriteString("</" + stack[len(stack)-1] + ">")
						stack = stack[:len(stack)-1]
					}
					break
				}
			}
		case xml.CharData:
			if len(stack) > 0 {
				_ = xml.EscapeText(&out, t)
			}
		}
	}
	if complete {
		return doc, ""
	}
	for len(stack) > 0 {
		out.WriteString("</" + stack[len(stack)-1] + ">")
		stack = stack[:len(stack)-1]
	}
	return out.Bytes(), "the document is not well-formed XML (cut off or misnested); kept what could be read"
}

func qname(n xml.Name) string {
	if n.Space == "" {
		return n.Local
	}
	return n.Space + ":" + n.Local
}
