package web

import (
	"bytes"
	"cmp"
	"context"
	"encoding/xml"
	"errors"
	"html/template"
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

// ArchiveStore is what the archive reads (digest/store.Store has both).
type ArchiveStore interface {
	// Issues lists the frozen issues, newest first, at most limit.
	Issues(ctx context.Context, limit int) ([]digest.IssueRecord, error)
	// Issue returns a stored issue, or digest.ErrNoIssue.
	Issue(ctx context.Context, id string) (digest.Issue, digest.IssueRecord, error)
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

// siteData is everything a page of the site shows.
type siteData struct {
	Title                          string
	HomeURL, FeedURL, SubscribeURL string
	Issues                         []archiveItem
	Fail                           failure
}

// archiveItem is one issue in the list: its number and dates in Korean
// and in English (the site's pages are in both), and its lead headlines,
// which tell one week from the next.
type archiveItem struct {
	URL                string
	NumberKo, NumberEn string
	DatesKo, DatesEn   string
	Headlines          []string
	Articles           int
}

// The site's pages share the subscriber pages' layout, with a "head"
// where that has its robots line: the archive is public and may be
// indexed, and its head names the feed. The error pages stay out of
// search engines.
const robotsLine = `<meta name="robots" content="noindex, nofollow">`

var siteTexts = map[string]string{
	"archive": `{{define "head"}}<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{.FeedURL}}">
<style>
.issues { list-style: none; padding: 0; margin: 0 0 2em; }
.issues > li { margin: 0 0 1.4em; }
.issues a { font-weight: 600; }
.issue-en { display: block; font-size: 0.9em; }
.heads { margin: 0.35em 0 0.25em; padding-left: 1.2em; }
.heads li { margin: 0.15em 0; }
.meta { display: block; font-size: 0.9em; color: GrayText; }
</style>{{end}}
{{define "ko"}}지난 호{{end}}{{define "en"}}Past issues{{end}}
{{define "body"}}{{if .Issues}}<ol class="issues">
{{range .Issues}}<li><a href="{{.URL}}">{{.NumberKo}} · {{.DatesKo}}</a>
<span class="issue-en" lang="en">{{.NumberEn}} · {{.DatesEn}}</span>
{{with .Headlines}}<ul class="heads">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}<span class="meta">기사 {{.Articles}}건 <span lang="en">/ {{.Articles}} {{if eq .Articles 1}}article{{else}}articles{{end}}</span></span></li>
{{end}}</ol>
{{else}}<p>아직 나온 호가 없습니다. 첫 호가 나오면 이곳에 올라옵니다.</p>
<p lang="en">No issue has come out yet. The first one will be listed here.</p>
{{end}}<p><a href="{{.SubscribeURL}}">메일로 받아 보기 <span lang="en">/ Get it by mail</span></a> · <a href="{{.FeedURL}}">Atom 피드 <span lang="en">/ Atom feed</span></a></p>
{{end}}`,

	"error": `{{define "head"}}` + robotsLine + `{{end}}
{{define "ko"}}{{.Fail.KoHead}}{{end}}{{define "en"}}{{.Fail.EnHead}}{{end}}
{{define "body"}}<p>{{.Fail.Ko}}</p>
<p lang="en">{{.Fail.En}}</p>
<p><a href="{{.HomeURL}}">지난 호 목록 <span lang="en">/ Past issues</span></a></p>
{{end}}`,
}

// sitePages are the parsed pages by name; like the subscriber pages, a
// broken one fails start-up.
var sitePages = parseSitePages()

func parseSitePages() map[string]*template.Template {
	if strings.Count(layoutPage, robotsLine) != 1 {
		panic("web: the page layout has no robots line for the site's head")
	}
	layout := strings.Replace(layoutPage, robotsLine, `{{template "head" .}}`, 1)
	base := template.Must(template.New("layout").Parse(layout))
	out := make(map[string]*template.Template, len(siteTexts))
	for name, text := range siteTexts {
		out[name] = template.Must(template.Must(base.Clone()).Parse(text))
	}
	return out
}

func (s *Site) data() siteData {
	base := s.baseURL()
	return siteData{Title: s.Title, HomeURL: base + "/", FeedURL: base + "/feed.atom", SubscribeURL: base + "/subscribe"}
}

// render answers a page built before anything is written, so a template
// failure is a clean 500.
func (s *Site) render(w http.ResponseWriter, r *http.Request, status int, cacheControl, name string, d siteData) {
	var buf bytes.Buffer
	if err := sitePages[name].Execute(&buf, d); err != nil {
		s.log().Error("site page failed", "page", name, "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	if status == http.StatusOK {
		writeBody(w, r, "text/html; charset=utf-8", cacheControl, buf.Bytes())
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", cacheControl)
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers an error page. It is never cached: a 404 for an issue
// that comes out an hour later must not stick.
func (s *Site) fail(w http.ResponseWriter, r *http.Request, f failure) {
	d := s.data()
	d.Fail = f
	s.render(w, r, f.Status, "no-store", "error", d)
}

// GET /: the issues, newest first.
func (s *Site) index(w http.ResponseWriter, r *http.Request) {
	recs, err := s.Archive.Issues(r.Context(), archiveLimit)
	if err != nil {
		s.log().Error("archive: list issues", "err", err)
		s.fail(w, r, failSite)
		return
	}
	d := s.data()
	loc := s.location()
	for _, rec := range recs {
		item := archiveItem{
			URL:      s.issueURL(rec.ID),
			NumberKo: cmp.Or(digest.NumberText(rec.Number, "ko"), rec.ID),
			NumberEn: cmp.Or(digest.NumberText(rec.Number, "en"), rec.ID),
			DatesKo:  rec.Period.Dates("ko", loc), DatesEn: rec.Period.Dates("en", loc),
			Articles: rec.Articles,
		}
		item.Headlines = s.st.headlines.get(rec.ID, func() ([]string, error) {
			is, _, err := s.Archive.Issue(r.Context(), rec.ID)
			if err != nil {
				// One unreadable issue costs its headlines, not the page.
				s.log().Error("archive: read issue; listed without headlines", "issue", rec.ID, "err", err)
			}
			return headlines(is, indexHeadlines), err
		})
		d.Issues = append(d.Issues, item)
	}
	s.render(w, r, http.StatusOK, "public, max-age=300", "archive", d)
}

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

// GET /issues/{id}: a stored issue as a web page.
func (s *Site) issue(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	if !validIssueID(id) {
		s.fail(w, r, failNoIssue)
		return
	}
	is, rec, err := s.Archive.Issue(r.Context(), id)
	switch {
	case errors.Is(err, digest.ErrNoIssue):
		s.fail(w, r, failNoIssue)
		return
	case err != nil:
		s.log().Error("archive: read issue", "issue", id, "err", err)
		s.fail(w, r, failSite)
		return
	case rec.Status != digest.IssueOpen && rec.Status != digest.IssueDone, rec.Awaiting:
		// A quiet week was never sent, and a later run may still build
		// it; an approved issue may still be reopened and changed until
		// its send begins: neither is in the archive.
		s.fail(w, r, failNoIssue)
		return
	}
	body, err := s.IssuePage(is)
	if err != nil {
		s.log().Error("archive: render issue", "issue", id, "err", err)
		s.fail(w, r, failSite)
		return
	}
	// A frozen issue never changes; its page changes with the templates,
	// so an hour, not forever.
	writeBody(w, r, "text/html; charset=utf-8", "public, max-age=3600", body)
}

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

// periodDays shows (Start, End] as the days it covers, as the mail's
// dateline does (Period.Days), in ISO dates: a week sent Monday 08:00
// covers Monday to Sunday.
func periodDays(p digest.Period, loc *time.Location) string {
	start, end := p.Days(loc)
	s, e := start.Format(time.DateOnly), end.Format(time.DateOnly)
	if s == e {
		return s // a daily (or shorter) digest covers one day
	}
	return s + " – " + e
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
	ID      string   `xml:"id"`
	Title   atomText `xml:"title"`
	Updated string   `xml:"updated"`
	Link    atomLink `xml:"link"`
	Summary atomText `xml:"summary"`
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
		title := rec.Title
		if title == "" {
			title = rec.ID
		}
		f.Entries = append(f.Entries, atomEntry{
			ID:      s.issueURL(rec.ID),
			Title:   atomText{Type: "text", Text: xmlText(title + " · " + periodDays(rec.Period, s.location()))},
			Updated: rec.Created.UTC().Format(time.RFC3339),
			Link:    atomLink{Rel: "alternate", Type: "text/html", Href: s.issueURL(rec.ID)},
			Summary: atomText{Type: "text", Text: feedSummary(is)},
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
