package main

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// configCheck validates the config and prints it as gull will use it,
// defaults filled in and secrets shown only as set or unset.
func (a *app) configCheck(ctx context.Context, args []string) error {
	fs := a.flagSet("config check")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("config check takes no arguments, got %q", pos)}
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	out, err := cfg.Redacted(a.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "# %s is valid; effective configuration:\n", cfg.Path)
	if sched, err := parseSpec(cfg.Schedule, cfg.Location); err == nil {
		// The spec and the zone read together, as gull run will: the
		// surest check that "0 8 * * MON" means the Monday morning meant.
		var next []string
		t := time.Now().In(cfg.Location)
		for range 3 {
			t = sched.Next(t).In(cfg.Location)
			next = append(next, t.Format("Mon 2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(a.stdout, "# gull run's next runs (if started now): %s\n", strings.Join(next, ", "))
	}
	_, err = a.stdout.Write(out)
	return err
}
