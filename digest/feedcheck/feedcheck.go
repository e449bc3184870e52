// Package feedcheck is `gull feeds check`'s report on a fetch of the
// feeds (pipeline.Gather): one row per feed, as JSON or as a table with
// the errors, repairs and filtered articles under it. It sits beside
// pipeline and reads its result; it fetches nothing itself.
package feedcheck

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"gull/digest"
	"gull/digest/pipeline"
	"gull/digest/render"
)

// Row is one feed of the check; a JSON array of them is
// `feeds check --format json` (README.md, Commands).
type Row struct {
	URL        string   `json:"url"`
	Name       string   `json:"name,omitempty"`
	Status     string   `json:"status"`
	Items      int      `json:"items"`
	InWindow   int      `json:"in_window"`
	Dropped    int      `json:"dropped"` // of the week's, left out as not relevant (filter: true)
	Newest     *string  `json:"newest"`
	DurationMS int64    `json:"duration_ms"`
	Error      string   `json:"error"` // "" when the feed was read
	Charset    string   `json:"charset,omitempty"`
	Repairs    []string `json:"repairs,omitempty"`
}

// Rows is one row per feed of g; issue is g grouped as the digest will
// group it (pipeline.BuildIssue), for what filtered feeds lose. Times are
// written in loc, the configured zone.
func Rows(g pipeline.Gathered, issue digest.Issue, loc *time.Location) []Row {
	rows := make([]Row, len(g.Feeds))
	for i, r := range g.Feeds {
		rows[i] = Row{URL: digest.RedactURL(r.Feed.URL), Name: cmp.Or(r.Feed.Name, r.Title), Status: string(r.Status),
			Items: len(r.Articles), InWindow: r.InWindow, DurationMS: r.Duration.Milliseconds(),
			Charset: r.Charset, Repairs: r.Repairs, Dropped: issue.Feeds[i].Dropped}
		if r.Newest != nil {
			s := r.Newest.In(loc).Format(time.RFC3339)
			rows[i].Newest = &s
		}
		if r.Err != nil {
			rows[i].Error = r.Err.Error()
		}
	}
	return rows
}

// WriteJSON writes rows as an indented JSON array.
func WriteJSON(w io.Writer, rows []Row) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(rows)
}

// WriteTable writes rows one a line, then what went wrong or was repaired
// or filtered in each feed, then a line of totals for the week of g.
func WriteTable(w io.Writer, g pipeline.Gathered, rows []Row) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tITEMS\tWEEK\tNEWEST\tTIME\tFEED")
	for _, r := range rows {
		newest := "-"
		if r.Newest != nil {
			t, _ := time.Parse(time.RFC3339, *r.Newest)
			newest = t.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", r.Status, r.Items, r.InWindow, newest,
			fmtDuration(time.Duration(r.DurationMS)*time.Millisecond), r.display())
	}
	tw.Flush()
	for _, r := range rows {
		r.writeNotes(w)
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
	}
	p := g.Period
	fmt.Fprintf(w, "\n%s: %d ok, %d not modified, %d failed. %s in the week %s – %s (%s dropped).\n",
		digest.Counted(len(rows), "feed", "feeds"), counts["ok"], counts["not_modified"], counts["error"], digest.Counted(len(g.Articles), "article", "articles"),
		p.Start.Format("2006-01-02 15:04"), p.End.Format("2006-01-02 15:04 MST"), digest.Counted(len(g.Duplicates), "duplicate", "duplicates"))
}

// writeNotes writes the feed's error, repairs and filtered articles under
// its name; nothing for a feed that has none.
func (r Row) writeNotes(w io.Writer) {
	if r.Error == "" && len(r.Repairs) == 0 && r.Dropped == 0 {
		return
	}
	fmt.Fprintf(w, "\n%s\n", r.display())
	if r.Error != "" {
		fmt.Fprintf(w, "  error: %s\n", r.Error)
		if r.Items > 0 {
			fmt.Fprintf(w, "  using the %s of its last good copy\n", digest.Counted(r.Items, "item", "items"))
		}
	}
	for _, rep := range r.Repairs {
		fmt.Fprintf(w, "  repaired: %s\n", rep)
	}
	if r.Dropped > 0 {
		fmt.Fprintf(w, "  filter: %d of its %s this week %s not about AI and %s left out (see preview --format json)\n",
			r.Dropped, digest.Counted(r.InWindow, "article", "articles"), render.Plural(r.Dropped, "is", "are"), render.Plural(r.Dropped, "is", "are"))
	}
}

func fmtDuration(d time.Duration) string {
	switch {
	case d < time.Millisecond:
		return "<1ms"
	case d < time.Second:
		return d.Round(time.Millisecond).String()
	}
	return d.Round(100 * time.Millisecond).String()
}

// display is the feed as a person knows it: its name and its address.
func (r Row) display() string {
	if r.Name != "" {
		return r.Name + " <" + r.URL + ">"
	}
	return r.URL
}
