package daemon

// The review loop (config review:): at the draft time before each send the
// daemon builds the coming issue as a draft and mails it to each editor
// with what changed since the last review mail and a link to the desk;
// refresh rounds until the send rebuild it, so late articles join it
// (marked new) with the editors' edits kept. The send itself (digest/send)
// mails the draft, or holds an unapproved one under required + hold.

import (
	"context"
	"errors"
	"fmt"
	"html"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/render"
	"gull/digest/schedule"
	"gull/digest/send"
	"gull/digest/store"
	"gull/digest/web"
)

// draftSlot is the draft the review loop is at by now: the send slot of
// the coming issue and the draft time before it. due is false before the
// draft time (or when review is off).
func draftSlot(cfg *config.Config, now time.Time) (sendAt, draftAt time.Time, due bool) {
	if len(cfg.Review.Editors) == 0 {
		return sendAt, draftAt, false
	}
	sched, err := schedule.ParseSpec(cfg.Schedule, cfg.Location)
	if err != nil {
		return sendAt, draftAt, false // checked at load
	}
	now = now.In(cfg.Location)
	sendAt = sched.Next(now)
	if cfg.Review.Draft == "" {
		draftAt = sendAt.Add(-config.DraftBefore)
		return sendAt, draftAt, !now.Before(draftAt)
	}
	ds, err := schedule.ParseSpec(cfg.Review.Draft, cfg.Location)
	if err != nil {
		return sendAt, draftAt, false
	}
	// The latest draft time within the issue's window: the one of this
	// issue, not of the week before.
	draftAt, due = schedule.LatestSlot(ds, sendAt.Add(-time.Duration(cfg.Window)), now)
	return sendAt, draftAt, due
}

// nextDraftTime is the first draft time after now, for the timer that
// makes the draft job on time (the hourly tick would be up to an hour late).
func nextDraftTime(cfg *config.Config, now time.Time) (time.Time, bool) {
	if len(cfg.Review.Editors) == 0 {
		return time.Time{}, false
	}
	if cfg.Review.Draft != "" {
		ds, err := schedule.ParseSpec(cfg.Review.Draft, cfg.Location)
		if err != nil {
			return time.Time{}, false
		}
		return ds.Next(now.In(cfg.Location)), true
	}
	sched, err := schedule.ParseSpec(cfg.Schedule, cfg.Location)
	if err != nil {
		return time.Time{}, false
	}
	next := sched.Next(now.In(cfg.Location))
	for range 3 { // the draft time of a send within a day is past
		if at := next.Add(-config.DraftBefore); at.After(now) {
			return at, true
		}
		next = sched.Next(next)
	}
	return time.Time{}, false
}

// draftTimer makes the draft job at each draft time until ctx ends.
func (d *Daemon) draftTimer(ctx context.Context) {
	for {
		at, ok := nextDraftTime(d.config().cfg, time.Now())
		if !ok {
			return // review is off; a reload that turns it on is seen by the hourly tick
		}
		t := time.NewTimer(time.Until(at))
		select {
		case <-ctx.Done():
			t.Stop()
			return
		case <-t.C:
			d.draftRound(ctx, time.Now(), true)
		}
	}
}

// draftRound builds (or rebuilds) the coming issue's draft when its draft
// time has come, and mails the editors once for each draft time. It
// reports whether it fetched the feeds (then the round's refresh is done).
// wait: the draft job waits for a refresh or a resumed send to end; the
// hourly round gives way.
func (d *Daemon) draftRound(ctx context.Context, now time.Time, wait bool) bool {
	c := d.config()
	sendAt, draftAt, due := draftSlot(c.cfg, now)
	if !due || !d.take(ctx, wait) {
		return false
	}
	defer d.release()
	if err := d.st.CheckFile(); err != nil {
		d.log.Error("draft not built", "err", err)
		return false
	}
	s := &send.Sender{Env: d.env, Config: c.cfg, Store: d.st, Renderer: c.r, Now: sendAt, Unattended: true, Metrics: d.metrics,
		CopiesFresh: d.copiesFresh()}
	ch, dr, err := s.BuildDraft(ctx)
	if g := s.Gathered(); g.Feeds != nil {
		d.setGathered(g)
	}
	id := digest.IssueID(digest.WeekEnding(sendAt, time.Duration(c.cfg.Window), c.cfg.Location))
	switch {
	case errors.Is(err, digest.ErrDraftClosed):
		return s.Gathered().Feeds != nil // approved: its articles are decided
	case err != nil:
		if ctx.Err() == nil {
			d.log.Error("draft not built; tried again within "+feedRefresh.String(), "issue", id, "err", err)
		}
		return s.Gathered().Feeds != nil
	}
	d.log.Info("draft built", "issue", id, "version", ch.Version, "first", ch.First, "new", len(ch.New), "dropped", len(ch.Dropped),
		"articles", dr.Base.Count(), "send_at", sendAt.Format(time.RFC3339))
	if d.reviewMailed(ctx, id, draftAt) {
		return true
	}
	if err := d.mailEditors(ctx, s, dr, reviewMail); err != nil {
		d.log.Error("review mail not sent to every editor; tried again within "+feedRefresh.String(), "issue", id, "err", err)
		return true
	}
	d.markMailed(ctx, id, reviewMail, draftAt, dr.Base)
	return true
}

// reviewMailed reports whether the editors were mailed the draft of issue
// id for the draft time at. It is in the store, so a daemon that takes the
// schedule over (or this one restarted) does not mail it again. When the
// store cannot say, the mail waits for the next round.
func (d *Daemon) reviewMailed(ctx context.Context, id string, at time.Time) bool {
	m, ok, err := d.st.ReviewMailed(ctx, id, reviewMail)
	if err != nil {
		d.log.Error("could not read whether the editors got the review mail; tried again within "+feedRefresh.String(), "issue", id, "err", err)
		return true
	}
	return ok && m.DraftAt.Equal(at)
}

// markMailed records the editors' mail of kind about issue id. Failing
// to means it may be mailed once more: said, not fatal.
func (d *Daemon) markMailed(ctx context.Context, id, kind string, at time.Time, base digest.Issue) {
	m := store.ReviewMail{DraftAt: at, Base: base, Sent: time.Now()}
	if err := d.st.MarkReviewMailed(context.WithoutCancel(ctx), id, kind, m); err != nil {
		d.log.Error("could not record the editors' mail; they may get it again", "issue", id, "kind", kind, "err", err)
	}
}

// lastReviewed is the build the editors were last mailed of issue id.
func (d *Daemon) lastReviewed(ctx context.Context, id string) (digest.Issue, bool) {
	m, ok, err := d.st.ReviewMailed(ctx, id, reviewMail)
	return m.Base, ok && err == nil
}

// The two mails the editors get.
const (
	reviewMail = "review" // the draft, at draft time
	heldMail   = "held"   // the send found it unapproved and held it
)

// mailEditors mails each editor the draft as readers will get it, headed
// by what changed since the last review mail and the desk's link.
func (d *Daemon) mailEditors(ctx context.Context, s *send.Sender, dr digest.Draft, kind string) error {
	c := d.config()
	if err := s.Open(ctx); err != nil {
		return err
	}
	defer s.Close()
	head := d.reviewHead(ctx, c.cfg, dr, kind)
	// The draft is not published: its "view in browser" link carries a
	// signed view token (the bare address says "not yet published").
	links, err := d.env.Links(ctx, c.cfg, d.st)
	if err != nil {
		return err
	}
	view := links.View(dr.Base.ID, time.Now())
	var errs []error
	for _, editor := range c.cfg.Review.Editors {
		m, err := reviewMessage(c.r, dr, editor, view, head)
		if err == nil {
			err = s.Mail(ctx, m)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", editor, err))
		}
	}
	return errors.Join(errs...)
}

// reviewHead is what the review mail says above the digest, one line a
// paragraph: what the mail is, what changed, where to edit.
func (d *Daemon) reviewHead(ctx context.Context, cfg *config.Config, dr digest.Draft, kind string) []string {
	id := dr.Base.ID
	var lines []string
	if kind == heldMail {
		lines = append(lines, fmt.Sprintf("Issue %s was not sent: it is not approved (review.required, unapproved: hold). It goes out once an editor approves it, within the issue's week.", id))
	} else {
		lines = append(lines, fmt.Sprintf("The draft of issue %s (version %d): below, the digest as readers will get it. Review it, edit it and approve it on the desk.", id, dr.Version))
	}
	prev, ok := d.lastReviewed(ctx, id)
	var added, dropped []digest.Article
	if ok {
		added, dropped = digest.CompareBuilds(prev, dr.Base)
	} else {
		for _, a := range dr.Issue().Articles() {
			if dr.New(a) {
				added = append(added, a)
			}
		}
	}
	switch {
	case !ok && len(added) == 0:
		lines = append(lines, fmt.Sprintf("First draft: %d %s.", dr.Base.Count(), render.Plural(dr.Base.Count(), "article", "articles")))
	case len(added) == 0 && len(dropped) == 0:
		lines = append(lines, "No change in the articles since the last draft.")
	default:
		lines = append(lines, fmt.Sprintf("Since the last draft: %d new, %d dropped.", len(added), len(dropped)))
		for _, a := range added {
			lines = append(lines, "New: "+a.Title)
		}
		for _, a := range dropped {
			lines = append(lines, "Dropped: "+a.Title)
		}
	}
	lines = append(lines, "The desk: "+strings.TrimRight(cfg.HTTP.BaseURL, "/")+"/desk")
	return lines
}

// reviewMessage is the draft rendered for an editor as readers get it,
// marked as a test (it is not the week's delivery), with head above it in
// both parts. A draft with every article hidden has no digest to show:
// the mail is head alone.
func reviewMessage(r *render.Renderer, dr digest.Draft, editor, viewURL string, head []string) (digest.Message, error) {
	m, err := r.Render(dr.Readers(), render.Recipient{Email: editor, Test: true, ViewURL: viewURL})
	if errors.Is(err, render.ErrNothingToSend) {
		m = digest.Message{IssueID: dr.Base.ID, To: editor, Subject: dr.Base.Title, Test: true,
			HTML: "<!DOCTYPE html><html><body></body></html>"}
	} else if err != nil {
		return m, err
	}
	m.Subject = "Review: " + m.Subject
	m.Text = strings.Join(head, "\n") + "\n\n" + m.Text
	var b strings.Builder
	b.WriteString(`<div style="border:2px solid #c60;padding:12px;margin:12px;font-family:sans-serif">`)
	for _, l := range head {
		b.WriteString("<p>" + html.EscapeString(l) + "</p>")
	}
	b.WriteString("</div>")
	m.HTML = web.AfterBody(m.HTML, b.String())
	return m, nil
}

// held is a send that review.required + hold stopped: the log says so at
// each round, and the editors are mailed once.
func (d *Daemon) held(ctx context.Context, id string) {
	d.log.Warn("issue held: it is not approved (review.required, unapproved: hold); nothing sent, and it goes out at the first round after an editor approves it", "issue", id)
	if _, told, err := d.st.ReviewMailed(ctx, id, heldMail); err != nil || told {
		if err != nil {
			d.log.Error("could not read whether the editors were told of the hold; tried again at the next round", "issue", id, "err", err)
		}
		return
	}
	dr, err := d.st.Draft(ctx, id)
	if err != nil {
		d.log.Error("could not read the held issue's draft to mail the editors", "issue", id, "err", err)
		return
	}
	c := d.config()
	s := &send.Sender{Env: d.env, Config: c.cfg, Store: d.st, Renderer: c.r}
	if err := d.mailEditors(ctx, s, dr, heldMail); err != nil {
		d.log.Error("the editors were not all told of the hold; tried again at the next round", "issue", id, "err", err)
		return
	}
	d.markMailed(ctx, id, heldMail, time.Time{}, dr.Base)
}
