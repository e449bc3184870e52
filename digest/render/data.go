package render

import (
	"cmp"
	"fmt"
	"html/template"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"golang.org/x/net/html"

	"gull/digest"
)

// Data is what the templates see. Everything that differs from one reader
// to the next is here, not in template functions, so one parsed template
// serves every reader.
type Data struct {
	Lang  string
	Title string // the newsletter's title
	// IssueID is the issue's ISO week ("2026-W48"), for links and ids:
	// readers are shown Number and the dates (period .Period) instead.
	IssueID string
	// Number counts the issues sent, the first being 1 (0: not known);
	// NumberText says it in the configured language ("No. 12", "제12호",
	// "" for 0).
	Number     int
	NumberText string
	Period     digest.Period
	// Lead is the title of the first pinned article of this reader's
	// copy, else of its first article, for the subject ("" when the week
	// has none).
	Lead string
	// Subject is the editor's subject for the issue, one line; "" means
	// the default (subject.tmpl).
	Subject string
	// Note is the editor's introduction as HTML, built by this package
	// from the Markdown subset (note.go), never from raw input; NoteText
	// is the same note for the plain part, a paragraph each, unwrapped.
	// Both are empty when there is no note.
	Note     template.HTML
	NoteText []string
	// Count is the number of articles in this reader's copy; CountText
	// says it in the configured language ("12 columns", "12편").
	Count     int
	CountText string
	Sections  []Section
	Preheader string
	To        Recipient
	Links     Links
	Test      bool
	// Web: the issue's web copy (the archive, "view in browser"), not a
	// mail; there is no reader and no personal link.
	Web bool
	// L is the fixed wording in the configured language ({{ .L.toc }}).
	L map[string]string
}

// Section is a section of the reader's copy.
type Section struct {
	ID       string
	Name     string
	Articles []Article
}

// Article is one entry of a section.
type Article struct {
	// N numbers the articles across sections (the plain text's [1], [2]).
	N         int
	Title     string
	Link      string
	Feed      string
	Author    string
	Published *time.Time
	Summary   string // plain text
	// Blurb is the editor's summary for this issue, plain text, shown
	// whole in place of Summary's excerpt when set.
	Blurb string
	// Pinned: the editor put the article at the top of its section.
	Pinned bool
	// Minutes is the reading time of the article's full text, 0 when the
	// feed gave only a summary (a reading time for an excerpt would lie);
	// Reading says it in the configured language ("4 min read", "4분 분량").
	Minutes int
	Reading string
	// Also names the other themes the article matched, one name each
	// (a name may hold its own " · ", as bilingual ones do, so the
	// templates keep each name apart: a chip each, a line each).
	Also []string
	// Coverage are the other outlets' articles about the same event, when
	// this article leads a story: shown as "Also covered by: Outlet B ·
	// Outlet C", links, apart from the theme chips of Also.
	Coverage []Coverage
	// Pad is as wide as the plain text's "[N] ", so an article's lines
	// under its number line up with its title however many digits N has.
	Pad string
}

// Coverage is one other outlet's article about an entry's story.
type Coverage struct {
	Feed  string // the outlet's name (the link's host when the feed has none)
	Title string
	Link  string
}

// Links are the absolute URLs a message points to.
type Links struct {
	Home        string // the archive index
	Archive     string // this issue's web copy ("view in browser")
	Unsubscribe string
	Preferences string
	Subscribe   string // the sign-up page
}

// fullTextRunes is how long an article's content must be to count as the
// full text rather than a teaser.
const fullTextRunes = 600

// inLang is an archive page's link u for a reader of lang: with ?lang=
// when lang is not the list's language (the archive's pages are in it).
func (r *Renderer) inLang(u, lang string) string {
	if lang == r.opts.Lang {
		return u
	}
	sep := "?"
	if strings.Contains(u, "?") {
		sep = "&"
	}
	return u + sep + "lang=" + lang
}

func (r *Renderer) data(is digest.Issue, to Recipient) Data {
	lang := r.langOf(to)
	w := r.in(lang)
	// The reader's choices as they take effect, so readers the Batch
	// puts in one frame ("" and the list's language) see the same data.
	to.Lang, to.Articles = lang, articlesOf(to)
	title := is.Title
	if t := r.opts.Title.In(lang); t != "" && lang != r.opts.Lang {
		title = t
	}
	d := Data{
		Lang:       lang,
		Title:      valid(title),
		IssueID:    is.ID,
		Number:     is.Number,
		NumberText: digest.NumberText(is.Number, lang),
		Period:     is.Period,
		Subject:    oneLine(valid(is.Subject)),
		Count:      is.Count(),
		To:         to,
		Test:       to.Test,
		L:          w.labels,
		Links: Links{
			// The archive's pages in the reader's language (?lang=) when
			// it is not the list's.
			Home:        r.inLang(r.opts.BaseURL+"/", lang),
			Archive:     r.inLang(cmp.Or(to.ViewURL, r.opts.BaseURL+"/issues/"+url.PathEscape(is.ID)), lang),
			Unsubscribe: to.UnsubscribeURL,
			Preferences: to.PreferencesURL,
			Subscribe:   r.opts.BaseURL + "/subscribe",
		},
	}
	if d.Links.Unsubscribe == "" {
		d.Links.Unsubscribe = r.opts.BaseURL + "/unsubscribe"
	}
	if d.Links.Preferences == "" {
		d.Links.Preferences = r.opts.BaseURL + "/preferences"
	}
	d.CountText = w.amount(d.Count, "column", "columns")
	if paras := parseNote(is.Note); len(paras) > 0 {
		d.Note, d.NoteText = noteHTML(paras), noteLines(paras)
	}
	n := 0
	var titles []string
	leadPinned := false
	for _, s := range is.Sections {
		sec := Section{ID: s.ID, Name: valid(s.Name)}
		if name, ok := r.otherName(s.ID, lang); ok {
			sec.Name = valid(name)
		}
		for _, a := range s.Articles {
			n++
			art := Article{
				N: n, Title: valid(a.Title), Link: valid(a.Link), Feed: valid(a.FeedName), Author: valid(a.Author),
				Published: a.Published, Summary: valid(a.Summary), Pad: strings.Repeat(" ", len("[] ")+len(strconv.Itoa(n))),
				Blurb: strings.TrimSpace(valid(a.Blurb)), Pinned: a.Pinned,
			}
			if art.Minutes = r.fullTextMinutes(a); art.Minutes > 0 {
				art.Reading = w.amount(art.Minutes, "min", "min")
			}
			for _, id := range a.Themes {
				if id != s.ID {
					if name, ok := r.themeName(id, lang); ok {
						// One line: the plain text lists the names a line each.
						art.Also = append(art.Also, oneLine(valid(name)))
					}
				}
			}
			for _, o := range a.Also {
				art.Coverage = append(art.Coverage, Coverage{Feed: oneLine(valid(outlet(o))), Title: valid(o.Title), Link: valid(o.Link)})
			}
			sec.Articles = append(sec.Articles, art)
			titles = append(titles, art.Title)
			if d.Lead == "" || a.Pinned && !leadPinned {
				d.Lead, leadPinned = art.Title, a.Pinned
			}
		}
		d.Sections = append(d.Sections, sec)
	}
	// The preheader is the grey line beside the subject in the inbox list:
	// the week's first headlines, the lead first, say more than "view in
	// browser".
	if i := slices.Index(titles, d.Lead); i > 0 {
		titles = slices.Insert(slices.Delete(titles, i, i+1), 0, d.Lead)
	}
	d.Preheader = Truncate(strings.Join(titles[:min(3, len(titles))], " · "), 140)
	return d
}

// themeName is theme id's name for a reader of lang: the config's name in
// their language, else the list's name.
func (r *Renderer) themeName(id, lang string) (string, bool) {
	if name, ok := r.otherName(id, lang); ok {
		return name, true
	}
	name, ok := r.opts.ThemeNames[id]
	return name, ok
}

// otherName is theme id's name in lang when lang is not the list's
// language and the config names it: the list's readers see the issue's
// names as frozen.
func (r *Renderer) otherName(id, lang string) (string, bool) {
	if lang == r.opts.Lang {
		return "", false
	}
	name := r.opts.Names[id].In(lang)
	return name, name != ""
}

// outlet names an article's outlet: its feed's name, else its link's host.
func outlet(a digest.Article) string {
	if a.FeedName != "" {
		return a.FeedName
	}
	if u, err := url.Parse(a.Link); err == nil && u.Host != "" {
		return u.Host
	}
	return a.Title
}

// valid replaces invalid UTF-8 with U+FFFD. Collect only hands over valid
// text, but a message must be valid UTF-8 whatever reached the store.
func valid(s string) string {
	return strings.ToValidUTF8(s, "\uFFFD")
}

// amount writes a number with its word: "12 columns", "1 column", "12편",
// "4분 분량" (Korean counters follow the number without a space).
func (w *wording) amount(n int, one, many string) string {
	word := Plural(n, w.labels[one], w.labels[many])
	if w.lang == "ko" {
		return strconv.Itoa(n) + word
	}
	return strconv.Itoa(n) + " " + word
}

// fullTextMinutes is the reading time of an article's content, or 0 when
// the content is too short to be the full text.
func (r *Renderer) fullTextMinutes(a digest.Article) int {
	if a.Content == "" {
		return 0
	}
	// Keyed by the article, not its text: a daemon renders many weeks,
	// and keeping every article's full text as a key would grow with them.
	key := a.ID + ":" + strconv.Itoa(len(a.Content))
	return r.minutes.get(key, func() int {
		body := textOf(a.Content)
		if utf8.RuneCountInString(body) < fullTextRunes {
			return 0
		}
		return ReadingTime(body)
	})
}

// textOf is the plain text of sanitized feed HTML, for counting words.
func textOf(h template.HTML) string {
	if h == "" {
		return ""
	}
	z := html.NewTokenizer(strings.NewReader(string(h)))
	var b strings.Builder
	for {
		switch z.Next() {
		case html.ErrorToken:
			return b.String()
		case html.TextToken:
			b.Write(z.Text())
			b.WriteByte(' ')
		}
	}
}

// funcs are gull's template helpers beside sprig's, for templates in
// lang. They hold only config-level settings (the zone) and the language
// of the set they are parsed into, never a reader's data.
func (r *Renderer) funcs(lang string) map[string]any {
	return map[string]any{
		// truncate N s: at most N characters, never cutting a Hangul
		// syllable or an emoji (sprig's trunc cuts bytes).
		"truncate": func(n int, s string) string { return Truncate(s, n) },
		// excerpt N s: the first sentences that fit in N characters.
		"excerpt": func(n int, s string) string {
			return r.excerpts.get(excerptKey{n, s}, func() string { return Excerpt(s, n) })
		},
		// readingTime s: minutes, Hangul by characters, Latin by words.
		"readingTime": ReadingTime,
		// formatDate STYLE t: long|short|iso|time in the configured zone
		// and language; a nil date gives "".
		"formatDate": func(style string, t any) (string, error) {
			tt, ok := asTime(t)
			if !ok {
				return "", nil
			}
			return FormatDate(tt, lang, r.opts.Location, style)
		},
		// period P: the days the issue covers, with the year: "23–29 Nov 2026",
		// "2026년 11월 23일–29일" (Period.Dates).
		"period": func(p digest.Period) string { return formatPeriod(p, lang, r.opts.Location) },
		// plural N ONE MANY: the word for N.
		"plural": Plural,
		// wrap WIDTH s: s folded to WIDTH columns, Hangul counting two.
		"wrap": Wrap,
		// outlook "head"|"open"|"close": Outlook's conditional comments,
		// which html/template would otherwise strip as comments.
		"outlook": outlook,
	}
}

// outlookParts are the fixed conditional comments for Outlook on Windows,
// whose Word engine ignores max-width and falls back to Times New Roman
// when the first font of a stack is missing. They are constants: nothing
// from data goes into them.
var outlookParts = map[string]template.HTML{
	"head":  `<!--[if mso]><style>body, table, td, th, h1, h2, h3, p, a, span { font-family: "Malgun Gothic", "맑은 고딕", Arial, sans-serif !important; }</style><![endif]-->`,
	"open":  `<!--[if mso]><table role="presentation" width="600" align="center" cellpadding="0" cellspacing="0" border="0"><tr><td><![endif]-->`,
	"close": `<!--[if mso]></td></tr></table><![endif]-->`,
}

func outlook(part string) (template.HTML, error) {
	if h, ok := outlookParts[part]; ok {
		return h, nil
	}
	return "", fmt.Errorf(`outlook %q: use "head", "open" or "close"`, part)
}

func asTime(v any) (time.Time, bool) {
	switch t := v.(type) {
	case time.Time:
		return t, !t.IsZero()
	case *time.Time:
		if t == nil {
			return time.Time{}, false
		}
		return *t, !t.IsZero()
	}
	return time.Time{}, false
}

// formatPeriod shows (Start, End] as the days it covers, with the year
// ("23–29 Nov 2026", "2026년 11월 23일–29일"): Period.Dates, which the
// archive shares.
func formatPeriod(p digest.Period, lang string, loc *time.Location) string {
	if isKorean(lang) {
		lang = "ko"
	}
	return p.Dates(lang, loc)
}

var labels = map[string]map[string]string{
	"en": {
		"toc":          "In this issue",
		"read":         "Read",
		"min":          "min read",
		"also":         "Also in",
		"coverage":     "Also covered by:",
		"view":         "View in your browser",
		"unsubscribe":  "Unsubscribe",
		"preferences":  "Choose your themes",
		"why":          "You receive this because you subscribed to",
		"webwhy":       "Get it by mail every week:",
		"subscribe":    "Subscribe",
		"test":         "TEST",
		"column":       "column",
		"columns":      "columns",
		"intro":        "This week's AI-policy columns, grouped by theme.",
		"by":           "by",
		"sources":      "Sources",
		"archive":      "Archive",
		"back_to_top":  "Back to top",
		"links":        "Links",
		"unsubscribe1": "Unsubscribe in one click",
		"pick":         "Editor's pick",
	},
	"ko": {
		"toc":          "이번 호 목차",
		"read":         "읽기",
		"min":          "분 분량",
		"also":         "관련 주제",
		"coverage":     "함께 다룬 곳:",
		"view":         "브라우저에서 보기",
		"unsubscribe":  "구독 해지",
		"preferences":  "관심 주제 고르기",
		"why":          "이 메일은 다음 뉴스레터를 구독하셔서 보내 드립니다:",
		"webwhy":       "매주 메일로 받아 보세요:",
		"subscribe":    "구독 신청",
		"test":         "테스트",
		"column":       "편",
		"columns":      "편",
		"intro":        "이번 주 AI 정책 칼럼을 주제별로 모았습니다.",
		"by":           "글",
		"sources":      "출처",
		"archive":      "지난 호",
		"back_to_top":  "맨 위로",
		"links":        "링크",
		"unsubscribe1": "한 번에 구독 해지",
		"pick":         "편집자 추천",
	},
}

// sampleThemes are the themes of the sample issue, with names for the
// ones the config does not have (New adds them to Options.ThemeNames, so
// the sample's articles list other themes under "Also": real articles
// carry only configured ids, so the extra names never show).
var sampleThemes = []struct{ id, name string }{
	{"compute", "Compute & Chips · 반도체와 컴퓨팅"},
	{"regulation", "Regulation & Law · 규제와 법"},
	{"strategy", "National Strategy · 국가 전략"},
	{"other", "More this week · 더 읽을거리"},
}

// sampleIssue is rendered once at start to prove the templates work on
// what real weeks hold: three sections, an article with every optional
// field (author, date, summary, full text, link, other themes, a long
// Hangul title, other outlets' coverage with and without a link or a feed
// name, pinned), one with an editor's blurb, one with none of them (no
// feed name, link, author, date or summary), an undated one, numbers [1]
// to [11] for the plain text's two-digit alignment, and an editor's note.
// The week's empty sample is tried apart (New), as only a quiet week
// sends one.
func sampleIssue(loc *time.Location) digest.Issue {
	end := time.Date(2026, 11, 30, 8, 0, 0, 0, loc)
	pub := end.Add(-50 * time.Hour)
	full := digest.Article{
		ID: "a1", Title: strings.Repeat("반도체 보조금의 경제학, ", 6) + "그 뒤", Link: "https://example.org/a1", FeedName: "칼럼",
		Author: "홍길동", Published: &pub, Summary: strings.Repeat("정부가 반도체 보조금을 늘렸다. ", 20),
		Content: template.HTML("<p>" + strings.Repeat("word ", 700) + "</p>"), Themes: []string{"compute", "regulation", "strategy"},
		Pinned: true,
		Also: []digest.Article{
			{ID: "a1b", Title: "Chip subsidies, explained", Link: "https://example.net/b", FeedName: "Chip Notes", Published: &pub},
			{ID: "a1c", Title: "보조금 논쟁", Link: "https://example.com/c", FirstSeen: end},
			{ID: "a1d", Title: "No link", FeedName: "Print only"},
		},
	}
	bare := digest.Article{ID: "a2", Title: "Untitled feed's note", FirstSeen: end.Add(-time.Hour)}
	var more []digest.Article
	for i := range 8 {
		more = append(more, digest.Article{
			ID: fmt.Sprint("r", i), Title: fmt.Sprint("AI Act note ", i+1), Link: fmt.Sprint("https://example.org/r", i),
			FeedName: "Policy Notes", Published: &pub, Summary: "A short summary.", Themes: []string{"regulation"},
		})
	}
	more[1].Blurb = "The editor's own summary."
	return digest.Issue{
		ID: "2026-W48", Number: 12, Title: "Sample", Period: digest.WeekEnding(end, 7*24*time.Hour, loc),
		Note: "The editor's *note*, with **strong** words and [a link](https://example.org/n).\n\n이 주의 **소개**.",
		Sections: []digest.Section{
			{ID: "compute", Name: sampleThemes[0].name, Articles: []digest.Article{full, bare}},
			{ID: "regulation", Name: sampleThemes[1].name, Articles: more},
			{ID: "other", Name: sampleThemes[3].name, Articles: []digest.Article{{
				ID: "a3", Title: "Undated note", Link: "https://example.org/a3", FeedName: "Notes", FirstSeen: end,
			}}},
		},
	}
}
