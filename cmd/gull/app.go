package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"time"

	"golang.org/x/term"

	"gull/digest/config"
	"gull/digest/render"
)

// Exit statuses (README.md, Commands): scripts branch on them.
const (
	exitOK      = 0
	exitFailure = 1
	exitUsage   = 2
)

// version is set at build time with -ldflags "-X main.version=v1.2.3".
var version = ""

func gullVersion() string {
	if version != "" {
		return version
	}
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		return bi.Main.Version
	}
	return "dev"
}

// app is one invocation: its streams, environment and global flags.
type app struct {
	stdout, stderr io.Writer
	stdin          io.Reader
	// interactive is true when a person is at a terminal: send asks before
	// mailing the list and draws a progress bar.
	interactive bool
	getenv      func(string) string
	configPath  string
	logFormat   string
	verbose     bool
	log         *slog.Logger
	// progress, when set, shows the fetch of the feeds as it goes: stderr,
	// when it is a terminal (watchFetch), progressWidth columns wide.
	// progressTicks replaces its clock in tests.
	progress      io.Writer
	progressWidth int
	progressTicks <-chan time.Time
	// command is the command whose flags were parsed last ("send",
	// "subscribers add"), so a usage error points to its own help.
	command string
}

// usageError is bad usage: exit 2 with the message and a pointer to help.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

// exitError carries an exit status chosen by a command.
type exitError struct{ code int }

func (e exitError) Error() string { return fmt.Sprintf("exit %d", e.code) }

// run is the whole program as a value tests can call.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	a := &app{stdout: stdout, stderr: stderr, stdin: os.Stdin, getenv: os.Getenv, interactive: isTerminal(os.Stdin) && isTerminal(stderr)}
	if isTerminal(stderr) {
		a.progress = stderr
		a.progressWidth, _, _ = term.GetSize(int(stderr.(*os.File).Fd()))
	}
	err := a.dispatch(ctx, args)
	var ue usageError
	var ee exitError
	var ce *config.Error
	switch {
	case err == nil:
		return exitOK
	case errors.As(err, &ee):
		return ee.code
	case errors.Is(err, flag.ErrHelp):
		fmt.Fprint(stdout, usage)
		return exitOK
	case errors.As(err, &ue):
		see := "gull --help"
		if a.command != "" {
			see = "gull " + a.command + " --help"
		}
		fmt.Fprintf(stderr, "gull: %s\n(see %s)\n", ue.msg, see)
		return exitUsage
	case errors.Is(err, config.ErrRead), errors.Is(err, render.ErrTemplate):
		fmt.Fprintf(stderr, "gull: %v\n", err)
		return exitUsage
	case errors.As(err, &ce):
		for _, p := range ce.Problems {
			fmt.Fprintf(stderr, "gull: %s\n", p)
		}
		return exitUsage
	default:
		fmt.Fprintf(stderr, "gull: %v\n", err)
		return exitFailure
	}
}

func (a *app) dispatch(ctx context.Context, args []string) error {
	fs := a.flagSet("gull")
	// Global flags before the command end at its name; each command's flag
	// set takes them too, so they may also come after it.
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return flagError(fs, err)
	}
	rest := fs.Args()
	if len(rest) == 0 {
		return usageError{"no command given"}
	}
	if err := a.setupLog(); err != nil {
		return err
	}
	name, args := rest[0], rest[1:]
	if name == "help" {
		// `gull help subscribers add` is `gull subscribers add --help`:
		// each command prints its own usage from its own flag set.
		return a.dispatch(ctx, append(args, "--help"))
	}
	c := lookup(name)
	if c == nil {
		return usageError{fmt.Sprintf("unknown command %q%s", name, didYouMean(name, append(subcommands(""), "help")))}
	}
	if c.run == nil {
		var err error
		if c, args, err = subcommand(a, c, args); err != nil {
			return err
		}
	}
	return c.run(ctx, a, args)
}

// didYouMean is `; did you mean "X"?` for the candidate nearest to word, or
// "" when none is close.
func didYouMean(word string, candidates []string) string {
	if s := config.Nearest(word, candidates); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	return ""
}

// flagError turns the flag package's complaint into a usage error; an
// unknown flag gets the nearest one the command has.
func flagError(fs *flag.FlagSet, err error) error {
	name, unknown := strings.CutPrefix(err.Error(), "flag provided but not defined: -")
	if !unknown {
		return usageError{err.Error()}
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	where := ""
	if fs.Name() != "gull" {
		where = " for " + fs.Name()
	}
	hint := ""
	if s := config.Nearest(name, names); s != "" {
		hint = fmt.Sprintf("; did you mean %s?", flagName(s))
	}
	return usageError{fmt.Sprintf("unknown flag %s%s%s", flagName(name), where, hint)}
}

// flagName writes a flag as it is usually typed: -v, --all.
func flagName(name string) string {
	if len(name) == 1 {
		return "-" + name
	}
	return "--" + name
}

func (a *app) setupLog() error {
	level := slog.LevelInfo
	if a.verbose {
		level = slog.LevelDebug
	}
	opts := &slog.HandlerOptions{Level: level, ReplaceAttr: readableDuration}
	format := a.logFormat
	if format == "" {
		// A person reads text; a journal or a collector reads JSON.
		format = "json"
		if isTerminal(a.stderr) {
			format = "text"
		}
	}
	switch format {
	case "text":
		a.log = slog.New(slog.NewTextHandler(a.stderr, opts))
	case "json":
		a.log = slog.New(slog.NewJSONHandler(a.stderr, opts))
	default:
		return usageError{fmt.Sprintf("--log-format must be text or json, not %q", a.logFormat)}
	}
	return nil
}

// readableDuration writes a time.Duration as "2s" in every log format:
// the JSON handler would write nanoseconds, which nobody reads at a glance.
func readableDuration(_ []string, a slog.Attr) slog.Attr {
	if a.Value.Kind() == slog.KindDuration {
		a.Value = slog.StringValue(a.Value.Duration().String())
	}
	return a
}

// isTerminal reports whether f is a terminal (not a file, pipe or buffer).
func isTerminal(f any) bool {
	file, ok := f.(*os.File)
	return ok && term.IsTerminal(int(file.Fd()))
}

// loadConfig finds and loads the config: --config, $GULL_CONFIG, ./config.yaml.
func (a *app) loadConfig() (*config.Config, error) {
	path := a.configPath
	if path == "" {
		path = a.getenv("GULL_CONFIG")
	}
	if path == "" {
		path = "config.yaml"
	}
	config.Version = gullVersion()
	return config.Load(path)
}

// flagSet returns a flag set that reports errors instead of printing and
// already holds the global flags, so `gull feeds check -v` works as well as
// `gull -v feeds check`.
func (a *app) flagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&a.configPath, "config", a.configPath, "config file")
	fs.StringVar(&a.logFormat, "log-format", a.logFormat, "text or json")
	fs.BoolVar(&a.verbose, "v", a.verbose, "verbose logging")
	return fs
}

// parseArgs parses a command's flags, which may come before or after its
// positional arguments (README.md, Commands), and then sets up the logger, since a
// global flag may have come after the command.
func (a *app) parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	a.command = fs.Name()
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				printUsage(a.stdout, fs)
				return nil, exitError{exitOK}
			}
			return nil, flagError(fs, err)
		}
		args = fs.Args()
		if len(args) == 0 {
			break
		}
		if args[0] == "--" {
			pos = append(pos, args[1:]...)
			break
		}
		pos = append(pos, args[0])
		args = args[1:]
	}
	return pos, a.setupLog()
}

// parseFlags is parseArgs for a command that takes flags only; hint is
// added to the complaint about an argument ("" for none).
func parseFlags(a *app, fs *flag.FlagSet, args []string, hint string) error {
	pos, err := a.parseArgs(fs, args)
	if err == nil && len(pos) > 0 {
		err = usageError{fmt.Sprintf("%s takes no arguments, got %q%s", fs.Name(), pos, hint)}
	}
	return err
}

// parseOne is parseArgs for a command of one argument, which usage names
// with an example ("file: gull subscribers import people.csv").
func parseOne(a *app, fs *flag.FlagSet, args []string, usage string) (string, error) {
	pos, err := a.parseArgs(fs, args)
	if err == nil && len(pos) != 1 {
		err = usageError{fs.Name() + " takes one " + usage}
	}
	if err != nil {
		return "", err
	}
	return pos[0], nil
}

// nowLayouts are the forms of --now without a zone, read in the config's
// timezone: what a person types for "Monday morning" (timeHelp says them).
var nowLayouts = []string{"2006-01-02", "2006-01-02T15:04", "2006-01-02T15:04:05"}

// parseNow reads --now: RFC 3339, or a date or a zone-less time in loc (the
// configured timezone). Empty means the clock. A caller that has no config
// yet may check the form with any loc and read it again once it has one.
func parseNow(s string, loc *time.Location) (time.Time, error) {
	if s == "" {
		// Whole seconds: the period is printed and stored, and nobody
		// needs its nanoseconds.
		return time.Now().Truncate(time.Second), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	for _, layout := range nowLayouts {
		if t, err := time.ParseInLocation(layout, s, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, usageError{fmt.Sprintf("--now %q is not a time; write a date (2026-11-27), a time (2026-11-27T09:00), both in the config's timezone, or RFC 3339 (2026-11-27T09:00:00+09:00)", s)}
}
