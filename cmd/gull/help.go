package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

// cmdHelp is what `gull COMMAND --help` says besides the flags, which come
// from the command's own flag set so they cannot drift from what it takes.
type cmdHelp struct {
	synopsis string // after "usage: gull "
	short    string // one line, for the list of a group's subcommands
	about    string // what the command does, for its own page
}

// timeHelp explains every --now; parseNow reads these three forms.
const timeHelp = `TIME is a date (2026-11-30: midnight) or a time without a zone (2026-11-30T08:00,
2026-11-30T08:00:00), both read in the config's timezone, or RFC 3339 with
its zone (2026-11-30T08:00:00+09:00). Without --now, TIME is now.`

// commandHelp has an entry for every command and subcommand, under the name
// its flag set is given (a.flagSet(name)).
var commandHelp = map[string]cmdHelp{
	"preview": {
		synopsis: "preview [--now TIME] [--as EMAIL] [--format html|text|eml|json] [--out FILE|-] [--serve ADDR] [--templates DIR]",
		short:    "render the week's digest; send nothing",
		about: `Fetches the feeds and renders the digest of the week ending at --now as a
reader would get it. Nothing is mailed and nothing is recorded as mailed.`,
	},
	"send": {
		synopsis: "send (--to EMAIL... | --all) [--now TIME] [--dry-run] [--yes]",
		short:    "mail the week's issue, or a test of it",
		about: `--all mails the week's issue to every active subscriber, once each, however
often it is run. --to mails a test of the current digest to the addresses
given and records nothing; it does not count as delivering the week's issue.
The two cannot be combined.`,
	},
	"run": {
		synopsis: "run [--once]",
		short:    "the daemon: the schedule and the web pages",
		about: `Runs the schedule and serves the web pages until SIGTERM; SIGHUP reloads
the config. With --once, runs the scheduled job now and exits.`,
	},
	"subscribers": {
		synopsis: "subscribers COMMAND",
		short:    "manage the list of readers",
		about:    "Manages the list of readers kept in the store.",
	},
	"subscribers add": {
		synopsis: "subscribers add EMAIL [--name NAME] [--themes ID,ID]",
		short:    "add a reader, or change one's name or themes",
		about:    "Adds a reader to the list, or changes the name or themes of one already on it.",
	},
	"subscribers remove": {
		synopsis: "subscribers remove EMAIL",
		short:    "delete a reader from the list",
		about:    "Deletes a reader from the list: no more issues go to the address.",
	},
	"subscribers list": {
		synopsis: "subscribers list [--status STATUS] [--format table|csv|json]",
		short:    "print the list",
		about:    "Prints the readers on the list, one a line.",
	},
	"subscribers import": {
		synopsis: "subscribers import FILE.csv",
		short:    "add the readers of a CSV file",
		about: `Adds or updates the readers of a CSV file with the columns
email[,name][,themes][,status]; the header row is optional.`,
	},
	"subscribers export": {
		synopsis: "subscribers export [--out FILE]",
		short:    "write the list as CSV that import reads back",
		about:    "Writes the list as CSV, in the columns subscribers import reads.",
	},
	"feeds": {
		synopsis: "feeds COMMAND",
		short:    "look at the feeds",
		about:    "Looks at the configured feeds.",
	},
	"feeds check": {
		synopsis: "feeds check [--now TIME] [--format text|json]",
		short:    "fetch every feed; one row each",
		about: `Fetches every feed and prints one row each: its status, items, the items in
the week ending at --now, the newest, and any error with its fix. Exits 1 if
a feed failed.`,
	},
	"config": {
		synopsis: "config COMMAND",
		short:    "look at the config",
		about:    "Looks at the config file.",
	},
	"config check": {
		synopsis: "config check",
		short:    "validate the config; print it as gull reads it",
		about: `Validates the config (the templates are tried too) and prints it as gull
will use it: defaults filled in, secrets shown only as set or unset.`,
	},
	"version": {
		synopsis: "version",
		short:    "print gull's version",
		about:    "Prints gull's version, the Go version and the platform.",
	},
}

// globalFlags are in every flag set (flagSet) and listed once, apart.
var globalFlags = map[string]bool{"config": true, "log-format": true, "v": true}

// flagValueNames say what a flag's value is, as the synopses write it.
var flagValueNames = map[string]string{
	"now": "TIME", "as": "EMAIL", "to": "EMAIL", "format": "FORMAT", "out": "FILE", "serve": "ADDR",
	"templates": "DIR", "name": "NAME", "themes": "ID,ID", "status": "STATUS",
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
func (a *app) printUsage(fs *flag.FlagSet) {
	h := commandHelp[fs.Name()]
	w := a.stdout
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
func (a *app) printGroupUsage(group string, names []string) {
	h := commandHelp[group]
	w := a.stdout
	fmt.Fprintf(w, "usage: gull %s\n\n%s\n\ncommands:\n", h.synopsis, h.about)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, n := range names {
		sub := commandHelp[group+" "+n]
		fmt.Fprintf(tw, "  %s\t%s\n", strings.TrimPrefix(sub.synopsis, group+" "), sub.short)
	}
	tw.Flush()
	fmt.Fprintf(w, "\nEach answers --help with its own usage, e.g. gull %s %s --help.\n", group, names[0])
}
