package main

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/progress"
	"gull/digest/render"
	"gull/digest/send"
	"gull/digest/store"
	"gull/subscribers"
)

// addrList is --to, given once per address or as a comma-separated list.
type addrList []string

func (l *addrList) String() string { return strings.Join(*l, ",") }
func (l *addrList) Set(s string) error {
	for _, a := range strings.Split(s, ",") {
		if a = strings.TrimSpace(a); a != "" {
			*l = append(*l, a)
		}
	}
	return nil
}

// smtpBackoff is the wait between tries of a temporary failure; nil is
// deliver's default. Tests shorten it.
var smtpBackoff func(attempt int) time.Duration

func runSend(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("send")
	var to addrList
	fs.Var(&to, "to", "send a test of the current digest to this address (repeatable)")
	all := fs.Bool("all", false, "send the week's issue to every active subscriber")
	nowFlag := fs.String("now", "", "the time the week ends; default now")
	dryRun := fs.Bool("dry-run", false, "write .eml files to the outbox instead of sending; the ledger is not touched")
	yes := fs.Bool("yes", false, "do not ask for confirmation")
	lang := fs.String("lang", "", "with --to: the test's language, ko or en; default the subscriber's, else the config's")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(to) > 0 {
		to = append(to, pos...) // --to a@x b@y
	} else if len(pos) > 0 {
		return usageError{fmt.Sprintf("send takes no arguments, got %q; did you mean --to %s?", pos, pos[0])}
	}
	if len(to) > 0 && *all {
		return usageError{"--all and --to cannot be combined: --all mails the week's issue to every subscriber, --to a test to the addresses given; give one of them"}
	}
	if (len(to) > 0) == *all {
		return usageError{"send needs either --to EMAIL (a test) or --all (the week's issue to every subscriber)"}
	}
	if *lang != "" && len(to) == 0 {
		return usageError{"--lang is for a test send (--to); each subscriber gets --all in their own language"}
	}
	if *lang, err = subscribers.ParseLanguage(*lang); err != nil {
		return usageError{"--lang: " + err.Error()}
	}
	for i, addr := range to {
		norm, err := subscribers.NormalizeEmail(addr)
		if err != nil {
			return usageError{fmt.Sprintf("--to %q: %v", addr, err)}
		}
		to[i] = norm
	}
	if _, err := parseNow(*nowFlag, time.UTC); err != nil { // the form, before the store is opened
		return err
	}
	grace, err := stopGrace(a.getenv)
	if err != nil {
		return err
	}
	cfg, r, st, err := openForSending(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	// A test send or a dry run mails no reader: warned, not refused.
	if err := warnMailSetup(a.stderr, cfg, *all && !*dryRun); err != nil {
		return err
	}
	now, err := parseNow(*nowFlag, cfg.Location)
	if err != nil {
		return err
	}
	s := &send.Sender{Env: a.env(grace), Config: cfg, Store: st, Renderer: r, Now: now, DryRun: *dryRun, TestLang: *lang, FailedFeeds: func(f []digest.FeedReport) { send.ReportFailedFeeds(a.stderr, f) }}
	if a.interactive {
		s.Bar = a.stderr
		if !*yes {
			s.Confirm = func(is digest.Issue, total int) bool { return confirm(a.stdin, a.stderr, is, total, s.Via()) }
		}
	}
	ok, err := s.Run(ctx, to, a.stdout, a.stderr)
	if err == nil && !ok {
		return exitError{exitFailure}
	}
	return err
}

// env is what the sends, the preview and the daemon take from this
// process: its environment, its log, the stop grace (from stopGrace; 0
// where nothing is mailed), and a progress line when stderr is a terminal.
func (a *app) env(grace time.Duration) send.Env {
	env := send.Env{Getenv: a.getenv, Log: a.log, Grace: grace, Backoff: smtpBackoff}
	if a.progress != nil {
		env.WatchFetch = progress.Watch(a.progress, a.progressWidth, a.progressTicks)
	}
	return env
}

// loadTemplates loads the config and its templates, parsed and tried: a
// broken one must fail the command, not Monday's send.
func loadTemplates(a *app) (*config.Config, *render.Renderer, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	r, err := send.NewRenderer(cfg, "")
	return cfg, r, err
}

// openForSending loads what a send needs, in the order that reports a
// problem before anything is opened: the config, the templates, the store.
func openForSending(ctx context.Context, a *app) (*config.Config, *render.Renderer, *store.Store, error) {
	cfg, r, err := loadTemplates(a)
	if err != nil {
		return nil, nil, nil, err
	}
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return nil, nil, nil, err
	}
	st, err := store.Open(ctx, where)
	return cfg, r, st, err
}

// stopGrace is send.StopGrace, a bad $GULL_STOP_GRACE a usage error.
func stopGrace(getenv func(string) string) (time.Duration, error) {
	d, err := send.StopGrace(getenv)
	if err != nil {
		return 0, usageError{err.Error()}
	}
	return d, nil
}

// confirm asks on the terminal before mailing the whole list.
func confirm(in io.Reader, w io.Writer, is digest.Issue, total int, via string) bool {
	fmt.Fprintf(w, "Send issue %s %q (%s) to %s via %s? [y/N] ",
		is.ID, is.Title, digest.Counted(is.Count(), "article", "articles"), digest.Counted(total, "subscriber", "subscribers"), via)
	line, _ := bufio.NewReader(in).ReadString('\n')
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true
	}
	return false
}
