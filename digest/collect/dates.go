package collect

import (
	"fmt"
	"regexp"
	"strings"
	"time"
)

// zoneOffsets are the zone abbreviations feeds write, in seconds east of
// UTC. Go's time.Parse accepts any abbreviation but gives unknown ones a
// zero offset, which would put a Korean "KST" date nine hours off.
var zoneOffsets = map[string]int{
	"UT": 0, "UTC": 0, "GMT": 0, "Z": 0,
	"KST": 9 * 3600, "JST": 9 * 3600, "HKT": 8 * 3600, "SGT": 8 * 3600, "CST8": 8 * 3600,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
	"CET": 3600, "CEST": 2 * 3600, "BST": 3600, "EET": 2 * 3600, "EEST": 3 * 3600,
	"WET": 0, "WEST": 3600, "AEST": 10 * 3600, "AEDT": 11 * 3600, "IST": 5*3600 + 1800,
}

var (
	weekdayRE  = regexp.MustCompile(`(?i)^\s*(mon|tue|wed|thu|fri|sat|sun)[a-z]*\.?,?\s*`)
	zoneNameRE = regexp.MustCompile(`\s*\(?\b([A-Za-z]{1,4}[0-9]?)\)?\s*$`)
	offsetRE   = regexp.MustCompile(`(\d)\s*([+-])(\d{2}):?(\d{2})$`)
	zuluRE     = regexp.MustCompile(`(\d)Z$`)
	septRE     = regexp.MustCompile(`(?i)\bsept\b`)
	koDateRE   = regexp.MustCompile(`^(\d{4})\s*년\s*(\d{1,2})\s*월\s*(\d{1,2})\s*일`)
)

// Layouts after normalization: the weekday is gone and any zone is a
// numeric offset "-0700" separated by one space.
var zonedLayouts = []string{
	"2 Jan 2006 15:04:05 -0700", "2 Jan 2006 15:04 -0700", "2 Jan 06 15:04:05 -0700",
	"2 Jan 06 15:04 -0700", "2 January 2006 15:04:05 -0700", "Jan 2 2006 15:04:05 -0700",
	"Jan 2, 2006 15:04:05 -0700", "Jan 2 2006 03:04:05 PM -0700", "January 2, 2006 15:04:05 -0700",
	"2006-01-02T15:04:05.999999999 -0700", "2006-01-02T15:04 -0700", "2006-01-02 15:04:05.999999999 -0700",
	"2006-01-02 15:04 -0700", "2006/01/02 15:04:05 -0700", "Jan 2 15:04:05 2006 -0700",
}

var localLayouts = []string{
	"2 Jan 2006 15:04:05", "2 Jan 2006 15:04", "2 Jan 06 15:04:05", "2 January 2006 15:04:05",
	"Jan 2 2006 15:04:05", "Jan 2, 2006 15:04:05", "Jan 2 2006 03:04:05 PM", "Jan 2, 2006 03:04 PM",
	"2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02 15:04:05.999999999", "2006-01-02 15:04",
	"2006/01/02 15:04:05", "2006/01/02 15:04", "2006.01.02 15:04:05", "2006.01.02 15:04",
	"2006-01-02", "2006/01/02", "2006.01.02", "2 Jan 2006", "2 January 2006", "January 2, 2006", "Jan 2, 2006",
	"Jan 2 15:04:05 2006",
}

// parseDate reads a feed date in the many shapes feeds use. A date that
// names no zone is read in loc (the feed's zone); one that does keeps its
// instant. The weekday is ignored, since feeds often get it wrong.
func parseDate(raw string, loc *time.Location) (time.Time, bool) {
	t, ok := parseDateShape(raw, loc)
	if !ok || !plausibleDate(t) {
		return time.Time{}, false
	}
	return t, true
}

// plausibleDate rejects years no column was written in: a feed's year 0001
// or 9999 is a placeholder, and the store's fixed-width dates cannot hold
// years past 9999 anyway. Such items count as undated.
func plausibleDate(t time.Time) bool {
	return t.Year() >= 1990 && t.Year() <= 2200
}

func parseDateShape(raw string, loc *time.Location) (time.Time, bool) {
	s := strings.TrimSpace(raw)
	if s == "" {
		return time.Time{}, false
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, true
	}
	if m := koDateRE.FindStringSubmatch(s); m != nil {
		s = m[1] + "-" + pad2(m[2]) + "-" + pad2(m[3]) + strings.TrimSpace(s[len(m[0]):])
	}
	s = weekdayRE.ReplaceAllString(s, "")
	s = septRE.ReplaceAllString(s, "Sep")
	s = strings.Join(strings.Fields(s), " ")
	s = zuluRE.ReplaceAllString(s, "$1 +0000")
	zoned := false
	if m := offsetRE.FindStringSubmatchIndex(s); m != nil {
		s = s[:m[3]] + " " + s[m[4]:m[5]] + s[m[6]:m[7]] + s[m[8]:m[9]]
		zoned = true
	} else if m := zoneNameRE.FindStringSubmatchIndex(s); m != nil {
		name := strings.ToUpper(s[m[2]:m[3]])
		off, ok := zoneOffsets[name]
		if name == "CST" && chinaTime(loc) {
			off = 8 * 3600 // China and Taiwan Standard Time, not US Central
		}
		if ok && !strings.EqualFold(name, "PM") && !strings.EqualFold(name, "AM") {
			s = s[:m[0]] + " " + formatOffset(off)
			zoned = true
		}
	}
	layouts := localLayouts
	if zoned {
		layouts = zonedLayouts
	}
	for _, l := range layouts {
		if zoned {
			if t, err := time.Parse(l, s); err == nil {
				return t, true
			}
			continue
		}
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// chinaTime reports whether loc keeps UTC+8, where "CST" means China (or
// Taiwan) Standard Time rather than US Central.
func chinaTime(loc *time.Location) bool {
	_, off := time.Date(2026, 1, 1, 0, 0, 0, 0, loc).Zone()
	return off == 8*3600
}

func pad2(s string) string {
	if len(s) == 1 {
		return "0" + s
	}
	return s
}

func formatOffset(sec int) string {
	sign := "+"
	if sec < 0 {
		sign, sec = "-", -sec
	}
	h, m := sec/3600, (sec%3600)/60
	return fmt.Sprintf("%s%02d%02d", sign, h, m)
}
