package daemon

import (
	"testing"
	"time"

	"gull/digest/config"
)

// The draft time: review.draft's latest time within the window,
// or 24 h before the send; nothing is due before it, nor with no editors.
func TestDraftSlot(t *testing.T) {
	seoul, _ := time.LoadLocation("Asia/Seoul")
	at := func(s string) time.Time {
		v, err := time.ParseInLocation("2006-01-02 15:04", s, seoul)
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
	load := func(review string) *config.Config {
		cfg, err := config.Parse("config.yaml", []byte("timezone: Asia/Seoul\nschedule: \"0 8 * * MON\"\nfeeds: [{url: f.xml}]\n"+review))
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}
	friday := load("review: {editors: [ed@example.org], draft: \"0 16 * * FRI\"}\n")
	byDefault := load("review: {editors: [ed@example.org]}\n")
	off := load("")
	monday := at("2026-12-07 08:00")
	cases := []struct {
		name    string
		cfg     *config.Config
		now     time.Time
		due     bool
		draftAt time.Time
	}{
		{"before Friday 16:00", friday, at("2026-12-04 15:59"), false, time.Time{}},
		{"at Friday 16:00", friday, at("2026-12-04 16:00"), true, at("2026-12-04 16:00")},
		{"on Sunday", friday, at("2026-12-06 12:00"), true, at("2026-12-04 16:00")},
		{"after the send: next week's is not due", friday, at("2026-12-07 08:01"), false, time.Time{}},
		{"default, a day and a minute before", byDefault, at("2026-12-06 07:59"), false, time.Time{}},
		{"default, a day before", byDefault, at("2026-12-06 08:00"), true, at("2026-12-06 08:00")},
		{"no editors", off, at("2026-12-06 12:00"), false, time.Time{}},
	}
	for _, c := range cases {
		sendAt, draftAt, due := draftSlot(c.cfg, c.now)
		if due != c.due || (due && (!draftAt.Equal(c.draftAt) || !sendAt.Equal(monday))) {
			t.Errorf("%s: due %v, draft %v, send %v; want due %v, draft %v, send %v", c.name, due, draftAt, sendAt, c.due, c.draftAt, monday)
		}
	}
	if next, ok := nextDraftTime(byDefault, at("2026-12-06 09:00")); !ok || !next.Equal(at("2026-12-13 08:00")) {
		t.Errorf("next default draft time after Sunday 09:00: %v %v, want the next Sunday 08:00", next, ok)
	}
	if next, ok := nextDraftTime(friday, at("2026-12-04 16:00")); !ok || !next.Equal(at("2026-12-11 16:00")) {
		t.Errorf("next Friday draft time: %v %v", next, ok)
	}
	if _, ok := nextDraftTime(off, at("2026-12-04 16:00")); ok {
		t.Error("a draft time with no editors")
	}
}
