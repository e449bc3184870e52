package schedule

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/robfig/cron/v3"
)

// The scheduler's tests run in a synctest bubble: the clock starts at
// 2000-01-01 00:00 UTC and jumps whenever every goroutine waits, so a
// year of Mondays takes milliseconds, and cron itself runs unchanged.

func quietLog() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// firings runs spec in loc from the bubble's start until end and returns
// the slots the job was given and the times it ran.
func firings(t *testing.T, spec string, loc *time.Location, end time.Time, work time.Duration) (slots, ran []time.Time, maxAtOnce int32) {
	t.Helper()
	var mu sync.Mutex
	var running atomic.Int32
	s, err := New(spec, loc, quietLog(), func(slot time.Time, trigger string) {
		if n := running.Add(1); n > maxAtOnce {
			maxAtOnce = n
		}
		mu.Lock()
		slots = append(slots, slot)
		ran = append(ran, time.Now())
		mu.Unlock()
		time.Sleep(work)
		running.Add(-1)
	})
	if err != nil {
		t.Fatal(err)
	}
	s.Start()
	time.Sleep(time.Until(end))
	<-s.Stop().Done()
	return slots, ran, maxAtOnce
}

func TestScheduleKeepsLocalTimeAcrossDST(t *testing.T) {
	// New York moved its clocks forward on 2000-04-02 and back on
	// 2000-10-29; Seoul has no DST, so the DST case needs another zone.
	ny, err := time.LoadLocation("America/New_York")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		slots, ran, _ := firings(t, "0 8 * * MON", ny, time.Date(2000, 11, 14, 0, 0, 0, 0, time.UTC), 0)
		if len(slots) != 46 { // the Mondays from Jan 3 to Nov 13, 2000
			t.Fatalf("%d runs, want 46: %v", len(slots), slots)
		}
		utcHours := map[int]int{}
		for i, s := range slots {
			local := ran[i].In(ny)
			if local.Weekday() != time.Monday || local.Hour() != 8 || local.Minute() != 0 {
				t.Errorf("run %d at %s, want Monday 08:00 New York time", i, local)
			}
			if !s.Equal(ran[i]) {
				t.Errorf("run %d was given slot %s but ran at %s", i, s, ran[i])
			}
			utcHours[ran[i].UTC().Hour()]++
		}
		// 08:00 EST is 13:00 UTC, 08:00 EDT is 12:00 UTC: the schedule
		// followed the wall clock, not a fixed offset.
		if utcHours[13] == 0 || utcHours[12] == 0 || len(utcHours) != 2 {
			t.Errorf("UTC hours of the runs: %v; want both 12 (summer) and 13 (winter)", utcHours)
		}
	})
}

func TestScheduleRunsOnceOnTheDaysClocksChange(t *testing.T) {
	ny, _ := time.LoadLocation("America/New_York")
	for _, c := range []struct {
		spec string
		// on the day the clocks change, the run is at this local time
		day, at string
	}{
		// 02:30 does not exist on 2000-04-02 (02:00 becomes 03:00): the
		// run is an hour after 02:00's place, at 03:30.
		{"30 2 * * *", "2000-04-02", "03:30 EDT"},
		// 01:30 happens twice on 2000-10-29 (02:00 becomes 01:00): the
		// run is at the first.
		{"30 1 * * *", "2000-10-29", "01:30 EDT"},
	} {
		t.Run(c.spec, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				_, ran, _ := firings(t, c.spec, ny, time.Date(2000, 11, 5, 0, 0, 0, 0, time.UTC), 0)
				perDay := map[string][]string{}
				for _, r := range ran {
					l := r.In(ny)
					perDay[l.Format("2006-01-02")] = append(perDay[l.Format("2006-01-02")], l.Format("15:04 MST"))
				}
				for day := time.Date(2000, 1, 1, 12, 0, 0, 0, ny); day.Before(time.Date(2000, 11, 4, 0, 0, 0, 0, ny)); day = day.AddDate(0, 0, 1) {
					if n := len(perDay[day.Format("2006-01-02")]); n != 1 {
						t.Errorf("%s: %d runs %v, want 1", day.Format("2006-01-02"), n, perDay[day.Format("2006-01-02")])
					}
				}
				if got := perDay[c.day]; len(got) != 1 || got[0] != c.at {
					t.Errorf("%s: runs at %v, want %s", c.day, got, c.at)
				}
			})
		})
	}
}

func TestScheduleSkipsOverlappingRuns(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		// A run every minute that takes two and a half: the runs at +2m
		// and +3m come while the first (+1m) still goes, and are skipped.
		_, ran, maxAtOnce := firings(t, "* * * * *", time.UTC, start.Add(10*time.Minute+30*time.Second), 150*time.Second)
		if maxAtOnce != 1 {
			t.Errorf("%d runs went at once; want 1", maxAtOnce)
		}
		var got []time.Duration
		for _, r := range ran {
			got = append(got, r.Sub(start))
		}
		want := []time.Duration{time.Minute, 4 * time.Minute, 7 * time.Minute, 10 * time.Minute}
		if len(got) != len(want) {
			t.Fatalf("runs at %v, want %v", got, want)
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("runs at %v, want %v", got, want)
				break
			}
		}
	})
}

func TestMissedSlot(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	s, err := New("0 8 * * MON", seoul, quietLog(), func(time.Time, string) {})
	if err != nil {
		t.Fatal(err)
	}
	at := func(v string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", v, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	for _, c := range []struct {
		name, done, now, want string // want "" = nothing missed
	}{
		{"up all week", "2026-11-23 08:00", "2026-11-29 20:00", ""},
		{"down over Monday morning", "2026-11-23 08:00", "2026-11-30 10:15", "2026-11-30 08:00"},
		{"back just at the slot", "2026-11-23 08:00", "2026-11-30 08:00", "2026-11-30 08:00"},
		{"back a minute before", "2026-11-23 08:00", "2026-11-30 07:59", ""},
		{"down three Mondays: one run, for the latest", "2026-11-09 08:00", "2026-12-01 09:00", "2026-11-30 08:00"},
		{"the slot's own run done", "2026-11-30 08:00", "2026-11-30 08:30", ""},
		{"first start marked mid-week", "2026-11-25 14:00", "2026-11-27 09:00", ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			got, ok := s.Missed(at(c.done), at(c.now))
			switch {
			case c.want == "" && ok:
				t.Errorf("missed %s; want nothing", got)
			case c.want != "" && !ok:
				t.Errorf("nothing missed; want %s", c.want)
			case c.want != "" && !got.Equal(at(c.want)):
				t.Errorf("missed %s; want %s", got, c.want)
			}
		})
	}
}

// TestWallClockAroundEveryChange checks the schedule against a brute
// force reading of the clock: minute by minute over four days around each
// change of offset in a year, a reading the spec names must run at its
// first occurrence, and one the clocks skip must run as long after the
// change as it was meant to be after the change's hour.
func TestWallClockAroundEveryChange(t *testing.T) {
	wallOf := func(u time.Time, loc *time.Location) time.Time {
		l := u.In(loc)
		return time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
	}
	for _, z := range []struct {
		zone string
		year int
	}{
		{"America/New_York", 2026}, {"Europe/Berlin", 2026}, {"Australia/Sydney", 2026},
		{"Australia/Lord_Howe", 2026}, {"Asia/Seoul", 2026}, {"Pacific/Apia", 2011},
	} {
		loc, err := time.LoadLocation(z.zone)
		if err != nil {
			t.Fatal(err)
		}
		// The changes of offset in the year, found hour by hour.
		var changes []time.Time
		for u := time.Date(z.year, 1, 1, 0, 0, 0, 0, time.UTC); u.Year() == z.year; u = u.Add(time.Hour) {
			_, a := u.In(loc).Zone()
			_, b := u.Add(time.Hour).In(loc).Zone()
			if a != b {
				changes = append(changes, u.Add(time.Hour))
			}
		}
		for _, spec := range []string{"30 2 * * *", "0,30 2 * * *", "30 1 * * *", "*/30 1-3 * * *", "0 9 * * 1-5", "@daily"} {
			sched, err := ParseSpec(spec, loc)
			if err != nil {
				t.Fatal(err)
			}
			raw, _ := cron.ParseStandard(spec)
			utcSpec := raw.(*cron.SpecSchedule)
			utcSpec.Location = time.UTC
			matches := func(r time.Time) bool { return utcSpec.Next(r.Add(-time.Second)).Equal(r) }
			for _, change := range changes {
				from, to := change.Add(-48*time.Hour), change.Add(48*time.Hour)
				// What should run: each reading's first minute, and the
				// readings never shown at the offset before the change.
				var want []time.Time
				seen := map[time.Time]bool{}
				for u := from; u.Before(to); u = u.Add(time.Minute) {
					if r := wallOf(u, loc); !seen[r] {
						seen[r] = true
						if matches(r) {
							want = append(want, u)
						}
					}
				}
				_, before := from.In(loc).Zone()
				for r := wallOf(from, loc); r.Before(wallOf(to, loc)); r = r.Add(time.Minute) {
					if !seen[r] && matches(r) {
						want = append(want, r.Add(-time.Duration(before)*time.Second))
					}
				}
				// A skipped reading may land where a real one is (02:00
				// moved to 03:00): one run at that instant.
				slices.SortFunc(want, func(a, b time.Time) int { return a.Compare(b) })
				want = slices.CompactFunc(want, time.Time.Equal)
				// What runs: Next from the window's start.
				var got []time.Time
				for u := sched.Next(from.Add(-time.Second)); u.Before(to); u = sched.Next(u) {
					got = append(got, u)
				}
				// From any moment, the next run is the next of these (a
				// start at 03:25 on the day 02:30 moved to 03:30 still
				// gets it).
				for i := 1; i < len(want); i++ {
					for _, back := range []time.Duration{time.Second, 19 * time.Minute} {
						if at := want[i].Add(-back); at.After(want[i-1]) {
							if next := sched.Next(at); !next.Equal(want[i]) {
								t.Errorf("%s %q: Next(%s) = %s, want %s", z.zone, spec, at.In(loc), next.In(loc), want[i].In(loc))
							}
						}
					}
				}
				if i := firstDifference(got, want); i >= 0 {
					t.Errorf("%s %q around %s: runs differ from run %d:\n got %v\nwant %v", z.zone, spec, change.In(loc), i,
						inZone(got[i:min(i+4, len(got))], loc), inZone(want[i:min(i+4, len(want))], loc))
				}
			}
		}
	}
}

// firstDifference is the index where a and b first differ, or -1.
func firstDifference(a, b []time.Time) int {
	for i := range min(len(a), len(b)) {
		if !a[i].Equal(b[i]) {
			return i
		}
	}
	if len(a) != len(b) {
		return min(len(a), len(b))
	}
	return -1
}

func inZone(ts []time.Time, loc *time.Location) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.In(loc).Format("01-02 15:04 -07:00"))
	}
	return out
}

// BenchmarkScheduleNext compares the wall-clock schedule's Next with
// cron's own, the reference, in Seoul and New York: cron calls it once
// per run.
func BenchmarkScheduleNext(b *testing.B) {
	for _, zone := range []string{"Asia/Seoul", "America/New_York"} {
		loc, _ := time.LoadLocation(zone)
		for _, spec := range []string{"0 8 * * MON", "*/15 * * * *"} {
			wall, _ := ParseSpec(spec, loc)
			raw, _ := cron.ParseStandard(spec)
			raw.(*cron.SpecSchedule).Location = loc
			for _, c := range []struct {
				name  string
				sched cron.Schedule
			}{{"cron", raw}, {"wallclock", wall}} {
				b.Run(zone+"/"+spec+"/"+c.name, func(b *testing.B) {
					t := time.Date(2026, 3, 1, 0, 0, 0, 0, loc)
					for b.Loop() {
						t = c.sched.Next(t)
					}
				})
			}
		}
	}
}

func TestSchedulePanicDoesNotStopIt(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var runs atomic.Int32
		s, err := New("@every 1m", time.UTC, quietLog(), func(time.Time, string) {
			if runs.Add(1) == 1 {
				panic("a bug in the first run")
			}
		})
		if err != nil {
			t.Fatal(err)
		}
		s.Start()
		time.Sleep(3*time.Minute + time.Second)
		<-s.Stop().Done()
		if n := runs.Load(); n != 3 {
			t.Errorf("%d runs, want 3: the panic of the first must not stop the others", n)
		}
	})
}

// TestWallClockNextAcrossShortSeasons: a month's schedule whose next run
// lies beyond a change of offset and its undoing, weeks apart (Fiji's
// summer time of 2020/21 lasted 28 days, Recife's of 2000 a week): the
// repeated reading still runs at its first occurrence.
func TestWallClockNextAcrossShortSeasons(t *testing.T) {
	for _, c := range []struct {
		zone, spec, from, want string
	}{
		{"Pacific/Fiji", "30 2 17 * *", "2020-12-20T03:33:00+13:00", "2021-01-17T02:30:00+13:00"},
		{"America/Recife", "30 23 14 * *", "2000-09-16T23:31:00-03:00", "2000-10-14T23:30:00-02:00"},
	} {
		loc, err := time.LoadLocation(c.zone)
		if err != nil {
			t.Fatal(err)
		}
		sched, _ := ParseSpec(c.spec, loc)
		from, _ := time.Parse(time.RFC3339, c.from)
		want, _ := time.Parse(time.RFC3339, c.want)
		if got := sched.Next(from); !got.Equal(want) {
			t.Errorf("%s %q: Next(%s) = %s, want %s", c.zone, c.spec, c.from, got.Format(time.RFC3339), c.want)
		}
	}
}
