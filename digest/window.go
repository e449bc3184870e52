package digest

import (
	"fmt"
	"time"
)

// Period is the span of one issue: (Start, End], both in the configured zone.
type Period struct {
	Start time.Time `json:"start"`
	End   time.Time `json:"end"`
}

// WeekEnding returns the period of length window that ends at now, in loc.
// A zero or negative window is taken as the default week.
func WeekEnding(now time.Time, window time.Duration, loc *time.Location) Period {
	if window <= 0 {
		window = 7 * 24 * time.Hour
	}
	if loc == nil {
		loc = time.UTC
	}
	end := now.In(loc)
	return Period{Start: end.Add(-window), End: end}
}

// Days returns the first and the last day (Start, End] covers, read in
// loc: the end is an instant (Monday 08:00), and a week ending in the
// morning covers the days up to Sunday, the last whole day before it.
// The mail's dateline and the archive show the period by them.
func (p Period) Days(loc *time.Location) (first, last time.Time) {
	start, end := p.Start.In(loc), p.End.In(loc)
	if end.Hour() == 0 && end.Minute() == 0 || end.Sub(start) >= 7*24*time.Hour {
		end = end.Add(-time.Nanosecond)
	}
	if end.Sub(start) >= 6*24*time.Hour && end.Hour() < 12 {
		end = end.AddDate(0, 0, -1)
	}
	return start, end
}

// Dates shows the days the period covers (Days) as a reader writes a
// date range, with the year, in lang ("ko" or else English):
//
//	23–29 Nov 2026              2026년 11월 23일–29일
//	30 Nov – 6 Dec 2026         2026년 11월 30일 – 12월 6일
//	28 Dec 2026 – 3 Jan 2027    2026년 12월 28일 – 2027년 1월 3일
//	29 Nov 2026                 2026년 11월 29일
//
// The mail's dateline and the archive show the period by it.
func (p Period) Dates(lang string, loc *time.Location) string {
	if loc == nil {
		loc = time.UTC
	}
	first, last := p.Days(loc)
	sameYear := first.Year() == last.Year()
	sameMonth := sameYear && first.Month() == last.Month()
	sameDay := sameMonth && first.Day() == last.Day()
	if lang == "ko" {
		y1, m1, d1 := first.Year(), int(first.Month()), first.Day()
		y2, m2, d2 := last.Year(), int(last.Month()), last.Day()
		switch {
		case sameDay:
			return fmt.Sprintf("%d년 %d월 %d일", y1, m1, d1)
		case sameMonth:
			return fmt.Sprintf("%d년 %d월 %d일–%d일", y1, m1, d1, d2)
		case sameYear:
			return fmt.Sprintf("%d년 %d월 %d일 – %d월 %d일", y1, m1, d1, m2, d2)
		}
		return fmt.Sprintf("%d년 %d월 %d일 – %d년 %d월 %d일", y1, m1, d1, y2, m2, d2)
	}
	switch {
	case sameDay:
		return last.Format("2 Jan 2006")
	case sameMonth:
		return first.Format("2") + "–" + last.Format("2 Jan 2006")
	case sameYear:
		return first.Format("2 Jan") + " – " + last.Format("2 Jan 2006")
	}
	return first.Format("2 Jan 2006") + " – " + last.Format("2 Jan 2006")
}

// Contains reports whether t falls in (Start, End]. The start is open so that
// back-to-back periods never both claim an article published on the boundary.
func (p Period) Contains(t time.Time) bool {
	return t.After(p.Start) && !t.After(p.End)
}

// MailedSet answers whether a story already went out in an earlier issue.
// The store implements it; tests use a map.
type MailedSet interface {
	Mailed(key string) bool
}

// InPeriod keeps the articles dated within p that no earlier issue mailed.
// An undated article is dated by when gull first saw it, so it falls in one
// period only. Order is preserved.
func InPeriod(articles []Article, p Period, mailed MailedSet) []Article {
	var out []Article
	for _, a := range articles {
		if !p.Contains(a.Date()) {
			continue
		}
		if mailed != nil && wasMailed(a, mailed) {
			continue
		}
		out = append(out, a)
	}
	return out
}

// ReasonSeenAfter is why an undated article is left out of an earlier
// week: dated by when gull first saw it, it belongs to a later one.
const ReasonSeenAfter = "first seen after the period"

// SeenAfter returns the undated articles that no earlier issue mailed and
// that gull first saw after p ended. InPeriod leaves them out of p (a
// preview or a late send of a past week); they are listed so the editor
// learns why an article in the feed is not in the issue.
func SeenAfter(articles []Article, p Period, mailed MailedSet) []Article {
	var out []Article
	for _, a := range articles {
		if a.Published == nil && a.FirstSeen.After(p.End) && (mailed == nil || !wasMailed(a, mailed)) {
			out = append(out, a)
		}
	}
	return out
}

func wasMailed(a Article, mailed MailedSet) bool {
	for _, k := range MailKeys(a) {
		if mailed.Mailed(k) {
			return true
		}
	}
	return false
}

// MailKeys are the keys under which a mailed story is remembered: its
// canonical link and its GUID. Titles are left out on purpose: a weekly
// column that keeps the same title every week is a new story each week.
func MailKeys(a Article) []string {
	var keys []string
	if u := CanonicalURL(a.Link); u != "" {
		keys = append(keys, "url:"+u)
	}
	if g := guidKey(a); g != "" {
		keys = append(keys, g)
	}
	return keys
}
