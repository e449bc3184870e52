// Package schedule is the wall-clock schedule of `gull run`: when, in the
// configured zone, the week's issue is built and sent. It sits beside the
// flow rather than in it (feeds -> collect -> pipeline -> render ->
// deliver): the daemon asks it for each slot, and the slot (not the time a
// run happens to start) names the week the run is for. cron/v3 keeps the
// clock; this package makes its specs read as a person's wall clock does,
// on the days the clocks change as on the others.
package schedule

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/robfig/cron/v3"
)

// Scheduler runs the daemon's job on the config's cron spec, in the
// config's zone, one run at a time.
//
// The job is told the scheduled time it runs for (its slot), not the time
// it happens to start: a run caught up on Tuesday still builds Monday's
// issue. Whether a slot was missed is worked out from a mark the store
// keeps (ScheduleDoneThrough), so it survives the machine going down.
type Scheduler struct {
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

// New parses spec (5 fields, or a descriptor such as @daily) for
// loc. job runs for each slot; cron's own chain recovers a panic in it
// and skips a slot that comes while the previous run still goes.
func New(spec string, loc *time.Location, log *slog.Logger, job func(slot time.Time, trigger string)) (*Scheduler, error) {
	sched, err := ParseSpec(spec, loc)
	if err != nil {
		return nil, err
	}
	cl := cronLogger{log}
	s := &Scheduler{
		cron: cron.New(
			cron.WithLocation(loc),
			cron.WithLogger(cl),
			// SkipIfStillRunning outside Recover: the other way round, a
			// panic unwinds through the skip wrapper before it gives its
			// token back, and every later run is skipped for good.
			cron.WithChain(cron.SkipIfStillRunning(cl), cron.Recover(cl)),
		),
		sched: sched,
		loc:   loc,
		log:   log,
		job:   job,
	}
	s.entry = s.cron.Schedule(sched, s.fire())
	return s, nil
}

// ParseSpec parses a spec for loc. A 5-field spec runs by the wall clock
// of loc (wallClock); a descriptor such as @every 6h by elapsed time.
func ParseSpec(spec string, loc *time.Location) (cron.Schedule, error) {
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

// NextRuns are the n slots of spec after from, in loc: config check
// shows them, the surest check that "0 8 * * MON" read in the configured
// zone means the Monday morning meant.
func NextRuns(spec string, loc *time.Location, from time.Time, n int) ([]time.Time, error) {
	sched, err := ParseSpec(spec, loc)
	if err != nil {
		return nil, err
	}
	runs := make([]time.Time, 0, n)
	for t := from.In(loc); len(runs) < n; runs = append(runs, t) {
		t = sched.Next(t).In(loc)
	}
	return runs, nil
}

// wallClock runs a cron spec by the wall clock of loc, on the days its
// clocks change as on the others. cron's own handling in a zone fires
// twice at a reading the clocks pass twice (01:30 when they go back) and
// never at one they skip (02:30 when they go forward): a digest would go
// out twice, or not that week. Here the spec is matched against wall-clock
// readings (written as UTC times, which have no changes), and each reading
// is placed in loc: a repeated one at its first occurrence, a skipped one
// read with the offset in force before the change, so it comes as long
// after the change as it was meant to after the hour (02:30 at 03:30).
type wallClock struct {
	spec *cron.SpecSchedule // in UTC
	loc  *time.Location
}

// Offsets lie within -12h and +14h of UTC, so a reading r is placed
// within [r-14h, r+12h], r read as a UTC time. That bounds the readings
// Next must look at.
const (
	maxEastOffset = 14 * time.Hour
	maxWestOffset = 12 * time.Hour
)

// Next is the earliest placement after t. Placements are not in the
// order of their readings around a change (a skipped 02:30 moved to 03:30
// comes after the 03:00 reading), so every reading that could place after
// t is looked at until none later could come first.
func (w wallClock) Next(t time.Time) time.Time {
	// Most of the time no change is near: when one offset holds from a
	// day before t to a day after the next reading, readings and instants
	// go in step, and the next reading is the answer.
	before := t.Add(-26 * time.Hour).In(w.loc)
	_, off := before.Zone()
	_, changes := before.ZoneBounds() // zero: the offset never changes again
	lt := t.In(w.loc)
	r := w.spec.Next(time.Date(lt.Year(), lt.Month(), lt.Day(), lt.Hour(), lt.Minute(), lt.Second(), lt.Nanosecond(), time.UTC))
	if r.IsZero() {
		return r
	}
	if at := r.Add(-time.Duration(off) * time.Second); at.After(t) && (changes.IsZero() || changes.After(at.Add(26*time.Hour))) {
		return at.In(w.loc)
	}
	return w.slowNext(t)
}

// slowNext is Next near a change.
func (w wallClock) slowNext(t time.Time) time.Time {
	var best time.Time
	r := t.UTC().Add(-maxWestOffset)
	for range 1 << 16 {
		r = w.spec.Next(r)
		if r.IsZero() || (!best.IsZero() && r.Add(-maxEastOffset).After(best)) {
			break
		}
		if at := w.place(r); at.After(t) && (best.IsZero() || at.Before(best)) {
			best = at
		}
	}
	if best.IsZero() {
		return best
	}
	return best.In(w.loc)
}

// place is the instant of the reading r in loc.
func (w wallClock) place(r time.Time) time.Time {
	var first time.Time
	for _, probe := range []time.Duration{-26 * time.Hour, -12 * time.Hour, 0, 12 * time.Hour, 26 * time.Hour} {
		_, off := r.Add(probe).In(w.loc).Zone()
		at := r.Add(-time.Duration(off) * time.Second)
		l := at.In(w.loc)
		if time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), l.Second(), 0, time.UTC).Equal(r) &&
			(first.IsZero() || at.Before(first)) {
			first = at
		}
	}
	if !first.IsZero() {
		return first
	}
	// Skipped: read it with the offset of the day before the change.
	_, before := r.Add(-26 * time.Hour).In(w.loc).Zone()
	return r.Add(-time.Duration(before) * time.Second)
}

// fire is the cron job for the schedule: its slot is the latest
// scheduled time not after now (cron wakes a moment after it).
func (s *Scheduler) fire() cron.Job {
	sched, loc := s.sched, s.loc
	return cron.FuncJob(func() {
		// The slot is the scheduled time this fire is for: cron wakes a
		// moment after it, or much later after the machine slept, and
		// a catch-up may have made that slot meanwhile (job checks).
		now := time.Now().In(loc)
		slot, ok := time.Time{}, false
		for _, back := range []time.Duration{time.Minute, 26 * time.Hour, 35 * 24 * time.Hour} {
			if slot, ok = LatestSlot(sched, now.Add(-back), now); ok {
				break
			}
		}
		if !ok {
			slot = now.Truncate(time.Second)
		}
		s.job(slot, "schedule")
	})
}

// Start starts the clock.
func (s *Scheduler) Start() { s.cron.Start() }

// Stop stops the clock; the returned context is done when a run that is
// going has returned.
func (s *Scheduler) Stop() context.Context { return s.cron.Stop() }

// Reschedule replaces the spec and zone (a reloaded config). The running
// job, if any, goes on; the new spec applies from its next slot.
func (s *Scheduler) Reschedule(spec string, loc *time.Location) error {
	sched, err := ParseSpec(spec, loc)
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
func (s *Scheduler) Next(now time.Time) time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sched.Next(now.In(s.loc))
}

// Missed returns the latest slot in (doneThrough, now]: a run that should
// have been made while the daemon was down. Several missed slots give one
// run, for the latest: the week is sent once, not once per missed Monday.
func (s *Scheduler) Missed(doneThrough, now time.Time) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return LatestSlot(s.sched, doneThrough, now.In(s.loc))
}

// LatestSlot is the latest time sched gives in (after, now], if any.
func LatestSlot(sched cron.Schedule, after, now time.Time) (time.Time, bool) {
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
