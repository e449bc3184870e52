package main

import (
	"context"
	"errors"
	"os"
	"os/signal"
	"syscall"

	"gull/digest/config"
	"gull/digest/daemon"
	"gull/digest/render"
	"gull/digest/send"
)

// runDaemon is `gull run`: the schedule and the web side until a signal,
// or with --once a single run now.
func runDaemon(ctx context.Context, a *app, args []string) error {
	a.progress = nil // the daemon's fetches are logged; a redrawn line would garble the log
	fs := a.flagSet("run")
	once := fs.Bool("once", false, "run the scheduled job once, now, and exit")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	grace, err := stopGrace(a.getenv)
	if err != nil {
		return err
	}
	env := a.env(grace)
	if env.Lease, err = send.LeaseFromEnv(a.getenv); err != nil {
		return usageError{err.Error()}
	}
	// SIGHUP is taken over before anything else: its default kills the
	// process, and `systemctl reload` right after a start must not.
	hup := make(chan os.Signal, 1)
	if !*once {
		signal.Notify(hup, syscall.SIGHUP)
		defer signal.Stop(hup)
	}
	cfg, r, st, err := openForSending(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := warnMailSetup(a.stderr, cfg, true); err != nil {
		return err
	}
	d := daemon.New(daemon.Options{Env: env, Store: st, Config: cfg, Renderer: r, Reload: reload(a), Version: gullVersion()})
	if *once {
		err = d.Once(ctx, a.stdout)
	} else {
		err = d.Serve(ctx, hup)
	}
	if errors.Is(err, daemon.ErrNotAllSent) || errors.Is(err, daemon.ErrGraceExceeded) {
		return exitError{exitFailure} // the summary or the log says why
	}
	return err
}

// reload reads the config again for the daemon (SIGHUP), with its
// templates, and checks its mail setup as at start.
func reload(a *app) func() (*config.Config, *render.Renderer, error) {
	return func() (*config.Config, *render.Renderer, error) {
		cfg, r, err := loadTemplates(a)
		if err != nil {
			return nil, nil, err
		}
		return cfg, r, warnMailSetup(a.stderr, cfg, true)
	}
}
