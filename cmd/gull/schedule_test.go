package main

import (
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
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
	s, err := newScheduler(spec, loc, quietLog(), func(slot time.Time, trigger string) {
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
	s, err := newScheduler("0 8 * * MON", seoul, quietLog(), func(time.Time, string) {})
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
