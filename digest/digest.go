// Package digest holds gull's domain types and the pure steps of building a
// digest: choosing the week's articles and dropping duplicate stories.
//
// Nothing here reads the clock, the network or the disk: time and data are
// passed in, so every step is reproducible in a test.
package digest

import (
	"html/template"
	"time"
)

// Feed is one configured source of articles.
type Feed struct {
	URL  string // http(s) URL, file:// URL or local path, as configured
	Name string // display name; empty means "use the feed's own title"
	// Theme is the default theme id for the feed's articles (may be empty).
	Theme string
	// Location reads dates that carry no zone. Never nil after config load.
	Location *time.Location
	// Filter keeps only articles about AI (see Grouper.Group).
	Filter bool
	// Weight ranks the feed's articles: the lead of a story and the order
	// of a section prefer a feed of higher weight. 0 means the default, 1.
	Weight float64
}

// FeedState is what gull remembers about a feed between runs, so the next
// fetch can be conditional.
type FeedState struct {
	ETag         string
	LastModified string
}

// Article is one item of a feed, normalized: plain-text title and summary,
// sanitized HTML content, absolute links without tracking parameters.
type Article struct {
	// ID is stable for the same item of the same feed across runs.
	ID       string
	FeedURL  string
	FeedName string
	GUID     string
	Title    string
	Link     string
	Author   string
	Summary  string // plain text
	// Lang is the article's language, "ko" or "en": its feed's declared
	// language, else its text's script; "" when not known.
	Lang string
	// Content is the item's HTML after sanitizing. Only the collect package
	// builds it from outside data; the store hands back what collect wrote.
	Content    template.HTML
	Categories []string
	// Published is nil when the feed gave no usable date.
	Published *time.Time
	// FirstSeen is when gull first saw the item; it dates undated items.
	FirstSeen time.Time
	// Themes are the ids of the themes the article matched, best first;
	// Grouper.Group fills them in.
	Themes []string
	// Why explains the placement, by theme id: the score and the keywords
	// found, or the week's articles it resembles (Grouper.Group).
	Why map[string]ThemeWhy `json:",omitempty"`
	// Also are the other outlets' articles about the same event when this
	// article leads a story (Grouper.Group with stories fills them in).
	Also []Article
	// Pinned, Hidden and Blurb are the editor's (digest/edits.go): a
	// pinned article leads its section; a hidden one is listed for the
	// desk but never reaches readers; a blurb replaces Summary.
	Pinned bool
	Hidden bool
	Blurb  string
}

// Date is the article's date for the window: its published date, or when
// gull first saw it if the feed gave none.
func (a Article) Date() time.Time {
	if a.Published != nil {
		return *a.Published
	}
	return a.FirstSeen
}

// FeedStatus is a feed's outcome in one run.
type FeedStatus string

const (
	FeedOK          FeedStatus = "ok"
	FeedNotModified FeedStatus = "not_modified"
	FeedError       FeedStatus = "error"
)

// FeedResult is one feed's outcome in one run: what was fetched, what went
// wrong or was repaired, and how the week looks from it.
type FeedResult struct {
	Feed   Feed
	Title  string // the feed's own title
	Status FeedStatus
	// Articles are the feed's current items. After a 304 the collector
	// leaves them empty and the pipeline fills them from the store.
	Articles []Article
	// State is what to remember for the next conditional GET.
	State    FeedState
	Err      error
	Repairs  []string
	Charset  string
	Duration time.Duration
	// InWindow and Newest are filled once the period is known.
	InWindow int
	Newest   *time.Time
}
