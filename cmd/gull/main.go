// Command gull turns the week's AI-policy columns into an email digest.
// See README.md for the commands and ../../config.yaml for the settings.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"runtime/pprof"
	"syscall"
	_ "time/tzdata" // the configured zone works on machines without zoneinfo
)

func main() {
	ctx, cancel := context.WithCancel(context.Background())
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	go func() {
		// After the first signal, gull winds down within its grace; a
		// second one quits at once, as it would any program. It cannot
		// rely on the default action coming back: a shell starts a
		// background job with SIGINT ignored, so gull exits itself.
		<-sigs
		cancel()
		sig := <-sigs
		fmt.Fprintf(os.Stderr, "gull: %v again: quitting at once; messages on the wire are in doubt and go again, with the same Message-ID, at the next send\n", sig)
		pprof.StopCPUProfile()
		os.Exit(signalExit(sig))
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
	cancel()
	os.Exit(code)
}

// signalExit is the shell's status for a program killed by sig: 128 plus
// its number (130 for SIGINT, 143 for SIGTERM).
func signalExit(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
