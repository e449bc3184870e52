// Command gull turns the week's AI-policy columns into an email digest.
// See README.md for the commands, ARCHITECTURE.md for how it is built,
// and ../../config.yaml for the settings.
package main

import (
	"context"
	"fmt"
	"os"
	"runtime/pprof"
	_ "time/tzdata" // the configured zone works on machines without zoneinfo

	"gull/digest/signals"
)

func main() {
	// After the first signal, gull winds down within its grace; a second
	// one quits at once, as it would any program.
	ctx, cancel := signals.Context(context.Background(), func(sig os.Signal) {
		fmt.Fprintf(os.Stderr, "gull: %v again: quitting at once; messages on the wire are in doubt and go again, with the same Message-ID, at the next send\n", sig)
		pprof.StopCPUProfile()
		os.Exit(signals.ExitStatus(sig))
	})
	// GULL_CPUPROFILE=FILE writes a CPU profile of the command, for
	// finding where a send's time goes (bench/README.md).
	if path := os.Getenv("GULL_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	cancel()
	os.Exit(code)
}
