package main

import (
	"context"
	"fmt"
	"strings"
	"time"

	"gull/digest/config"
	"gull/digest/schedule"
	"gull/digest/send"
	"gull/digest/web"
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
	// The templates are parsed and tried as at send time: a broken one
	// must fail the check, not Monday's send.
	if _, err := send.NewRenderer(cfg, ""); err != nil {
		return err
	}
	a.checkMailSetup(cfg, false)
	out, err := cfg.Redacted(a.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "# %s is valid; effective configuration:\n", cfg.Path)
	if sched, err := schedule.ParseSpec(cfg.Schedule, cfg.Location); err == nil {
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

// checkMailSetup looks for settings that are valid but would make mail
// to readers go wrong: the example sender (servers refuse it, readers
// cannot answer it) and an http.base_url readers cannot reach or that is
// plain http (the links in every message). With the outbox as the
// transport nothing reaches a reader, so there is nothing to say. Else
// they are warnings on stderr, or, when refuse is set (send --all, run:
// mail to the whole list), an error that stops the command (exit 2).
// An SMTP server on this machine is a test server or a relay the operator
// runs: it is warned about, never refused.
func (a *app) checkMailSetup(cfg *config.Config, refuse bool) error {
	host := cfg.Mail.SMTP.Host
	if host == "" {
		return nil
	}
	fatal, minor := send.MailSetupProblems(cfg)
	if refuse && len(fatal) > 0 && !web.IsLoopbackHost(host) {
		for i, p := range fatal {
			fatal[i] = p + "; gull refuses to mail the list so"
		}
		return &config.Error{Problems: fatal}
	}
	for _, p := range append(fatal, minor...) {
		fmt.Fprintf(a.stderr, "gull: warning: %s\n", p)
	}
	return nil
}
