// Package pipeline runs the steps of a digest in order, against small
// interfaces it defines itself, so each step can be tested with fakes and
// the commands (preview, send, the daemon) share one code path.
package pipeline

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"time"

	"gull/digest"
)

// Fetcher collects feeds (digest/collect implements it).
type Fetcher interface {
	Collect(ctx context.Context, feeds []digest.Feed, states map[string]digest.FeedState) []digest.FeedResult
}

// FeedStore remembers feeds and articles between runs (digest/store
// implements it).
type FeedStore interface {
	FeedStates(ctx context.Context) (map[string]digest.FeedState, error)
	SaveFeed(ctx context.Context, feedURL, title string, st digest.FeedState, arts []digest.Article, now time.Time) ([]digest.Article, error)
	NoteFeedChecked(ctx context.Context, feedURL string, fetchErr error, now time.Time) error
	FeedArticles(ctx context.Context, feedURL string) ([]digest.Article, error)
	Mailed(ctx context.Context) (digest.MailedSet, error)
	// IssueNumber is the number the issue called id has, or gets when
	// it is sent next (digest.Issue.Number).
	IssueNumber(ctx context.Context, id string) (int, error)
}

// Gathered is the week's material: every feed's outcome and the articles
// of the period, one copy of each story, none mailed before.
type Gathered struct {
	Period     digest.Period
	Feeds      []digest.FeedResult
	Articles   []digest.Article
	Duplicates []digest.Duplicate
	// SeenAfter are the undated articles gull first saw after the period
	// (it dates them by that): left out of a past week, with the reason.
	SeenAfter []digest.Article
	// Number is the period's issue's number (digest.Issue.Number).
	Number int
}

// Failed counts the feeds that could not be fetched or read.
func (g Gathered) Failed() int {
	n := 0
	for _, f := range g.Feeds {
		if f.Status == digest.FeedError {
			n++
		}
	}
	return n
}

// EachFetcher is a Fetcher that hands over each feed's result as soon as
// that feed is done (collect.Collector.CollectEach), so Gather stores it
// while the other feeds are still being fetched and parsed.
type EachFetcher interface {
	Fetcher
	CollectEach(ctx context.Context, feeds []digest.Feed, states map[string]digest.FeedState, each func(digest.FeedResult) digest.FeedResult) []digest.FeedResult
}

// Gather fetches every feed, stores what came (so undated items keep
// their first-seen time and a 304 next time still yields the items), and
// returns the articles of period. A feed that fails contributes the items
// of its last good copy, so one bad Monday morning does not lose a
// source's week; its error stays in its result. Only a store failure
// fails the whole gather, because going on would forget what was seen.
// Every article of every feed is returned whole (the daemon's /preview
// windows them again for another period).
func Gather(ctx context.Context, f Fetcher, st FeedStore, feeds []digest.Feed, period digest.Period, now time.Time) (Gathered, error) {
	return gather(ctx, f, st, feeds, period, now, false)
}

// GatherCheck is Gather for a report on the feeds (`feeds check`): once
// stored, the articles outside period keep only what the report counts
// and dates them by (no content, summary, author or categories), so the
// memory of a check holds the week, not every feed's whole history.
func GatherCheck(ctx context.Context, f Fetcher, st FeedStore, feeds []digest.Feed, period digest.Period, now time.Time) (Gathered, error) {
	return gather(ctx, f, st, feeds, period, now, true)
}

func gather(ctx context.Context, f Fetcher, st FeedStore, feeds []digest.Feed, period digest.Period, now time.Time, lean bool) (Gathered, error) {
	g := Gathered{Period: period}
	states, err := st.FeedStates(ctx)
	if err != nil {
		return g, err
	}
	mailed, err := st.Mailed(ctx)
	if err != nil {
		return g, err
	}
	if g.Number, err = st.IssueNumber(ctx, digest.IssueID(period)); err != nil {
		return g, err
	}
	// Each feed is stored as it arrives, one at a time (the store has one
	// writer), while the others are fetched: the writes no longer wait
	// for the slowest feed, then run alone on one core.
	var (
		mu       sync.Mutex
		storeErr error
	)
	keep := func(r digest.FeedResult) digest.FeedResult {
		mu.Lock()
		defer mu.Unlock()
		if storeErr != nil {
			return r
		}
		if storeErr = storeFeed(ctx, st, &r, now); storeErr == nil && lean {
			r.Articles = outsideLean(r.Articles, period)
		}
		return r
	}
	if ef, ok := f.(EachFetcher); ok {
		g.Feeds = ef.CollectEach(ctx, feeds, states, keep)
	} else {
		g.Feeds = f.Collect(ctx, feeds, states)
		for i := range g.Feeds {
			g.Feeds[i] = keep(g.Feeds[i])
		}
	}
	if storeErr != nil {
		return g, storeErr
	}
	if err := ctx.Err(); err != nil {
		return g, fmt.Errorf("gather: %w", err)
	}
	w := g.Window(period, mailed)
	w.Number = g.Number
	return w, nil
}

// storeFeed saves a fetched feed, or notes a failed or unchanged one and
// puts its last good copy in its place, and names its articles.
func storeFeed(ctx context.Context, st FeedStore, r *digest.FeedResult, now time.Time) error {
	switch r.Status {
	case digest.FeedOK:
		saved, err := st.SaveFeed(ctx, r.Feed.URL, r.Title, r.State, r.Articles, now)
		if err != nil {
			return err
		}
		r.Articles = saved
	default:
		if err := st.NoteFeedChecked(ctx, r.Feed.URL, r.Err, now); err != nil {
			return err
		}
		stored, err := st.FeedArticles(ctx, r.Feed.URL)
		if err != nil {
			return err
		}
		r.Articles = stored
		if r.Title == "" && len(stored) > 0 {
			r.Title = stored[0].FeedName // a 304 carries no title
		}
	}
	for j := range r.Articles {
		if r.Feed.Name != "" {
			r.Articles[j].FeedName = r.Feed.Name
		} else if r.Articles[j].FeedName == "" {
			r.Articles[j].FeedName = cmp.Or(r.Title, r.Feed.URL)
		}
	}
	return nil
}

// outsideLean strips the articles dated outside p down to what Window and
// a feed's row read of them (date, first sight, link, GUID, title): they
// are stored already and nothing shows their text. Those in p stay whole.
func outsideLean(arts []digest.Article, p digest.Period) []digest.Article {
	for i := range arts {
		if a := &arts[i]; !p.Contains(a.Date()) {
			a.Content, a.Summary, a.Author, a.Categories = "", "", "", nil
		}
	}
	return arts
}

// Window is g's material for period: of each feed's articles as fetched,
// those of the period that no issue mailed, one copy of each story. The
// daemon's /preview uses it to show the coming issue's period from the
// latest fetch, which is made for the hour it runs, without fetching.
func (g Gathered) Window(period digest.Period, mailed digest.MailedSet) Gathered {
	out := Gathered{Period: period, Feeds: slices.Clone(g.Feeds)}
	var all []digest.Article
	for i := range out.Feeds {
		r := &out.Feeds[i]
		week := digest.InPeriod(r.Articles, period, mailed)
		r.InWindow = len(week)
		r.Newest = newest(r.Articles)
		all = append(all, week...)
		out.SeenAfter = append(out.SeenAfter, digest.SeenAfter(r.Articles, period, mailed)...)
	}
	out.Articles, out.Duplicates = digest.Dedupe(all)
	return out
}

func newest(arts []digest.Article) *time.Time {
	var best *time.Time
	for _, a := range arts {
		d := a.Date()
		if best == nil || d.After(*best) {
			best = &d
		}
	}
	return best
}
