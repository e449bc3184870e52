package main

import (
	"context"
	"fmt"
	"strings"

	"gull/digest/store"
)

// runStoreCopy copies the configured store into an empty one of either
// engine (store.CopyTo does the work and the checks).
func runStoreCopy(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("store copy")
	to := fs.String("to", "", "the empty store to copy into: a postgres:// DSN or a SQLite file")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	if strings.TrimSpace(*to) == "" {
		return usageError{"store copy: --to names no target; give a postgres:// DSN or a SQLite file, e.g. gull store copy --to postgres://gull@db.example.org/gull"}
	}
	_, src, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer src.Close()
	dst, err := store.Open(ctx, *to)
	if err != nil {
		return err
	}
	defer dst.Close()
	counts, err := src.CopyTo(ctx, dst)
	if err != nil {
		return err
	}
	for _, c := range counts {
		fmt.Fprintf(a.stdout, "%-15s %d\n", c.Table, c.Rows)
	}
	fmt.Fprintf(a.stdout, "copied %s to %s; the counts match\n", src.Path(), dst.Path())
	return nil
}
