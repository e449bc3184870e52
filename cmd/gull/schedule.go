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

// parseSpec parses a spec for loc. A 5-field spec runs by the wall clock
// of loc (wallClock); a descriptor such as @every 6h by elapsed time.
func parseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	if ss, ok := sched.(*cron.SpecSchedule); ok {
		ss.Location = time.UTC
		return wallClock{spec: ss, loc: loc}, nil
	}
	return sched, nil
}

// wallClock runs a cron spec by the wall clock of loc, on the days its
// clocks change as on the others: once each. cron's own handling in a
// zone fires twice at a time the clocks pass twice (01:30 when they go
// back) and never at one they skip (02:30 when they go forward); a
// digest would go out twice, or not that week. Here the spec is matched
// against wall-clock readings (as if in UTC, which has no changes) and
// each reading is then placed in loc: a repeated one at its first
// occurrence, a skipped one as far after the change as it was meant to
// be after the hour (02:30 becomes 03:30).
type wallClock struct {
	spec *cron.SpecSchedule // in UTC
	loc  *time.Location
}

func (w wallClock) Next(t time.Time) time.Time {
	lt := t.In(w.loc)
	wall := time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC)
	for range 1000 { // a few steps at most; the bound guards a strange zone
		wall = w.spec.Next(wall)
		if wall.IsZero() {
			return wall
		}
		at := time.Date(wall.Year(), wall.Month(), wall.Day(), wall.Hour(), wall.Minute(), wall.Second(), 0, w.loc)
		if at.Hour() != wall.Hour() || at.Minute() != wall.Minute() {
			// The reading does not exist in loc (time.Date's placement
			// of it is unspecified): read it with the offset in force
			// before the change, the day before, which lands after.
			_, before := at.AddDate(0, 0, -1).Zone()
			at = wall.Add(-time.Duration(before) * time.Second).In(w.loc)
		}
		if at.After(t) {
			return at
		}
	}
	return time.Time{}
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
