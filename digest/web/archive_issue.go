package web

// An issue's page (/issues/{id}): the published issue's web copy with its
// OpenGraph and canonical tags; an unpublished one answers "not yet
// published" (404), except through a test send's signed "view" link
// (Links.View), which shows it marked as not yet published, kept out of
// search engines and caches.

import (
	"bytes"
	"cmp"
	"errors"
	"html/template"
	"net/http"
	"strings"

	"gull/digest"
	"gull/subscribers"
)

var (
	failNotYet = failure{404,
		"아직 나오지 않은 호입니다", "Not yet published",
		"이 호는 아직 발행되지 않았습니다. 발행되면 이 주소에서 볼 수 있습니다.",
		"This issue has not been published yet. Once it is sent, it will be at this address.",
		false}
	failBadView = failure{400,
		"링크가 올바르지 않습니다", "This link is not valid",
		"시험 발송 메일에 있는 링크를 그대로 열었는지 확인해 주세요.",
		"Check that you opened the whole link from the test mail, exactly as it was sent.",
		false}
	failViewExpired = failure{410,
		"링크가 만료되었습니다", "This link has expired",
		"시험 발송 링크는 기한이 지났습니다. 이 호가 발행되면 지난 호 목록에 올라옵니다.",
		"The test mail's link has expired. Once the issue is sent, it is in the list of past issues.",
		false}
)

// GET /issues/{id}[?view=TOKEN]: a stored issue as a web page.
func (s *Site) issue(w http.ResponseWriter, r *http.Request) {
	s = s.in(r)
	id := r.PathValue("id")
	if !validIssueID(id) {
		s.fail(w, r, failNoIssue)
		return
	}
	is, rec, err := s.Archive.Issue(r.Context(), id)
	if err != nil && !errors.Is(err, digest.ErrNoIssue) {
		s.log().Error("archive: read issue", "issue", id, "err", err)
		s.fail(w, r, failSite)
		return
	}
	stored := err == nil
	// A quiet week was never sent, and a later run may still build it; an
	// approved issue may still be reopened and changed until its send
	// begins: neither is published.
	if stored && (rec.Status == digest.IssueOpen || rec.Status == digest.IssueDone) && !rec.Awaiting {
		body, err := s.IssuePage(is, s.lang())
		if err != nil {
			s.log().Error("archive: render issue", "issue", id, "err", err)
			s.fail(w, r, failSite)
			return
		}
		// A frozen issue never changes; its page changes with the
		// templates, so an hour, not forever.
		writeBody(w, r, "text/html; charset=utf-8", "public, max-age=3600", s.withIssueHead(body, is, rec))
		return
	}
	if tok := r.URL.Query().Get("view"); tok != "" {
		s.view(w, r, id, tok, is, stored && rec.Status == digest.IssueOpen)
		return
	}
	_, derr := s.Archive.Draft(r.Context(), id)
	if stored && rec.Status == digest.IssueOpen || derr == nil {
		s.fail(w, r, failNotYet)
		return
	}
	s.fail(w, r, failNoIssue)
}

// view answers a test send's link to an unpublished issue: the approved
// issue (frozen, awaiting its send), else the draft as readers would get
// it, else (nothing stored: a week without editors) the coming issue as
// the preview builds it now.
func (s *Site) view(w http.ResponseWriter, r *http.Request, id, tok string, is digest.Issue, frozen bool) {
	if s.Signer == nil {
		s.fail(w, r, failBadView)
		return
	}
	c, err := s.Signer.Verify(tok, subscribers.PurposeView, s.clock())
	switch {
	case errors.Is(err, subscribers.ErrExpired) && c.Data == id:
		s.fail(w, r, failViewExpired)
		return
	case err != nil || c.Data != id:
		s.fail(w, r, failBadView)
		return
	}
	var body []byte
	page := s.ViewPage
	if page == nil {
		page = s.IssuePage
	}
	if !frozen {
		d, derr := s.Archive.Draft(r.Context(), id)
		switch {
		case derr == nil:
			is, frozen = d.Readers(), true
		case !errors.Is(derr, digest.ErrNoDraft):
			s.log().Error("archive: read draft", "issue", id, "err", derr)
			s.fail(w, r, failSite)
			return
		}
	}
	if frozen {
		body, err = page(is, s.lang())
	} else {
		// Nothing stored for the issue (a week without editors): the
		// coming issue, when it is the link's. A link to another week
		// (one the preview has moved past, or not reached) must not show
		// this week's.
		var p PreviewPage
		p, err = s.previewBytes(r.Context())
		if err == nil && p.ID != id {
			s.fail(w, r, failNotYet)
			return
		}
		body = p.Body
	}
	if errors.Is(err, ErrPreviewNotReady) {
		s.fail(w, r, failPreparing)
		return
	}
	if err != nil {
		s.log().Error("archive: render unpublished issue", "issue", id, "err", err)
		s.fail(w, r, failSite)
		return
	}
	head, banner := robotsLine, notYetBanner[s.lang()]
	shown := AfterBody(InHead(string(body), head), banner)
	writeBody(w, r, "text/html; charset=utf-8", "no-store", []byte(shown))
}

// notYetBanner marks an unpublished issue's page.
var notYetBanner = map[string]string{
	"ko": `<p class="gull-unpublished" style="margin:0;padding:10px 16px;background:#b3261e;color:#fff;font:bold 14px/1.5 sans-serif;text-align:center">아직 발행되지 않은 호입니다 (시험 발송 미리 보기). 링크를 다른 사람과 나누지 마세요.</p>`,
	"en": `<p class="gull-unpublished" style="margin:0;padding:10px 16px;background:#b3261e;color:#fff;font:bold 14px/1.5 sans-serif;text-align:center">Not yet published: a test send's preview. Please do not share this link.</p>`,
}

// ogLocale is og:locale for the site's language.
var ogLocale = map[string]string{"ko": "ko_KR", "en": "en_US"}

var issueHead = template.Must(template.New("head").Parse(`<link rel="canonical" href="{{.URL}}">
<link rel="alternate" hreflang="ko" href="{{.URL}}?lang=ko">
<link rel="alternate" hreflang="en" href="{{.URL}}?lang=en">
<link rel="alternate" hreflang="x-default" href="{{.URL}}">
<meta property="og:type" content="article">
<meta property="og:site_name" content="{{.Site}}">
<meta property="og:title" content="{{.Title}}">
<meta property="og:description" content="{{.Description}}">
<meta property="og:url" content="{{.URL}}">
<meta property="og:locale" content="{{.Locale}}">
<meta name="description" content="{{.Description}}">
`))

// issueTitle names a published issue: its title, number and dates in the
// site's language ("AI Policy Weekly · No. 12 · 23–29 Nov 2026").
func (s *Site) issueTitle(is digest.Issue, rec digest.IssueRecord) string {
	parts := []string{xmlText(cmp.Or(rec.Title, is.Title, s.Title))}
	if n := digest.NumberText(rec.Number, s.lang()); n != "" {
		parts = append(parts, n)
	}
	return strings.Join(append(parts, rec.Period.Dates(s.lang(), s.location())), " · ")
}

// withIssueHead puts the page's canonical link and OpenGraph tags in its
// <head>.
func (s *Site) withIssueHead(body []byte, is digest.Issue, rec digest.IssueRecord) []byte {
	var b bytes.Buffer
	err := issueHead.Execute(&b, map[string]string{
		"URL": s.issueURL(rec.ID), "Site": xmlText(s.Title), "Title": s.issueTitle(is, rec),
		"Description": strings.Join(headlines(is, indexHeadlines), " · "), "Locale": ogLocale[s.lang()],
	})
	if err != nil {
		return body // not reached: the values are strings
	}
	return []byte(InHead(string(body), b.String()))
}

// InHead puts block at the end of the page's <head> (at its start when
// it has none).
func InHead(page, block string) string {
	i := indexASCIIFold(page, "</head>")
	if i < 0 {
		return block + page
	}
	return page[:i] + block + page[i:]
}

// AfterBody puts block at the top of the page's body (at its start when
// it has none): a banner over a rendered issue.
func AfterBody(page, block string) string {
	i := indexASCIIFold(page, "<body")
	if i < 0 {
		return block + page
	}
	j := strings.Index(page[i:], ">")
	if j < 0 {
		return block + page
	}
	return page[:i+j+1] + block + page[i+j+1:]
}
