// Package signals is how every gull command stops: the first SIGINT
// (Ctrl-C) or SIGTERM ends a context, and the command winds down within
// its grace (a send finishes the messages on the wire and records them;
// the daemon stops in order); a second one quits at once. It stands
// outside the flow: the command line calls it once, in main.
package signals

import (
	"context"
	"os"
	"os/signal"
	"syscall"
)

// Context returns a context that ends at the first SIGINT or SIGTERM. At
// a second one, quit is called with it, and must end the process: gull
// cannot rely on the default action coming back, since a shell starts a
// background job with SIGINT ignored. cancel ends the context and stops
// the watch.
func Context(parent context.Context, quit func(os.Signal)) (ctx context.Context, cancel context.CancelFunc) {
	ctx, cancelCtx := context.WithCancel(parent)
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			cancelCtx()
		case <-done:
			return
		}
		select {
		case sig := <-sigs:
			quit(sig)
		case <-done:
		}
	}()
	stopped := false
	return ctx, func() {
		cancelCtx()
		if !stopped {
			stopped = true
			signal.Stop(sigs)
			close(done)
		}
	}
}

// ExitStatus is the shell's status for a program killed by sig: 128 plus
// its number (130 for SIGINT, 143 for SIGTERM).
func ExitStatus(sig os.Signal) int {
	if s, ok := sig.(syscall.Signal); ok {
		return 128 + int(s)
	}
	return 1
}
