package collect

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"

	"github.com/mmcdole/gofeed"
)

// Sentinel errors of the parse step; the messages say what the user sees.
var (
	ErrEmpty   = errors.New("collect: the document is empty")
	ErrHTML    = errors.New("collect: the URL serves an HTML page, not a feed")
	ErrNotFeed = errors.New("collect: not an RSS, Atom or JSON feed")
)

// parsed is the outcome of reading one feed document.
type parsed struct {
	feed    *gofeed.Feed
	charset string
	repairs []string
}

// parseBody reads a feed document, whatever its encoding, and repairs what a
// liberal reader would when the strict reading fails: junk before the
// prolog, a DOCTYPE, bare ampersands, illegal control characters, HTML
// entities XML does not know, an unterminated CDATA section, a truncated
// document. Each repair that was needed is listed.
func parseBody(body []byte, httpCharset string, maxBytes int64) (parsed, error) {
	var p parsed
	if isGzip(body) {
		out, err := gunzip(body, maxBytes)
		if err != nil {
			return p, err
		}
		body = out
		p.repairs = append(p.repairs, "the body was gzip-compressed without saying so; unpacked it")
	}
	d, err := toUTF8(body, httpCharset)
	if err != nil {
		return p, err
	}
	p.charset = d.charset
	p.repairs = append(p.repairs, d.repairs...)
	doc := d.body

	start := bytes.IndexByte(doc, '<')
	jsonStart := bytes.IndexAny(doc, "{[")
	if jsonStart >= 0 && (start < 0 || jsonStart < start) && strings.TrimSpace(string(doc[:jsonStart])) == "" {
		return parseJSON(p, doc[jsonStart:])
	}
	if start < 0 {
		if len(bytes.TrimSpace(doc)) == 0 {
			return p, ErrEmpty
		}
		return p, fmt.Errorf("%w: no markup at all", ErrNotFeed)
	}
	if junk := bytes.TrimSpace(doc[:start]); len(junk) > 0 {
		p.repairs = append(p.repairs, fmt.Sprintf("dropped %d bytes of junk before the document", start))
	}
	doc = doc[start:]
	if looksLikeHTML(doc) && !hasFeedRoot(doc) {
		if link := discoverFeedLink(doc); link != "" {
			return p, &htmlPageError{link: link}
		}
		return p, fmt.Errorf("%w; find the feed's own URL (often /feed, /rss or /atom.xml)", ErrHTML)
	}

	f, firstErr := parseXML(doc)
	if firstErr == nil {
		p.feed = f
		return p, nil
	}
	for _, r := range xmlRepairs {
		fixed, what := r(doc)
		if what == "" {
			continue
		}
		doc = fixed
		p.repairs = append(p.repairs, what)
		if f, err := parseXML(doc); err == nil {
			p.feed = f
			return p, nil
		}
	}
	if isEmptyDocument(doc) {
		return p, ErrEmpty
	}
	return p, fmt.Errorf("%w: %v", ErrNotFeed, shortErr(firstErr))
}

// newFeedParser is gofeed's parser without its search of every RSS
// item's HTML for a first image (Item.Image, which gull does not use): it
// parsed each description as a whole HTML document, 12% of the memory a
// fetch allocates and as much work as sanitizing it.
func newFeedParser() *gofeed.Parser {
	p := gofeed.NewParser()
	p.RSSTranslator = &gofeed.DefaultRSSTranslator{DisableContentImageScan: true}
	return p
}

func parseXML(doc []byte) (*gofeed.Feed, error) {
	f, err := newFeedParser().Parse(bytes.NewReader(doc))
	if err != nil {
		return nil, err
	}
	return f, nil
}

func shortErr(err error) string {
	s := err.Error()
	if len(s) > 200 {
		s = truncateRunes(s, 200)
	}
	return s
}

func isGzip(b []byte) bool { return len(b) > 2 && b[0] == 0x1f && b[1] == 0x8b }

// gunzip unpacks at most maxBytes, so a small bomb cannot fill memory.
func gunzip(b []byte, maxBytes int64) ([]byte, error) {
	zr, err := gzip.NewReader(bytes.NewReader(b))
	if err != nil {
		return nil, fmt.Errorf("collect: corrupt gzip body: %w", err)
	}
	out, err := io.ReadAll(io.LimitReader(zr, maxBytes+1))
	if errors.Is(err, io.ErrUnexpectedEOF) {
		// Saving a cut-off feed as the feed's latest copy would mark its
		// missing items as gone; better to fail and try again next run.
		return nil, fmt.Errorf("collect: the gzip body is cut off")
	}
	if err != nil {
		return nil, fmt.Errorf("collect: corrupt gzip body: %w", err)
	}
	if int64(len(out)) > maxBytes {
		return nil, fmt.Errorf("%w: unpacks to more than %d bytes", ErrTooLarge, maxBytes)
	}
	return out, nil
}

var (
	htmlStartRE = regexp.MustCompile(`(?is)^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<!doctype\s+html|^(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<html[\s>]`)
	altLinkRE   = regexp.MustCompile(`(?is)<link\b[^>]*\btype\s*=\s*["']application/(rss|atom|feed)\+(xml|json)["'][^>]*>`)
	hrefRE      = regexp.MustCompile(`(?is)\bhref\s*=\s*["']([^"']+)["']`)
)

func looksLikeHTML(doc []byte) bool {
	return htmlStartRE.Match(doc[:min(len(doc), 4096)])
}

// htmlPageError is an HTML page that advertises its feed. link is the
// href as the page writes it, often relative ("/feed.xml"); the fetch,
// which knows the page's URL, makes it absolute so the hint can be pasted
// into the config as it is.
type htmlPageError struct{ link string }

func (e *htmlPageError) Error() string {
	return fmt.Sprintf("%v; the page names its feed at %s: use that URL", ErrHTML, e.link)
}

func (e *htmlPageError) Unwrap() error { return ErrHTML }

// discoverFeedLink finds the feed a page advertises with
// <link rel="alternate" type="application/rss+xml" href="...">.
func discoverFeedLink(doc []byte) string {
	tag := altLinkRE.Find(doc)
	if tag == nil {
		return ""
	}
	if m := hrefRE.FindSubmatch(tag); m != nil {
		return string(m[1])
	}
	return ""
}

var commentOnlyRE = regexp.MustCompile(`(?s)^\s*(<\?xml[^>]*\?>)?\s*(<!--.*?-->\s*)*$`)

func isEmptyDocument(doc []byte) bool { return commentOnlyRE.Match(doc) }

// parseJSON reads a JSON Feed, or the RSS-in-JSON some blogs serve
// ({"rss": {"channel": {...}}}), which gofeed would mistake for a JSON
// Feed without items.
func parseJSON(p parsed, doc []byte) (parsed, error) {
	var probe map[string]json.RawMessage
	if err := json.Unmarshal(doc, &probe); err != nil {
		return p, fmt.Errorf("%w: invalid JSON: %v", ErrNotFeed, err)
	}
	if raw, ok := probe["rss"]; ok {
		f, err := rssInJSON(raw)
		if err != nil {
			return p, err
		}
		p.feed = f
		p.repairs = append(p.repairs, "RSS written as JSON, not a JSON Feed; read its channel")
		return p, nil
	}
	if _, ok := probe["version"]; !ok {
		if _, ok := probe["items"]; !ok {
			return p, fmt.Errorf("%w: JSON without a JSON Feed \"version\" or \"items\"", ErrNotFeed)
		}
	}
	f, err := newFeedParser().Parse(bytes.NewReader(doc))
	if err != nil {
		return p, fmt.Errorf("%w: %v", ErrNotFeed, shortErr(err))
	}
	p.feed = f
	return p, nil
}

func rssInJSON(raw json.RawMessage) (*gofeed.Feed, error) {
	var doc struct {
		Channel struct {
			Title       string          `json:"title"`
			Link        string          `json:"link"`
			Description string          `json:"description"`
			Language    string          `json:"language"`
			Item        json.RawMessage `json:"item"`
		} `json:"channel"`
	}
	if err := json.Unmarshal(raw, &doc); err != nil {
		return nil, fmt.Errorf("%w: RSS-in-JSON without a channel: %v", ErrNotFeed, err)
	}
	type item struct {
		Title       string `json:"title"`
		Link        string `json:"link"`
		Description string `json:"description"`
		PubDate     string `json:"pubDate"`
		GUID        any    `json:"guid"`
		Author      string `json:"author"`
	}
	var items []item
	if len(doc.Channel.Item) > 0 && doc.Channel.Item[0] == '{' {
		var one item
		if err := json.Unmarshal(doc.Channel.Item, &one); err == nil {
			items = append(items, one)
		}
	} else if len(doc.Channel.Item) > 0 {
		if err := json.Unmarshal(doc.Channel.Item, &items); err != nil {
			return nil, fmt.Errorf("%w: RSS-in-JSON items: %v", ErrNotFeed, err)
		}
	}
	f := &gofeed.Feed{Title: doc.Channel.Title, Link: doc.Channel.Link, Description: doc.Channel.Description,
		Language: doc.Channel.Language, FeedType: "rss-in-json"}
	for _, it := range items {
		gi := &gofeed.Item{Title: it.Title, Link: it.Link, Description: it.Description, Published: it.PubDate}
		switch g := it.GUID.(type) {
		case string:
			gi.GUID = g
		case map[string]any:
			if v, ok := g["value"].(string); ok {
				gi.GUID = v
			} else if v, ok := g["#value"].(string); ok {
				gi.GUID = v
			}
		}
		if it.Author != "" {
			gi.Authors = []*gofeed.Person{{Name: it.Author}}
		}
		f.Items = append(f.Items, gi)
	}
	return f, nil
}
