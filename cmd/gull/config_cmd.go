package main

import (
	"context"
	"fmt"
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
	out, err := cfg.Redacted(a.getenv)
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "# %s is valid; effective configuration:\n", cfg.Path)
	_, err = a.stdout.Write(out)
	return err
}
