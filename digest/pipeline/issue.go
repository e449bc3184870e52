package pipeline

import (
	"fmt"

	"gull/digest"
)

// BuildIssue turns the week's material into the issue: articles grouped
// into sections, each feed's report, and everything left out with the
// reason (duplicates, off-topic articles of filtered feeds, section caps).
func BuildIssue(title string, g Gathered, grouper *digest.Grouper) digest.Issue {
	feeds := make(map[string]digest.Feed, len(g.Feeds))
	for _, r := range g.Feeds {
		feeds[r.Feed.URL] = r.Feed
	}
	sections, dropped := grouper.Group(g.Articles, feeds)

	is := digest.Issue{
		ID:       digest.IssueID(g.Period),
		Number:   g.Number,
		Title:    title,
		Period:   g.Period,
		Sections: sections,
	}
	for _, d := range g.Duplicates {
		is.Dropped = append(is.Dropped, digest.Dropped{
			Title: d.Dropped.Title, Link: d.Dropped.Link, Feed: d.Dropped.FeedName, FeedURL: d.Dropped.FeedURL,
			Reason: fmt.Sprintf("%s as %q (%s)", d.Reason, d.Kept.Title, d.Kept.FeedName),
		})
	}
	is.Dropped = append(is.Dropped, dropped...)
	for _, a := range g.SeenAfter {
		is.Dropped = append(is.Dropped, digest.Dropped{
			Title: a.Title, Link: a.Link, Feed: a.FeedName, FeedURL: a.FeedURL, Reason: digest.ReasonSeenAfter,
		})
	}

	notRelevant := map[string]int{}
	for _, d := range dropped {
		if d.Reason == digest.ReasonNotRelevant {
			notRelevant[d.FeedURL]++
		}
	}
	for _, r := range g.Feeds {
		rep := digest.FeedReport{
			URL: r.Feed.URL, Name: r.Feed.Name, Status: r.Status,
			Items: len(r.Articles), InWindow: r.InWindow, Dropped: notRelevant[r.Feed.URL],
		}
		if rep.Name == "" {
			rep.Name = r.Title
		}
		if r.Err != nil {
			rep.Error = r.Err.Error()
		}
		is.Feeds = append(is.Feeds, rep)
	}
	return is
}
