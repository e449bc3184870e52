package web

// The archive's pages (the index, a theme's page, the search, the error
// pages of the site): in the config's language, wearing the mail's design.
// Their <head> carries the mail's own stylesheet (Site.Styles, from the
// templates' "styles"), and their markup uses its classes (.column,
// .masthead, .section, .article, .meta, .summary, .footer), so a change
// to the mail's look is a change to the archive's; the few rules below
// are what a web page needs beyond a mail (a centred column, the search
// box, the pager, the highlight), with their dark-mode colours.

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// siteData is everything a page of the site shows.
type siteData struct {
	Lang, Title                    string
	Heading                        string // the page's own heading, also in <title>
	Styles                         template.HTML
	HomeURL, FeedURL, SubscribeURL string
	SearchURL                      string
	LangParam                      string // the chosen ?lang=, which the search form keeps
	// Index asks search engines to keep the page; error pages, search
	// results and unpublished issues stay out.
	Index  bool
	Themes []themeLink
	L      map[string]string

	Issues   []archiveItem // the index
	Articles []articleItem // a theme's page, the search
	Query    string        // the search's, as typed (valid UTF-8, cut)
	Searched bool
	Found    string // "3 articles" / "3건"
	Capped   string // a short-word search looked at the newest articles only: it says so
	Pager    pager
	Fail     failure
	FailText [2]string // the failure's heading and words in the page's language
}

// archiveItem is one issue in the list: its number, its dates, its lead
// headlines (which tell one week from the next) and its size.
type archiveItem struct {
	URL, Number, Dates, Count string
	Headlines                 []string
}

// articleItem is one article on a theme's page or in the search: the
// title and summary as HTML (escaped, the search's matches in <mark>),
// with the issue it was in.
type articleItem struct {
	Title, Summary, Feed     template.HTML
	Link                     string
	Story                    string // the lead's title, for another outlet's coverage of its story
	IssueURL, Issue, Section string
}

type themeLink struct{ URL, Name string }

// pager links a list's pages; empty URLs are the ends.
type pager struct {
	Prev, Next  string
	Page, Pages int
}

// archiveWords are the pages' fixed words in each language.
var archiveWords = map[string]map[string]string{
	"ko": {
		"past": "지난 호", "search": "검색", "searchLabel": "지난 호의 기사 검색", "searchHint": "제목, 요약, 매체 이름",
		"themes": "주제", "subscribe": "메일로 받아 보기", "feed": "Atom 피드",
		"none":      "아직 나온 호가 없습니다. 첫 호가 나오면 이곳에 올라옵니다.",
		"noTheme":   "이 주제의 기사가 아직 없습니다.",
		"noResults": "찾는 기사가 없습니다. 다른 낱말로 찾아보세요.",
		"prev":      "← 이전", "next": "다음 →", "page": "쪽", "in": "수록",
		"coverage": "같은 소식:",
		"capped":   "한두 글자 낱말로는 최근 기사 %d건에서만 찾습니다. 세 글자 이상의 낱말을 넣으면 모든 호에서 찾습니다.",
	},
	"en": {
		"past": "Past issues", "search": "Search", "searchLabel": "Search the past issues' articles", "searchHint": "title, summary, outlet",
		"themes": "Themes", "subscribe": "Get it by mail", "feed": "Atom feed",
		"none":      "No issue has come out yet. The first one will be listed here.",
		"noTheme":   "No article in this theme yet.",
		"noResults": "No article matches. Try other words.",
		"prev":      "← Newer", "next": "Older →", "page": "page", "in": "in",
		"coverage": "Coverage of:",
		"capped":   "Words of one or two characters search the newest %d articles only. Add a word of three characters or more to search every issue.",
	},
}

// archiveCSS is what a web page needs beyond the mail's stylesheet.
const archiveCSS = `<style>
.column { margin: 0 auto; overflow-wrap: anywhere; }
.masthead { padding-top: 20px; }
.masthead a.title-link { color: inherit; text-decoration: none; }
.nav { margin: 10px 0 0 0; font-size: 13px; line-height: 1.9; }
.nav a { margin-right: 4px; }
.search-form { display: flex; gap: 8px; margin: 14px 0 0 0; }
.search-form input[type=search] { flex: 1 1 auto; min-width: 0; font-size: 16px; padding: 6px 8px; border: 1px solid #c9d6de; border-radius: 4px; }
.search-form button { font-size: 15px; padding: 6px 12px; border: 0; border-radius: 4px; background-color: #0b6e99; color: #ffffff; }
.issue-list { list-style: none; padding: 0; margin: 0; }
.heads { margin: 6px 0 0 0; padding-left: 1.2em; font-size: 15px; line-height: 1.6; color: #2f3a44; }
.heads li { margin: 2px 0; }
mark { background-color: #ffe08a; color: inherit; padding: 0 1px; border-radius: 2px; }
.pager { padding: 12px 28px; font-family: inherit; font-size: 14px; display: flex; justify-content: space-between; gap: 8px; }
.empty { padding: 16px 28px; font-family: "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif; font-size: 15px; line-height: 1.7; }
@media only screen and (max-width: 620px) { .pager, .empty { padding-left: 18px; padding-right: 18px; } }
@media (prefers-color-scheme: dark) {
  body { color: #eef2f5; }
  .heads, .empty { color: #c9d1d8 !important; }
  .search-form input[type=search] { background-color: #101418; color: #eef2f5; border-color: #3a4b58; }
  mark { background-color: #7a5d00; color: #ffffff; }
  a { color: #6cc4ee; }
}
</style>`

const archiveLayout = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
{{if not .Index}}<meta name="robots" content="noindex, nofollow">
{{end}}<title>{{.Heading}} · {{.Title}}</title>
<link rel="alternate" type="application/atom+xml" title="{{.Title}}" href="{{.FeedURL}}">
{{.Styles}}` + archiveCSS + `
</head>
<body class="body">
<div class="outer"><div class="outer-cell"><div class="column">
<div class="masthead">
<p class="title"><a class="title-link" href="{{.HomeURL}}">{{.Title}}</a></p>
<h1 class="dateline">{{.Heading}}</h1>
<form class="search-form" role="search" method="get" action="{{.SearchURL}}">
<input type="search" name="q" value="{{.Query}}" aria-label="{{.L.searchLabel}}" placeholder="{{.L.searchHint}}">
{{with .LangParam}}<input type="hidden" name="lang" value="{{.}}">
{{end}}<button type="submit">{{.L.search}}</button>
</form>
{{with .Themes}}<p class="nav">{{$.L.themes}}: {{range .}}<a class="chip" href="{{.URL}}">{{.Name}}</a> {{end}}</p>{{end}}
</div>
{{template "body" .}}
{{with .Pager}}{{if or .Prev .Next}}<nav class="pager">{{if .Prev}}<a class="read" rel="prev" href="{{.Prev}}">{{$.L.prev}}</a>{{else}}<span></span>{{end}}
<span class="meta">{{.Page}} / {{.Pages}} {{$.L.page}}</span>
{{if .Next}}<a class="read" rel="next" href="{{.Next}}">{{$.L.next}}</a>{{else}}<span></span>{{end}}</nav>{{end}}{{end}}
<div class="footer"><p><a class="footer-link" href="{{.HomeURL}}">{{.L.past}}</a> · <a class="footer-link" href="{{.SubscribeURL}}"><strong>{{.L.subscribe}}</strong></a> · <a class="footer-link" href="{{.FeedURL}}">{{.L.feed}}</a></p></div>
</div></div></div>
</body>
</html>
`

// articlesBody lists articles the way the mail does.
const articlesBody = `{{define "articles"}}<div class="section">
{{range .Articles}}<div class="article">
<p class="article-title"><a class="article-link" href="{{.Link}}">{{.Title}}</a></p>
<p class="meta">{{with .Feed}}{{.}} · {{end}}<a class="muted-link" href="{{.IssueURL}}">{{.Issue}}</a>{{with .Section}} · {{.}}{{end}}</p>
{{if .Story}}<p class="meta story">{{$.L.coverage}} <a class="muted-link" href="{{.IssueURL}}">{{.Story}}</a></p>{{end}}
{{with .Summary}}<p class="summary">{{.}}</p>{{end}}
</div>
{{end}}</div>{{end}}`

var siteTexts = map[string]string{
	"archive": `{{define "body"}}{{if .Issues}}<div class="section"><ol class="issue-list">
{{range .Issues}}<li class="article"><p class="article-title"><a class="article-link" href="{{.URL}}">{{.Number}} · {{.Dates}}</a></p>
{{with .Headlines}}<ul class="heads">{{range .}}<li>{{.}}</li>{{end}}</ul>
{{end}}<p class="meta">{{.Count}}</p></li>
{{end}}</ol></div>
{{else}}<p class="empty">{{.L.none}}</p>
{{end}}{{end}}`,

	"theme": `{{define "body"}}{{if .Articles}}{{template "articles" .}}{{else}}<p class="empty">{{.L.noTheme}}</p>{{end}}{{end}}`,

	"search": `{{define "body"}}{{if .Searched}}{{with .Capped}}<p class="empty meta capped">{{.}}</p>
{{end}}{{if .Articles}}<p class="empty meta">{{.Found}}</p>
{{template "articles" .}}{{else}}<p class="empty">{{.L.noResults}}</p>{{end}}{{end}}{{end}}`,

	"error": `{{define "body"}}<div class="empty"><p>{{index .FailText 1}}</p>
<p><a class="footer-link" href="{{.HomeURL}}">{{.L.past}}</a></p></div>{{end}}`,
}

// sitePages are the parsed pages by name; a broken one fails start-up.
var sitePages = func() map[string]*template.Template {
	base := template.Must(template.Must(template.New("layout").Parse(archiveLayout)).Parse(articlesBody))
	out := make(map[string]*template.Template, len(siteTexts))
	for name, text := range siteTexts {
		out[name] = template.Must(template.Must(base.Clone()).Parse(text))
	}
	return out
}()

// lang is the page's language: the one the request chose (?lang=), else
// the config's; Korean or English.
func (s *Site) lang() string {
	if s.chosen != "" {
		return s.chosen
	}
	if s.Lang == "ko" {
		return "ko"
	}
	return "en"
}

// in is the site as the request r sees it: in the language it asks for
// with ?lang=ko or ?lang=en (a reader's mail links their language's
// pages), else the config's. Anything else is ignored.
func (s *Site) in(r *http.Request) *Site {
	l := r.URL.Query().Get("lang")
	if (l != "ko" && l != "en") || l == s.lang() {
		return s
	}
	c := *s
	c.chosen = l
	if t := s.Titles.In(l); t != "" {
		c.Title = t
	}
	return &c
}

// link is u (a page of the site) in the page's chosen language: with
// ?lang= when the request chose one, so a reader stays in it.
func (s *Site) link(u string) string {
	if s.chosen == "" {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "lang=" + s.chosen
}

// withLang adds the chosen language to a page's query (a pager's).
func (s *Site) withLang(q url.Values) url.Values {
	if s.chosen == "" {
		return q
	}
	v := url.Values{"lang": {s.chosen}}
	for k, vs := range q {
		v[k] = vs
	}
	return v
}

func (s *Site) data(heading string) siteData {
	base := s.baseURL()
	d := siteData{
		Lang: s.lang(), Title: s.Title, Heading: heading, Styles: template.HTML(s.Styles),
		HomeURL: s.link(base + "/"), FeedURL: base + "/feed.atom", SubscribeURL: s.link(base + "/subscribe"), SearchURL: base + "/search",
		LangParam: s.chosen, L: archiveWords[s.lang()],
	}
	for _, t := range s.Themes {
		d.Themes = append(d.Themes, themeLink{URL: s.link(base + "/themes/" + url.PathEscape(t.ID)), Name: s.themeName(t.ID)})
	}
	return d
}

// themeName is the theme's name in the site's language ("" for an id
// that is no configured theme nor the catch-all's).
func (s *Site) themeName(id string) string {
	for _, t := range append(s.Themes[:len(s.Themes):len(s.Themes)], s.Other) {
		if t.ID == id && id != "" {
			if n := t.Names.In(s.lang()); n != "" {
				return n
			}
			return t.Name
		}
	}
	return ""
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
	head, words := f.KoHead, f.Ko
	if s.lang() == "en" {
		head, words = f.EnHead, f.En
	}
	d := s.data(head)
	d.Fail, d.FailText = f, [2]string{head, words}
	s.render(w, r, f.Status, "no-store", "error", d)
}

// listPageSize is how many issues or articles a page of the archive lists.
const listPageSize = 20

// pageOf reads ?page=N (1 when absent); ok is false for anything but a
// positive number.
func pageOf(r *http.Request) (int, bool) {
	v := r.URL.Query().Get("page")
	if v == "" {
		return 1, true
	}
	n, err := strconv.Atoi(v)
	return n, err == nil && n >= 1 && n <= 1_000_000
}

// pagerFor links the pages of total items around page, keeping the
// query's other values (the search's q).
func pagerFor(base string, q url.Values, page, total int) pager {
	pages := max(1, (total+listPageSize-1)/listPageSize)
	link := func(n int) string {
		v := url.Values{}
		for k, vs := range q {
			v[k] = vs
		}
		if n == 1 {
			v.Del("page")
		} else {
			v.Set("page", strconv.Itoa(n))
		}
		if len(v) == 0 {
			return base
		}
		return base + "?" + v.Encode()
	}
	p := pager{Page: page, Pages: pages}
	if page > 1 {
		p.Prev = link(page - 1)
	}
	if page < pages {
		p.Next = link(page + 1)
	}
	return p
}
