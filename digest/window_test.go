package digest

import (
	"testing"
	"time"
	_ "time/tzdata" // Asia/Seoul even on machines without a zoneinfo database
)

// mailedMap is the MailedSet tests use: the keys an earlier issue stored.
type mailedMap map[string]bool

func (m mailedMap) Mailed(key string) bool { return m[key] }

func seoul(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatalf("load Asia/Seoul: %v", err)
	}
	return loc
}

func ptr(t time.Time) *time.Time { return &t }

func TestWeekEnding(t *testing.T) {
	kst := seoul(t)
	// Monday 08:00 in Seoul is Sunday 23:00 UTC.
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, kst)
	week := 7 * 24 * time.Hour

	tests := []struct {
		name      string
		window    time.Duration
		loc       *time.Location
		wantStart time.Time
		wantZone  string
	}{
		{"seoul week", week, kst, time.Date(2026, 11, 23, 8, 0, 0, 0, kst), "KST"},
		{"utc week", week, time.UTC, time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), "UTC"},
		{"nil zone is UTC", week, nil, time.Date(2026, 11, 22, 23, 0, 0, 0, time.UTC), "UTC"},
		{"zero window is a week", 0, kst, time.Date(2026, 11, 23, 8, 0, 0, 0, kst), "KST"},
		{"negative window is a week", -time.Hour, kst, time.Date(2026, 11, 23, 8, 0, 0, 0, kst), "KST"},
		{"one day", 24 * time.Hour, kst, time.Date(2026, 11, 29, 8, 0, 0, 0, kst), "KST"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := WeekEnding(now, tt.window, tt.loc)
			if !p.End.Equal(now) {
				t.Errorf("End = %v, want %v", p.End, now)
			}
			if !p.Start.Equal(tt.wantStart) {
				t.Errorf("Start = %v, want %v", p.Start, tt.wantStart)
			}
			for _, x := range []time.Time{p.Start, p.End} {
				if z, _ := x.Zone(); z != tt.wantZone {
					t.Errorf("%v is in zone %q, want %q", x, z, tt.wantZone)
				}
			}
		})
	}
}

func TestWeekEndingSameInstantsInAnyZone(t *testing.T) {
	kst := seoul(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, kst)
	a := WeekEnding(now, 168*time.Hour, kst)
	b := WeekEnding(now.UTC(), 168*time.Hour, time.UTC)
	if !a.Start.Equal(b.Start) || !a.End.Equal(b.End) {
		t.Errorf("Seoul period %v..%v and UTC period %v..%v differ", a.Start, a.End, b.Start, b.End)
	}
	// Asking with a UTC now but a Seoul zone gives the Seoul wall clock.
	c := WeekEnding(now.UTC(), 168*time.Hour, kst)
	if got := c.End.Format(time.RFC3339); got != "2026-11-30T08:00:00+09:00" {
		t.Errorf("End = %s, want 2026-11-30T08:00:00+09:00", got)
	}
}

func TestPeriodContains(t *testing.T) {
	kst := seoul(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, kst)
	p := WeekEnding(now, 0, kst)
	tests := []struct {
		name string
		at   time.Time
		want bool
	}{
		{"exactly at start is excluded", p.Start, false},
		{"1ns after start", p.Start.Add(time.Nanosecond), true},
		{"1ns before start", p.Start.Add(-time.Nanosecond), false},
		{"middle of the week", now.Add(-72 * time.Hour), true},
		{"exactly at end is included", now, true},
		{"same instant in UTC is included", now.UTC(), true},
		{"1ns after now is excluded", now.Add(time.Nanosecond), false},
		{"next day", now.Add(24 * time.Hour), false},
		{"start as UTC is still excluded", p.Start.UTC(), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Contains(tt.at); got != tt.want {
				t.Errorf("Contains(%v) = %v, want %v (period %v..%v)", tt.at, got, tt.want, p.Start, p.End)
			}
		})
	}

	// Back-to-back periods never both claim the boundary instant.
	prev := WeekEnding(p.Start, 0, kst)
	if prev.Contains(p.Start) == p.Contains(p.Start) {
		t.Errorf("boundary %v claimed by both or neither period", p.Start)
	}
}

func TestInPeriod(t *testing.T) {
	kst := seoul(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, kst)
	p := WeekEnding(now, 7*24*time.Hour, kst)
	inside := now.Add(-48 * time.Hour)
	outside := now.Add(-10 * 24 * time.Hour)

	tests := []struct {
		name   string
		a      Article
		mailed MailedSet
		want   bool
	}{
		{"dated inside", Article{Title: "a", Published: ptr(inside)}, nil, true},
		{"dated before the week", Article{Title: "a", Published: ptr(outside)}, nil, false},
		{"dated at start", Article{Title: "a", Published: ptr(p.Start)}, nil, false},
		{"dated at end", Article{Title: "a", Published: ptr(now)}, nil, true},
		{"dated 1ns after now", Article{Title: "a", Published: ptr(now.Add(time.Nanosecond))}, nil, false},
		{"undated, first seen this week", Article{Title: "a", FirstSeen: inside}, nil, true},
		{"undated, first seen long ago", Article{Title: "a", FirstSeen: outside}, nil, false},
		{"published date wins over first seen",
			Article{Title: "a", Published: ptr(outside), FirstSeen: inside}, nil, false},
		{"old feed item first seen now still uses its date",
			Article{Title: "a", Published: ptr(inside), FirstSeen: outside}, nil, true},
		{"mailed by canonical link",
			Article{Title: "a", Link: "http://www.example.com/ai/1/?utm_source=rss", Published: ptr(inside)},
			mailedMap{"url:example.com/ai/1": true}, false},
		{"mailed by global guid",
			Article{Title: "a", GUID: "tag:example.com,2026:col-42", Link: "https://example.com/new-path", Published: ptr(inside)},
			mailedMap{"guid:tag:example.com,2026:col-42": true}, false},
		{"mailed by local guid of the same feed",
			Article{Title: "a", FeedURL: "https://a.example/feed", GUID: "123", Published: ptr(inside)},
			mailedMap{"guid:https://a.example/feed#123": true}, false},
		{"local guid mailed from another feed is not this article",
			Article{Title: "a", FeedURL: "https://b.example/feed", GUID: "123", Published: ptr(inside)},
			mailedMap{"guid:https://a.example/feed#123": true}, true},
		{"same title as a mailed story is a new story",
			Article{Title: "[칼럼] 이번 주 AI 정책 돌아보기", Link: "https://example.com/week-49", Published: ptr(inside)},
			mailedMap{"url:example.com/week-48": true, "title:" + TitleKey("[칼럼] 이번 주 AI 정책 돌아보기"): true}, true},
		{"unrelated mailed keys", Article{Title: "a", Link: "https://example.com/x", Published: ptr(inside)},
			mailedMap{"url:example.com/y": true}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := InPeriod([]Article{tt.a}, p, tt.mailed)
			if (len(got) == 1) != tt.want {
				t.Errorf("kept = %v, want %v (date %v, period %v..%v)", len(got) == 1, tt.want, tt.a.Date(), p.Start, p.End)
			}
		})
	}
}

func TestInPeriodKeepsOrder(t *testing.T) {
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)
	p := WeekEnding(now, 0, time.UTC)
	in := []Article{
		{Title: "c", Published: ptr(now.Add(-time.Hour))},
		{Title: "old", Published: ptr(now.Add(-30 * 24 * time.Hour))},
		{Title: "a", FirstSeen: now.Add(-5 * 24 * time.Hour)},
		{Title: "mailed", Link: "https://example.com/m", Published: ptr(now.Add(-time.Hour))},
		{Title: "b", Published: ptr(now.Add(-6 * 24 * time.Hour))},
	}
	got := InPeriod(in, p, mailedMap{"url:example.com/m": true})
	var titles []string
	for _, a := range got {
		titles = append(titles, a.Title)
	}
	want := []string{"c", "a", "b"}
	if len(titles) != len(want) {
		t.Fatalf("kept %q, want %q", titles, want)
	}
	for i := range want {
		if titles[i] != want[i] {
			t.Fatalf("kept %q, want %q", titles, want)
		}
	}
}

func TestMailKeys(t *testing.T) {
	tests := []struct {
		name string
		a    Article
		want []string
	}{
		{"link and local guid", Article{FeedURL: "https://f.example/rss", Link: "https://www.example.com/a/?fbclid=x", GUID: "77", Title: "A long enough title"},
			[]string{"url:example.com/a", "guid:https://f.example/rss#77"}},
		{"url guid is canonicalized", Article{GUID: "http://example.com/p?id=3&utm_medium=feed"},
			[]string{"url:example.com/p?id=3"}},
		{"tag guid is global", Article{FeedURL: "https://f.example/rss", GUID: "tag:example.com,2026:1"},
			[]string{"guid:tag:example.com,2026:1"}},
		{"title alone gives no key", Article{Title: "주간 AI 정책 브리핑 칼럼"}, nil},
		{"relative link gives no key", Article{Link: "/a/b"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := MailKeys(tt.a)
			if len(got) != len(tt.want) {
				t.Fatalf("MailKeys = %q, want %q", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Fatalf("MailKeys = %q, want %q", got, tt.want)
				}
			}
		})
	}
}

// SeenAfter lists the undated articles a past week leaves out because gull
// first saw them later; dated ones, and those already mailed, are not its
// business.
func TestSeenAfter(t *testing.T) {
	kst := seoul(t)
	now := time.Date(2026, 11, 30, 8, 0, 0, 0, kst)
	p := WeekEnding(now, 7*24*time.Hour, kst)
	later := now.Add(72 * time.Hour)
	arts := []Article{
		{Title: "undated, seen later", Link: "https://e.example/1", FirstSeen: later},
		{Title: "undated, seen at the end", Link: "https://e.example/2", FirstSeen: now},
		{Title: "undated, seen in the week", Link: "https://e.example/3", FirstSeen: now.Add(-time.Hour)},
		{Title: "dated later", Link: "https://e.example/4", Published: ptr(later), FirstSeen: later},
		{Title: "undated, seen later, mailed", Link: "https://e.example/5", FirstSeen: later},
	}
	got := SeenAfter(arts, p, mailedMap{"url:e.example/5": true})
	if len(got) != 1 || got[0].Title != "undated, seen later" {
		t.Errorf("SeenAfter = %v; want only the undated article seen after the week", got)
	}
	if in := InPeriod(arts[:3], p, nil); len(in) != 2 {
		t.Errorf("InPeriod keeps %d of the undated ones, want the 2 seen by the end", len(in))
	}
}
