package web

import (
	"bytes"
	"context"
	"encoding/xml"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"

	"gull/digest"
)

// ArchiveStore is what the archive reads (digest/store.Store has it all).
// Every list holds the published issues only: frozen, and not an approved
// issue whose send has not begun.
type ArchiveStore interface {
	// Issues lists the published issues, newest first, at most limit.
	Issues(ctx context.Context, limit int) ([]digest.IssueRecord, error)
	// IssuesPage is a page of them, and how many there are.
	IssuesPage(ctx context.Context, offset, limit int) ([]digest.IssueRecord, int, error)
	// Issue returns a stored issue, or digest.ErrNoIssue.
	Issue(ctx context.Context, id string) (digest.Issue, digest.IssueRecord, error)
	// Draft returns the issue's draft, or digest.ErrNoDraft: a test
	// send's "view" link shows it.
	Draft(ctx context.Context, id string) (digest.Draft, error)
	// ThemeArticles is a page of a theme's articles, newest issue first.
	ThemeArticles(ctx context.Context, theme string, offset, limit int) (digest.ArchivePage, error)
	// SearchArchive is a page of the articles matching every term of
	// query (digest.SearchTerms), newest issue first.
	SearchArchive(ctx context.Context, query string, offset, limit int) (digest.ArchivePage, error)
}

const (
	// archiveLimit is how many issues the index lists: years of a weekly.
	archiveLimit = 100
	// feedLimit is how many issues the feed carries; a reader that polls
	// it needs the recent ones only.
	feedLimit = 20
	// feedTitles is how many article titles an entry's summary names.
	feedTitles = 5
	// indexHeadlines is how many lead titles the index shows an issue by.
	indexHeadlines = 3
	// maxIssueID is the longest issue id the archive looks up; ids are
	// "2026-W48", "2026-11-30" or "2026-11-30T08".
	maxIssueID = 64
)

// The site's failures; the subscriber pages have their own in pages.go.
var (
	failNoPage = failure{404,
		"페이지를 찾을 수 없습니다", "Page not found",
		"주소를 확인해 주세요. 지난 호는 모두 목록에 있습니다.",
		"Check the address. Every past issue is in the list.",
		false}
	failNoIssue = failure{404,
		"이 호를 찾을 수 없습니다", "No such issue",
		"주소를 확인해 주세요. 지난 호는 모두 목록에 있습니다.",
		"Check the address. Every past issue is in the list.",
		false}
	failSite = failure{500,
		"문제가 생겼습니다", "Something went wrong",
		"이 페이지를 지금 보여 드릴 수 없습니다. 잠시 후 다시 시도해 주세요.",
		"This page cannot be shown right now. Please try again in a few minutes.",
		false}
)

// robotsLine keeps a page out of search engines (the desk's pages use it
// too).
const robotsLine = `<meta name="robots" content="noindex, nofollow">`

// headlineCache keeps the index's headlines by issue id. Reading them
// means decoding the issue's whole body (hundreds of KB with the
// articles' text), for every issue listed; the issues listed are frozen,
// and a frozen issue never changes, so each is read once. The zero value
// is ready to use.
type headlineCache struct {
	mu sync.Mutex
	m  map[string][]string
}

// headlineCacheMax bounds the cache: beyond it (an index of more issues
// than that, which the archive's limit does not allow), start again.
const headlineCacheMax = 4 * archiveLimit

// get returns id's headlines, reading them with read the first time. A
// failed read is not kept, so the next request tries again.
func (c *headlineCache) get(id string, read func() ([]string, error)) []string {
	c.mu.Lock()
	h, ok := c.m[id]
	c.mu.Unlock()
	if ok {
		return h
	}
	h, err := read()
	if err != nil {
		return nil
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= headlineCacheMax {
		c.m = map[string][]string{}
	}
	c.m[id] = h
	c.mu.Unlock()
	return h
}

// headlines are the titles of the issue's first n articles, its lead
// stories, cleaned as in the feed: a title is one line of text.
func headlines(is digest.Issue, n int) []string {
	var out []string
	for _, sec := range is.Sections {
		for _, a := range sec.Articles {
			if t := xmlText(a.Title); t != "" && len(out) < n {
				out = append(out, t)
			}
		}
	}
	return out
}

func (s *Site) issueURL(id string) string { return s.baseURL() + "/issues/" + url.PathEscape(id) }

// validIssueID: [0-9A-Za-z._-]{1,64}. Anything else is no issue of ours,
// and is not worth asking the store about.
func validIssueID(id string) bool {
	if id == "" || len(id) > maxIssueID {
		return false
	}
	for _, c := range []byte(id) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// The Atom feed (RFC 4287).

type atomFeed struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	ID      string      `xml:"id"`
	Title   atomText    `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomPerson  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomText struct {
	Type string `xml:"type,attr"`
	Text string `xml:",chardata"`
}

type atomPerson struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr,omitempty"`
	Href string `xml:"href,attr"`
}

type atomEntry struct {
	ID      string    `xml:"id"`
	Title   atomText  `xml:"title"`
	Updated string    `xml:"updated"`
	Link    atomLink  `xml:"link"`
	Summary atomText  `xml:"summary"`
	Content *atomText `xml:"content,omitempty"`
}

// GET /feed.atom: the recent issues as an Atom feed, so a feed reader
// follows the newsletter without mail.
func (s *Site) feed(w http.ResponseWriter, r *http.Request) {
	recs, err := s.Archive.Issues(r.Context(), feedLimit)
	if err != nil {
		s.log().Error("feed: list issues", "err", err)
		s.fail(w, r, failSite)
		return
	}
	base := s.baseURL()
	f := atomFeed{
		ID:     base + "/",
		Title:  atomText{Type: "text", Text: xmlText(s.Title)},
		Author: atomPerson{Name: xmlText(s.Title)},
		Links: []atomLink{
			{Rel: "self", Type: "application/atom+xml", Href: base + "/feed.atom"},
			{Rel: "alternate", Type: "text/html", Href: base + "/"},
		},
	}
	var updated time.Time
	for _, rec := range recs {
		is, _, err := s.Archive.Issue(r.Context(), rec.ID)
		if err != nil {
			// One unreadable issue costs its entry, not the feed.
			s.log().Error("feed: read issue; left out of the feed", "issue", rec.ID, "err", err)
			continue
		}
		// The entry's content is the issue's web copy, whole: a feed
		// reader shows the issue as the archive's page does.
		var content *atomText
		if page, err := s.IssuePage(is, s.lang()); err != nil {
			s.log().Error("feed: render issue; entry without its content", "issue", rec.ID, "err", err)
		} else {
			content = &atomText{Type: "html", Text: xmlSafe(string(pageBody(page)))}
		}
		f.Entries = append(f.Entries, atomEntry{
			ID:      s.issueURL(rec.ID),
			Title:   atomText{Type: "text", Text: s.issueTitle(is, rec)},
			Updated: rec.Created.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: s.issueURL(rec.ID)},
			Summary: atomText{Type: "text", Text: feedSummary(is)},
			Content: content,
		})
		if rec.Created.After(updated) {
			updated = rec.Created
		}
	}
	if updated.IsZero() {
		// A feed must say when it last changed; with no entry, it is now.
		updated = s.clock()
	}
	f.Updated = updated.UTC().Format(time.RFC3339)
	body, err := xml.MarshalIndent(f, "", "  ")
	if err != nil {
		s.log().Error("feed: encode", "err", err)
		s.fail(w, r, failSite)
		return
	}
	body = append([]byte(xml.Header), append(body, '\n')...)
	writeBody(w, r, "application/atom+xml; charset=utf-8", "public, max-age=300", body)
}

// feedSummary is an entry's text: how many articles, and the first
// titles.
func feedSummary(is digest.Issue) string {
	n := is.Count()
	var b strings.Builder
	b.WriteString("기사 " + strconv.Itoa(n) + "건 / " + strconv.Itoa(n) + " article")
	if n != 1 {
		b.WriteString("s")
	}
	titles := headlines(is, feedTitles)
	if len(titles) > 0 {
		b.WriteString(": " + strings.Join(titles, "; "))
		if n > len(titles) {
			b.WriteString("; …")
		}
	}
	return b.String()
}

// xmlText makes s fit for an XML 1.0 text: valid UTF-8, with no character
// XML forbids (C0 controls, U+FFFE, U+FFFF) and no other control either;
// line breaks and tabs become spaces, since a title is one line.
// encoding/xml escapes < and &, and would write U+FFFD for the rest.
func xmlText(s string) string {
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	space := false
	for _, c := range s {
		switch {
		case unicode.IsSpace(c):
			space = b.Len() > 0
			continue
		case unicode.IsControl(c), c == 0xFFFE, c == 0xFFFF, c == utf8.RuneError:
			continue
		}
		if space {
			b.WriteByte(' ')
			space = false
		}
		b.WriteRune(c)
	}
	return b.String()
}

// pageBody is what is inside a page's <body> (the whole page when it has
// none): a feed entry's content is a fragment, not a document.
func pageBody(page []byte) []byte {
	i := indexASCIIFold(string(page), "<body")
	if i < 0 {
		return page
	}
	j := bytes.IndexByte(page[i:], '>')
	if j < 0 {
		return page
	}
	start := i + j + 1
	end := lastIndexASCIIFold(string(page), "</body>")
	if end < start {
		end = len(page)
	}
	return bytes.TrimSpace(page[start:end])
}

// indexASCIIFold is the byte offset in s of the first match of marker
// (an ASCII tag such as "</head>"), in any case of its ASCII letters, or
// -1. The search is on s itself: a lower-cased copy of a page is not as
// long as the page (İ, the Kelvin sign, Ⱥ, invalid bytes), so an offset
// found in it cuts the page in the wrong place.
func indexASCIIFold(s, marker string) int {
	for i := 0; i+len(marker) <= len(s); i++ {
		if asciiEqualFold(s[i:i+len(marker)], marker) {
			return i
		}
	}
	return -1
}

// lastIndexASCIIFold is indexASCIIFold's last match.
func lastIndexASCIIFold(s, marker string) int {
	for i := len(s) - len(marker); i >= 0; i-- {
		if asciiEqualFold(s[i:i+len(marker)], marker) {
			return i
		}
	}
	return -1
}

// asciiEqualFold compares a and b (of one length) with ASCII letters in
// either case; any other byte must be the same byte.
func asciiEqualFold(a, b string) bool {
	for i := 0; i < len(a); i++ {
		x, y := a[i], b[i]
		if 'A' <= x && x <= 'Z' {
			x += 'a' - 'A'
		}
		if 'A' <= y && y <= 'Z' {
			y += 'a' - 'A'
		}
		if x != y {
			return false
		}
	}
	return true
}

// xmlSafe keeps what XML 1.0 allows of s (valid UTF-8; no C0 control but
// TAB, LF and CR; no U+FFFE or U+FFFF), keeping its lines, for a
// content element.
func xmlSafe(s string) string {
	return strings.Map(func(c rune) rune {
		switch {
		case c == '\t', c == '\n', c == '\r':
			return c
		case c < 0x20, c == 0xFFFE, c == 0xFFFF, c == utf8.RuneError:
			return -1
		}
		return c
	}, strings.ToValidUTF8(s, ""))
}
