package web

// The archive's lists: the issues (/), a theme's articles across the
// issues (/themes/{id}) and the search (/search?q=), each paginated
// (?page=N, listPageSize a page; a page past the last is a 404).

import (
	"cmp"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"unicode/utf8"

	"gull/digest"
)

var failNoTheme = failure{404,
	"이 주제를 찾을 수 없습니다", "No such theme",
	"주소를 확인해 주세요. 주제는 모두 위의 목록에 있습니다.",
	"Check the address. Every theme is listed above.",
	false}

// GET /: the published issues, newest first.
func (s *Site) index(w http.ResponseWriter, r *http.Request) {
	s = s.in(r)
	page, ok := pageOf(r)
	if !ok {
		s.fail(w, r, failNoPage)
		return
	}
	recs, total, err := s.Archive.IssuesPage(r.Context(), (page-1)*listPageSize, listPageSize)
	if err != nil {
		s.log().Error("archive: list issues", "err", err)
		s.fail(w, r, failSite)
		return
	}
	if len(recs) == 0 && page > 1 {
		s.fail(w, r, failNoPage)
		return
	}
	d := s.data(archiveWords[s.lang()]["past"])
	d.Index = true
	loc := s.location()
	for _, rec := range recs {
		item := archiveItem{
			URL:    s.link(s.issueURL(rec.ID)),
			Number: cmp.Or(digest.NumberText(rec.Number, s.lang()), rec.ID),
			Dates:  rec.Period.Dates(s.lang(), loc),
			Count:  s.articleCount(rec.Articles),
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
	d.Pager = pagerFor(s.baseURL()+"/", s.withLang(nil), page, total)
	s.render(w, r, http.StatusOK, "public, max-age=300", "archive", d)
}

// articleCount says n articles in the site's language.
func (s *Site) articleCount(n int) string {
	if s.lang() == "ko" {
		return "기사 " + strconv.Itoa(n) + "건"
	}
	if n == 1 {
		return "1 article"
	}
	return strconv.Itoa(n) + " articles"
}

// GET /themes/{id}: the theme's articles across the published issues.
func (s *Site) theme(w http.ResponseWriter, r *http.Request) {
	s = s.in(r)
	id := r.PathValue("id")
	name := s.themeName(id)
	page, ok := pageOf(r)
	if name == "" || !ok {
		s.fail(w, r, failNoTheme)
		return
	}
	p, err := s.Archive.ThemeArticles(r.Context(), id, (page-1)*listPageSize, listPageSize)
	if err != nil {
		s.log().Error("archive: theme articles", "theme", id, "err", err)
		s.fail(w, r, failSite)
		return
	}
	if len(p.Articles) == 0 && page > 1 {
		s.fail(w, r, failNoPage)
		return
	}
	d := s.data(name)
	d.Index = true
	d.Articles = s.articleItems(p.Articles, nil, false)
	d.Pager = pagerFor(s.baseURL()+"/themes/"+url.PathEscape(id), s.withLang(nil), page, p.Total)
	s.render(w, r, http.StatusOK, "public, max-age=300", "theme", d)
}

// GET /search?q=: the published issues' articles matching every term,
// newest first, the matches highlighted. No query shows the form.
func (s *Site) search(w http.ResponseWriter, r *http.Request) {
	s = s.in(r)
	q := r.URL.Query().Get("q")
	page, ok := pageOf(r)
	if !ok {
		s.fail(w, r, failNoPage)
		return
	}
	d := s.data(archiveWords[s.lang()]["search"])
	d.Query = strings.ToValidUTF8(q, "")
	if utf8.RuneCountInString(d.Query) > digest.MaxSearchRunes {
		d.Query = string([]rune(d.Query)[:digest.MaxSearchRunes])
	}
	terms := digest.SearchTerms(q)
	if len(terms) > 0 {
		p, err := s.Archive.SearchArchive(r.Context(), q, (page-1)*listPageSize, listPageSize)
		if err != nil {
			s.log().Error("archive: search", "err", err)
			s.fail(w, r, failSite)
			return
		}
		if len(p.Articles) == 0 && page > 1 {
			s.fail(w, r, failNoPage)
			return
		}
		d.Searched = true
		d.Heading += ": " + d.Query
		d.Found = s.articleCount(p.Total)
		if p.Scanned > 0 {
			d.Capped = fmt.Sprintf(archiveWords[s.lang()]["capped"], p.Scanned)
		}
		d.Articles = s.articleItems(p.Articles, terms, true)
		d.Pager = pagerFor(s.baseURL()+"/search", s.withLang(url.Values{"q": {d.Query}}), page, p.Total)
	}
	// A result page is not worth a search engine's index.
	s.render(w, r, http.StatusOK, "public, max-age=300", "search", d)
}

// summaryRunes is how much of an article's summary a list shows.
const summaryRunes = 240

// articleItems shows articles, their matches of terms highlighted (in
// the title, the summary and the outlet's name, which the search reads
// too); with section, each names its theme. The text is shown as the
// search compares it (digest.SearchText: NFC), so a match is marked
// where it is. Another outlet's coverage of a story names its lead.
func (s *Site) articleItems(arts []digest.ArchivedArticle, terms []string, section bool) []articleItem {
	var out []articleItem
	shown := func(t string) string { return digest.SearchText(xmlText(t)) }
	for _, a := range arts {
		rec := digest.IssueRecord{ID: a.IssueID, Number: a.IssueNumber, Period: a.Period}
		item := articleItem{
			Title:    highlight(shown(a.Title), terms),
			Summary:  highlight(excerptAround(shown(a.Summary), terms, summaryRunes), terms),
			Link:     a.Link,
			Feed:     highlight(shown(a.Feed), terms),
			Story:    shown(a.Story),
			IssueURL: s.link(s.issueURL(a.IssueID)),
			Issue:    cmp.Or(digest.NumberText(rec.Number, s.lang()), rec.ID) + " · " + rec.Period.Dates(s.lang(), s.location()),
		}
		if section {
			item.Section = s.themeName(a.Section)
		}
		out = append(out, item)
	}
	return out
}

// highlight escapes text and puts each match of terms in <mark>. The
// text and the terms are data: only the <mark> tags are markup.
func highlight(text string, terms []string) template.HTML {
	var b strings.Builder
	at := 0
	for _, sp := range digest.MatchSpans(text, terms) {
		b.WriteString(template.HTMLEscapeString(text[at:sp[0]]))
		b.WriteString("<mark>" + template.HTMLEscapeString(text[sp[0]:sp[1]]) + "</mark>")
		at = sp[1]
	}
	b.WriteString(template.HTMLEscapeString(text[at:]))
	return template.HTML(b.String())
}

// excerptAround cuts text to about n characters, around the first match
// of terms when the match is further in, with … where it was cut. A cut
// is never inside a user-visible character (digest.GraphemeBoundary, the
// mail's rule: a flag, an emoji sequence, a letter and its marks, old
// Hangul's jamo stay whole), so it may give a little less than n.
func excerptAround(text string, terms []string, n int) string {
	runes := []rune(text)
	if len(runes) <= n {
		return text
	}
	start := 0
	if spans := digest.MatchSpans(text, terms); len(spans) > 0 {
		first := utf8.RuneCountInString(text[:spans[0][0]])
		if first > n/2 {
			start = min(first-n/4, len(runes)-n)
		}
	}
	end := start + n
	for start > 0 && !digest.GraphemeBoundary(runes, start) {
		start--
	}
	for end > start && !digest.GraphemeBoundary(runes, end) {
		end--
	}
	out := string(runes[start:end])
	if start > 0 {
		out = "…" + out
	}
	if end < len(runes) {
		out += "…"
	}
	return out
}
