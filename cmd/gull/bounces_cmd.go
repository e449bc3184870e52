package main

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"gull/digest/bouncebox"
	"gull/digest/render"
	"gull/digest/send"
)

// runBouncesCheck reads the bounce mailbox once (send.Env.CheckBounces)
// and prints a line per reader of each message handled, then what it
// left alone. The operator sees whole addresses, as in subscribers list.
func runBouncesCheck(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("bounces check")
	dry := fs.Bool("dry-run", false, "say what the check would do; record nothing and leave every message as it is")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	cfg, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	res, err := a.env(send.DefaultGrace).CheckBounces(ctx, cfg, st, bouncebox.Options{DryRun: *dry})
	// A check that failed partway (the IMAP server went away) says what it
	// did before: that is recorded.
	for _, l := range res.Handled {
		fmt.Fprintln(a.stdout, l.String())
	}
	if err != nil {
		if res.Messages > 0 {
			fmt.Fprintf(a.stdout, "handled %d %s before the error\n", res.Messages, render.Plural(res.Messages, "message", "messages"))
		}
		return err
	}
	var left []string
	for why, n := range res.Left {
		left = append(left, fmt.Sprintf("%d %s", n, why))
	}
	slices.Sort(left)
	what := "handled"
	if *dry {
		what = "dry run: would handle"
	}
	tail := ""
	if len(left) > 0 {
		tail = " (" + strings.Join(left, ", ") + ")"
	}
	fmt.Fprintf(a.stdout, "%s %d %s; left %d alone%s\n", what, res.Messages, render.Plural(res.Messages, "message", "messages"), res.LeftTotal(), tail)
	for _, e := range res.Errs {
		fmt.Fprintf(a.stderr, "gull: bounces check: %v\n", e)
	}
	if len(res.Errs) > 0 {
		return exitError{exitFailure}
	}
	return nil
}
