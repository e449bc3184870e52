package main

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// scheduler runs the daemon's job on the config's cron spec, in the
// config's zone, one run at a time.
//
// The job is told the scheduled time it runs for (its slot), not the time
// it happens to start: a run caught up on Tuesday still builds Monday's
// issue. Whether a slot was missed is worked out from a mark the store
// keeps (ScheduleDoneThrough), so it survives the machine going down.
type scheduler struct {
	cron  *cron.Cron
	sched cron.Schedule
	loc   *time.Location
	log   *slog.Logger
	job   func(slot time.Time, trigger string)

	mu    sync.Mutex
	entry cron.EntryID
	// lastWall is the wall-clock time of the last slot run, in the zone:
	// see fire.
	lastWall string
}

// maxSlotsWalked bounds the walk from the done-through mark to now: a
// schedule every minute over a year of downtime is 525,600 slots, and only
// the latest matters. Beyond it, the latest is taken to be now.
const maxSlotsWalked = 1 << 20

// newScheduler parses spec (5 fields, or a descriptor such as @daily) for
// loc. job runs for each slot; cron's own chain recovers a panic in it
// and skips a slot that comes while the previous run still goes.
func newScheduler(spec string, loc *time.Location, log *slog.Logger, job func(slot time.Time, trigger string)) (*scheduler, error) {
	sched, err := parseSpec(spec, loc)
	if err != nil {
		return nil, err
	}
	cl := cronLogger{log}
	s := &scheduler{
		cron: cron.New(
			cron.WithLocation(loc),
			cron.WithLogger(cl),
			cron.WithChain(cron.Recover(cl), cron.SkipIfStillRunning(cl)),
		),
		sched: sched,
		loc:   loc,
		log:   log,
		job:   job,
	}
	s.entry = s.cron.Schedule(sched, s.fire())
	return s, nil
}

// parseSpec parses a spec for loc. The zone goes into the schedule as
// well as into cron (WithLocation), because a running Cron's zone cannot
// change and a reloaded config may name another.
func parseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	if ss, ok := sched.(*cron.SpecSchedule); ok {
		ss.Location = loc
	}
	return sched, nil
}

// fire is the cron job for the schedule: its slot is the latest
// scheduled time not after now (cron wakes a moment after it).
func (s *scheduler) fire() cron.Job {
	sched, loc := s.sched, s.loc
	return cron.FuncJob(func() {
		now := time.Now().In(loc)
		slot, ok := latestSlot(sched, now.Add(-time.Minute), now)
		if !ok {
			slot = now.Truncate(time.Second)
		}
		// When the clocks go back, a time such as 01:30 happens twice and
		// cron fires at both; the readers want one digest, not two.
		wall := slot.In(loc).Format("2006-01-02 15:04:05")
		s.mu.Lock()
		repeat := wall == s.lastWall
		s.lastWall = wall
		s.mu.Unlock()
		if repeat {
			s.log.Info("the clocks went back: this wall-clock time already had its run", "slot", slot.Format(time.RFC3339))
			return
		}
		s.job(slot, "schedule")
	})
}

// Start starts the clock.
func (s *scheduler) Start() { s.cron.Start() }

// Stop stops the clock; the returned context is done when a run that is
// going has returned.
func (s *scheduler) Stop() context.Context { return s.cron.Stop() }

// Reschedule replaces the spec and zone (a reloaded config). The running
// job, if any, goes on; the new spec applies from its next slot.
func (s *scheduler) Reschedule(spec string, loc *time.Location) error {
	sched, err := parseSpec(spec, loc)
	if err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.cron.Remove(s.entry)
	s.sched, s.loc = sched, loc
	s.entry = s.cron.Schedule(sched, s.fire())
	return nil
}

// Next is the next slot after now.
func (s *scheduler) Next(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched.Next(now.In(s.loc))
}

// Missed returns the latest slot in (doneThrough, now]: a run that should
// have been made while the daemon was down. Several missed slots give one
// run, for the latest: the week is sent once, not once per missed Monday.
func (s *scheduler) Missed(doneThrough, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return latestSlot(s.sched, doneThrough, now.In(s.loc))
}

// Latest is the latest slot at or before now, looking back from since.
func (s *scheduler) Latest(since, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return latestSlot(s.sched, since, now.In(s.loc))
}

// latestSlot is the latest time sched gives in (after, now], if any.
func latestSlot(sched cron.Schedule, after, now time.Time) (time.Time, bool) {
	loc := now.Location()
	t := sched.Next(after.In(loc))
	if t.IsZero() || t.After(now) {
		return time.Time{}, false
	}
	for range maxSlotsWalked {
		n := sched.Next(t)
		if n.IsZero() || n.After(now) {
			return t, true
		}
		t = n
	}
	return now.Truncate(time.Second), true
}

// cronLogger writes cron's log through slog. Cron's Info lines (each wake
// and schedule) are debug detail for gull; its errors (a recovered panic)
// are errors.
type cronLogger struct{ log *slog.Logger }

func (c cronLogger) Info(msg string, kv ...any) {
	if msg == "skip" {
		c.log.Warn("a scheduled run was skipped: the previous one is still going")
		return
	}
	c.log.Debug("cron: "+msg, kv...)
}

func (c cronLogger) Error(err error, msg string, kv ...any) {
	c.log.Error("cron: "+msg, append(kv, "err", err)...)
}
