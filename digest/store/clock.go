package store

import (
	"context"
	"fmt"
	"time"
)

// skew is how far the store's clock is ahead of this process's: what a
// caller's now (and until) must be moved by before they are compared with
// claims and leases. On PostgreSQL it is measured against the server's
// clock, once per operation, so senders and daemons on machines whose
// clocks differ agree on whose claim or lease is live (a machine 3 s ahead
// would otherwise take another's claim 3 s early). On SQLite (one machine)
// it is zero.
func (s *Store) skew(ctx context.Context, q querier) (time.Duration, error) {
	if !s.pg {
		return 0, nil
	}
	var server time.Time
	before := s.processNow()
	if err := q.QueryRowContext(ctx, `SELECT clock_timestamp()`).Scan(&server); err != nil {
		return 0, fmt.Errorf("the server's time: %w", err)
	}
	after := s.processNow()
	// The server read its clock somewhere within the round trip: only
	// what lies outside it is surely skew. A server on this machine's
	// clock is exactly 0 off, so a time a caller gives means what it says.
	switch {
	case server.Before(before):
		return server.Sub(before).Truncate(time.Millisecond), nil // whole ms, as stored
	case server.After(after):
		return server.Sub(after).Truncate(time.Millisecond), nil
	}
	return 0, nil
}

// processNow is this process's clock; a test moves it to play a machine
// whose clock is off.
func (s *Store) processNow() time.Time {
	if s.processClock != nil {
		return s.processClock()
	}
	return time.Now()
}
