package store

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"modernc.org/sqlite"

	"gull/digest"
	"gull/subscribers"
)

var draftThemes = []digest.Theme{{ID: "compute", Name: "반도체"}, {ID: "regulation", Name: "규제"}, {ID: "other", Name: "More"}}

// draftBuild is a build of issue 2026-W48 with articles a1..an in compute.
func draftBuild(ids ...string) digest.Issue {
	is := testIssue("2026-W48", 0)
	sec := digest.Section{ID: "compute", Name: "반도체"}
	for _, id := range ids {
		a := art(id, "기사 "+id, nil)
		a.Themes = []string{"compute"}
		sec.Articles = append(sec.Articles, a)
	}
	is.Sections = []digest.Section{sec}
	return is
}

const (
	ed1 = "ed1@example.org"
	ed2 = "ed2@example.org"
)

// ids lists an issue's entries as "id" with "!" when hidden and "^" when
// pinned, section by section.
func ids(is digest.Issue) string {
	var out []string
	for _, s := range is.Sections {
		var arts []string
		for _, a := range s.Articles {
			m := a.ID
			if a.Hidden {
				m += "!"
			}
			if a.Pinned {
				m += "^"
			}
			arts = append(arts, m)
		}
		out = append(out, s.ID+": "+strings.Join(arts, " "))
	}
	return strings.Join(out, " | ")
}

func mustDraft(t *testing.T, s *Store, id string) digest.Draft {
	t.Helper()
	d, err := s.Draft(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func mustEdit(t *testing.T, s *Store, version int, editor string, e digest.Edit, at time.Time) int {
	t.Helper()
	v, err := s.EditDraft(context.Background(), "2026-W48", version, editor, e, at)
	if err != nil || v != version+1 {
		t.Fatalf("edit %+v at version %d: %d %v", e, version, v, err)
	}
	return v
}

// The draft from its first build to its send: edits, approval (which
// freezes it as readers get it), approving twice, reopening, and a send
// that closes it for good.
func TestDraftLifecycle(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	ch, err := s.SaveDraft(ctx, draftBuild("a1", "a2", "a3"), draftThemes, day1)
	if err != nil || !ch.First || ch.Version != 1 {
		t.Fatalf("first build: %+v %v", ch, err)
	}
	at := day1.Add(time.Hour)
	v := mustEdit(t, s, 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a2"}, at)
	v = mustEdit(t, s, v, ed2, digest.Edit{Kind: digest.EditPin, Article: "a3"}, at.Add(time.Minute))
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditMove, Article: "a1", Theme: "regulation"}, at.Add(2*time.Minute))
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditBlurb, Article: "a3", Text: "이번 주의 핵심"}, at.Add(3*time.Minute))
	v = mustEdit(t, s, v, ed2, digest.Edit{Kind: digest.EditNote, Text: "안녕하세요.\r\n\r\n*AI기본법* 특집입니다."}, at.Add(4*time.Minute))
	v = mustEdit(t, s, v, ed2, digest.Edit{Kind: digest.EditSubject, Text: "AI기본법 특집"}, at.Add(5*time.Minute))

	d := mustDraft(t, s, id)
	desk := d.Issue()
	if d.Status != digest.DraftOpen || desk.Version != 7 || desk.Status != "draft" || desk.Number != 1 {
		t.Fatalf("draft: status %s version %d number %d", d.Status, desk.Version, desk.Number)
	}
	if got, want := ids(desk), "compute: a3^ a2! | regulation: a1"; got != want {
		t.Errorf("desk: %s, want %s", got, want)
	}
	if desk.Note != "안녕하세요.\n\n*AI기본법* 특집입니다." || desk.Subject != "AI기본법 특집" {
		t.Errorf("note %q subject %q", desk.Note, desk.Subject)
	}
	// Nothing is frozen before the approval: the send would build anew.
	if _, _, err := s.Issue(ctx, id); !errors.Is(err, digest.ErrNoIssue) {
		t.Fatalf("issue before approval: %v", err)
	}

	v, err = s.ApproveDraft(ctx, id, v, ed1, day2)
	if err != nil || v != 8 {
		t.Fatalf("approve: %d %v", v, err)
	}
	frozen, rec, err := s.Issue(ctx, id)
	if err != nil || rec.Status != digest.IssueOpen || rec.Articles != 2 || !rec.Created.Equal(day2) {
		t.Fatalf("frozen: %+v %v", rec, err)
	}
	if got, want := ids(frozen), "compute: a3^ | regulation: a1"; got != want {
		t.Errorf("frozen for readers: %s, want %s (the hidden article must not be sent)", got, want)
	}
	if frozen.Subject != "AI기본법 특집" || !strings.Contains(frozen.Note, "특집입니다") || frozen.Sections[0].Articles[0].Blurb != "이번 주의 핵심" {
		t.Errorf("frozen lost the edits: %+v", frozen)
	}
	if frozen.Status != "" || frozen.Version != 0 || frozen.Number != 1 {
		t.Errorf("frozen: status %q version %d number %d", frozen.Status, frozen.Version, frozen.Number)
	}

	// Approving twice is harmless: nothing frozen again, nothing logged.
	if v2, err := s.ApproveDraft(ctx, id, 7, ed2, day3); err != nil || v2 != 8 {
		t.Fatalf("approve again: %d %v", v2, err)
	}
	if _, rec, _ := s.Issue(ctx, id); !rec.Created.Equal(day2) {
		t.Errorf("second approval froze again at %v", rec.Created)
	}
	// An approved draft takes no edit and no rebuild.
	_, err = s.EditDraft(ctx, id, 8, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day2)
	if !errors.Is(err, digest.ErrDraftClosed) || err.Error() != "issue 2026-W48 is approved: reopen it to change it" {
		t.Errorf("edit when approved: %v", err)
	}
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2", "a3", "a4"), draftThemes, day2); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("rebuild when approved: %v", err)
	}

	// Reopened, it is a draft again with its edits, and nothing is frozen.
	if v, err = s.ReopenDraft(ctx, id, 8, ed2, day2.Add(time.Hour)); err != nil || v != 9 {
		t.Fatalf("reopen: %d %v", v, err)
	}
	if _, _, err := s.Issue(ctx, id); !errors.Is(err, digest.ErrNoIssue) {
		t.Fatalf("issue after reopen: %v", err)
	}
	if d := mustDraft(t, s, id); d.Status != digest.DraftOpen || ids(d.Issue()) != "compute: a3^ a2! | regulation: a1" {
		t.Fatalf("reopened: %s %s", d.Status, ids(d.Issue()))
	}
	if v2, err := s.ReopenDraft(ctx, id, 9, ed2, day2); err != nil || v2 != 9 {
		t.Errorf("reopen a draft: %d %v", v2, err)
	}
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditShowAgain, Article: "a2"}, day2.Add(2*time.Hour))
	if v, err = s.ApproveDraft(ctx, id, v, ed1, day3); err != nil || v != 11 {
		t.Fatalf("approve after reopen: %d %v", v, err)
	}
	if frozen, _, _ := s.Issue(ctx, id); ids(frozen) != "compute: a3^ a2 | regulation: a1" {
		t.Errorf("approved again: %s", ids(frozen))
	}

	// The send begins: the issue is sent, and nothing may change it.
	add(t, s, "reader@example.org", subscribers.Active)
	if _, _, err := s.PrepareDeliveries(ctx, id, day3); err != nil {
		t.Fatal(err)
	}
	if d := mustDraft(t, s, id); d.Status != digest.DraftSent {
		t.Errorf("status after the send began: %s", d.Status)
	}
	_, err = s.ReopenDraft(ctx, id, 11, ed2, day3)
	if !errors.Is(err, digest.ErrDraftClosed) || err.Error() != "issue 2026-W48 was sent: it can no longer change" {
		t.Errorf("reopen when sent: %v", err)
	}
	if _, rec, err := s.Issue(ctx, id); err != nil || rec.Status != digest.IssueOpen {
		t.Errorf("a refused reopen touched the issue: %+v %v", rec, err)
	}
	if v2, err := s.ApproveDraft(ctx, id, 11, ed2, day3); err != nil || v2 != 11 {
		t.Errorf("approve when sent: %d %v", v2, err)
	}
	if _, err := s.EditDraft(ctx, id, 11, ed1, digest.Edit{Kind: digest.EditNote, Text: "late"}, day3); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("edit when sent: %v", err)
	}

	// The history: who did what when, in order.
	hist, err := s.DraftHistory(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, h := range hist {
		lines = append(lines, fmt.Sprintf("%d %s %s %s", h.Version, h.At.Format("01-02T15:04"), h.Editor, h.What()))
	}
	want := []string{
		"1 11-20T09:00 gull build: 3 articles",
		`2 11-20T10:00 ed1@example.org hide a2 "기사 a2"`,
		`3 11-20T10:01 ed2@example.org pin a3 "기사 a3"`,
		`4 11-20T10:02 ed1@example.org move a1 "기사 a1" to regulation`,
		`5 11-20T10:03 ed1@example.org blurb a3 "기사 a3": 이번 주의 핵심`,
		"6 11-20T10:04 ed2@example.org note: 안녕하세요. *AI기본법* 특집입니다.",
		`7 11-20T10:05 ed2@example.org subject "AI기본법 특집"`,
		"8 11-21T09:00 ed1@example.org approve: 2 articles",
		"9 11-21T10:00 ed2@example.org reopen",
		`10 11-21T11:00 ed1@example.org show-again a2 "기사 a2"`,
		"11 11-22T09:00 ed1@example.org approve: 3 articles",
	}
	if !reflect.DeepEqual(lines, want) {
		t.Errorf("history:\n%s\nwant:\n%s", strings.Join(lines, "\n"), strings.Join(want, "\n"))
	}
}

// Two editors change the draft at once from the version they loaded: one
// change wins, the other is refused as stale and applied over nothing.
// Each editor has a store of their own on the file, as the daemon and a
// `gull issue` command do.
func TestDraftConcurrentEditors(t *testing.T) {
	ctx := context.Background()
	s1, path := openTemp(t)
	s2, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ids := []string{"a1", "a2", "a3", "a4", "a5", "a6", "a7", "a8", "a9", "b1", "b2", "b3"}
	if _, err := s1.SaveDraft(ctx, draftBuild(ids...), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	version := 1
	for round := range 6 {
		hide := digest.Edit{Kind: digest.EditHide, Article: ids[2*round]}
		pin := digest.Edit{Kind: digest.EditPin, Article: ids[2*round+1]}
		var wg sync.WaitGroup
		var v1, v2 int
		var err1, err2 error
		wg.Add(2)
		go func() { defer wg.Done(); v1, err1 = s1.EditDraft(ctx, "2026-W48", version, ed1, hide, day2) }()
		go func() { defer wg.Done(); v2, err2 = s2.EditDraft(ctx, "2026-W48", version, ed2, pin, day2) }()
		wg.Wait()
		if (err1 == nil) == (err2 == nil) {
			t.Fatalf("round %d: both or neither applied: %v / %v", round, err1, err2)
		}
		won, lost, loser := hide, pin, err2
		if err1 != nil {
			won, lost, loser = pin, hide, err1
		}
		wantMsg := fmt.Sprintf("the draft changed since you loaded it (version %d, now %d): reload and apply your change again", version, version+1)
		if !errors.Is(loser, digest.ErrStaleDraft) || loser.Error() != wantMsg {
			t.Fatalf("round %d: the loser got %v", round, loser)
		}
		d := mustDraft(t, s1, "2026-W48")
		if d.Version != version+1 || max(v1, v2) != version+1 || len(d.Edits) != 2*round+1 || d.Edits[2*round] != won {
			t.Fatalf("round %d: version %d, edits %+v; want only %+v", round, d.Version, d.Edits, won)
		}
		// The loser reloads and applies the change again.
		other := s2
		if lost == hide {
			other = s1
		}
		if version, err = other.EditDraft(ctx, "2026-W48", d.Version, "x@example.org", lost, day2); err != nil {
			t.Fatalf("round %d: retry: %v", round, err)
		}
	}
	if got := len(mustDraft(t, s2, "2026-W48").Edits); got != 12 {
		t.Errorf("%d edits kept, want 12", got)
	}
}

// snapshot is everything an editor can see of a draft.
func snapshot(t *testing.T, s *Store, id string) string {
	t.Helper()
	d := mustDraft(t, s, id)
	hist, err := s.DraftHistory(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("%+v\n%+v", d, hist)
}

// Bad input is a clear one-line error and leaves the draft as it was.
func TestDraftBadEditLeavesDraftUnchanged(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	v := mustEdit(t, s, 1, ed1, digest.Edit{Kind: digest.EditNote, Text: "before"}, day1)
	before := snapshot(t, s, id)
	cases := []struct {
		name    string
		id      string
		version int
		editor  string
		edit    digest.Edit
		is      error
		msg     string
	}{
		{"unknown article", id, v, ed1, digest.Edit{Kind: digest.EditHide, Article: "nope99"}, digest.ErrBadEdit, `article "nope99": not in issue 2026-W48; ` + "`issue show` lists the ids"},
		{"unknown theme", id, v, ed1, digest.Edit{Kind: digest.EditMove, Article: "a1", Theme: "sports"}, digest.ErrBadEdit, `theme "sports": no such theme; one of compute, regulation, other`},
		{"empty note", id, v, ed1, digest.Edit{Kind: digest.EditNote, Text: "  "}, digest.ErrBadEdit, "note: empty; write the introduction"},
		{"a 10 MB note", id, v, ed1, digest.Edit{Kind: digest.EditNote, Text: strings.Repeat("x", 10<<20)}, digest.ErrBadEdit, "note: 10485760 bytes, over the limit of 65536 (64 KiB)"},
		{"a subject with a line break", id, v, ed1, digest.Edit{Kind: digest.EditSubject, Text: "AI\r\nBcc: all@example.org"}, digest.ErrBadEdit, "subject: a line break is not allowed"},
		{"a subject too long", id, v, ed1, digest.Edit{Kind: digest.EditSubject, Text: strings.Repeat("가", 201)}, digest.ErrBadEdit, "subject: 201 characters, over the limit of 200"},
		{"a stale version", id, v - 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, digest.ErrStaleDraft, "the draft changed since you loaded it (version 1, now 2)"},
		{"a version from the future", id, v + 5, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, digest.ErrStaleDraft, "the draft changed since you loaded it (version 7, now 2)"},
		{"no editor", id, v, " ", digest.Edit{Kind: digest.EditHide, Article: "a1"}, digest.ErrBadEdit, "editor: no address given"},
		{"no such draft", "2026-W47", v, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, digest.ErrNoDraft, "no draft of issue 2026-W47: it has not been drafted"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := s.EditDraft(ctx, c.id, c.version, c.editor, c.edit, day2)
			if !errors.Is(err, c.is) || !strings.HasPrefix(err.Error(), c.msg) || strings.Contains(err.Error(), "\n") {
				t.Errorf("got %v; want %v starting %q", err, c.is, c.msg)
			}
			if after := snapshot(t, s, id); after != before {
				t.Errorf("the draft changed:\n%s\nwant\n%s", after, before)
			}
		})
	}
	// An approval that would send nothing is refused the same way.
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day1)
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditHide, Article: "a2"}, day1)
	before = snapshot(t, s, id)
	_, err := s.ApproveDraft(ctx, id, v, ed1, day2)
	if !errors.Is(err, digest.ErrBadEdit) || err.Error() != "issue 2026-W48: every article is hidden, so readers would get nothing: show one again before approving" {
		t.Errorf("approving nothing: %v", err)
	}
	if _, _, err := s.Issue(ctx, id); !errors.Is(err, digest.ErrNoIssue) || snapshot(t, s, id) != before {
		t.Errorf("a refused approval changed something: %v", err)
	}
	// A write that fails inside the transaction (here the version update,
	// after the history row was written) leaves nothing behind either.
	trigger := `CREATE TRIGGER fail_edit BEFORE UPDATE OF version ON drafts
		BEGIN SELECT RAISE(ABORT, 'disk full'); END`
	if s.pg {
		trigger = `CREATE FUNCTION fail_edit() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'disk full'; END $$;
		CREATE TRIGGER fail_edit BEFORE UPDATE OF version ON drafts FOR EACH ROW EXECUTE FUNCTION fail_edit()`
	}
	if _, err := s.db.ExecContext(ctx, trigger); err != nil {
		t.Fatal(err)
	}
	if _, err := s.EditDraft(ctx, id, v, ed1, digest.Edit{Kind: digest.EditShowAgain, Article: "a1"}, day2); err == nil || !strings.Contains(err.Error(), "disk full") {
		t.Fatalf("edit with a failing write: %v", err)
	}
	if after := snapshot(t, s, id); after != before {
		t.Errorf("a failed write changed the draft:\n%s\nwant\n%s", after, before)
	}
}

// A later build brings new articles (marked new) and drops gone ones; the
// editors' edits stay in force, and a build that changes nothing leaves
// the version alone so no editor's page goes stale for nothing.
func TestDraftRebuild(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2", "a3"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	v := mustEdit(t, s, 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day1)
	v = mustEdit(t, s, v, ed1, digest.Edit{Kind: digest.EditPin, Article: "a3"}, day1)
	ch, err := s.SaveDraft(ctx, draftBuild("a1", "a3", "a4"), draftThemes, day2)
	if err != nil || ch.First || ch.Version != v+1 {
		t.Fatalf("rebuild: %+v %v", ch, err)
	}
	if len(ch.New) != 1 || ch.New[0].ID != "a4" || len(ch.Dropped) != 1 || ch.Dropped[0].ID != "a2" {
		t.Errorf("changes: new %v dropped %v", ch.New, ch.Dropped)
	}
	d := mustDraft(t, s, id)
	if got, want := ids(d.Issue()), "compute: a3^ a1! a4"; got != want {
		t.Errorf("rebuilt draft: %s, want %s", got, want)
	}
	for _, a := range d.Issue().Sections[0].Articles {
		if d.New(a) != (a.ID == "a4") {
			t.Errorf("%s: new %v", a.ID, d.New(a))
		}
	}
	// The editor who loaded the draft before the rebuild has not seen a4.
	if _, err := s.ApproveDraft(ctx, id, v, ed1, day2); !errors.Is(err, digest.ErrStaleDraft) {
		t.Errorf("approval against the draft before the rebuild: %v", err)
	}
	// The same build again changes nothing.
	if ch, err := s.SaveDraft(ctx, draftBuild("a1", "a3", "a4"), draftThemes, day3); err != nil || ch.Version != v+1 || ch.Changed() {
		t.Errorf("same build: %+v %v", ch, err)
	}
	hist, _ := s.DraftHistory(ctx, id)
	if last := hist[len(hist)-1]; len(hist) != 4 || last.What() != "rebuild: 1 new, 1 dropped" || last.Editor != BuildEditor {
		t.Errorf("history: %+v", hist)
	}
	if got, err := s.LatestDraft(ctx); err != nil || got.Version != v+1 || got.Base.ID != id {
		t.Errorf("latest draft: %v %v", got.Base.ID, err)
	}
}

// An issue a send froze without an approval (review not required) is
// sent: it is not drafted, edited or reopened afterwards.
func TestDraftOfAnIssueFrozenBySend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	if _, err := s.LatestDraft(ctx); !errors.Is(err, digest.ErrNoDraft) {
		t.Errorf("latest draft of an empty store: %v", err)
	}
	if _, err := s.SaveDraft(ctx, draftBuild("a1"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveIssue(ctx, draftBuild("a1"), digest.IssueOpen, day2); err != nil {
		t.Fatal(err)
	}
	if d := mustDraft(t, s, id); d.Status != digest.DraftSent {
		t.Errorf("status: %s", d.Status)
	}
	if _, err := s.EditDraft(ctx, id, 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day2); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("edit: %v", err)
	}
	if _, err := s.ReopenDraft(ctx, id, 1, ed1, day2); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("reopen: %v", err)
	}
	other := draftBuild("b1")
	other.ID = "2026-W49"
	if _, err := s.SaveIssue(ctx, other, digest.IssueOpen, day2); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, other, draftThemes, day2); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("drafting a frozen issue: %v", err)
	}
}

// crashEnv names the store the crash test's child process edits.
const crashEnv = "GULL_TEST_DRAFT_CRASH_DB"

// A process that dies in the middle of an edit's transaction (here: in a
// trigger, after the history row is written and before the commit) leaves
// the draft as it was, and the next edit goes through.
func TestDraftEditCrash(t *testing.T) {
	ctx := context.Background()
	if path := os.Getenv(crashEnv); path != "" {
		crashChild(ctx, path)
		return
	}
	s, path := openTemp(t)
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	before := snapshot(t, s, "2026-W48")
	cmd := exec.Command(os.Args[0], "-test.run=^TestDraftEditCrash$")
	cmd.Env = append(os.Environ(), crashEnv+"="+path)
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "dying mid-edit") || strings.Contains(string(out), "edit committed") {
		t.Fatalf("the child did not die mid-edit: %v\n%s", err, out)
	}
	if _, err := s.db.ExecContext(ctx, `DROP TRIGGER crash_edit`); err != nil {
		t.Fatal(err)
	}
	if after := snapshot(t, s, "2026-W48"); after != before {
		t.Errorf("the crash changed the draft:\n%s\nwant\n%s", after, before)
	}
	mustEdit(t, s, 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day2)
}

// crashChild edits the draft with a trigger that ends the process when the
// edit updates the draft's version, inside the edit's transaction.
func crashChild(ctx context.Context, path string) {
	sqlite.MustRegisterScalarFunction("crash_now", 0, func(*sqlite.FunctionContext, []driver.Value) (driver.Value, error) {
		fmt.Println("dying mid-edit")
		os.Exit(3)
		return nil, nil
	})
	s, err := Open(ctx, path)
	if err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	if _, err := s.db.ExecContext(ctx, `CREATE TRIGGER crash_edit BEFORE UPDATE OF version ON drafts
		BEGIN SELECT crash_now(); END`); err != nil {
		fmt.Println(err)
		os.Exit(1)
	}
	_, err = s.EditDraft(ctx, "2026-W48", 1, ed1, digest.Edit{Kind: digest.EditHide, Article: "a1"}, day2)
	fmt.Println("edit committed", err)
	os.Exit(0)
}

// A week first recorded as quiet (no articles then) is frozen by the
// approval of its draft like any other.
func TestApproveDraftOfAQuietWeek(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	if _, err := s.SaveIssue(ctx, draftBuild(), digest.IssueQuiet, day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SaveDraft(ctx, draftBuild("a1"), draftThemes, day2); err != nil {
		t.Fatal(err)
	}
	if v, err := s.ApproveDraft(ctx, "2026-W48", 1, ed1, day2); err != nil || v != 2 {
		t.Fatalf("approve: %d %v", v, err)
	}
	if is, rec, err := s.Issue(ctx, "2026-W48"); err != nil || rec.Status != digest.IssueOpen || ids(is) != "compute: a1" {
		t.Errorf("frozen: %+v %s %v", rec, ids(is), err)
	}
}

// A send under way (it holds the send lease) may hold the approved issue
// in memory before its first delivery row: a reopen then is refused, so
// a changed issue never goes out as the old one. Once the send is over,
// the reopen goes through.
func TestReopenRefusedWhileASendRuns(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	v, err := s.ApproveDraft(ctx, id, 1, ed1, day1)
	if err != nil {
		t.Fatal(err)
	}
	lease, err := s.AcquireLease(ctx, "send", time.Minute, day2)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReopenDraft(ctx, id, v, ed1, day2.Add(time.Second)); !errors.Is(err, digest.ErrDraftClosed) {
		t.Errorf("reopen while a send runs: %v, want ErrDraftClosed", err)
	}
	if err := lease.Release(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ReopenDraft(ctx, id, v, ed1, day2.Add(2*time.Second)); err != nil {
		t.Errorf("reopen after the send: %v", err)
	}
}

// An issue an editor approved is frozen before its send and may still be
// reopened and changed: it is not published (Issues feeds the archive,
// its Atom feed and the daemon's resume) until its send begins, and its
// record says it awaits the send (the issue page refuses it).
func TestApprovedIssueUnpublishedUntilItsSend(t *testing.T) {
	ctx := context.Background()
	s, _ := openTemp(t)
	const id = "2026-W48"
	if _, err := s.SaveDraft(ctx, draftBuild("a1", "a2"), draftThemes, day1); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ApproveDraft(ctx, id, 1, ed1, day1); err != nil {
		t.Fatal(err)
	}
	listed := func() bool {
		t.Helper()
		recs, err := s.Issues(ctx, 10)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range recs {
			if r.ID == id {
				return true
			}
		}
		return false
	}
	if listed() {
		t.Errorf("the approved, unsent issue is published")
	}
	if _, rec, err := s.Issue(ctx, id); err != nil || !rec.Awaiting {
		t.Errorf("the approved issue's record: %+v, %v; want Awaiting", rec, err)
	}
	if _, _, _, err := s.SaveSubscriber(ctx, subscribers.Subscriber{Email: "r@example.org", Status: subscribers.Active}, subscribers.AllFields, day1); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.PrepareDeliveries(ctx, id, day2); err != nil {
		t.Fatal(err)
	}
	if !listed() {
		t.Errorf("the issue whose send has begun is not published")
	}
	if _, rec, err := s.Issue(ctx, id); err != nil || rec.Awaiting {
		t.Errorf("the record of an issue being sent: %+v, %v", rec, err)
	}
}
