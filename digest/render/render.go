// Package render turns an issue and a reader into a message: subject, HTML
// part and plain-text part, from templates parsed once at start.
//
// The HTML part is html/template (feed text is escaped; only collect makes
// template.HTML) with sprig's hermetic functions and our own Korean-aware
// helpers, and its CSS is inlined afterwards so Gmail and Outlook, which
// drop or ignore <style> blocks, still show it as designed.
package render

import (
	"bytes"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	texttemplate "text/template"
	"time"
	"unicode/utf8"

	"github.com/Masterminds/sprig/v3"
	"github.com/vanng822/go-premailer/premailer"

	"gull/digest"
	"gull/templates"
)

// The entry templates; every other *.html.tmpl and *.txt.tmpl is a partial.
const (
	htmlEntry    = "digest.html.tmpl"
	textEntry    = "digest.txt.tmpl"
	subjectEntry = "subject.tmpl"
)

// ErrTemplate is behind every template problem: a file that does not
// parse, or one that fails on the sample issue rendered at start.
var ErrTemplate = errors.New("template")

// templateErr is a template problem in gull's error form, starting with the
// file and line ("templates/digest.html.tmpl:12: ...").
type templateErr struct{ msg string }

func (e templateErr) Error() string { return e.msg }
func (e templateErr) Unwrap() error { return ErrTemplate }

func errTemplate(format string, args ...any) error {
	return templateErr{fmt.Sprintf(format, args...)}
}

// ErrNothingToSend means the reader's themes have no article this week.
var ErrNothingToSend = errors.New("render: no articles in the reader's themes this week")

// Options are the config-level settings of a renderer. Per-reader values
// go in the Recipient instead.
type Options struct {
	// Dir overrides the embedded templates file by file ("" = none).
	Dir string
	// Lang is "ko" or "en": dates and the fixed wording.
	Lang string
	// Location is the zone dates are shown in.
	Location *time.Location
	// BaseURL is where gull's web side answers; links to the archive and
	// the subscriber pages start with it.
	BaseURL string
	// ThemeNames maps theme ids to their display names in Lang.
	ThemeNames map[string]string
	// Names and Title are the themes' names (by id) and the newsletter's
	// title in each language (config.Text), for readers of the other
	// language; readers of Lang see the issue's own title and names, as
	// frozen. Either may be empty: the issue's are shown.
	Names map[string]digest.Text
	Title digest.Text
	// SendQuiet: quiet weeks are mailed (quiet_week: send), so the
	// templates must also work on an issue with no articles, and New
	// tries them on one. Otherwise only a preview ever renders one.
	SendQuiet bool
}

// Recipient is the reader a message is rendered for.
type Recipient struct {
	Email string
	Name  string
	// Themes the reader chose; empty means all.
	Themes []string
	// Lang is the reader's language for the wording, dates and theme
	// names ("ko" or "en"; "" = Options.Lang); Articles the articles they
	// get by language ("ko", "en", "both"; "" = both).
	Lang     string
	Articles string
	// UnsubscribeURL and PreferencesURL carry the reader's signed token.
	UnsubscribeURL string
	PreferencesURL string
	// Test marks a test send; subject.tmpl shows it.
	Test bool
	// ViewURL is the link to the issue's web copy ("view in browser")
	// when it is not the public one: a test send of an issue not yet
	// published carries a signed view link (web.Links.View). "" = the
	// archive's page of the issue.
	ViewURL string
}

// Renderer renders messages. It is safe for concurrent use.
type Renderer struct {
	opts Options
	src  []source // for naming files in errors at render time
	// wording is the list's language (Options.Lang), other the other one.
	wording
	other   wording
	premail *premailer.Options

	excerpts memo[excerptKey, string]
	minutes  memo[string, int]
}

// wording is the templates and fixed words of one language.
type wording struct {
	lang    string
	html    *htmltemplate.Template
	text    *texttemplate.Template
	subject *texttemplate.Template
	labels  map[string]string
}

type excerptKey struct {
	n int
	s string
}

// New parses the templates (the embedded ones, each overridden by the file
// of the same name in opts.Dir) and renders a sample issue with them, so a
// broken or missing template, or one that names a field that does not
// exist, fails here, naming the file and line, and not at send time.
func New(opts Options) (*Renderer, error) {
	if opts.Location == nil {
		opts.Location = time.UTC
	}
	if opts.Lang != "ko" {
		opts.Lang = "en"
	}
	opts.BaseURL = strings.TrimRight(opts.BaseURL, "/")
	names := maps.Clone(opts.ThemeNames)
	if names == nil {
		names = map[string]string{}
	}
	for _, t := range sampleThemes {
		if _, ok := names[t.id]; !ok {
			names[t.id] = t.name
		}
	}
	opts.ThemeNames = names
	src, err := loadSources(opts.Dir)
	if err != nil {
		return nil, err
	}
	r := &Renderer{opts: opts, src: src, premail: premailer.NewOptions()}
	// One set of templates per language, parsed from the same files: the
	// date and count helpers speak the reader's language, and a template
	// action cannot be told the reader's language without changing every
	// override in use ({{ formatDate "long" .Published }}).
	if r.wording, err = r.parse(opts.Lang); err != nil {
		return nil, err
	}
	if r.other, err = r.parse(otherLang(opts.Lang)); err != nil {
		return nil, err
	}
	// Try every path the templates can take: a full issue, a test send
	// to a reader of one theme, the web copy, and, when quiet weeks are
	// mailed, an empty week. The error says which sample failed: the
	// line it names may only fail on data like the sample's.
	sample := sampleIssue(opts.Location)
	trials := []struct {
		is   digest.Issue
		to   Recipient
		note string
	}{
		{sample, Recipient{Email: "sample@example.org", Name: "Sample"}, sampleNote},
		{sample, Recipient{Email: "sample@example.org", Test: true, Themes: []string{"other"}}, sampleNote + ", as a test send to a reader of one theme"},
		{sample, Recipient{Email: "sample@example.org", Lang: otherLang(opts.Lang)}, sampleNote + ", for a reader of the other language (" + otherLang(opts.Lang) + ")"},
	}
	if opts.SendQuiet {
		quiet := digest.Issue{ID: sample.ID, Number: sample.Number, Title: sample.Title, Period: sample.Period}
		trials = append(trials, struct {
			is   digest.Issue
			to   Recipient
			note string
		}{quiet, Recipient{Email: "sample@example.org"}, "tried on gull's sample of a quiet week, which quiet_week: send mails"})
	}
	for _, try := range trials {
		if _, err := r.render(try.is, try.to, true); err != nil {
			return nil, templateErrorOn(err, src, try.note)
		}
	}
	// And the web copy of the archive.
	if _, err := r.webPage(sample, ""); err != nil {
		return nil, templateErrorOn(err, src, sampleNote+", as the archive's web copy")
	}
	return r, nil
}

// parse parses the templates with the helpers of lang.
func (r *Renderer) parse(lang string) (wording, error) {
	w := wording{lang: lang, labels: labels[lang]}
	funcs := r.funcs(lang)
	w.html = htmltemplate.New("").Option("missingkey=error").Funcs(sprig.HermeticHtmlFuncMap()).Funcs(funcs)
	w.text = texttemplate.New("").Option("missingkey=error").Funcs(sprig.HermeticTxtFuncMap()).Funcs(funcs)
	w.subject = texttemplate.New("").Option("missingkey=error").Funcs(sprig.HermeticTxtFuncMap()).Funcs(funcs)
	for _, s := range r.src {
		var err error
		switch {
		case s.name == subjectEntry:
			_, err = w.subject.New(s.name).Parse(s.text)
		case strings.HasSuffix(s.name, ".html.tmpl"):
			_, err = w.html.New(s.name).Parse(s.text)
		case strings.HasSuffix(s.name, ".txt.tmpl"):
			_, err = w.text.New(s.name).Parse(s.text)
		}
		if err != nil {
			return w, templateError(err, r.src)
		}
	}
	for _, entry := range []struct {
		name  string
		found bool
	}{
		{htmlEntry, w.html.Lookup(htmlEntry) != nil},
		{textEntry, w.text.Lookup(textEntry) != nil},
		{subjectEntry, w.subject.Lookup(subjectEntry) != nil},
	} {
		if !entry.found {
			return w, errTemplate("template %s is missing; restore it or remove the override folder", entry.name)
		}
	}
	return w, nil
}

// otherLang is the reader language that is not lang.
func otherLang(lang string) string {
	if lang == "ko" {
		return "en"
	}
	return "ko"
}

// langOf is the language to's mail is in: theirs, else the list's.
func (r *Renderer) langOf(to Recipient) string {
	if to.Lang == "ko" || to.Lang == "en" {
		return to.Lang
	}
	return r.opts.Lang
}

// in is the templates and wording of lang.
func (r *Renderer) in(lang string) *wording {
	if lang == r.opts.Lang {
		return &r.wording
	}
	return &r.other
}

// articlesOf is to's choice of articles by language: "ko", "en" or "both".
func articlesOf(to Recipient) string {
	if to.Articles == "ko" || to.Articles == "en" {
		return to.Articles
	}
	return "both"
}

// sampleNote ends an error of a template that failed on the sample issue.
const sampleNote = "tried on gull's sample issue"

// source is one template file: its name and where it came from.
type source struct {
	name, path, text string
}

// loadSources reads the embedded templates and then the override folder,
// whose files replace the embedded ones of the same name (and may add
// partials).
func loadSources(dir string) ([]source, error) {
	var out []source
	index := map[string]int{}
	add := func(s source) {
		if i, ok := index[s.name]; ok {
			out[i] = s
			return
		}
		index[s.name] = len(out)
		out = append(out, s)
	}
	embedded, err := fs.Glob(templates.FS, "*.tmpl")
	if err != nil {
		return nil, err
	}
	for _, name := range embedded {
		b, err := templates.FS.ReadFile(name)
		if err != nil {
			return nil, err
		}
		add(source{name: name, path: "embedded " + name, text: string(b)})
	}
	if dir == "" {
		return out, nil
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, errTemplate("templates folder %s: %v; fix the path in --templates or the config's templates key", dir, err)
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || !(name == subjectEntry || strings.HasSuffix(name, ".html.tmpl") || strings.HasSuffix(name, ".txt.tmpl")) {
			continue
		}
		path := filepath.Join(dir, name)
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, errTemplate("%v", err)
		}
		if !utf8.Valid(b) {
			return nil, errTemplate("%s is not UTF-8; save it as UTF-8", path)
		}
		add(source{name: name, path: path, text: string(b)})
	}
	return out, nil
}

// templateErrRE picks the template name and position out of the errors of
// text/template and html/template, which name templates, not files.
var templateErrRE = regexp.MustCompile(`(?:html/)?template: ?([^:"]+\.tmpl):(\d+(?::\d+)?)?:? ?`)

// templateError rewrites a template error to start with the file it came
// from ("templates/digest.html.tmpl:12: ..."), the form of every other gull
// error about an input.
func templateError(err error, src []source) error { return templateErrorOn(err, src, "") }

// templateErrorOn is templateError with a note on the data the template
// was tried on, in brackets after the problem ("(tried on gull's sample
// issue)").
func templateErrorOn(err error, src []source, note string) error {
	if errors.Is(err, ErrTemplate) {
		return err
	}
	msg := err.Error()
	if note != "" {
		msg += " (" + note + ")"
	}
	if m := templateErrRE.FindStringSubmatchIndex(msg); m != nil {
		name := msg[m[2]:m[3]]
		where := name
		for _, s := range src {
			if s.name == name {
				where = s.path
			}
		}
		if m[4] >= 0 {
			where += ":" + msg[m[4]:m[5]]
		}
		msg = where + ": " + msg[m[1]:]
		if !strings.HasPrefix(where, "embedded ") {
			msg += "; fix it, or delete the file to use the embedded default"
		}
		// html/template reports a broken partial where it is called; name
		// the overridden files, where the fault most likely is.
		if strings.HasPrefix(where, "embedded ") {
			var overridden []string
			for _, s := range src {
				if !strings.HasPrefix(s.path, "embedded ") {
					overridden = append(overridden, s.path)
				}
			}
			if len(overridden) > 0 {
				msg += " (look at your overrides: " + strings.Join(overridden, ", ") + ")"
			}
		}
	}
	return errTemplate("%s", msg)
}

// Render renders the issue as the reader gets it: only the articles of
// their themes. It returns ErrNothingToSend when that leaves nothing.
func (r *Renderer) Render(is digest.Issue, to Recipient) (digest.Message, error) {
	m, err := r.render(is, to, true)
	if err != nil && !errors.Is(err, ErrNothingToSend) {
		return m, templateError(err, r.src)
	}
	m.Subject = fitSubject(m.Subject)
	return m, err
}

// fitSubject cuts a rendered subject to subjectColumns. It is applied to
// the whole line, after the reader's values are in (by Render, and by
// Batch to each reader's copy of a frame), so a frame's subject keeps its
// placeholders whole and the cut falls where a full render puts it.
func fitSubject(s string) string { return FitWidth(s, subjectColumns) }

// WebPage renders the issue's web copy (the archive's page, the mail's
// "view in browser"): the whole issue, for nobody in particular, so it
// carries no one's links; its footer offers the sign-up instead.
func (r *Renderer) WebPage(is digest.Issue) ([]byte, error) { return r.WebPageIn(is, "") }

// WebPageIn is WebPage in lang ("ko" or "en"; else the list's language):
// the archive's ?lang=.
func (r *Renderer) WebPageIn(is digest.Issue, lang string) ([]byte, error) {
	page, err := r.webPage(is, lang)
	if err != nil {
		return nil, templateError(err, r.src)
	}
	return page, nil
}

// webPage is WebPage with the template's own error.
func (r *Renderer) webPage(is digest.Issue, lang string) ([]byte, error) {
	d := r.data(forReaders(is), Recipient{Lang: lang})
	d.Web = true
	var html bytes.Buffer
	if err := r.html.ExecuteTemplate(&html, htmlEntry, d); err != nil {
		return nil, err
	}
	page, err := r.inline(html.String())
	if err != nil {
		return nil, err
	}
	return []byte(page), nil
}

// render is Render; inline false skips the CSS inlining, for the benchmark
// that measures what the inlining costs.
func (r *Renderer) render(is digest.Issue, to Recipient, inline bool) (digest.Message, error) {
	is = forReaders(is) // nothing hidden reaches a template
	lang := r.langOf(to)
	mine := is.For(to.Themes).ForReader(lang, articlesOf(to))
	if mine.Count() == 0 && is.Count() > 0 {
		return digest.Message{}, ErrNothingToSend
	}
	d := r.data(mine, to)
	w := r.in(lang)
	var subj, text, html bytes.Buffer
	if err := w.subject.ExecuteTemplate(&subj, subjectEntry, d); err != nil {
		return digest.Message{}, err
	}
	if err := w.text.ExecuteTemplate(&text, textEntry, d); err != nil {
		return digest.Message{}, err
	}
	if err := w.html.ExecuteTemplate(&html, htmlEntry, d); err != nil {
		return digest.Message{}, err
	}
	inlined := html.String()
	if inline {
		var err error
		if inlined, err = r.inline(inlined); err != nil {
			return digest.Message{}, err
		}
	}
	return digest.Message{
		IssueID:        is.ID,
		To:             to.Email,
		ToName:         to.Name,
		Subject:        oneLine(subj.String()), // fitSubject: Render and Batch
		HTML:           inlined,
		Text:           tidyText(text.String()),
		UnsubscribeURL: d.Links.Unsubscribe,
		ArchiveURL:     d.Links.Archive,
		Test:           to.Test,
	}, nil
}

// inline moves the <style> rules onto the elements (Gmail drops <style> in
// some views, Outlook ignores most of it); media queries, which cannot be
// inlined, stay in the head for the clients that read them.
func (r *Renderer) inline(html string) (string, error) {
	p, err := premailer.NewPremailerFromString(html, r.premail)
	if err != nil {
		return "", fmt.Errorf("inline CSS: %w", err)
	}
	out, err := p.Transform()
	if err != nil {
		return "", fmt.Errorf("inline CSS: %w", err)
	}
	return out, nil
}

// subjectColumns is the longest subject gull writes, in columns as
// DisplayWidth counts them: Hangul and other wide characters take two, as
// they take twice the room of a Latin letter in an inbox list, so a Korean
// subject is cut where an English one of the same width would be. 78 is
// RFC 5322's line length, and what most inbox lists show of a subject.
const subjectColumns = 78

// oneLine makes s a single line: a subject is a header, and a line break
// from a feed title must never start a new header.
func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

// tidyText trims trailing spaces and collapses runs of blank lines, which
// template actions leave behind, so the plain part reads as written.
func tidyText(s string) string {
	lines := strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n")
	var out []string
	blank := 0
	for _, l := range lines {
		l = strings.TrimRight(l, " \t")
		if l == "" {
			blank++
			if blank > 1 || len(out) == 0 {
				continue
			}
		} else {
			blank = 0
		}
		out = append(out, l)
	}
	return strings.TrimRight(strings.Join(out, "\n"), "\n") + "\n"
}
