package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"

	"gull/digest/config"
)

// usage is `gull --help`: every command in a line or three.
const usage = `usage: gull [--config FILE] [--log-format text|json] [-v] COMMAND

commands:
  preview [--now TIME] [--as EMAIL] [--lang ko|en] [--format html|text|eml|json]
          [--out FILE|-] [--serve ADDR] [--templates DIR]
                                                  render this week's digest; send nothing
  send --all [--now TIME] [--dry-run] [--yes]     mail the week's issue to every active subscriber,
                                                  once each, however often it is run
  send --to EMAIL... [--lang ko|en] [--now TIME] [--dry-run]
                                                  a test of the current digest; records nothing
  run [--once]                                    the daemon: the schedule and the web pages until
                                                  SIGTERM (SIGHUP reloads the config); --once runs
                                                  the scheduled job now and exits
  subscribers add EMAIL [--name NAME] [--themes ID,ID] [--language L] [--articles A]
  subscribers remove EMAIL
  subscribers list [--status STATUS] [--format table|csv|json]
  subscribers import FILE.csv                     columns email[,name][,themes][,status][,language][,articles]
  subscribers export [--out FILE]                 CSV that import reads back
  feeds check [--now TIME] [--format text|json]   fetch every feed; one row each
  issue show [ID] [--format text|json]            the coming draft or any issue, with article ids
  issue hide|show-again|pin|unpin ARTICLE · issue move ARTICLE THEME · issue blurb ARTICLE TEXT
  issue note TEXT|--file F · issue subject TEXT · issue approve · issue reopen · issue history
  config check                                    validate; print the effective config
  bounces check [--dry-run]                       read the bounce mailbox once; a line per message
                                                  handled, a count of what it left alone
  store copy --to DSN|FILE                        copy the whole store into an empty one, SQLite
                                                  or PostgreSQL; the counts checked
  version                                         print gull's version

The config is --config, else $GULL_CONFIG, else ./config.yaml.
` + timeHelp + `
Every command answers --help (or gull help COMMAND) with its own usage.
`

// command is one of gull's commands as a value: dispatch runs it, and
// --help, gull help X and "did you mean" read it, so each command's help
// sits with it. Its flags come from its own flag set (parseArgs), so the
// help cannot drift from what it takes.
type command struct {
	name     string // as typed after gull: "send", "subscribers add"
	synopsis string // after "usage: gull "
	short    string // one line, for the list of a group's subcommands
	about    string // what the command does, for its own page
	// run is the command with the arguments after its name; nil for a
	// group (subscribers, feeds, config), whose subcommands are named
	// "group sub".
	run func(ctx context.Context, a *app, args []string) error
}

// commands is every command and subcommand. It is filled in init: each
// run reaches printUsage (parseArgs, on --help), which reads the table,
// and a variable's initializer may not refer to itself.
var commands []command

func init() {
	commands = []command{{
		name:     "preview",
		synopsis: "preview [--now TIME] [--as EMAIL] [--lang ko|en] [--format html|text|eml|json] [--out FILE|-] [--serve ADDR] [--templates DIR]",
		short:    "render the week's digest; send nothing",
		about: `Fetches the feeds and renders the digest of the week ending at --now as a
reader would get it. Nothing is mailed and nothing is recorded as mailed.
--lang shows the mail in that language (default: the --as subscriber's,
else the config's language).`,
		run: runPreview,
	}, {
		name:     "send",
		synopsis: "send (--to EMAIL... | --all) [--lang ko|en] [--now TIME] [--dry-run] [--yes]",
		short:    "mail the week's issue, or a test of it",
		about: `--all mails the week's issue to every active subscriber, once each, however
often it is run. --to mails a test of the current digest to the addresses
given and records nothing; it does not count as delivering the week's issue.
The two cannot be combined. A test is in the language of the subscriber at
that address, else the config's; --lang ko|en shows the other one.`,
		run: runSend,
	}, {
		name:     "run",
		synopsis: "run [--once]",
		short:    "the daemon: the schedule and the web pages",
		about: `Runs the schedule and serves the web pages until SIGTERM; SIGHUP reloads
the config. With --once, runs the scheduled job now and exits.`,
		run: runDaemon,
	}, {
		name:     "subscribers",
		synopsis: "subscribers COMMAND",
		short:    "manage the list of readers",
		about:    "Manages the list of readers kept in the store.",
	}, {
		name:     "subscribers add",
		synopsis: "subscribers add EMAIL [--name NAME] [--themes ID,ID] [--language L] [--articles A]",
		short:    "add a reader, or change one's name, themes or languages",
		about:    "Adds a reader to the list, or changes the name, themes, language or article languages of one already on it.",
		run:      runSubscribersAdd,
	}, {
		name:     "subscribers remove",
		synopsis: "subscribers remove EMAIL",
		short:    "delete a reader from the list",
		about:    "Deletes a reader from the list: no more issues go to the address.",
		run:      runSubscribersRemove,
	}, {
		name:     "subscribers list",
		synopsis: "subscribers list [--status STATUS] [--format table|csv|json]",
		short:    "print the list",
		about:    "Prints the readers on the list, one a line.",
		run:      runSubscribersList,
	}, {
		name:     "subscribers import",
		synopsis: "subscribers import FILE.csv",
		short:    "add the readers of a CSV file",
		about: `Adds or updates the readers of a CSV file with the columns
email[,name][,themes][,status]; the header row is optional.`,
		run: runSubscribersImport,
	}, {
		name:     "subscribers export",
		synopsis: "subscribers export [--out FILE]",
		short:    "write the list as CSV that import reads back",
		about:    "Writes the list as CSV, in the columns subscribers import reads.",
		run:      runSubscribersExport,
	}, {
		name:     "feeds",
		synopsis: "feeds COMMAND",
		short:    "look at the feeds",
		about:    "Looks at the configured feeds.",
	}, {
		name:     "feeds check",
		synopsis: "feeds check [--now TIME] [--format text|json]",
		short:    "fetch every feed; one row each",
		about: `Fetches every feed and prints one row each: its status, items, the items in
the week ending at --now, the newest, and any error with its fix. Exits 1 if
a feed failed.`,
		run: runFeedsCheck,
	}, {
		name:     "config",
		synopsis: "config COMMAND",
		short:    "look at the config",
		about:    "Looks at the config file.",
	}, {
		name:     "config check",
		synopsis: "config check",
		short:    "validate the config; print it as gull reads it",
		about: `Validates the config (the templates are tried too) and prints it as gull
will use it: defaults filled in, secrets shown only as set or unset.`,
		run: runConfigCheck,
	}, {
		name:     "bounces",
		synopsis: "bounces COMMAND",
		short:    "read the mail that comes back",
		about:    "Reads the bounce mailbox (config bounces: an IMAP folder or a Maildir).",
	}, {
		name:     "bounces check",
		synopsis: "bounces check [--dry-run]",
		short:    "read the bounce mailbox once; a line per message handled",
		about: `Reads every message of the bounce mailbox not handled yet, once: bounces and
complaints are recorded and applied (a hard bounce marks the reader bounced, a
complaint unsubscribes them, soft bounces of bounces.soft_limit issues in a row
mark them bounced), and the message is marked handled (IMAP: \Seen and
$GullHandled; Maildir: moved to cur/, seen). Prints one line per reader of
each message handled (the message, the address, the kind, status and reason,
what it did) and a count of the messages it left alone: mail it does not
understand stays exactly as it was, and nothing is deleted. A second check
changes nothing. With --dry-run, says what it would do and changes nothing.`,
		run: runBouncesCheck,
	}, {
		name:     "store",
		synopsis: "store COMMAND",
		short:    "move the store",
		about:    "Works on the store as a whole.",
	}, {
		name:     "store copy",
		synopsis: "store copy --to DSN|FILE",
		short:    "copy the whole store into an empty one (SQLite or PostgreSQL)",
		about: `Copies the configured store (store.path, store.dsn or store.dsn_env) into an
empty store, of the other engine or the same: subscribers, issues, drafts and
their history, the send ledger, feed states and articles, the stories mailed
and the link-signing key; not the leases of running processes. The target is
a postgres:// DSN (its password better in $PGPASSWORD than on the command
line) or a SQLite file. A target that holds anything is refused; the counts
are checked per table before the copy is committed, and a failure leaves the
target empty. Stop gull run first: what it writes during the copy is not in it.`,
		run: runStoreCopy,
	}, {
		name:     "version",
		synopsis: "version",
		short:    "print gull's version",
		about:    "Prints gull's version, the Go version and the platform.",
		run:      runVersion,
	}}
	commands = append(commands, issueCommands()...)
}

// lookup is the command of that name ("send", "subscribers add"), or nil.
func lookup(name string) *command {
	i := slices.IndexFunc(commands, func(c command) bool { return c.name == name })
	if i < 0 {
		return nil
	}
	return &commands[i]
}

// subcommands are the names of the commands under group, sorted ("add",
// "export", ...); with group "", the top-level commands but help, which
// is not one but another way to write --help (dispatch).
func subcommands(group string) []string {
	var names []string
	for _, c := range commands {
		if parent, sub, ok := strings.Cut(c.name, " "); ok && parent == group {
			names = append(names, sub)
		} else if !ok && group == "" {
			names = append(names, c.name)
		}
	}
	slices.Sort(names)
	return names
}

// subcommand picks the command of group that args name, and the arguments
// after its name.
func subcommand(a *app, group *command, args []string) (*command, []string, error) {
	names := subcommands(group.name)
	if len(args) == 0 {
		return nil, nil, usageError{fmt.Sprintf("%s needs a subcommand: %s", group.name, strings.Join(names, ", "))}
	}
	if isHelpFlag(args[0]) {
		printGroupUsage(a.stdout, group, names)
		return nil, nil, exitError{exitOK}
	}
	c := lookup(group.name + " " + args[0])
	if c == nil {
		a.command = group.name
		if s := config.Nearest(args[0], names); s != "" {
			return nil, nil, usageError{fmt.Sprintf("unknown command %q %q; did you mean \"%s %s\"?", group.name, args[0], group.name, s)}
		}
		return nil, nil, usageError{fmt.Sprintf("unknown command %q %q; try: %s %s", group.name, args[0], group.name, strings.Join(names, ", "))}
	}
	return c, args[1:], nil
}

func runVersion(_ context.Context, a *app, args []string) error {
	if err := parseFlags(a, a.flagSet("version"), args, ""); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "gull %s (%s %s/%s)\n", gullVersion(), runtime.Version(), runtime.GOOS, runtime.GOARCH)
	return nil
}

// timeHelp explains every --now; parseNow reads these three forms.
const timeHelp = `TIME is a date (2026-11-30: midnight) or a time without a zone (2026-11-30T08:00,
2026-11-30T08:00:00), both read in the config's timezone, or RFC 3339 with
its zone (2026-11-30T08:00:00+09:00). Without --now, TIME is now.`

// globalFlags are in every flag set (flagSet) and listed once, apart.
var globalFlags = map[string]bool{"config": true, "log-format": true, "v": true}

// flagValueNames say what a flag's value is, as the synopses write it.
var flagValueNames = map[string]string{
	"now": "TIME", "as": "EMAIL", "to": "EMAIL", "format": "FORMAT", "out": "FILE", "serve": "ADDR",
	"templates": "DIR", "name": "NAME", "themes": "ID,ID", "status": "STATUS",
	"issue": "ID", "version": "N", "file": "F",
	"lang": "ko|en",
}

// isHelpFlag reports whether arg asks for help, in any of the flag
// package's spellings.
func isHelpFlag(arg string) bool {
	switch arg {
	case "-h", "--h", "-help", "--help":
		return true
	}
	return false
}

// printUsage is a command's --help: its synopsis, what it does, and its
// own flags with their meaning, on stdout.
func printUsage(w io.Writer, fs *flag.FlagSet) {
	h := lookup(fs.Name())
	fmt.Fprintf(w, "usage: gull %s\n\n%s\n", h.synopsis, h.about)
	var own []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if !globalFlags[f.Name] {
			own = append(own, f)
		}
	})
	if len(own) > 0 {
		fmt.Fprintln(w, "\nflags:")
		printFlags(w, own)
	}
	if fs.Lookup("now") != nil {
		fmt.Fprintf(w, "\n%s\n", timeHelp)
	}
	fmt.Fprintln(w, "\nglobal flags (before or after the command): --config FILE, --log-format text|json, -v; see gull --help")
}

// printFlags lists flags as they are typed, each with its meaning and any
// default worth saying.
func printFlags(w io.Writer, flags []*flag.Flag) {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, f := range flags {
		name := flagName(f.Name)
		if !isBoolFlag(f) {
			value, _ := flag.UnquoteUsage(f)
			if v, ok := flagValueNames[f.Name]; ok {
				value = v
			}
			name += " " + value
		}
		usage := f.Usage
		if f.DefValue != "" && !isBoolFlag(f) {
			usage += fmt.Sprintf(" (default %s)", f.DefValue)
		}
		fmt.Fprintf(tw, "  %s\t%s\n", name, usage)
	}
	tw.Flush()
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// printGroupUsage is `gull subscribers --help`: the group's subcommands,
// one line each.
func printGroupUsage(w io.Writer, h *command, names []string) {
	group := h.name
	fmt.Fprintf(w, "usage: gull %s\n\n%s\n\ncommands:\n", h.synopsis, h.about)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range names {
		sub := lookup(group + " " + n)
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(sub.synopsis, group+" "), sub.short)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEach answers --help with its own usage, e.g. gull %s %s --help.\n", group, names[0])
}
