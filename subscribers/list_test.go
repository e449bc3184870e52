package subscribers

import (
	"bytes"
	"strings"
	"testing"
	"time"
)

// An operator's add gives the status always, the name and themes only
// when typed: a bare add keeps what the reader chose.
func TestOperatorAdd(t *testing.T) {
	valid := []string{"policy", "compute", "other"}
	s, given, err := OperatorAdd("kim@example.kr", "  김독자 ", "", valid)
	if err != nil || given != FieldStatus|FieldName || s.Name != "김독자" || s.Status != Active || s.Themes != nil {
		t.Errorf("add with a name: %+v, %b, %v", s, given, err)
	}
	s, given, err = OperatorAdd("kim@example.kr", "", "compute,policy", valid)
	if err != nil || given != FieldStatus|FieldThemes || FormatThemes(s.Themes) == "" {
		t.Errorf("add with themes: %+v, %b, %v", s, given, err)
	}
	if _, _, err := OperatorAdd("kim@example.kr", "", "chips", valid); err == nil {
		t.Error("an unknown theme was taken")
	}
}

// The list as a table says since when each reader has their status, in
// the configured zone, and tallies the list by status; the JSON has null
// for what has not happened.
func TestTableAndJSON(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	created := time.Date(2026, 11, 1, 20, 0, 0, 0, time.UTC) // Nov 2 in Seoul
	subs := []Subscriber{
		{Email: "kim@example.kr", Name: "김독자", Status: Active, Created: created.Add(-48 * time.Hour), Confirmed: created},
		{Email: "lee@example.org", Status: Pending, Created: created, Themes: []string{"compute"}, Language: "en", Articles: "ko"},
	}
	rows, tally := Table(subs, seoul, "ko")
	if got := strings.Join(rows[1], "|"); got != "kim@example.kr|김독자|active|all|ko|both|2026-11-02" {
		t.Errorf("row 1: %s", got)
	}
	if got := strings.Join(rows[2], "|"); got != "lee@example.org|-|pending|compute|en|ko|2026-11-02" {
		t.Errorf("row 2: %s", got)
	}
	if tally != "2 subscribers: 1 pending, 1 active" {
		t.Errorf("tally %q", tally)
	}
	if _, tally := Table(subs[:1], seoul, "ko"); tally != "1 subscriber: 1 active" {
		t.Errorf("tally of one %q", tally)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, subs, seoul, "ko"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), `"confirmed": "2026-11-02T05:00:00+09:00"`) || !strings.Contains(b.String(), `"unsubscribed": null`) || !strings.Contains(b.String(), `"name": "김독자"`) ||
		!strings.Contains(b.String(), `"language": "en",`) || !strings.Contains(b.String(), `"language": "ko",`) || !strings.Contains(b.String(), `"articles": "ko"`) {
		t.Errorf("JSON:\n%s", b.String())
	}
}
