package signals

import (
	"context"
	"os"
	"syscall"
	"testing"
)

// The first SIGTERM ends the context and quits nothing; the second calls
// quit with it, and its exit status is the shell's (143).
func TestFirstSignalStopsSecondQuits(t *testing.T) {
	quit := make(chan os.Signal, 1)
	ctx, cancel := Context(context.Background(), func(sig os.Signal) { quit <- sig })
	defer cancel()
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	<-ctx.Done() // a first SIGTERM that did not end it hangs the test
	select {
	case sig := <-quit:
		t.Fatalf("the first signal quit (%v)", sig)
	default:
	}
	syscall.Kill(os.Getpid(), syscall.SIGTERM)
	if got := ExitStatus(<-quit); got != 143 {
		t.Errorf("exit status after a second SIGTERM: %d, want 143", got)
	}
}
