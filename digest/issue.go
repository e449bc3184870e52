package digest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"slices"
	"time"
)

// Section is one theme's part of an issue.
type Section struct {
	ID       string
	Name     string
	Articles []Article
}

// Dropped is an article left out of the issue, and why, so an editor can
// see what the filters cost.
type Dropped struct {
	Title   string
	Link    string
	Feed    string // the feed's display name
	FeedURL string
	Reason  string
}

// FeedReport is one feed's part in an issue: how it went and what it gave.
type FeedReport struct {
	URL      string
	Name     string
	Status   FeedStatus
	Items    int // items the feed holds now
	InWindow int // of them, new in the period
	Dropped  int // of those, left out as not relevant
	Error    string
}

// Issue is one week's digest before it is personalized: the sections every
// subscriber's copy is cut from.
type Issue struct {
	// ID names the issue in subjects, Message-IDs and the ledger: the ISO
	// week the period mostly covers ("2026-W48"), or its last day when the
	// window is shorter than a week.
	ID    string
	Title string
	// Number counts the issues readers got: the first one sent is 1.
	// Issues are numbered in the order they were frozen (a quiet week
	// that sent nothing takes none), and an issue not frozen yet has the
	// number it will get when it is sent next. 0: not known (an issue
	// built without a store).
	Number   int
	Period   Period
	Sections []Section
	Feeds    []FeedReport
	Dropped  []Dropped
	// Note, Subject, Version and Status are the editor's draft
	// (digest/edits.go): the introduction (Markdown subset), the subject
	// when not the default (""), the draft's version (bumped by every
	// change; an edit made against an older one is refused) and where it
	// stands (DraftOpen, DraftApproved, DraftSent; "" when not a draft).
	Note    string
	Subject string
	Version int
	Status  string
}

// IssueID names the issue of period; the ledger and Message-IDs are keyed
// on it. A weekly digest is the ISO week of the period's middle
// ("2026-W48": a Monday-morning send covers the week before, not the week
// it starts); any other span is named by the day it ends ("2026-11-30"),
// or by its last hour when it is shorter than a day ("2026-11-30T08"), so
// two sends of one schedule never share an id. (A schedule that fires
// more often than its window is long, such as a daily send of a rolling
// week, would; the schedule's check belongs with the daemon.)
func IssueID(p Period) string {
	span := p.End.Sub(p.Start)
	switch {
	case span >= 6*24*time.Hour && span < 8*24*time.Hour:
		y, w := p.Start.Add(span / 2).ISOWeek()
		return fmt.Sprintf("%d-W%02d", y, w)
	case span >= 24*time.Hour:
		return p.End.Format("2006-01-02")
	}
	return p.End.Format("2006-01-02T15")
}

// NumberText is how the masthead, the subject and the archive name issue
// n: "No. 12", or for Korean "제12호" (the form Korean newsletters and
// periodicals print). It is "" for 0, an issue whose number is not known.
func NumberText(n int, lang string) string {
	switch {
	case n <= 0:
		return ""
	case lang == "ko":
		return fmt.Sprintf("제%d호", n)
	}
	return fmt.Sprintf("No. %d", n)
}

// Count is the number of articles in the issue.
func (is Issue) Count() int {
	n := 0
	for _, s := range is.Sections {
		n += len(s.Articles)
	}
	return n
}

// For returns the issue as a subscriber who chose themes gets it: every
// article that matched any chosen theme, in the section it has in the full
// issue; sections left empty are dropped. No choice means everything. The
// catch-all section's id may be chosen too.
func (is Issue) For(themes []string) Issue {
	if len(themes) == 0 {
		return is
	}
	out := is
	out.Sections = nil
	for _, s := range is.Sections {
		var arts []Article
		for _, a := range s.Articles {
			if slices.Contains(themes, s.ID) || slices.ContainsFunc(a.Themes, func(t string) bool { return slices.Contains(themes, t) }) {
				arts = append(arts, a)
			}
		}
		if len(arts) > 0 {
			out.Sections = append(out.Sections, Section{ID: s.ID, Name: s.Name, Articles: arts})
		}
	}
	return out
}

// ForReader returns the issue as a reader of lang ("ko" or "en", the
// mail's language) who takes articles ("ko", "en"; "both" or "" for all)
// gets it. A choice of one language keeps the articles in it and those of
// unknown language (an undetected article is never withheld). In a story
// (an entry with Also), coverage in an excluded language is left out, and
// the lead becomes an article in the reader's language when the lead is
// not known to be in it and a covering article is (else, when the lead
// is excluded, a covering article they take): the two swap, so the story
// keeps its place, themes and pin, and the old lead joins the coverage. The
// editor's blurb stays with the article it was written for. Sections left
// empty are dropped. It copies what it changes: is may be shared.
func (is Issue) ForReader(lang, articles string) Issue {
	keep := func(a Article) bool {
		return articles != "ko" && articles != "en" || a.Lang == "" || a.Lang == articles
	}
	want := lang
	if articles == "ko" || articles == "en" {
		want = articles
	}
	out := is
	out.Sections = nil
	for _, s := range is.Sections {
		var arts []Article
		for _, a := range s.Articles {
			// A lead of unknown language gives way too: coverage known to
			// be in the reader's language serves them surely.
			if a.Lang != want {
				i := slices.IndexFunc(a.Also, func(o Article) bool { return o.Lang == want })
				if i < 0 && !keep(a) {
					// Nothing in their language, but coverage they take
					// (of unknown language) keeps the story theirs.
					i = slices.IndexFunc(a.Also, keep)
				}
				if i >= 0 {
					a = leadSwap(a, i)
				}
			}
			if slices.ContainsFunc(a.Also, func(o Article) bool { return !keep(o) }) {
				a.Also = slices.DeleteFunc(slices.Clone(a.Also), func(o Article) bool { return !keep(o) })
			}
			if !keep(a) {
				// No coverage in the reader's language: nothing of the story is theirs.
				continue
			}
			arts = append(arts, a)
		}
		if len(arts) > 0 {
			out.Sections = append(out.Sections, Section{ID: s.ID, Name: s.Name, Articles: arts})
		}
	}
	return out
}

// leadSwap makes the story's coverage item i its lead: the entry keeps
// the story's place (themes, why, pin) and takes the item's own article;
// the old lead, without those, takes the item's place in the coverage.
func leadSwap(lead Article, i int) Article {
	next := lead.Also[i]
	old := lead
	old.Also, old.Themes, old.Why, old.Pinned = nil, nil, nil, false
	also := slices.Clone(lead.Also)
	also[i] = old
	next.Also, next.Themes, next.Why, next.Pinned = also, lead.Themes, lead.Why, lead.Pinned
	next.Hidden = false
	return next
}

// The JSON form of an issue is a contract (DESIGN.md §5): scripts read it.
type issueJSON struct {
	ID       string        `json:"id"`
	Number   int           `json:"number,omitempty"`
	Title    string        `json:"title"`
	Period   Period        `json:"period"`
	Count    int           `json:"count"`
	Sections []sectionJSON `json:"sections"`
	Feeds    []feedJSON    `json:"feeds"`
	Dropped  []droppedJSON `json:"dropped"`
	// The editor's draft, where there is one (digest/edits.go).
	Subject string `json:"subject,omitempty"`
	Note    string `json:"note,omitempty"`
	Version int    `json:"version,omitempty"`
	Status  string `json:"status,omitempty"`
}

type sectionJSON struct {
	ID       string        `json:"id"`
	Name     string        `json:"name"`
	Articles []articleJSON `json:"articles"`
}

type articleJSON struct {
	// ID is stable across builds: editors name articles by it.
	ID     string `json:"id"`
	Title  string `json:"title"`
	Link   string `json:"link"`
	Feed   string `json:"feed"`
	Author string `json:"author"`
	// Lang: "ko", "en", or "" when not known (collect's detection).
	Lang      string     `json:"lang"`
	Published *time.Time `json:"published"`
	Summary   string     `json:"summary"`
	Themes    []string   `json:"themes"`
	// Why: per theme, the score and keywords found (DESIGN.md §5).
	Why map[string]ThemeWhy `json:"why"`
	// Also: the other outlets' articles about the same event.
	Also []alsoJSON `json:"also"`
	// The editor's marks, where set.
	Blurb  string `json:"blurb,omitempty"`
	Pinned bool   `json:"pinned,omitempty"`
	Hidden bool   `json:"hidden,omitempty"`
}

type alsoJSON struct {
	Title     string     `json:"title"`
	Link      string     `json:"link"`
	Feed      string     `json:"feed"`
	Lang      string     `json:"lang"`
	Published *time.Time `json:"published"`
	ID        string     `json:"id"`
}

type feedJSON struct {
	URL      string     `json:"url"`
	Name     string     `json:"name"`
	Status   FeedStatus `json:"status"`
	Items    int        `json:"items"`
	InWindow int        `json:"in_window"`
	Dropped  int        `json:"dropped"`
	Error    string     `json:"error"`
}

type droppedJSON struct {
	Title  string `json:"title"`
	Link   string `json:"link"`
	Feed   string `json:"feed"`
	Reason string `json:"reason"`
}

// whyJSON is never null, so a script can always look a theme up in it.
func whyJSON(why map[string]ThemeWhy) map[string]ThemeWhy {
	if why == nil {
		return map[string]ThemeWhy{}
	}
	return why
}

// alsoOf is the JSON of an entry's other coverage; never null.
func alsoOf(a Article) []alsoJSON {
	out := []alsoJSON{}
	for _, o := range a.Also {
		out = append(out, alsoJSON{ID: o.ID, Title: o.Title, Link: o.Link, Feed: o.FeedName, Lang: o.Lang, Published: o.Published})
	}
	return out
}

// MarshalJSON writes the issue in the form of DESIGN.md §5. Lists are
// never null, so a script can always iterate them. Feed URLs are redacted.
func (is Issue) MarshalJSON() ([]byte, error) {
	out := issueJSON{
		ID: is.ID, Number: is.Number, Title: is.Title, Period: is.Period, Count: is.Count(),
		Sections: []sectionJSON{}, Feeds: []feedJSON{}, Dropped: []droppedJSON{},
		Subject: is.Subject, Note: is.Note, Version: is.Version, Status: is.Status,
	}
	for _, s := range is.Sections {
		sj := sectionJSON{ID: s.ID, Name: s.Name, Articles: []articleJSON{}}
		for _, a := range s.Articles {
			sj.Articles = append(sj.Articles, articleJSON{
				ID: a.ID, Blurb: a.Blurb, Pinned: a.Pinned, Hidden: a.Hidden, Title: a.Title, Link: a.Link, Feed: a.FeedName, Author: a.Author, Lang: a.Lang, Published: a.Published,
				Summary: a.Summary, Themes: append([]string{}, a.Themes...), Why: whyJSON(a.Why), Also: alsoOf(a),
			})
		}
		out.Sections = append(out.Sections, sj)
	}
	for _, f := range is.Feeds {
		out.Feeds = append(out.Feeds, feedJSON{
			URL: RedactURL(f.URL), Name: f.Name, Status: f.Status, Items: f.Items,
			InWindow: f.InWindow, Dropped: f.Dropped, Error: f.Error,
		})
	}
	for _, d := range is.Dropped {
		out.Dropped = append(out.Dropped, droppedJSON{Title: d.Title, Link: d.Link, Feed: d.Feed, Reason: d.Reason})
	}
	// Titles are full of & and <; a script reads them better unescaped,
	// and JSON needs no HTML escaping.
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	return bytes.TrimRight(buf.Bytes(), "\n"), nil
}
