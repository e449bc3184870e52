package send

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// gatherTTL is how long a caching Previewer (`preview --serve`) reuses
// fetched feeds while the editor reloads; templates and config are read
// again on every request.
const gatherTTL = 2 * time.Minute

// Previewer builds the digest the way the send will, but stops before the
// ledger: nothing is mailed and nothing is marked as mailed.
type Previewer struct {
	Env
	// Templates overrides the config's templates folder (--templates).
	Templates string
	// As is the subscriber the preview is for, as typed (--as); empty: a
	// reader of every theme.
	As string
	// Lang, when set ("ko" or "en", --lang), is the language of the
	// rendered mail; "" is the --as subscriber's, else the config's.
	Lang string
	// Week is what names the week asked for (--now as typed), for the
	// cache: the clock moves between requests, the week asked for does not.
	Week string
	// Caching: reuse a fetch for a while (serve mode), so that reloading
	// the page to see a template change is instant.
	Caching bool
	// Notes gets what the editor should know beside the output.
	Notes io.Writer

	mu       sync.Mutex // one build at a time; the cache below
	cacheKey string
	cacheAt  time.Time
	cached   pipeline.Gathered
}

// PreviewReport is what the preview tells the editor beside the output.
type PreviewReport struct {
	Issue         digest.Issue
	Shown         int // articles in the rendered copy
	ShownSections int
	// Frozen is the stored issue's record when the week's send had begun
	// and the preview shows the issue as it went out.
	Frozen *digest.IssueRecord
}

// Render renders the week's digest in format f. load reads the config and
// the time the week ends, afresh for each render (serve mode).
func (p *Previewer) Render(ctx context.Context, f web.PreviewFormat, load func() (*config.Config, time.Time, error)) ([]byte, PreviewReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rep PreviewReport
	cfg, now, err := load()
	if err != nil {
		return nil, rep, err
	}
	// Templates first: a broken template fails before any feed is fetched.
	r, err := NewRenderer(cfg, p.Templates)
	if err != nil {
		return nil, rep, err
	}
	is, err := p.issue(ctx, cfg, now, &rep)
	if err != nil {
		return nil, rep, err
	}
	rep.Issue = is
	if f == web.PreviewJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err := enc.Encode(is)
		rep.Shown, rep.ShownSections = is.Count(), len(is.Sections)
		return buf.Bytes(), rep, err
	}
	to, err := p.recipient(ctx, cfg, is.ID)
	if err != nil {
		return nil, rep, err
	}
	if p.Lang != "" {
		to.Lang = p.Lang
	}
	msg, err := r.Render(is, to)
	if errors.Is(err, render.ErrNothingToSend) {
		return nil, rep, fmt.Errorf("%s chose %s with no article this week; they would get no mail", to.Email, choiceOf(to))
	}
	if err != nil {
		return nil, rep, err
	}
	mine := is.For(to.Themes).ForReader(to.Lang, to.Articles)
	rep.Shown, rep.ShownSections = mine.Count(), len(mine.Sections)
	switch f {
	case web.PreviewText:
		return []byte(msg.Text), rep, nil
	case web.PreviewEML:
		c, err := NewComposer(cfg)
		if err != nil {
			return nil, rep, err
		}
		out, err := c.Compose(msg, now)
		return out.Body, rep, err
	}
	return []byte(msg.HTML), rep, nil
}

// issue is the week's issue as the send would mail it: the frozen one
// once the week's send has begun (its articles are marked as mailed, so a
// fresh build would come out empty), else one built from the feeds now.
func (p *Previewer) issue(ctx context.Context, cfg *config.Config, now time.Time, rep *PreviewReport) (digest.Issue, error) {
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return digest.Issue{}, err
	}
	st, err := store.Open(ctx, where)
	if err != nil {
		return digest.Issue{}, err
	}
	defer st.Close()
	id := digest.IssueID(digest.WeekEnding(now, time.Duration(cfg.Window), cfg.Location))
	is, rec, frozen, err := pipeline.FrozenIssue(ctx, st, id)
	if err != nil || frozen {
		rep.Frozen = &rec
		// Stored times come back with a bare offset; the editor reads
		// the configured zone's name, as in a fresh build.
		is.Period = digest.Period{Start: is.Period.Start.In(cfg.Location), End: is.Period.End.In(cfg.Location)}
		return is, err
	}
	g, err := p.gather(ctx, cfg, st, now)
	if err != nil {
		return digest.Issue{}, err
	}
	return withOpenDraft(ctx, st, pipeline.BuildIssue(cfg.Title.In(cfg.Language), g, cfg.Grouper()))
}

// recipient is who the preview is rendered for: with As, that subscriber
// as they get it (their themes, their signed links); without, a reader of
// every theme.
func (p *Previewer) recipient(ctx context.Context, cfg *config.Config, issueID string) (render.Recipient, error) {
	if p.As == "" {
		return render.Recipient{Email: "preview@example.org"}, nil
	}
	where, err := cfg.Store.Where(os.Getenv)
	if err != nil {
		return render.Recipient{}, err
	}
	st, err := store.Open(ctx, where)
	if err != nil {
		return render.Recipient{}, err
	}
	defer st.Close()
	email, err := subscribers.NormalizeEmail(p.As)
	if err != nil {
		return render.Recipient{}, fmt.Errorf("--as: %w", err)
	}
	sub, err := st.SubscriberByEmail(ctx, email)
	if errors.Is(err, subscribers.ErrNotFound) {
		return render.Recipient{}, fmt.Errorf("--as %s: not on the list; see gull subscribers list", p.As)
	}
	if err != nil {
		return render.Recipient{}, err
	}
	if sub.Status != subscribers.Active {
		fmt.Fprintf(p.Notes, "gull: note: %s is %s and gets no digest; showing what they would get if active\n", sub.Email, sub.Status)
	}
	links, err := p.Links(ctx, cfg, st)
	if err != nil {
		return render.Recipient{}, err
	}
	return ReaderOf(ThemeIDs(cfg), links, sub, issueID), nil
}

// gather fetches the feeds, or when caching reuses the last fetch for a
// while.
func (p *Previewer) gather(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) (pipeline.Gathered, error) {
	key := fmt.Sprint(cfg.Store, cfg.Window, cfg.Location, p.Week, cfg.DigestFeeds())
	if p.Caching && key == p.cacheKey && time.Since(p.cacheAt) < gatherTTL {
		return p.cached, nil
	}
	g, err := p.Gather(ctx, cfg, st, now)
	if err != nil {
		return g, err
	}
	p.cacheKey, p.cacheAt, p.cached = key, time.Now(), g
	return g, nil
}

// Serve serves the preview on ln (loopback: web.LoopbackAddr) until ctx
// ends, rendering afresh on each request with load, as Render does, and
// caching the fetch for a while so a reload to see a template is instant.
func (p *Previewer) Serve(ctx context.Context, ln net.Listener, load func() (*config.Config, time.Time, error)) error {
	p.Caching = true
	srv := &http.Server{
		Handler: web.Preview(func(ctx context.Context, f web.PreviewFormat) ([]byte, error) {
			body, _, err := p.Render(ctx, f, load)
			return body, err
		}, p.Log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a first request fetches every feed
		IdleTimeout:       2 * time.Minute,
	}
	return web.ServeUntil(ctx, srv, ln, 5*time.Second)
}

// Write tells the editor what the preview written to out ("-": stdout)
// holds, and which feeds failed: the digest is still built from the
// others.
func (rep PreviewReport) Write(w io.Writer, out string) {
	is := rep.Issue
	if rep.Frozen != nil {
		writeFrozen(w, *rep.Frozen, is.Period.End.Location())
	} else {
		ReportFailedFeeds(w, is.Feeds)
	}
	where := "stdout"
	if out != "-" && out != "" {
		where = out
	}
	fmt.Fprintf(w, "gull: issue %s (%s – %s) to %s: %s in %s from %s, %d left out (see --format json)\n",
		is.ID, is.Period.Start.Format("2006-01-02 15:04"), is.Period.End.Format("2006-01-02 15:04 MST"), where,
		digest.Counted(rep.Shown, "article", "articles"), digest.Counted(rep.ShownSections, "section", "sections"), feedsCounted(is.Feeds), len(is.Dropped))
	if is.Count() == 0 && rep.Frozen == nil {
		fmt.Fprintf(w, "gull: no new articles in this week; nothing would be sent (quiet_week). Try --now with a date the feeds cover.\n")
	}
}

// feedsCounted is "10 feeds (6 failed)": a digest from the feeds that
// worked is a success, but the count alone would hide that most failed.
func feedsCounted(feeds []digest.FeedReport) string {
	failed := 0
	for _, f := range feeds {
		if f.Status == digest.FeedError {
			failed++
		}
	}
	s := digest.Counted(len(feeds), "feed", "feeds")
	if failed > 0 {
		s += fmt.Sprintf(" (%d failed)", failed)
	}
	return s
}

// writeFrozen says that the preview shows the issue the week's send
// froze, not a fresh build: the editor sees what went out.
func writeFrozen(w io.Writer, rec digest.IssueRecord, loc *time.Location) {
	when := rec.Created.In(loc).Format("2006-01-02 15:04 MST")
	if rec.Status == digest.IssueDone {
		fmt.Fprintf(w, "gull: issue %s was sent on %s: showing it as it went out\n", rec.ID, when)
		return
	}
	fmt.Fprintf(w, "gull: issue %s was frozen on %s, when its send began (not finished yet): showing it as it goes out\n", rec.ID, when)
}

// ReportFailedFeeds tells a person which feeds failed and what stood in
// for them (Sender.FailedFeeds, the preview); LogFailedFeeds is its
// counterpart for a log.
func ReportFailedFeeds(w io.Writer, feeds []digest.FeedReport) {
	for _, f := range feeds {
		if f.Status != digest.FeedError {
			continue
		}
		fallback := "no earlier copy to fall back on"
		if f.Items > 0 {
			fallback = fmt.Sprintf("using the %s of its last good copy", digest.Counted(f.Items, "item", "items"))
		}
		fmt.Fprintf(w, "gull: feed %s failed: %s (%s)\n", cmp.Or(f.Name, digest.RedactURL(f.URL)), f.Error, fallback)
	}
}
