//go:build unix

package store

import (
	"errors"
	"syscall"
)

func init() {
	// Signal 0 checks for the process without touching it; EPERM means it
	// exists under another user.
	processAlive = func(pid int) bool {
		err := syscall.Kill(pid, 0)
		return err == nil || errors.Is(err, syscall.EPERM)
	}
}
