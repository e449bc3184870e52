// Command gull turns the week's AI-policy columns into an email digest.
// See README.md for the commands and ../../config.yaml for the settings.
package main

import (
	"context"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // the configured zone works on machines without zoneinfo
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, gull winds down; a second one kills it
		// at once, as it would any program.
		<-ctx.Done()
		stop()
	}()
	// GULL_CPUPROFILE=FILE writes a CPU profile of the command, for
	// finding where a send's time goes (bench/README.md).
	if path := os.Getenv("GULL_CPUPROFILE"); path != "" {
		if f, err := os.Create(path); err == nil {
			pprof.StartCPUProfile(f)
		}
	}
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	pprof.StopCPUProfile()
	stop()
	os.Exit(code)
}
