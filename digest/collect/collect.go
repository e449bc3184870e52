// Package collect fetches feeds and turns them into digest articles: HTTP
// with timeouts, size caps and conditional GET, or local files; any
// encoding to UTF-8; liberal repair of broken documents; parsing with
// gofeed; and normalizing each item (plain-text title and summary,
// sanitized HTML, absolute links without tracking parameters, dates in the
// feed's zone).
package collect

import (
	"cmp"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/mmcdole/gofeed"

	"gull/digest"
)

// Options bound every fetch. Zero values take the defaults of config.
type Options struct {
	Timeout     time.Duration
	Concurrency int
	MaxBytes    int64
	UserAgent   string
	// Client replaces the default HTTP client (tests use it for TLS).
	Client *http.Client
	Logger *slog.Logger
	// Started and Done, when set, are told as each feed's fetch begins
	// and ends, so a terminal can show which feed is still being waited
	// for. They are called from the fetching goroutines, at once.
	Started func(digest.Feed)
	Done    func(digest.FeedResult)
}

// Collector fetches and parses feeds. It is safe for concurrent use.
type Collector struct {
	opts   Options
	client *http.Client
	log    *slog.Logger
}

// New returns a Collector with opts, defaults filled in.
func New(opts Options) *Collector {
	if opts.Timeout <= 0 {
		opts.Timeout = 20 * time.Second
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = 8
	}
	if opts.MaxBytes <= 0 {
		opts.MaxBytes = 10 << 20
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "gull"
	}
	c := &Collector{opts: opts, client: opts.Client, log: opts.Logger}
	if c.client == nil {
		c.client = newHTTPClient()
	} else {
		// Keep the caller's transport but gull's redirect rule.
		cl := *c.client
		cl.CheckRedirect = newHTTPClient().CheckRedirect
		c.client = &cl
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// Collect fetches every feed, at most Concurrency at a time, and returns
// one result per feed in the order given. A feed that fails is an error
// result; it never stops the others.
func (c *Collector) Collect(ctx context.Context, feeds []digest.Feed, states map[string]digest.FeedState) []digest.FeedResult {
	return c.CollectEach(ctx, feeds, states, nil)
}

// CollectEach is Collect handing each feed's result to each as soon as
// that feed is done, on the goroutine that fetched it, and keeping what
// each returns. The feed's fetch slot is held while each runs, so a
// caller that stores each result and returns a lighter one (the pipeline)
// works beside the other fetches, and no more than Concurrency parsed
// feeds wait in memory for it. each may be nil.
func (c *Collector) CollectEach(ctx context.Context, feeds []digest.Feed, states map[string]digest.FeedState, each func(digest.FeedResult) digest.FeedResult) []digest.FeedResult {
	if each == nil {
		each = func(r digest.FeedResult) digest.FeedResult { return r }
	}
	results := make([]digest.FeedResult, len(feeds))
	sem := make(chan struct{}, c.opts.Concurrency)
	var wg sync.WaitGroup
	for i, f := range feeds {
		wg.Add(1)
		go func() {
			defer wg.Done()
			select {
			case sem <- struct{}{}:
			case <-ctx.Done():
				r := digest.FeedResult{Feed: f, Status: digest.FeedError, Err: fmt.Errorf("collect: canceled")}
				c.done(r)
				results[i] = each(r)
				return
			}
			defer func() { <-sem }()
			if c.opts.Started != nil {
				c.opts.Started(f)
			}
			r := c.CollectOne(ctx, f, states[f.URL])
			c.done(r)
			results[i] = each(r)
		}()
	}
	wg.Wait()
	return results
}

func (c *Collector) done(r digest.FeedResult) {
	if c.opts.Done != nil {
		c.opts.Done(r)
	}
}

// CollectOne fetches and parses a single feed within the timeout.
func (c *Collector) CollectOne(ctx context.Context, f digest.Feed, st digest.FeedState) (res digest.FeedResult) {
	start := time.Now()
	res = digest.FeedResult{Feed: f, State: st}
	defer func() {
		if r := recover(); r != nil {
			// A parser bug on hostile input is that feed's error, not the run's.
			res.Status, res.Err = digest.FeedError, fmt.Errorf("collect: parser failed on this feed: %v", r)
		}
		res.Duration = time.Since(start)
		if res.Err != nil {
			res.Status = digest.FeedError
			c.log.Debug("feed failed", "feed", digest.RedactURL(f.URL), "error", res.Err.Error())
		} else {
			c.log.Debug("feed collected", "feed", digest.RedactURL(f.URL), "status", string(res.Status), "items", len(res.Articles), "duration_ms", res.Duration.Milliseconds())
		}
	}()
	ctx, cancel := context.WithTimeout(ctx, c.opts.Timeout)
	defer cancel()

	raw, err := c.fetch(ctx, f.URL, st)
	if err != nil {
		res.Err = err
		return res
	}
	if raw.notModified {
		res.Status = digest.FeedNotModified
		return res
	}
	// Parsing runs against the same deadline as the fetch, so a document
	// that makes the parser slow cannot hold the run.
	type out struct {
		p    parsed
		arts []digest.Article
	}
	o, err := aside(ctx, func() (out, error) {
		p, err := parseBody(raw.body, raw.charset, c.opts.MaxBytes)
		if err != nil {
			return out{p: p}, err
		}
		if n := len(p.feed.Items); n > MaxItemsPerFeed {
			p.feed.Items = p.feed.Items[:MaxItemsPerFeed]
			p.repairs = append(p.repairs, fmt.Sprintf("the feed lists %d items; kept the first %d", n, MaxItemsPerFeed))
		}
		return out{p: p, arts: Normalize(p.feed, f, raw.finalURL)}, nil
	})
	if ctx.Err() != nil {
		res.Err = fmt.Errorf("%w after %s while parsing (fetch.timeout)", ErrTimeout, c.opts.Timeout)
		return res
	}
	res.Charset, res.Repairs = o.p.charset, o.p.repairs
	if hp := (*htmlPageError)(nil); errors.As(err, &hp) {
		hp.link = resolveURL(raw.finalURL, hp.link)
	}
	if err != nil {
		res.Err = err
		return res
	}
	res.Status = digest.FeedOK
	res.Title = oneLine(o.p.feed.Title)
	res.State = digest.FeedState{ETag: raw.etag, LastModified: raw.lastModified}
	res.Articles = o.arts
	return res
}

// aside runs fn on a goroutine of its own and waits for it only until ctx
// is done, so a step that blocks or crawls (a parser on a hostile document,
// a read from a stalled mount) cannot hold a feed past its deadline; the
// abandoned goroutine ends on its own, bounded by the size cap. When ctx
// ends first, aside returns ctx's error. A panic in fn is returned as that
// feed's error.
func aside[T any](ctx context.Context, fn func() (T, error)) (T, error) {
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				done <- result{err: fmt.Errorf("collect: parser failed on this feed: %v", r)}
			}
		}()
		v, err := fn()
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		var zero T
		return zero, ctx.Err()
	}
}

// MaxItemsPerFeed bounds what one feed contributes to a run. Real feeds
// list 10 to 100 items, newest first; a feed of tens of thousands is broken
// or hostile, and would make every later step (dedupe is quadratic in the
// worst case) slow for everyone.
const MaxItemsPerFeed = 500

// Normalize turns parsed items into articles: one per distinct item, with
// plain-text title and summary, sanitized content, an absolute link free
// of tracking parameters, and a date read in the feed's zone when the feed
// gave none.
func Normalize(pf *gofeed.Feed, f digest.Feed, fetchedFrom *url.URL) []digest.Article {
	base := linkBase(pf, fetchedFrom)
	loc := f.Location
	if loc == nil {
		loc = time.UTC
	}
	name := f.Name
	if name == "" {
		name = oneLine(pf.Title)
	}
	seen := map[string]bool{}
	out := make([]digest.Article, 0, len(pf.Items))
	for _, it := range pf.Items {
		if it == nil {
			continue
		}
		a := normalizeItem(it, f.URL, name, base, loc)
		if a.Title == "" && a.Link == "" {
			continue
		}
		a.Lang = digest.DetectLang(pf.Language, a.Title, a.Summary)
		if seen[a.ID] {
			continue
		}
		seen[a.ID] = true
		out = append(out, a)
	}
	return out
}

// linkBase is what relative item links resolve against (after xml:base,
// which gofeed applies): the site the feed names as its own, when that is an
// absolute http(s) URL, since a feed is often served from elsewhere (a feed
// proxy, a CDN); else the URL the feed was fetched from. A relative site
// link resolves against the feed's self link or the fetch URL.
func linkBase(pf *gofeed.Feed, fetchedFrom *url.URL) *url.URL {
	var ref *url.URL
	if fetchedFrom != nil && fetchedFrom.Scheme != "file" {
		ref = fetchedFrom
	}
	if u, err := url.Parse(strings.TrimSpace(pf.FeedLink)); err == nil && isHTTP(u) && ref == nil {
		ref = u
	}
	if u, err := url.Parse(strings.TrimSpace(pf.Link)); err == nil && pf.Link != "" {
		if ref != nil {
			u = ref.ResolveReference(u)
		}
		if isHTTP(u) {
			return u
		}
	}
	if ref != nil {
		return ref
	}
	return fetchedFrom
}

func isHTTP(u *url.URL) bool {
	return u != nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

const summaryRunes = 600

func normalizeItem(it *gofeed.Item, feedURL, feedName string, base *url.URL, loc *time.Location) digest.Article {
	link := strings.TrimSpace(it.Link)
	if link == "" {
		for _, l := range it.Links {
			if strings.TrimSpace(l) != "" {
				link = strings.TrimSpace(l)
				break
			}
		}
	}
	if link == "" && strings.HasPrefix(it.GUID, "http") {
		link = it.GUID
	}
	link = unwrapRedirect(resolveURL(base, link))
	link = digest.CleanLink(link)
	// Only web links survive: a javascript: or data: link would travel into
	// the JSON, the plain-text mail and the archive.
	if u, err := url.Parse(link); err != nil || !isHTTP(u) {
		link = ""
	}

	content := it.Content
	if strings.TrimSpace(content) == "" {
		content = it.Description
	}
	text := plainText(it.Description)
	if text == "" {
		text = plainText(it.Content)
	}
	summary := truncateRunes(fixMojibake(text), summaryRunes)

	title := oneLine(it.Title)
	if title == "" {
		title = truncateRunes(strings.Join(strings.Fields(summary), " "), 80)
	}

	a := digest.Article{
		FeedURL:    feedURL,
		FeedName:   feedName,
		GUID:       strings.TrimSpace(it.GUID),
		Title:      title,
		Link:       link,
		Summary:    summary,
		Content:    sanitizeHTML(content, base),
		Categories: it.Categories,
	}
	if len(it.Authors) > 0 && it.Authors[0] != nil {
		a.Author = oneLine(cmp.Or(it.Authors[0].Name, it.Authors[0].Email))
	}
	a.Published = itemDate(it, loc)
	id := a.GUID
	if id == "" {
		id = digest.CanonicalURL(a.Link)
	}
	if id == "" {
		id = a.Title + "\x00" + it.Published
	}
	sum := sha256.Sum256([]byte(feedURL + "\x00" + id))
	a.ID = hex.EncodeToString(sum[:12])
	return a
}

// itemDate reads the item's date itself first, so that a date without a
// zone is taken in the feed's zone and a zone abbreviation like KST gets
// its real offset; gofeed's reading is the fallback.
func itemDate(it *gofeed.Item, loc *time.Location) *time.Time {
	for _, c := range []struct {
		raw    string
		parsed *time.Time
	}{{it.Published, it.PublishedParsed}, {it.Updated, it.UpdatedParsed}} {
		if t, ok := parseDate(c.raw, loc); ok {
			return &t
		}
		if c.parsed != nil && plausibleDate(*c.parsed) {
			t := *c.parsed
			return &t
		}
	}
	return nil
}

// unwrapRedirect returns the target of a Google redirect link (as Google
// Alerts feeds use), which is the article's real address.
func unwrapRedirect(link string) string {
	u, err := url.Parse(link)
	if err != nil || !strings.HasSuffix(u.Hostname(), "google.com") || u.Path != "/url" {
		return link
	}
	q := u.Query()
	for _, k := range []string{"url", "q"} {
		if t := q.Get(k); strings.HasPrefix(t, "http://") || strings.HasPrefix(t, "https://") {
			return t
		}
	}
	return link
}
