package main

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"text/tabwriter"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/store"
)

// feedRow is one line of `feeds check --format json` (README.md, Commands).
type feedRow struct {
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

func (a *app) feedsCheck(ctx context.Context, args []string) error {
	fs := a.flagSet("feeds check")
	nowFlag := fs.String("now", "", "the time to check the week against")
	format := fs.String("format", "text", "text or json")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("feeds check takes no arguments, got %q", pos)}
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	now, err := parseNow(*nowFlag, cfg.Location)
	if err != nil {
		return err
	}
	g, err := a.gather(ctx, cfg, now)
	if err != nil {
		return err
	}
	// Group the week as the digest will, for what filtered feeds lose.
	issue := pipeline.BuildIssue(cfg.Title, g, cfg.Grouper())
	rows := make([]feedRow, len(g.Feeds))
	for i, r := range g.Feeds {
		rows[i] = feedRow{URL: digest.RedactURL(r.Feed.URL), Name: cmp.Or(r.Feed.Name, r.Title), Status: string(r.Status),
			Items: len(r.Articles), InWindow: r.InWindow, DurationMS: r.Duration.Milliseconds(),
			Charset: r.Charset, Repairs: r.Repairs, Dropped: issue.Feeds[i].Dropped}
		if r.Newest != nil {
			s := r.Newest.In(cfg.Location).Format(time.RFC3339)
			rows[i].Newest = &s
		}
		if r.Err != nil {
			rows[i].Error = r.Err.Error()
		}
	}
	if *format == "json" {
		enc := json.NewEncoder(a.stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(rows); err != nil {
			return err
		}
	} else {
		a.printFeedTable(cfg, g, rows)
	}
	if g.Failed() > 0 {
		return exitError{exitFailure}
	}
	return nil
}

func (a *app) printFeedTable(cfg *config.Config, g pipeline.Gathered, rows []feedRow) {
	tw := tabwriter.NewWriter(a.stdout, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "STATUS\tITEMS\tWEEK\tNEWEST\tTIME\tFEED")
	for _, r := range rows {
		newest := "-"
		if r.Newest != nil {
			t, _ := time.Parse(time.RFC3339, *r.Newest)
			newest = t.Format("2006-01-02 15:04")
		}
		fmt.Fprintf(tw, "%s\t%d\t%d\t%s\t%s\t%s\n", r.Status, r.Items, r.InWindow, newest,
			fmtDuration(time.Duration(r.DurationMS)*time.Millisecond), displayURL(r))
	}
	tw.Flush()
	for _, r := range rows {
		if r.Error == "" && len(r.Repairs) == 0 && r.Dropped == 0 {
			continue
		}
		fmt.Fprintf(a.stdout, "\n%s\n", displayURL(r))
		if r.Error != "" {
			fmt.Fprintf(a.stdout, "  error: %s\n", r.Error)
			if r.Items > 0 {
				fmt.Fprintf(a.stdout, "  using the %s of its last good copy\n", counted(r.Items, "item", "items"))
			}
		}
		for _, rep := range r.Repairs {
			fmt.Fprintf(a.stdout, "  repaired: %s\n", rep)
		}
		if r.Dropped > 0 {
			fmt.Fprintf(a.stdout, "  filter: %d of its %s this week %s not about AI and %s left out (see preview --format json)\n",
				r.Dropped, counted(r.InWindow, "article", "articles"), render.Plural(r.Dropped, "is", "are"), render.Plural(r.Dropped, "is", "are"))
		}
	}
	counts := map[string]int{}
	for _, r := range rows {
		counts[r.Status]++
	}
	p := g.Period
	fmt.Fprintf(a.stdout, "\n%s: %d ok, %d not modified, %d failed. %s in the week %s – %s (%s dropped).\n",
		counted(len(rows), "feed", "feeds"), counts["ok"], counts["not_modified"], counts["error"], counted(len(g.Articles), "article", "articles"),
		p.Start.Format("2006-01-02 15:04"), p.End.Format("2006-01-02 15:04 MST"), counted(len(g.Duplicates), "duplicate", "duplicates"))
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

func displayURL(r feedRow) string {
	if r.Name != "" {
		return r.Name + " <" + r.URL + ">"
	}
	return r.URL
}

// gather runs the collect stage of the pipeline on the config's feeds.
func (a *app) gather(ctx context.Context, cfg *config.Config, now time.Time) (pipeline.Gathered, error) {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return pipeline.Gathered{}, err
	}
	defer st.Close()
	return a.env(0).Gather(ctx, cfg, st, now)
}
