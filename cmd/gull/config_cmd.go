package main

import (
	"context"
	"fmt"
	"io"
	"strings"
	"time"

	"gull/digest/config"
	"gull/digest/schedule"
	"gull/digest/send"
)

// configCheck validates the config and prints it as gull will use it,
// defaults filled in and secrets shown only as set or unset.
func runConfigCheck(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("config check")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	cfg, _, err := loadTemplates(a) // the templates are tried as at send time
	if err != nil {
		return err
	}
	warnMailSetup(a.stderr, cfg, false)
	out, err := cfg.Redacted(a.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "# %s is valid; effective configuration:\n", cfg.Path)
	if runs, err := schedule.NextRuns(cfg.Schedule, cfg.Location, time.Now(), 3); err == nil {
		var next []string
		for _, t := range runs {
			next = append(next, t.Format("Mon 2006-01-02 15:04 MST"))
		}
		fmt.Fprintf(a.stdout, "# gull run's next runs (if started now): %s\n", strings.Join(next, ", "))
	}
	_, err = a.stdout.Write(out)
	return err
}

// warnMailSetup warns on w of settings that are valid but would
// make mail to readers go wrong, or with refuse (send --all, run: mail to
// the whole list) stops the command (exit 2): see send.CheckMailSetup.
func warnMailSetup(w io.Writer, cfg *config.Config, refuse bool) error {
	warnings, err := send.CheckMailSetup(cfg, refuse)
	for _, p := range warnings {
		fmt.Fprintf(w, "gull: warning: %s\n", p)
	}
	return err
}
