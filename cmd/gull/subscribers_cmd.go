package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"gull/digest/config"
	"gull/digest/render"
	"gull/digest/send"
	"gull/digest/store"
	"gull/subscribers"
)

// openList loads the config and opens the store that holds the list.
func openList(ctx context.Context, a *app) (*config.Config, *store.Store, error) {
	cfg, err := a.loadConfig()
	if err != nil {
		return nil, nil, err
	}
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return nil, nil, err
	}
	st, err := store.Open(ctx, where)
	if err != nil {
		return nil, nil, err
	}
	return cfg, st, nil
}

func runSubscribersAdd(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("subscribers add")
	name := fs.String("name", "", "the subscriber's name")
	themes := fs.String("themes", "", "theme ids, comma-separated, or all; default all for a new subscriber, unchanged for one on the list")
	language := fs.String("language", "", "ko or en: the wording of their mail; default the config's language for a new subscriber, unchanged for one on the list")
	articles := fs.String("articles", "", "ko, en or both: the articles they get by language; default both for a new subscriber, unchanged for one on the list")
	email, err := parseAddress(a, fs, args, "address: gull subscribers add reader@example.org [--name NAME] [--themes ID,ID] [--language ko|en] [--articles ko|en|both]")
	if err != nil {
		return err
	}
	lang, err := subscribers.ParseLanguage(*language)
	if err != nil {
		return usageError{"--language: " + err.Error()}
	}
	arts, err := subscribers.ParseArticles(*articles)
	if err != nil {
		return usageError{"--articles: " + err.Error()}
	}
	if err := subscribers.CheckName(strings.TrimSpace(*name)); err != nil {
		return usageError{"--name: " + err.Error()}
	}
	cfg, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	in, given, err := subscribers.OperatorAdd(email, *name, *themes, send.ThemeIDs(cfg))
	if err != nil {
		return usageError{"--themes: " + err.Error()}
	}
	in, given = subscribers.WithLanguages(in, given, lang, arts)
	sub, change, note, err := st.SaveSubscriber(ctx, in, given, time.Now())
	if err != nil {
		return err
	}
	fmt.Fprintln(a.stdout, subscribers.Outcome(change, sub, note != ""))
	if note != "" {
		// Not a failure: the list is as it must be. The same note as an
		// import row gets (subscribersImport).
		subscriberNote(a.stderr, cfg, "", sub.Email, note)
	}
	return nil
}

// parseAddress is parseOne for the address a command takes, normalized.
func parseAddress(a *app, fs *flag.FlagSet, args []string, usage string) (string, error) {
	arg, err := parseOne(a, fs, args, usage)
	if err != nil {
		return "", err
	}
	email, err := subscribers.NormalizeEmail(arg)
	if err != nil {
		return "", usageError{err.Error()}
	}
	return email, nil
}

// subscriberNote prints what an add or an import row left as it was, and
// why (see subscribers.Merge: someone who unsubscribed stays so), with
// the sign-up page where the person can come back themselves. where is
// "FILE:LINE: " for an import row.
func subscriberNote(w io.Writer, cfg *config.Config, where, email, note string) {
	fmt.Fprintf(w, "gull: %s%s: %s (sign-up page: %s)\n", where, email, note, strings.TrimRight(cfg.HTTP.BaseURL, "/")+"/subscribe")
}

func runSubscribersRemove(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("subscribers remove")
	email, err := parseAddress(a, fs, args, "address: gull subscribers remove reader@example.org")
	if err != nil {
		return err
	}
	_, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.RemoveSubscriber(ctx, email); errors.Is(err, subscribers.ErrNotFound) {
		return fmt.Errorf("%s is not on the list; see gull subscribers list", email)
	} else if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "removed %s\n", email)
	return nil
}

func runSubscribersList(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("subscribers list")
	status := fs.String("status", "", "only this status: pending, active, unsubscribed or bounced")
	format := fs.String("format", "table", "table, csv or json")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	var only subscribers.Status
	if *status != "" {
		var err error
		if only, err = subscribers.ParseStatus(*status); err != nil {
			return usageError{"--status: " + err.Error()}
		}
	}
	if *format != "table" && *format != "csv" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be table, csv or json, not %q", *format)}
	}
	cfg, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	subs, err := st.ListSubscribers(ctx, only)
	if err != nil {
		return err
	}
	switch *format {
	case "csv":
		return subscribers.WriteCSV(a.stdout, subs)
	case "json":
		return subscribers.WriteJSON(a.stdout, subs, cfg.Location, cfg.Language)
	}
	table, tally := subscribers.Table(subs, cfg.Location, cfg.Language)
	writeTable(a.stdout, table)
	fmt.Fprintf(a.stdout, "\n%s.\n", tally)
	return nil
}

func runSubscribersImport(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("subscribers import")
	path, err := parseOne(a, fs, args, "file: gull subscribers import people.csv (columns email[,name][,themes][,status][,language][,articles])")
	if err != nil {
		return err
	}
	cfg, err := a.loadConfig()
	if err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	rows, rejected, enc, err := subscribers.ReadCSVEncoding(f, send.ThemeIDs(cfg))
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	if enc != subscribers.UTF8 {
		// Said, so that a file taken for the wrong encoding shows at once.
		fmt.Fprintf(a.stderr, "gull: read %s as %s\n", path, enc)
	}
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return err
	}
	st, err := store.Open(ctx, where)
	if err != nil {
		return err
	}
	defer st.Close()
	// All good rows in one transaction: a failure or Ctrl-C leaves the
	// list as it was.
	results, err := st.ImportSubscribers(ctx, rows, time.Now())
	if err != nil {
		return fmt.Errorf("import %s: %w", path, err)
	}
	for _, r := range rejected {
		fmt.Fprintf(a.stderr, "gull: %s:%d: %q: %s\n", path, r.Line, r.Value, r.Reason)
	}
	counts := map[subscribers.Change]int{}
	for _, r := range results {
		counts[r.Change]++
		if r.Note != "" {
			subscriberNote(a.stderr, cfg, fmt.Sprintf("%s:%d: ", path, r.Line), r.Email, r.Note)
		}
	}
	fmt.Fprintf(a.stdout, "import %s: %d added, %d updated, %d unchanged, %d rejected\n",
		path, counts[subscribers.Added], counts[subscribers.Updated], counts[subscribers.Unchanged], len(rejected))
	if len(rejected) > 0 {
		return exitError{exitFailure}
	}
	return nil
}

func runSubscribersExport(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("subscribers export")
	out := fs.String("out", "-", "file to write, or - for stdout")
	if err := parseFlags(a, fs, args, " (use --out FILE)"); err != nil {
		return err
	}
	_, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	// Everyone, unsubscribed included: the file re-imports as the same
	// list, and it keeps who must not be mailed again.
	subs, err := st.ListSubscribers(ctx, "")
	if err != nil {
		return err
	}
	var buf strings.Builder
	if err := subscribers.WriteCSV(&buf, subs); err != nil {
		return err
	}
	// Owner only: the file lists every reader's address.
	if err := writeOutPerm(*out, []byte(buf.String()), a, 0o600); err != nil {
		return err
	}
	if *out != "-" {
		fmt.Fprintf(a.stderr, "gull: exported %d %s to %s\n", len(subs), render.Plural(len(subs), "subscriber", "subscribers"), *out)
	}
	return nil
}
