package web

import (
	"context"
	"log/slog"
	"sync"
	"time"
)

// The sign-up's work (the store, the confirmation mail) is done after the
// page is answered, by a few workers reading a bounded queue: a sign-up
// answers at once whatever the mail server does, a hung server holds
// workers and not requests, and a full queue is refused (503) rather than
// promised. A confirmation the site's hourly budget holds back waits in
// a bounded list and is queued again when the budget allows.

const (
	// signUpQueue is how many sign-ups may wait for a worker.
	signUpQueue = 256
	// retryEvery is how often held-back confirmations are looked at.
	retryEvery = time.Minute
	// expireEvery is how often pending sign-ups past http.pending_ttl are
	// deleted (on the next sign-up after it).
	expireEvery = time.Minute
)

// job is one piece of sign-up work.
type job func(ctx context.Context)

// signUps is the queue, its workers and the confirmations held back. It
// lives in pagesState, and so is carried over a reload with the caps.
type signUps struct {
	queue    chan job
	start    sync.Once
	inflight sync.WaitGroup // jobs queued or running
	ctx      context.Context
	cancel   context.CancelFunc
	// qmu orders enqueue against halt: a job queued after the workers
	// have drained the queue for the last time would never be taken, and
	// Wait would wait for it for ever.
	qmu sync.Mutex

	mailed   *mailThrottle // the hourly budget held mails wait for
	mu       sync.Mutex
	held     []heldMail // confirmations waiting for the hourly budget
	maxHeld  int
	expireAt time.Time // when pending rows are next deleted
}

// heldMail is a confirmation the hourly budget held back: send is the
// mail, retried by the pages that took the sign-up.
type heldMail struct {
	p    *SubscriberPages
	send job
}

func newSignUps(queue, maxHeld int, mailed *mailThrottle) *signUps {
	ctx, stop := context.WithCancel(context.Background())
	return &signUps{queue: make(chan job, queue), ctx: ctx, cancel: stop, maxHeld: maxHeld, mailed: mailed}
}

// halt stops the workers and the retrier and refuses new work. It says
// how many confirmations it drops: queued, and held back by the budget.
func (s *signUps) halt() (queued, held int) {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	s.mu.Lock()
	held = len(s.held)
	s.held = nil
	s.mu.Unlock()
	queued = len(s.queue)
	s.cancel()
	return queued, held
}

// enqueue hands j to the workers; false when the queue is full or
// stopped.
func (s *signUps) enqueue(j job) bool {
	s.start.Do(s.startWorkers)
	s.qmu.Lock()
	defer s.qmu.Unlock()
	if s.ctx.Err() != nil {
		return false
	}
	s.inflight.Add(1)
	select {
	case s.queue <- j:
		return true
	default:
		s.inflight.Done()
		return false
	}
}

func (s *signUps) startWorkers() {
	for range signUpWorkers {
		go s.work()
	}
	go s.retrier()
}

// retrier queues held-back confirmations again once a minute, on the
// clock of the pages that held them (tests move it).
func (s *signUps) retrier() {
	tick := time.NewTicker(retryEvery)
	defer tick.Stop()
	for {
		select {
		case <-tick.C:
			s.mu.Lock()
			var now time.Time
			if len(s.held) > 0 {
				now = s.held[0].p.now()
			}
			s.mu.Unlock()
			if !now.IsZero() {
				s.retryHeld(now)
			}
		case <-s.ctx.Done():
			return
		}
	}
}

func (s *signUps) work() {
	for {
		select {
		case j := <-s.queue:
			s.run(j)
		case <-s.ctx.Done():
			// Stopped: what is still queued is dropped. Each such reader
			// is stored as pending and can sign up again.
			for {
				select {
				case <-s.queue:
					s.inflight.Done()
				default:
					return
				}
			}
		}
	}
}

func (s *signUps) run(j job) {
	defer s.inflight.Done()
	defer func() {
		// No panic here may take the server down with it.
		if v := recover(); v != nil {
			slog.Error("sign-up failed", "panic", v)
		}
	}()
	ctx, cancel := context.WithTimeout(s.ctx, signUpTimeout)
	defer cancel()
	j(ctx)
}

// hold keeps a confirmation for later; false when the list is full.
func (s *signUps) hold(h heldMail) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.held) >= s.maxHeld {
		return false
	}
	s.held = append(s.held, h)
	return true
}

// canHold says whether a confirmation held back now would be kept.
func (s *signUps) canHold() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.held) < s.maxHeld
}

// retryHeld queues the held confirmations again, as many as the hourly
// budget allows now; the rest keep waiting.
func (s *signUps) retryHeld(now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	queued := 0
	for _, h := range s.held[:min(len(s.held), s.mailed.budgetLeft(now))] {
		if !s.enqueue(h.send) {
			break // the queue is full: the rest stay held
		}
		queued++
	}
	s.held = append(s.held[:0], s.held[queued:]...)
}

// shouldExpire says whether it is time to delete expired pending rows,
// and if so moves the next time on.
func (s *signUps) shouldExpire(now time.Time) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if now.Before(s.expireAt) {
		return false
	}
	s.expireAt = now.Add(expireEvery)
	return true
}
