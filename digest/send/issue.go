package send

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/store"
)

// The editor's loop from the command line (`gull issue`): which draft a
// command means, a change made against the draft's current version, and
// the draft as text for a person at a terminal.

// ComingDraft is the draft editors work on: the latest one while it is
// not sent; otherwise (none yet, or the latest went out) the week s.Now
// names is built as a draft now, as the daemon does at review.draft.
func (s *Sender) ComingDraft(ctx context.Context) (digest.Draft, error) {
	d, err := s.Store.LatestDraft(ctx)
	if err == nil && d.Status != digest.DraftSent {
		return d, nil
	}
	if err != nil && !errors.Is(err, digest.ErrNoDraft) {
		return d, err
	}
	_, built, berr := s.BuildDraft(ctx)
	if errors.Is(berr, digest.ErrDraftClosed) && err == nil {
		// The week s.Now names is the one sent: nothing comes after it yet.
		return d, nil
	}
	return built, berr
}

// FindDraft is the draft of issue id, or the latest one when id is "".
// The error is digest.ErrNoDraft, with what to do, when there is none.
func FindDraft(ctx context.Context, st *store.Store, id string) (digest.Draft, error) {
	var d digest.Draft
	var err error
	if id == "" {
		d, err = st.LatestDraft(ctx)
	} else {
		d, err = st.Draft(ctx, id)
	}
	if errors.Is(err, digest.ErrNoDraft) {
		return d, fmt.Errorf("%w; gull issue show builds the coming issue's draft", err)
	}
	return d, err
}

// ChangeDraft applies change to the draft of issue id ("" the latest)
// against the version it has now, so a change made by someone else in
// between is refused by the store (digest.ErrStaleDraft), never
// overwritten. version > 0 is the version the editor looked at: the
// change is refused unless the draft is still there. It returns the draft
// as it was before the change and the version after.
func ChangeDraft(ctx context.Context, st *store.Store, id string, version int,
	change func(d digest.Draft, version int) (int, error)) (digest.Draft, int, error) {
	d, err := FindDraft(ctx, st, id)
	if err != nil {
		return d, 0, err
	}
	if version <= 0 {
		version = d.Version
	}
	v, err := change(d, version)
	return d, v, err
}

// WriteDraftText writes the draft as an editor reads it at a terminal:
// where it stands, subject and note, then each section with its articles'
// ids and marks (pinned, hidden, new) and any blurb. Editor text is data
// here: it is written as typed, never interpreted.
func WriteDraftText(w io.Writer, d digest.Draft, loc *time.Location) {
	is := d.Issue()
	fmt.Fprintf(w, "issue %s %q: %s, version %d, %s\n", is.ID, is.Title, is.Status, is.Version,
		digest.Counted(is.ForReaders().Count(), "article for readers", "articles for readers"))
	fmt.Fprintf(w, "period: %s to %s\n", is.Period.Start.In(loc).Format("2006-01-02 15:04"), is.Period.End.In(loc).Format("2006-01-02 15:04"))
	if is.Subject == "" {
		fmt.Fprintln(w, "subject: (the default)")
	} else {
		fmt.Fprintf(w, "subject: %s\n", is.Subject)
	}
	if is.Note == "" {
		fmt.Fprintln(w, "note: (none)")
	} else {
		fmt.Fprintf(w, "note:\n%s\n", indent(is.Note, "  "))
	}
	for _, s := range is.Sections {
		fmt.Fprintf(w, "\n%s [%s]\n", s.Name, s.ID)
		for _, a := range s.Articles {
			fmt.Fprintf(w, "  %s %s%s · %s\n", a.ID, marks(d, a), a.Title, a.FeedName)
			if a.Blurb != "" {
				fmt.Fprintf(w, "%s\n", indent("blurb: "+a.Blurb, "      "))
			}
		}
	}
}

// marks are an article's editor marks as "[pinned] [hidden] ", "" for none.
func marks(d digest.Draft, a digest.Article) string {
	var m string
	if a.Pinned {
		m += "[pinned] "
	}
	if a.Hidden {
		m += "[hidden] "
	}
	if d.New(a) {
		m += "[new] "
	}
	return m
}

func indent(s, by string) string {
	return by + strings.ReplaceAll(s, "\n", "\n"+by)
}

// WriteHistory lists the draft's changes, oldest first: version, when (in
// loc), who, what.
func WriteHistory(w io.Writer, h []digest.HistoryEntry, loc *time.Location) {
	for _, e := range h {
		fmt.Fprintf(w, "v%-3d %s  %s  %s\n", e.Version, e.At.In(loc).Format("2006-01-02 15:04"), e.Editor, e.What())
	}
}

// WriteIssueJSON writes is as preview --format json does (DESIGN.md §5):
// indented, and editor text as typed (no \u003c for <): it is data.
func WriteIssueJSON(w io.Writer, is digest.Issue) error {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	return enc.Encode(is)
}

// withOpenDraft is is, a fresh build, with the edits of its open draft
// (if it has one) as readers would get it: what an editor previews is
// what the send would mail now.
func withOpenDraft(ctx context.Context, st *store.Store, is digest.Issue) (digest.Issue, error) {
	d, open, err := (&Sender{Store: st}).openDraft(ctx, is.ID)
	if err != nil || !open {
		return is, err
	}
	d.Base = is
	return frozenReaders(d), nil
}
