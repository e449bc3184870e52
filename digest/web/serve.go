package web

import (
	"context"
	"errors"
	"net"
	"net/http"
	"time"
)

// ServeUntil serves srv on ln until ctx ends (Ctrl-C), then shuts it down,
// giving the requests still open grace to finish. It returns Serve's
// error when the server stopped by itself.
func ServeUntil(ctx context.Context, srv *http.Server, ln net.Listener, grace time.Duration) error {
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), grace)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
