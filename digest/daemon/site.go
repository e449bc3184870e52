package daemon

// The daemon's web side: the site of the config in force, swapped whole
// on a reload; the issues' page cache; the sign-up confirmation transport;
// and /preview, the coming issue from the latest fetch.

import (
	"cmp"
	"context"
	"errors"
	"net/http"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/deliver"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/schedule"
	"gull/digest/send"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// siteHolder serves the web side of the config in force; a reload swaps
// it whole. The ones swapped out are kept to be waited for and closed at
// shutdown (their sign-up mails may still be going).
type siteHolder struct {
	h    atomic.Pointer[http.Handler]
	mu   sync.Mutex
	olds []*siteParts
}

type siteParts struct {
	pages *web.SubscriberPages
	site  *web.Site
	tr    deliver.Transport
	// stopDesk ends the desk's sign-in mails still going (shutdown);
	// nil when the config has no desk.
	stopDesk context.CancelFunc
}

func (h *siteHolder) ServeHTTP(w http.ResponseWriter, r *http.Request) { (*h.h.Load()).ServeHTTP(w, r) }

// swap puts a new site in force. The replaced ones stay open until
// shutdown: a sign-up that began on one may still be on its way to its
// transport (an idle SMTP transport holds at most one connection).
func (h *siteHolder) swap(p *siteParts, handler http.Handler) {
	h.mu.Lock()
	if n := len(h.olds); n > 0 {
		// The caps (rate limits, pending sign-ups, the hourly
		// confirmation budget) and the sign-up queue survive a reload.
		p.pages.Continue(h.olds[n-1].pages)
		p.site.Continue(h.olds[n-1].site)
	}
	h.olds = append(h.olds, p)
	h.mu.Unlock()
	h.h.Store(&handler)
}

// sendOwed renews this daemon's claims on the sign-ups it is mailing and
// takes those a stopped daemon left (web.SubscriberPages.SendOwed), with
// the pages in force.
func (h *siteHolder) sendOwed(ctx context.Context) (int, error) {
	h.mu.Lock()
	p := h.olds[len(h.olds)-1].pages
	h.mu.Unlock()
	return p.SendOwed(ctx)
}

// storeOutbox is web.SignUpOutbox in the store, shared by every daemon.
type storeOutbox struct{ *store.Store }

func (o storeOutbox) ClaimLapsedSignUps(ctx context.Context, holder string, now, until time.Time, n int) ([]web.OwedSignUp, error) {
	owed, err := o.Store.ClaimLapsedSignUps(ctx, holder, now, until, n)
	out := make([]web.OwedSignUp, len(owed))
	for i, s := range owed {
		out[i] = web.OwedSignUp(s)
	}
	return out, err
}

func (h *siteHolder) wait() {
	h.mu.Lock()
	olds := slices.Clone(h.olds) // not held while waiting: stop needs it
	h.mu.Unlock()
	for _, p := range olds {
		p.pages.Wait()
		if p.site.Desk != nil {
			p.site.Desk.Wait()
		}
	}
}

// stop ends the sign-up work still queued or on the wire (shutdown).
func (h *siteHolder) stop() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.olds {
		p.pages.Stop()
		if p.stopDesk != nil {
			p.stopDesk()
		}
	}
}

func (h *siteHolder) close() {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, p := range h.olds {
		p.tr.Close()
	}
}

// newSite makes the web side for cfg and r.
func (d *Daemon) newSite(ctx context.Context, cfg *config.Config, r *render.Renderer) (*siteParts, http.Handler, error) {
	links, err := d.env.Links(ctx, cfg, d.st)
	if err != nil {
		return nil, nil, err
	}
	composer, err := send.NewComposer(cfg)
	if err != nil {
		return nil, nil, err
	}
	tr, err := d.confirmTransport(cfg)
	if err != nil {
		return nil, nil, err
	}
	var themes []web.ThemeChoice
	for _, t := range cfg.Themes {
		themes = append(themes, web.ThemeChoice{ID: t.ID, Name: t.Name.In(cfg.Language), Names: t.Name.Text})
	}
	pages := &web.SubscriberPages{
		Store:   d.st,
		Signer:  links.Signer,
		Mailer:  &confirmMailer{title: cfg.Title.Text, lang: cfg.Language, composer: composer, tr: tr},
		BaseURL: links.BaseURL,
		Title:   cfg.Title.In(cfg.Language),
		Themes:  themes,
		Other:   web.ThemeChoice{ID: cfg.Other.ID, Name: cfg.Other.Name.In(cfg.Language), Names: cfg.Other.Name.Text},
		// The reader's pages and mails are in their language; the list's
		// is the default.
		Language: cfg.Language,
		Titles:   cfg.Title.Text,
		Archive:  d.st,
		Log:      d.log,

		PendingTTL: time.Duration(cfg.HTTP.PendingTTL),
		MaxPending: cfg.HTTP.MaxPending,
		Metrics:    d.metrics,
		// A sign-up's mail is owed in the store until it is sent, so
		// another daemon sends it if this one dies first.
		Outbox:    storeOutbox{d.st},
		Instance:  d.instance,
		OwedClaim: d.env.LeaseTTL(),
	}
	cache := &pageCache{pages: map[string][]byte{}}
	styles, err := r.Styles()
	if err != nil {
		tr.Close()
		return nil, nil, err
	}
	site := &web.Site{
		Pages:   pages,
		Archive: d.st,
		// Cached per issue and language (?lang=).
		IssuePage: func(is digest.Issue, lang string) ([]byte, error) {
			return cache.get(is.ID+"\x00"+lang, func() ([]byte, error) { return r.WebPageIn(is, lang) })
		},
		Preview:  d.preview,
		Health:   d.st.Ping,
		Metrics:  d.metrics.Handler(),
		BaseURL:  links.BaseURL,
		Title:    cfg.Title.In(cfg.Language),
		Titles:   cfg.Title.Text,
		Location: cfg.Location,
		Log:      d.log,

		TrustedProxies: cfg.HTTP.Proxies,

		Lang:     cfg.Language,
		Themes:   themes,
		Other:    pages.Other,
		Styles:   styles,
		Signer:   links.Signer,
		ViewPage: r.WebPageIn, // a draft changes: never from the cache
	}
	if site.Webhooks, err = d.newWebhooks(ctx, cfg); err != nil {
		tr.Close()
		return nil, nil, err
	}
	parts := &siteParts{pages: pages, site: site, tr: tr}
	if len(cfg.Review.Editors) > 0 {
		if site.Desk, parts.stopDesk, err = d.newDesk(cfg, r, links, composer, tr); err != nil {
			tr.Close()
			return nil, nil, err
		}
	}
	return parts, site.Handler(), nil
}

// newDesk makes the editor's desk of cfg: sign-in links checked against
// the store's record of used links (a reload, a restart or another daemon
// must not make a used link good again), mailed like the sign-up confirmations, and the draft
// shown as readers get it. The returned stop ends the sign-in mails still
// going, as siteHolder.stop ends the confirmations.
func (d *Daemon) newDesk(cfg *config.Config, r *render.Renderer, links web.Links, composer deliver.Composer, tr deliver.Transport) (*web.Desk, context.CancelFunc, error) {
	auth, err := web.NewDeskAuth(links.Signer, cfg.Review.Editors, links.BaseURL, d.usedLinks)
	if err != nil {
		return nil, nil, err
	}
	stopCtx, stop := context.WithCancel(context.Background())
	mailer := &confirmMailer{title: cfg.Title.Text, lang: cfg.Language, composer: composer, tr: tr}
	desk := &web.Desk{
		Auth:  auth,
		Store: d.st,
		Mailer: web.DeskMailFunc(func(ctx context.Context, to, link string) error {
			ctx, cancel := context.WithCancel(ctx)
			defer cancel()
			defer context.AfterFunc(stopCtx, cancel)()
			return mailer.SendDeskLink(ctx, to, link)
		}),
		Render: func(is digest.Issue) ([]byte, error) {
			// As a reader gets it; marked a test, as the review mail is,
			// since no reader's links belong in it.
			// Its "view in browser" is the view link: the draft is not
			// published.
			m, err := r.Render(is, render.Recipient{Email: cfg.Review.Editors[0], Test: true, ViewURL: links.View(is.ID, time.Now())})
			if errors.Is(err, render.ErrNothingToSend) {
				// Every article hidden: readers would get no mail.
				return []byte(noMailPage), nil
			}
			return []byte(m.HTML), err
		},
		Title: cfg.Title.In(cfg.Language),
		Log:   d.log,
	}
	return desk, stop, nil
}

// noMailPage stands for the mail on the desk when every article is
// hidden.
const noMailPage = `<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"></head><body><p>Every article is hidden: readers would get no mail. 모든 기사가 숨겨져 있어 독자에게 보낼 메일이 없습니다.</p></body></html>`

// pageCache keeps the web copies of the issues asked for: a frozen
// issue's page changes only with the templates, and a reload makes a new
// cache. A render costs milliseconds of CPU, and the page is public.
type pageCache struct {
	mu    sync.Mutex
	pages map[string][]byte
}

func (c *pageCache) get(id string, render func() ([]byte, error)) ([]byte, error) {
	c.mu.Lock()
	b, ok := c.pages[id]
	c.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := render()
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	if len(c.pages) >= 64 {
		clear(c.pages) // an archive crawl; start again
	}
	c.pages[id] = b
	c.mu.Unlock()
	return b, nil
}

// confirmTransport is how sign-up confirmations go: one SMTP connection,
// made when the first is sent, or the outbox.
func (d *Daemon) confirmTransport(cfg *config.Config) (deliver.Transport, error) {
	if cfg.Mail.SMTP.Host == "" {
		return deliver.NewOutbox(cfg.Mail.Outbox)
	}
	opts, err := d.env.SMTPOptions(cfg)
	if err != nil {
		return nil, err
	}
	// A reader waits for this mail: try for a minute, not an hour. At
	// shutdown a confirmation on the wire gets a second once the sign-ups'
	// share of the grace is over, then its connection is cut.
	opts.Connections, opts.MaxAttempts, opts.Grace = 1, 3, confirmGrace
	return deliver.NewSMTP(opts)
}

// preview is what the next scheduled send would mail: the period ending
// at the schedule's next run (from the last slot to the next, with a
// weekly window), built from the latest fetch of the feeds (the refresh
// keeps it within the hour) without fetching; or the issue frozen for that
// week (its send has begun, or the editors approved it); or the week's
// draft as readers would get it (the editors' hides respected). A GET
// changes nothing. Who may see it is the site's to decide (web.Site.Preview).
func (d *Daemon) preview(ctx context.Context) (web.PreviewPage, error) {
	d.mu.Lock()
	g := d.gathered
	d.mu.Unlock()
	c := d.config()
	if g.Feeds == nil && d.st != nil && d.leader.Load() == nil {
		// A daemon that does not lead the schedule fetches nothing: the
		// leader's fetches are in the store, each feed's latest copy.
		var err error
		if g, err = d.storedCopies(ctx, c.cfg.DigestFeeds()); err != nil {
			return web.PreviewPage{}, err
		}
	}
	if g.Feeds == nil {
		return web.PreviewPage{}, web.ErrPreviewNotReady
	}
	sched, err := schedule.ParseSpec(c.cfg.Schedule, c.cfg.Location)
	if err != nil {
		return web.PreviewPage{}, err // validated at load: not reached
	}
	next := sched.Next(time.Now().In(c.cfg.Location))
	period := digest.WeekEnding(next, time.Duration(c.cfg.Window), c.cfg.Location)
	id := digest.IssueID(period)
	is, err := pipeline.CurrentIssue(ctx, d.st, id, func(ctx context.Context) (digest.Issue, error) {
		if dr, err := d.st.Draft(ctx, id); err == nil {
			return dr.Readers(), nil
		} else if !errors.Is(err, digest.ErrNoDraft) {
			return digest.Issue{}, err
		}
		mailed, err := d.st.Mailed(ctx)
		if err != nil {
			return digest.Issue{}, err
		}
		w := g.Window(period, mailed)
		if w.Number, err = d.st.IssueNumber(ctx, digest.IssueID(period)); err != nil {
			return digest.Issue{}, err
		}
		return pipeline.BuildIssue(c.cfg.Title.In(c.cfg.Language), w, c.cfg.Grouper()), nil
	})
	if err != nil {
		return web.PreviewPage{}, err
	}
	body, err := c.r.WebPage(is)
	return web.PreviewPage{ID: id, Body: body}, err
}

// storedCopies is the feeds' latest copies as the store keeps them (the
// leader's fetches), as a fetch that reached none of them would give; no
// Feeds when no feed was ever fetched.
func (d *Daemon) storedCopies(ctx context.Context, feeds []digest.Feed) (pipeline.Gathered, error) {
	var g pipeline.Gathered
	var res []digest.FeedResult
	for _, f := range feeds {
		arts, err := d.st.FeedArticles(ctx, f.URL)
		if err != nil {
			return g, err
		}
		for i := range arts {
			arts[i].FeedName = cmp.Or(f.Name, arts[i].FeedName, f.URL)
		}
		res = append(res, digest.FeedResult{Feed: f, Status: digest.FeedOK, Articles: arts})
		if len(arts) > 0 {
			g.Feeds = res // at least one copy: set below, whole
		}
	}
	if g.Feeds != nil {
		g.Feeds = res
	}
	return g, nil
}

// subscribersStore is checked here: the pages need the store to be one.
var _ subscribers.Store = (*store.Store)(nil)
