package digest

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// The draft of these tests: two sections as built; "reg2" leads a story
// that another outlet ("reg2b") covered too.
var editThemes = []Theme{{ID: "compute", Name: "반도체"}, {ID: "regulation", Name: "Regulation"}, {ID: "talent", Name: "인재"}, {ID: "other", Name: "More"}}

func editBase() Issue {
	a := func(id, title string) Article {
		return Article{ID: id, Title: title, Summary: "feed summary of " + title}
	}
	reg2 := a("bbbbbb000002", "AI기본법 시행령")
	reg2.Also = []Article{a("bbbbbb000099", "AI Basic Act decree")}
	return Issue{ID: "2026-W48", Sections: []Section{
		{ID: "compute", Name: "반도체", Articles: []Article{a("aaaaaa000001", "GPU 26만 장"), a("aaaaaa000002", "HBM"), a("aaaaaa000003", "Export rules")}},
		{ID: "regulation", Name: "Regulation", Articles: []Article{a("bbbbbb000001", "EU AI Act"), reg2}},
	}}
}

// layout writes an issue as "section: id[flags] id ..." lines, flags h
// (hidden) and p (pinned), so a table says the expected result in a line.
func layout(is Issue) string {
	var lines []string
	for _, s := range is.Sections {
		line := s.ID + ":"
		for _, a := range s.Articles {
			line += " " + strings.TrimLeft(a.ID, "ab0")
			if a.Hidden {
				line += "h"
			}
			if a.Pinned {
				line += "p"
			}
		}
		lines = append(lines, line)
	}
	return strings.Join(lines, " | ")
}

func TestApplyEdits(t *testing.T) {
	cases := []struct {
		name    string
		edits   []Edit
		desk    string // the issue editors see
		readers string // the issue readers get
	}{
		{"no edits", nil, "compute: 1 2 3 | regulation: 1 2", "compute: 1 2 3 | regulation: 1 2"},
		{"hide: listed and marked for the desk, gone for readers",
			[]Edit{{Kind: EditHide, Article: "aaaaaa000002"}},
			"compute: 1 2h 3 | regulation: 1 2", "compute: 1 3 | regulation: 1 2"},
		{"hiding a whole section leaves it out for readers",
			[]Edit{{Kind: EditHide, Article: "bbbbbb000001"}, {Kind: EditHide, Article: "bbbbbb000002"}},
			"compute: 1 2 3 | regulation: 1h 2h", "compute: 1 2 3"},
		{"show-again undoes a hide",
			[]Edit{{Kind: EditHide, Article: "aaaaaa000002"}, {Kind: EditShowAgain, Article: "aaaaaa000002"}},
			"compute: 1 2 3 | regulation: 1 2", "compute: 1 2 3 | regulation: 1 2"},
		{"pin: to the top of its section",
			[]Edit{{Kind: EditPin, Article: "aaaaaa000003"}},
			"compute: 3p 1 2 | regulation: 1 2", "compute: 3p 1 2 | regulation: 1 2"},
		{"the latest pin leads",
			[]Edit{{Kind: EditPin, Article: "aaaaaa000003"}, {Kind: EditPin, Article: "aaaaaa000002"}},
			"compute: 2p 3p 1 | regulation: 1 2", "compute: 2p 3p 1 | regulation: 1 2"},
		{"unpin: back to its ranked place",
			[]Edit{{Kind: EditPin, Article: "aaaaaa000003"}, {Kind: EditPin, Article: "aaaaaa000002"}, {Kind: EditUnpin, Article: "aaaaaa000002"}},
			"compute: 3p 1 2 | regulation: 1 2", "compute: 3p 1 2 | regulation: 1 2"},
		{"move: after the section's own articles",
			[]Edit{{Kind: EditMove, Article: "bbbbbb000001", Theme: "compute"}},
			"compute: 1 2 3 1 | regulation: 2", "compute: 1 2 3 1 | regulation: 2"},
		{"move to a theme without a section this week makes it, in theme order",
			[]Edit{{Kind: EditMove, Article: "aaaaaa000001", Theme: "talent"}, {Kind: EditMove, Article: "bbbbbb000001", Theme: "talent"}},
			"compute: 2 3 | regulation: 2 | talent: 1 1", "compute: 2 3 | regulation: 2 | talent: 1 1"},
		{"a pinned article moved leads its new section",
			[]Edit{{Kind: EditPin, Article: "bbbbbb000001"}, {Kind: EditMove, Article: "bbbbbb000001", Theme: "compute"}},
			"compute: 1p 1 2 3 | regulation: 2", "compute: 1p 1 2 3 | regulation: 2"},
		{"moving back home",
			[]Edit{{Kind: EditMove, Article: "aaaaaa000001", Theme: "regulation"}, {Kind: EditMove, Article: "aaaaaa000001", Theme: "compute"}},
			"compute: 1 2 3 | regulation: 1 2", "compute: 1 2 3 | regulation: 1 2"},
		{"an also article's id names its story's entry",
			[]Edit{{Kind: EditHide, Article: "bbbbbb000099"}},
			"compute: 1 2 3 | regulation: 1 2h", "compute: 1 2 3 | regulation: 1"},
		{"an edit on an article a rebuild dropped is passed over",
			[]Edit{{Kind: EditHide, Article: "cccccc000009"}, {Kind: EditPin, Article: "aaaaaa000002"}},
			"compute: 2p 1 3 | regulation: 1 2", "compute: 2p 1 3 | regulation: 1 2"},
		{"a move to a theme no longer configured is passed over",
			[]Edit{{Kind: EditMove, Article: "aaaaaa000001", Theme: "gone"}},
			"compute: 1 2 3 | regulation: 1 2", "compute: 1 2 3 | regulation: 1 2"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := Draft{Base: editBase(), Themes: editThemes, Edits: c.edits}
			if got := layout(d.Issue()); got != c.desk {
				t.Errorf("desk:\n got %s\nwant %s", got, c.desk)
			}
			if got := layout(d.Readers()); got != c.readers {
				t.Errorf("readers:\n got %s\nwant %s", got, c.readers)
			}
		})
	}
}

func TestApplyEditsTexts(t *testing.T) {
	d := Draft{Base: editBase(), Themes: editThemes, Version: 7, Status: DraftOpen, Edits: []Edit{
		{Kind: EditBlurb, Article: "aaaaaa000002", Text: "편집자 요약"},
		{Kind: EditNote, Text: "first"},
		{Kind: EditNote, Text: "이번 주는 **AI기본법**."},
		{Kind: EditSubject, Text: "AI기본법 특집"},
		{Kind: EditBlurb, Article: "bbbbbb000001", Text: "short"},
		{Kind: EditBlurb, Article: "bbbbbb000001", Text: ""}, // the feed's summary back
	}}
	is := d.Issue()
	if is.Note != "이번 주는 **AI기본법**." || is.Subject != "AI기본법 특집" || is.Version != 7 || is.Status != DraftOpen {
		t.Errorf("note %q subject %q version %d status %q", is.Note, is.Subject, is.Version, is.Status)
	}
	blurbs := map[string]string{}
	for _, a := range is.Articles() {
		blurbs[a.ID] = a.Blurb
	}
	if blurbs["aaaaaa000002"] != "편집자 요약" || blurbs["bbbbbb000001"] != "" || blurbs["aaaaaa000001"] != "" {
		t.Errorf("blurbs: %q", blurbs)
	}
	// The build is not changed by applying edits to it.
	if layout(d.Base) != "compute: 1 2 3 | regulation: 1 2" || d.Base.Note != "" || d.Base.Sections[0].Articles[1].Blurb != "" {
		t.Errorf("base changed: %s", layout(d.Base))
	}
}

// A later build keeps the editors' edits in force and tells new stories
// from those the first build had, even when a new outlet leads a story.
func TestDraftRebuildKeepsEdits(t *testing.T) {
	d := Draft{Base: editBase(), Themes: editThemes, Edits: []Edit{
		{Kind: EditHide, Article: "bbbbbb000002"},
		{Kind: EditPin, Article: "aaaaaa000003"},
	}, Added: map[string]int{}}
	for _, a := range d.Base.Articles() {
		d.Added[a.ID] = FirstDraftVersion
	}
	rebuilt := editBase()
	// The decree's story is now led by the English article; a new story
	// arrived in compute.
	reg := &rebuilt.Sections[1].Articles[1]
	lead := reg.Also[0]
	lead.Also = []Article{{ID: reg.ID, Title: reg.Title}}
	*reg = lead
	rebuilt.Sections[0].Articles = append(rebuilt.Sections[0].Articles, Article{ID: "aaaaaa000004", Title: "new"})
	d.Base = rebuilt
	d.Added["aaaaaa000004"] = 3

	is := d.Issue()
	if got, want := layout(is), "compute: 3p 1 2 4 | regulation: 1 99h"; got != want {
		t.Errorf("rebuilt:\n got %s\nwant %s", got, want)
	}
	var news []string
	for _, a := range is.Articles() {
		if d.New(a) {
			news = append(news, a.ID)
		}
	}
	if !slices.Equal(news, []string{"aaaaaa000004"}) {
		t.Errorf("new: %q, want only the new story", news)
	}
}

func TestDraftCheck(t *testing.T) {
	open := Draft{Base: editBase(), Themes: editThemes, Status: DraftOpen}
	ok := []struct {
		name string
		in   Edit
		want Edit
	}{
		{"a unique prefix names the article, in any case", Edit{Kind: EditHide, Article: " BBBBBB00009 "}, Edit{Kind: EditHide, Article: "bbbbbb000099"}},
		{"an also article", Edit{Kind: EditPin, Article: "bbbbbb000099"}, Edit{Kind: EditPin, Article: "bbbbbb000099"}},
		{"move", Edit{Kind: EditMove, Article: "aaaaaa000001", Theme: "talent"}, Edit{Kind: EditMove, Article: "aaaaaa000001", Theme: "talent"}},
		{"note: CRLF made LF, trimmed", Edit{Kind: EditNote, Text: "\r\n 안녕하세요.\r\n\r\n[link](https://x.example)\r\n"}, Edit{Kind: EditNote, Text: "안녕하세요.\n\n[link](https://x.example)"}},
		{"note of exactly 64 KiB", Edit{Kind: EditNote, Text: strings.Repeat("가", MaxNoteBytes/3) + "x"}, Edit{Kind: EditNote, Text: strings.Repeat("가", MaxNoteBytes/3) + "x"}},
		{"subject trimmed", Edit{Kind: EditSubject, Text: "  특집 · AI기본법  "}, Edit{Kind: EditSubject, Text: "특집 · AI기본법"}},
		{"subject of 200 Korean characters", Edit{Kind: EditSubject, Text: strings.Repeat("한", 200)}, Edit{Kind: EditSubject, Text: strings.Repeat("한", 200)}},
		{"empty subject: the default", Edit{Kind: EditSubject, Text: " "}, Edit{Kind: EditSubject}},
		{"empty blurb: the feed's summary", Edit{Kind: EditBlurb, Article: "aaaaaa000001"}, Edit{Kind: EditBlurb, Article: "aaaaaa000001"}},
		{"HTML in a blurb is kept as text (render escapes it)", Edit{Kind: EditBlurb, Article: "aaaaaa000001", Text: "<script>alert(1)</script>"}, Edit{Kind: EditBlurb, Article: "aaaaaa000001", Text: "<script>alert(1)</script>"}},
		{"stray fields dropped", Edit{Kind: EditNote, Article: "aaaaaa000001", Theme: "x", Text: "hi"}, Edit{Kind: EditNote, Text: "hi"}},
	}
	for _, c := range ok {
		t.Run(c.name, func(t *testing.T) {
			got, err := open.Check(c.in)
			if err != nil || got != c.want {
				t.Errorf("Check(%+v) = %+v, %v; want %+v", c.in, got, err, c.want)
			}
		})
	}
	bad := []struct {
		name  string
		draft Draft
		in    Edit
		is    error
		msg   string // the start of the one-line message
	}{
		{"unknown article", open, Edit{Kind: EditHide, Article: "ffffff000001"}, ErrBadEdit, `article "ffffff000001": not in issue 2026-W48; ` + "`issue show` lists the ids"},
		{"no article", open, Edit{Kind: EditPin}, ErrBadEdit, "article: no id given"},
		{"too short a prefix", open, Edit{Kind: EditHide, Article: "aaaa"}, ErrBadEdit, `article "aaaa": too short; give at least 6 characters`},
		{"ambiguous prefix", open, Edit{Kind: EditHide, Article: "aaaaaa00"}, ErrBadEdit, `article "aaaaaa00": the start of 3 articles' ids; give more of the id`},
		{"unknown theme", open, Edit{Kind: EditMove, Article: "aaaaaa000001", Theme: "sports"}, ErrBadEdit, `theme "sports": no such theme; one of compute, regulation, talent, other`},
		{"move to no theme", open, Edit{Kind: EditMove, Article: "aaaaaa000001"}, ErrBadEdit, `theme "": no such theme`},
		{"empty note", open, Edit{Kind: EditNote, Text: " \n\t\n"}, ErrBadEdit, "note: empty; write the introduction"},
		{"note over 64 KiB", open, Edit{Kind: EditNote, Text: strings.Repeat("a", MaxNoteBytes+1)}, ErrBadEdit, "note: 65537 bytes, over the limit of 65536 (64 KiB)"},
		{"a 10 MB note", open, Edit{Kind: EditNote, Text: strings.Repeat("글", 10<<20/3)}, ErrBadEdit, "note: 10485759 bytes, over the limit"},
		{"note not UTF-8", open, Edit{Kind: EditNote, Text: "caf\xe9"}, ErrBadEdit, "note: not valid UTF-8 text"},
		{"note with a NUL", open, Edit{Kind: EditNote, Text: "a\x00b"}, ErrBadEdit, "note: control character U+0000"},
		{"subject with LF", open, Edit{Kind: EditSubject, Text: "AI\nBcc: x@example.org"}, ErrBadEdit, "subject: a line break is not allowed; write the subject on one line"},
		{"subject with CR", open, Edit{Kind: EditSubject, Text: "AI\rweekly"}, ErrBadEdit, "subject: a line break is not allowed"},
		{"subject with U+2028", open, Edit{Kind: EditSubject, Text: "AI\u2028weekly"}, ErrBadEdit, "subject: a line break is not allowed"},
		{"subject with a tab", open, Edit{Kind: EditSubject, Text: "AI\tweekly"}, ErrBadEdit, "subject: control character U+0009"},
		{"subject of 201 characters", open, Edit{Kind: EditSubject, Text: strings.Repeat("한", 201)}, ErrBadEdit, "subject: 201 characters, over the limit of 200"},
		{"blurb too long", open, Edit{Kind: EditBlurb, Article: "aaaaaa000001", Text: strings.Repeat("요", 1001)}, ErrBadEdit, "blurb: 1001 characters, over the limit of 1000"},
		{"blurb on an unknown article", open, Edit{Kind: EditBlurb, Article: "zzzzzz", Text: "x"}, ErrBadEdit, `article "zzzzzz": not in issue`},
		{"unknown kind", open, Edit{Kind: "delete", Article: "aaaaaa000001"}, ErrBadEdit, `edit "delete": not an edit; one of hide, show-again`},
		{"approved", Draft{Base: editBase(), Themes: editThemes, Status: DraftApproved}, Edit{Kind: EditHide, Article: "aaaaaa000001"}, ErrDraftClosed, "issue 2026-W48 is approved: reopen it to change it"},
		{"sent", Draft{Base: editBase(), Themes: editThemes, Status: DraftSent}, Edit{Kind: EditNote, Text: "x"}, ErrDraftClosed, "issue 2026-W48 was sent: it can no longer change"},
	}
	for _, c := range bad {
		t.Run(c.name, func(t *testing.T) {
			_, err := c.draft.Check(c.in)
			if !errors.Is(err, c.is) || !strings.HasPrefix(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("Check(%.60q) = %v; want %v starting %q, one line", c.in.Text, err, c.is, c.msg)
			}
		})
	}
}

func TestStaleDraftError(t *testing.T) {
	err := error(&StaleDraftError{Loaded: 7, Now: 8})
	if !errors.Is(err, ErrStaleDraft) || errors.Is(err, ErrBadEdit) {
		t.Errorf("errors.Is: %v", err)
	}
	if want := "the draft changed since you loaded it (version 7, now 8): reload and apply your change again"; err.Error() != want {
		t.Errorf("got %q\nwant %q", err, want)
	}
}

// The issue's JSON gives every article its stable id (entries and their
// "also"), and the editor's marks where set.
func TestIssueJSONEditorMarks(t *testing.T) {
	d := Draft{Base: editBase(), Themes: editThemes, Version: 4, Status: DraftOpen, Edits: []Edit{
		{Kind: EditHide, Article: "aaaaaa000002"}, {Kind: EditPin, Article: "bbbbbb000002"},
		{Kind: EditBlurb, Article: "aaaaaa000001", Text: "요약 <b>"}, {Kind: EditNote, Text: "Hello"}, {Kind: EditSubject, Text: "특집"},
	}}
	raw, err := json.Marshal(d.Issue())
	if err != nil {
		t.Fatal(err)
	}
	var got struct {
		Note, Subject, Status string
		Version               int
		Sections              []struct {
			Articles []map[string]any
		}
	}
	if err := json.Unmarshal(raw, &got); err != nil {
		t.Fatal(err)
	}
	if got.Note != "Hello" || got.Subject != "특집" || got.Version != 4 || got.Status != "draft" {
		t.Errorf("issue: %s", raw)
	}
	marks := map[string]string{}
	for _, s := range got.Sections {
		for _, a := range s.Articles {
			id, _ := a["id"].(string)
			for _, k := range []string{"hidden", "pinned", "blurb"} {
				if v, ok := a[k]; ok {
					marks[id] += fmt.Sprintf("%s=%v ", k, v)
				}
			}
			for _, o := range a["also"].([]any) {
				marks[o.(map[string]any)["id"].(string)] += "also "
			}
		}
	}
	want := map[string]string{
		"aaaaaa000002": "hidden=true ", "bbbbbb000002": "pinned=true ", "aaaaaa000001": "blurb=요약 <b> ", "bbbbbb000099": "also ",
	}
	if len(marks) != len(want) {
		t.Errorf("marks %q, want %q", marks, want)
	}
	for id, m := range want {
		if marks[id] != m {
			t.Errorf("%s: %q, want %q (%s)", id, marks[id], m, raw)
		}
	}
	// An issue that is not a draft says nothing of drafts.
	raw, _ = json.Marshal(editBase())
	for _, k := range []string{`"note"`, `"subject"`, `"version"`, `"status"`, `"hidden"`, `"pinned"`, `"blurb"`} {
		if strings.Contains(string(raw), k) {
			t.Errorf("plain issue has %s: %s", k, raw)
		}
	}
}

// A rebuild's changes are told by story: a story another outlet now leads
// is neither new nor dropped.
func TestCompareBuilds(t *testing.T) {
	prev := editBase()
	next := editBase()
	reg := &next.Sections[1].Articles[1]
	lead := reg.Also[0]
	lead.Also = []Article{{ID: reg.ID}}
	*reg = lead                                                                                // bbbbbb000099 now leads the decree's story
	next.Sections[0].Articles = next.Sections[0].Articles[1:]                                  // aaaaaa000001 is gone
	next.Sections[1].Articles = append(next.Sections[1].Articles, Article{ID: "cccccc000001"}) // a new story
	added, dropped := CompareBuilds(prev, next)
	if len(added) != 1 || added[0].ID != "cccccc000001" || len(dropped) != 1 || dropped[0].ID != "aaaaaa000001" {
		t.Errorf("added %v dropped %v", added, dropped)
	}
	if added, dropped := CompareBuilds(prev, prev); added != nil || dropped != nil {
		t.Errorf("same build: added %v dropped %v", added, dropped)
	}
}

func TestHistoryWhat(t *testing.T) {
	long := strings.Repeat("가나다라마", 20)
	cases := []struct {
		h    HistoryEntry
		want string
	}{
		{HistoryEntry{Action: "hide", Edit: Edit{Kind: EditHide, Article: "a1"}, Title: "GPU\n26만 장"}, `hide a1 "GPU 26만 장"`},
		{HistoryEntry{Action: "move", Edit: Edit{Kind: EditMove, Article: "a1", Theme: "talent"}}, "move a1 to talent"},
		{HistoryEntry{Action: "blurb", Edit: Edit{Kind: EditBlurb, Article: "a1"}}, "blurb a1 removed"},
		{HistoryEntry{Action: "note", Edit: Edit{Kind: EditNote, Text: long}}, "note: " + string([]rune(long)[:59]) + "…"},
		{HistoryEntry{Action: "subject", Edit: Edit{Kind: EditSubject}}, "subject: the default"},
		{HistoryEntry{Action: ActionRebuild, Detail: "2 new, 0 dropped"}, "rebuild: 2 new, 0 dropped"},
		{HistoryEntry{Action: ActionReopen}, "reopen"},
	}
	for _, c := range cases {
		if got := c.h.What(); got != c.want {
			t.Errorf("%s: got %q, want %q", c.h.Action, got, c.want)
		}
	}
}
