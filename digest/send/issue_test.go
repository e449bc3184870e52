package send

import (
	"context"
	"errors"
	"testing"
	"time"

	"gull/digest"
)

// An edit from the command line is made against the version the draft has
// when the command reads it: another editor's change in between is not
// overwritten, the command's edit is refused and the draft keeps the
// other's.
func TestChangeDraftRefusesAChangeMadeMeanwhile(t *testing.T) {
	s, _ := newTestSender(t, map[string]string{})
	ctx := context.Background()
	if _, _, err := s.BuildDraft(ctx); err != nil {
		t.Fatal(err)
	}
	_, _, err := ChangeDraft(ctx, s.Store, "", 0, func(d digest.Draft, version int) (int, error) {
		// The other editor's note lands between the read and the edit.
		if _, err := s.Store.EditDraft(ctx, d.Base.ID, d.Version, "other@example.org", digest.Edit{Kind: digest.EditNote, Text: "theirs"}, time.Now()); err != nil {
			t.Fatal(err)
		}
		return s.Store.EditDraft(ctx, d.Base.ID, version, "me@example.org", digest.Edit{Kind: digest.EditNote, Text: "mine"}, time.Now())
	})
	if !errors.Is(err, digest.ErrStaleDraft) {
		t.Fatalf("the edit made against the old version: %v, want ErrStaleDraft", err)
	}
	d, err := FindDraft(ctx, s.Store, "")
	if err != nil {
		t.Fatal(err)
	}
	if got := d.Issue().Note; got != "theirs" {
		t.Errorf("note %q, want the other editor's %q kept", got, "theirs")
	}
}

// The coming draft is the latest one while it is not sent; with none it is
// built for the week s.Now names.
func TestComingDraftBuildsOnceThenReadsTheStoredOne(t *testing.T) {
	s, _ := newTestSender(t, map[string]string{})
	ctx := context.Background()
	if _, err := FindDraft(ctx, s.Store, ""); !errors.Is(err, digest.ErrNoDraft) {
		t.Fatalf("before any build: %v, want ErrNoDraft", err)
	}
	d, err := s.ComingDraft(ctx)
	if err != nil || d.Version != digest.FirstDraftVersion || d.Base.ID != s.IssueID() {
		t.Fatalf("first: %s v%d %v, want %s built at v%d", d.Base.ID, d.Version, err, s.IssueID(), digest.FirstDraftVersion)
	}
	v, err := s.Store.EditDraft(ctx, d.Base.ID, d.Version, "ed@example.org", digest.Edit{Kind: digest.EditSubject, Text: "S"}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	again, err := s.ComingDraft(ctx)
	if err != nil || again.Version != v || again.Issue().Subject != "S" {
		t.Fatalf("second: v%d subject %q %v, want the stored draft v%d with its subject", again.Version, again.Issue().Subject, err, v)
	}
}
