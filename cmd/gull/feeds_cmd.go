package main

import (
	"context"
	"fmt"
	"os"
	"time"

	"gull/digest/config"
	"gull/digest/feedcheck"
	"gull/digest/pipeline"
	"gull/digest/store"
)

func runFeedsCheck(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("feeds check")
	nowFlag := fs.String("now", "", "the time to check the week against")
	format := fs.String("format", "text", "text or json")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
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
	g, err := gather(ctx, a, cfg, now)
	if err != nil {
		return err
	}
	// Group the week as the digest will, for what filtered feeds lose.
	rows := feedcheck.Rows(g, pipeline.BuildIssue(cfg.Title.In(cfg.Language), g, cfg.Grouper()), cfg.Location)
	if *format == "json" {
		if err := feedcheck.WriteJSON(a.stdout, rows); err != nil {
			return err
		}
	} else {
		feedcheck.WriteTable(a.stdout, g, rows)
	}
	if g.Failed() > 0 {
		return exitError{exitFailure}
	}
	return nil
}

// gather runs the collect stage of the pipeline on the config's feeds
// for a check: the articles outside the week come back without text.
func gather(ctx context.Context, a *app, cfg *config.Config, now time.Time) (pipeline.Gathered, error) {
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return pipeline.Gathered{}, err
	}
	st, err := store.Open(ctx, where)
	if err != nil {
		return pipeline.Gathered{}, err
	}
	defer st.Close()
	return a.env(0).GatherCheck(ctx, cfg, st, now)
}
