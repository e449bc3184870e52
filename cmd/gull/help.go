package main

import (
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
)

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
