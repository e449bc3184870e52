package web

import (
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
)

// A crowd of readers must not open a database connection each: 1,000 at
// once opened 992 files and 241 MB before the pool was bounded. The pool's
// size is sampled while the requests run, and every request is answered.
func TestSiteCrowdKeepsStorePoolBounded(t *testing.T) {
	sf := newSiteFixture(t)
	const readers, bound = 1000, 8

	var peak atomic.Int64
	stop := make(chan struct{})
	sampled := make(chan struct{})
	go func() {
		defer close(sampled)
		for {
			if n := int64(sf.store.Stats().OpenConnections); n > peak.Load() {
				peak.Store(n)
			}
			select {
			case <-stop:
				return
			default:
			}
		}
	}()

	start := make(chan struct{})
	var wg sync.WaitGroup
	var failed atomic.Int32
	for range readers {
		wg.Go(func() {
			<-start
			rec := httptest.NewRecorder()
			sf.sh.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
			if rec.Code != 200 {
				failed.Add(1)
			}
		})
	}
	close(start)
	wg.Wait()
	close(stop)
	<-sampled

	if n := failed.Load(); n > 0 {
		t.Errorf("%d of %d readers were not served", n, readers)
	}
	if p := peak.Load(); p > bound {
		t.Errorf("%d readers at once opened %d database connections; want at most %d", readers, p, bound)
	}
	if open := sf.store.Stats().OpenConnections; open > bound {
		t.Errorf("after the crowd, %d connections stay open; want at most %d", open, bound)
	}
}
