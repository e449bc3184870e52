package send

import (
	"context"
	"errors"
	"fmt"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/pipeline"
)

// The review loop on the send's side: a draft of the week's issue, when
// one exists, is what the send mails (its edits in force: a hidden
// article never goes out), and review.required decides what happens when
// nobody approved it.

// DraftThemes are the sections an editor may move an article to: the
// configured themes, then the catch-all section.
func DraftThemes(cfg *config.Config) []digest.Theme {
	out := cfg.DigestThemes()
	return append(out, digest.Theme{ID: cfg.Other.ID, Name: cfg.Other.Name.In(cfg.Language)})
}

// BuildDraft fetches the feeds, builds the week's issue (the one s.Now
// names) and stores it as its draft: the first build makes the draft, a
// later one adds the articles that came since (marked new) with every edit
// kept. It returns what the build changed and the draft as it now stands.
func (s *Sender) BuildDraft(ctx context.Context) (digest.DraftChanges, digest.Draft, error) {
	is, err := s.build(ctx)
	if err != nil {
		return digest.DraftChanges{}, digest.Draft{}, err
	}
	ch, err := s.Store.SaveDraft(ctx, is, DraftThemes(s.Config), time.Now())
	if err != nil {
		return ch, digest.Draft{}, err
	}
	d, err := s.Store.Draft(ctx, is.ID)
	return ch, d, err
}

// openDraft is the draft of issue id when one is open for edits; ok is
// false when there is none (review is off, or nobody built one) or when
// it is approved or sent (then the stored issue is what goes out).
func (s *Sender) openDraft(ctx context.Context, id string) (digest.Draft, bool, error) {
	d, err := s.Store.Draft(ctx, id)
	if errors.Is(err, digest.ErrNoDraft) {
		return d, false, nil
	}
	if err != nil {
		return d, false, err
	}
	return d, d.Status == digest.DraftOpen, nil
}

// draftBuild is the build of the week's send when issue id has an open
// draft: the feeds are read once more into the draft (late articles
// join it, marked new for the editors) and the issue is the draft as
// readers get it, edits applied. OpenIssue freezes it, which closes the
// draft (sent): it can no longer change or be reopened.
func (s *Sender) draftBuild(id string) func(context.Context) (digest.Issue, error) {
	return func(ctx context.Context) (digest.Issue, error) {
		_, d, err := s.BuildDraft(ctx)
		if errors.Is(err, digest.ErrDraftClosed) {
			// Approved between our look and the build: the approval
			// froze the issue, and that is what goes out.
			is, _, err := s.Store.Issue(ctx, id)
			return is, err
		}
		if err != nil {
			return digest.Issue{}, err
		}
		return frozenReaders(d), nil
	}
}

// previewBuild is the build of a test send or a dry run when issue id has
// an open draft: the draft's edits on a fresh build, stored nowhere.
func (s *Sender) previewBuild(id string) func(context.Context) (digest.Issue, error) {
	return func(ctx context.Context) (digest.Issue, error) {
		d, open, err := s.openDraft(ctx, id)
		if err != nil {
			return digest.Issue{}, err
		}
		is, err := s.build(ctx)
		if err != nil || !open {
			return is, err
		}
		d.Base = is
		return frozenReaders(d), nil
	}
}

// frozenReaders is the draft as readers get it, as the store freezes an
// approved one: no draft version or status on the issue that is sent.
func frozenReaders(d digest.Draft) digest.Issue {
	is := d.Readers()
	is.Version, is.Status = 0, ""
	return is
}

// held reports whether the send of issue id must wait for an approval:
// review.required with unapproved: hold and no approved (frozen) issue.
// With makeDraft (the real send, not a dry run), the week's draft is built
// then if nobody built it, so that the editors have something to approve.
func (s *Sender) held(ctx context.Context, id string, makeDraft bool) (bool, error) {
	r := s.Config.Review
	if !r.Required || r.Unapproved != "hold" {
		return false, nil
	}
	if _, _, frozen, err := pipeline.FrozenIssue(ctx, s.Store, id); err != nil || frozen {
		return false, err
	}
	if !makeDraft {
		return true, nil
	}
	if _, err := s.Store.Draft(ctx, id); errors.Is(err, digest.ErrNoDraft) {
		if _, _, err := s.BuildDraft(ctx); err != nil {
			return true, fmt.Errorf("issue %s is held for approval, and its draft could not be built: %w", id, err)
		}
	} else if err != nil {
		return false, err
	}
	return true, nil
}

// Mail composes m and hands it to the transport Open made, outside any
// ledger: the editors' review mail, not an issue's delivery.
func (s *Sender) Mail(ctx context.Context, m digest.Message) error {
	_, err := s.deliver(ctx, m)
	return err
}
