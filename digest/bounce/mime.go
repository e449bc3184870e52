package bounce

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"errors"
	"html"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/korean"
)

// part is one leaf of the message's MIME tree, its transfer encoding
// undone; text parts are in UTF-8.
type part struct {
	media  string // lower case, "text/plain"
	params map[string]string
	body   []byte
}

// message is a message taken apart: its header, its leaves, and the
// headers of the original it quotes when it attaches them.
type message struct {
	header   textproto.MIMEHeader
	parts    []part
	original textproto.MIMEHeader
}

var errTooDeep = errors.New("bounce: MIME nested too deep or in too many parts")

// readMessage takes raw apart. Parts past the limits are left out rather
// than failing the whole message: what was read may still say enough.
func readMessage(raw []byte) (*message, error) {
	msg, err := mail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		return nil, ErrNotBounce
	}
	m := &message{header: textproto.MIMEHeader(msg.Header)}
	m.walk(m.header, msg.Body, 0)
	return m, nil
}

// walk adds the leaves under one entity with header h and body r.
func (m *message) walk(h textproto.MIMEHeader, r io.Reader, depth int) {
	if depth > maxDepth || len(m.parts) >= maxParts {
		return
	}
	media, params, err := mime.ParseMediaType(h.Get("Content-Type"))
	if err != nil || media == "" {
		media, params = "text/plain", map[string]string{}
	}
	if strings.HasPrefix(media, "multipart/") {
		if params["boundary"] == "" {
			return
		}
		mr := multipart.NewReader(r, params["boundary"])
		for len(m.parts) < maxParts {
			p, err := mr.NextRawPart()
			if err != nil {
				return
			}
			m.walk(p.Header, p, depth+1)
		}
		return
	}
	body, err := io.ReadAll(transferDecoder(h.Get("Content-Transfer-Encoding"), r))
	if err != nil && len(body) == 0 {
		return
	}
	switch media {
	case "message/rfc822", "message/global", "text/rfc822-headers", "message/rfc822-headers", "message/global-headers":
		// The original message: only its header matters (its body is
		// our own digest). The first one found is the original.
		if m.original == nil {
			m.original = readHeader(body)
		}
		m.parts = append(m.parts, part{media: media, params: params, body: body})
		return
	}
	if strings.HasPrefix(media, "text/") {
		body = toUTF8(body, params["charset"])
	}
	m.parts = append(m.parts, part{media: media, params: params, body: body})
}

func transferDecoder(cte string, r io.Reader) io.Reader {
	switch strings.ToLower(strings.TrimSpace(cte)) {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Cleaner{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// base64Cleaner drops what a base64 body may carry beside the alphabet
// (line breaks, stray spaces), which the decoder would refuse.
type base64Cleaner struct{ r io.Reader }

func (c *base64Cleaner) Read(p []byte) (int, error) {
	for range 100 {
		n, err := c.r.Read(p)
		j := 0
		for _, b := range p[:n] {
			if b >= 'A' && b <= 'Z' || b >= 'a' && b <= 'z' || b >= '0' && b <= '9' || b == '+' || b == '/' || b == '=' {
				p[j] = b
				j++
			}
		}
		if j > 0 || err != nil {
			return j, err
		}
	}
	return 0, io.ErrNoProgress // a reader that keeps giving nothing
}

// readHeader reads a header block, as much of it as parses.
func readHeader(b []byte) textproto.MIMEHeader {
	h, _ := textproto.NewReader(bufio.NewReader(bytes.NewReader(b))).ReadMIMEHeader()
	if h == nil {
		h = textproto.MIMEHeader{}
	}
	return h
}

// encodingOf finds a charset by its label. Microsoft's names for the
// EUC-KR superset (cp949, ks_c_5601-1987) are common in Korean mail and
// not all in the WHATWG list.
func encodingOf(label string) encoding.Encoding {
	switch l := strings.ToLower(strings.Trim(strings.TrimSpace(label), `"`)); l {
	case "", "us-ascii", "utf-8", "utf8":
		return nil
	case "cp949", "ms949", "x-windows-949", "windows-949", "uhc":
		return korean.EUCKR
	default:
		if e, err := htmlindex.Get(l); err == nil {
			return e
		}
	}
	return nil
}

// toUTF8 decodes b from charset; bytes that are not valid UTF-8 after
// that become U+FFFD, so nothing downstream sees a broken sequence.
func toUTF8(b []byte, charset string) []byte {
	if e := encodingOf(charset); e != nil {
		if d, err := e.NewDecoder().Bytes(b); err == nil {
			b = d
		}
	}
	if !utf8.Valid(b) {
		b = bytes.ToValidUTF8(b, []byte("\uFFFD"))
	}
	return b
}

var wordDecoder = &mime.WordDecoder{CharsetReader: func(charset string, r io.Reader) (io.Reader, error) {
	e := encodingOf(charset)
	if e == nil {
		if l := strings.ToLower(charset); l != "utf-8" && l != "us-ascii" {
			return nil, errors.New("unknown charset")
		}
		return r, nil
	}
	return e.NewDecoder().Reader(r), nil
}}

// headerText is a header's value decoded (RFC 2047) and made valid UTF-8.
func headerText(h textproto.MIMEHeader, key string) string {
	v := h.Get(key)
	if d, err := wordDecoder.DecodeHeader(v); err == nil {
		v = d
	}
	return strings.ToValidUTF8(v, "\uFFFD")
}

var tagRE = regexp.MustCompile(`(?s)<(?:style|script)\b.*?</(?:style|script)\s*>|<[^>]*>`)

// plainText is a text part as text: HTML loses its tags and entities
// (bounces from webmail services often come as HTML only). Nothing of it
// is ever shown as HTML.
func plainText(p part) string {
	s := string(p.body)
	if p.media == "text/html" {
		s = tagRE.ReplaceAllStringFunc(s, func(t string) string {
			l := strings.ToLower(t)
			if strings.HasPrefix(l, "<br") || strings.HasPrefix(l, "<p") || strings.HasPrefix(l, "</p") ||
				strings.HasPrefix(l, "<div") || strings.HasPrefix(l, "</div") || strings.HasPrefix(l, "<tr") || strings.HasPrefix(l, "<li") {
				return "\n"
			}
			if strings.HasPrefix(l, "<td") || strings.HasPrefix(l, "<th") {
				return "\t" // a cell: "label<tab>value" (reasonLineRE)
			}
			return " "
		})
		s = html.UnescapeString(s)
	}
	return strings.ReplaceAll(s, "\r\n", "\n")
}
