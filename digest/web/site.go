package web

import (
	"cmp"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// Site is everything `gull run` serves on http.listen (DESIGN.md §7): the
// archive, its feed, the preview of this week, the subscriber pages,
// health and metrics.
type Site struct {
	Pages     *SubscriberPages // /subscribe /confirm /unsubscribe /preferences
	Archive   ArchiveStore
	IssuePage func(is digest.Issue, lang string) ([]byte, error) // a stored issue as a web page in lang (full HTML document)
	Preview   func(ctx context.Context) (PreviewPage, error)     // the coming issue rendered now (full HTML document)
	Health    func(ctx context.Context) error                    // nil = store reachable
	Metrics   http.Handler                                       // Metrics.Handler()
	BaseURL   string                                             // absolute, no trailing slash
	Title     string
	Titles    digest.Text // Title in each language, for ?lang=
	// Location is the zone the archive shows its dates in (the
	// schedule's); nil means UTC. The store keeps times in UTC, and a
	// week ending Monday 08:00 in Seoul ends on Sunday in UTC.
	Location *time.Location
	Log      *slog.Logger
	// WriteBurst/WriteEvery rate-limit the POST routes per client: Burst
	// requests, then one per Every. Zero means 20, and one every 3 s.
	WriteBurst int
	WriteEvery time.Duration
	// SearchBurst/SearchEvery rate-limit GET /search?q= per client: each
	// search reads the store's index (a short word, thousands of rows).
	// Zero means 30, and one a second.
	SearchBurst int
	SearchEvery time.Duration
	// TrustedProxies are the reverse proxies in front (http.trusted_proxies):
	// a request from one of them is counted for the client its
	// X-Forwarded-For names. A header from anyone else is ignored: a
	// client could write any address there.
	TrustedProxies []netip.Prefix
	// Desk is the editor's desk (/desk); nil serves none.
	Desk *Desk
	// Webhooks take the mail providers' bounce and complaint posts
	// (/webhooks/{provider}); nil serves none.
	Webhooks *Webhooks

	// The archive's pages: Lang is the config's language ("ko" or "en";
	// else English), Themes and Other the sections a theme page may show
	// (/themes/{id}), Styles the mail's stylesheet (render.Styles: a
	// <style> element from the operator's own templates, trusted) which
	// the archive's pages share.
	Lang   string
	Themes []ThemeChoice
	Other  ThemeChoice
	Styles string
	// Signer checks the "view" links of test sends (Links.View); nil
	// refuses them. ViewPage renders an unpublished issue for such a link,
	// uncached (a draft changes); nil uses IssuePage.
	Signer   *subscribers.Signer
	ViewPage func(is digest.Issue, lang string) ([]byte, error)

	// chosen is the language a request asked for (?lang=) when it is not
	// Lang: the page is in it, and its links keep it (Site.in).
	chosen string

	now func() time.Time // tests move the clock
	st  *siteState
}

const (
	// previewFresh is how long a rendered preview is served again: the
	// page is public, and each render costs the daemon a whole issue.
	previewFresh = time.Minute
	// previewFailedFresh is how long a failed render is answered from
	// memory; shorter, so a passing problem (a busy store) clears soon.
	previewFailedFresh = 10 * time.Second
	// previewTimeout bounds one render.
	previewTimeout = 2 * time.Minute
	// healthTimeout bounds the store check: a monitor wants an answer,
	// and a store that takes longer is not healthy.
	healthTimeout = 5 * time.Second
)

// siteState is what the site keeps between requests, in memory.
type siteState struct {
	writes   *limiter
	searches *limiter
	// previewTurn is held by the one request that may render the
	// preview; the others wait for it and take its result.
	previewTurn chan struct{}
	preview     previewResult // guarded by previewTurn
	headlines   headlineCache // the archive index's, by issue id
}

type previewResult struct {
	page PreviewPage
	err  error
	at   time.Time // when it was rendered; zero: never
}

// PreviewPage is the coming issue as /preview shows it: its id (a test
// send's view link is good for that issue only) and its web copy.
type PreviewPage struct {
	ID   string
	Body []byte
}

// Continue makes s take over the write rate limit of old, the site a
// reload replaces, so a SIGHUP does not reset it (the subscriber pages
// carry their own: SubscriberPages.Continue). Call it before s serves its
// first request; the preview and headline caches start afresh, since the
// templates may have changed.
func (s *Site) Continue(old *Site) {
	if old == nil || old.st == nil {
		return
	}
	if s.st == nil {
		s.st = &siteState{previewTurn: make(chan struct{}, 1)}
	}
	s.st.writes, s.st.searches = old.st.writes, old.st.searches
	if s.Desk != nil {
		s.Desk.Continue(old.Desk)
	}
	if s.Webhooks != nil {
		s.Webhooks.Continue(old.Webhooks)
	}
}

// Handler serves the site. It panics when a part is missing: that is a
// wiring mistake, found at start-up.
func (s *Site) Handler() http.Handler {
	if s.Pages == nil || s.Archive == nil || s.IssuePage == nil || s.Preview == nil || s.Health == nil || s.Metrics == nil {
		panic("web: Site needs Pages, Archive, IssuePage, Preview, Health and Metrics")
	}
	if s.st == nil || s.st.writes == nil {
		burst, every := s.WriteBurst, s.WriteEvery
		if burst <= 0 {
			burst = 20
		}
		if every <= 0 {
			every = 3 * time.Second
		}
		s.st = &siteState{writes: newLimiter(burst, every), previewTurn: make(chan struct{}, 1)}
	}
	if s.st.searches == nil {
		s.st.searches = newLimiter(cmp.Or(s.SearchBurst, 30), cmp.Or(s.SearchEvery, time.Second))
	}
	pages := s.Pages.Handler()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", s.index)
	mux.HandleFunc("GET /issues/{id}", s.issue)
	mux.HandleFunc("GET /feed.atom", s.feed)
	mux.HandleFunc("GET /themes/{id}", s.theme)
	mux.HandleFunc("GET /search", s.search)
	mux.HandleFunc("GET /preview", s.preview)
	if s.Desk != nil {
		// Under /desk, where the desk's session cookie is sent.
		mux.HandleFunc("GET "+deskPreviewPath, s.preview)
	}
	mux.HandleFunc("GET /healthz", s.healthz)
	mux.Handle("GET /metrics", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		s.Metrics.ServeHTTP(w, r)
	}))
	for _, p := range []string{"/subscribe", "/confirm", "/unsubscribe", "/preferences", "/manage"} {
		mux.Handle(p, pages)
	}
	if s.Desk != nil {
		desk := s.Desk.Handler()
		mux.Handle(deskPath, desk)
		mux.Handle(deskPath+"/", desk)
	}
	if s.Webhooks != nil {
		mux.Handle(webhooksPath, s.Webhooks.Handler())
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w, "'self'")
		// No route reads more than a form; the pages answer 413 past it.
		// The desk's note is longer, and a provider's batch of events:
		// those set their own caps.
		if !strings.HasPrefix(r.URL.Path, deskPath+"/") && !strings.HasPrefix(r.URL.Path, webhooksPath) {
			r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
		}
		if len(s.TrustedProxies) > 0 {
			r.RemoteAddr = forwardedFor(r, s.TrustedProxies)
		}
		// One-click unsubscribes are exempt: after a send, a mail
		// provider posts thousands of them from a few addresses, and each
		// carries a signed token already. A refused one is a reader who
		// keeps getting mail they asked to stop. The webhooks likewise:
		// a provider posts a send's bounces in a burst, each signed, and
		// one refused is a dead address mailed again (it retries, but
		// not for ever).
		if r.Method == http.MethodPost && r.URL.Path != "/unsubscribe" && !strings.HasPrefix(r.URL.Path, webhooksPath) && !s.allow(w, r, s.st.writes) {
			return
		}
		if r.URL.Path == "/search" && r.URL.Query().Get("q") != "" && !s.allow(w, r, s.st.searches) {
			return
		}
		if r.Method == http.MethodPost && !s.storeWritable(w, r) {
			return
		}
		h, pattern := mux.Handler(r)
		if pattern != "" {
			// ServeHTTP, not h: it sets the path values.
			mux.ServeHTTP(w, r)
			return
		}
		// No route: h answers 405 (with Allow) when the path has routes
		// for other methods, else a bare 404, which gets the site's own
		// page instead.
		c := &notFoundCatcher{ResponseWriter: w}
		h.ServeHTTP(c, r)
		if c.notFound {
			s.fail(w, r, failNoPage)
		}
	})
}

// allow takes one of the client's tokens of l, or answers 429 with
// Retry-After and false.
func (s *Site) allow(w http.ResponseWriter, r *http.Request, l *limiter) bool {
	ok, retry := l.allow(clientKey(r), s.clock())
	if !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		s.fail(w, r, failTooMany)
	}
	return ok
}

// failStoreGone answers a form posted while the store's file is gone.
var failStoreGone = failure{503,
	"지금은 요청을 받을 수 없습니다", "We cannot take requests right now",
	"아무것도 저장하지 않았습니다. 잠시 후 다시 시도해 주세요.",
	"Nothing was saved. Please try again later.",
	false}

// storeWritable refuses a POST while the store's file is deleted or
// replaced: the sign-up (mailed after the answer) or the unsubscribe would
// go into a file that is gone, and the visitor be told it was done. The
// check is a stat; the store refuses the write itself too.
func (s *Site) storeWritable(w http.ResponseWriter, r *http.Request) bool {
	c, ok := s.Pages.Store.(interface{ CheckFile() error })
	if !ok {
		return true
	}
	if err := c.CheckFile(); err != nil {
		s.log().Error("form refused: the store cannot take writes", "path", r.URL.Path, "err", err)
		s.fail(w, r, failStoreGone)
		return false
	}
	return true
}

// forwardedFor is the client's address of a request that came through
// trusted proxies: the right-most X-Forwarded-For entry that is not one of
// them (entries further left were written by the client and prove
// nothing). A request from elsewhere keeps its peer address.
func forwardedFor(r *http.Request, trusted []netip.Prefix) string {
	isTrusted := func(a netip.Addr) bool {
		for _, p := range trusted {
			if p.Contains(a.Unmap()) {
				return true
			}
		}
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	peer, err := netip.ParseAddr(host)
	if err != nil || !isTrusted(peer) {
		return r.RemoteAddr
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		a, ok := hopAddr(hops[i])
		if !ok {
			return r.RemoteAddr // "unknown", or garbled: count the proxy
		}
		if !isTrusted(a) {
			return net.JoinHostPort(a.Unmap().String(), "0")
		}
	}
	return r.RemoteAddr
}

// hopAddr reads one X-Forwarded-For entry: an address, or (as some
// proxies write it) an address with a port, IPv6 in brackets.
func hopAddr(hop string) (netip.Addr, bool) {
	hop = strings.TrimSpace(hop)
	if ap, err := netip.ParseAddrPort(hop); err == nil {
		return ap.Addr(), true
	}
	a, err := netip.ParseAddr(strings.TrimSuffix(strings.TrimPrefix(hop, "["), "]"))
	return a, err == nil
}

// notFoundCatcher passes an answer through unless it is a 404, which it
// swallows and notes.
type notFoundCatcher struct {
	http.ResponseWriter
	notFound bool
}

func (c *notFoundCatcher) WriteHeader(code int) {
	if code == http.StatusNotFound {
		c.notFound = true
		return
	}
	c.ResponseWriter.WriteHeader(code)
}

func (c *notFoundCatcher) Write(b []byte) (int, error) {
	if c.notFound {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

func (s *Site) clock() time.Time {
	if s.now != nil {
		return s.now()
	}
	return time.Now()
}

func (s *Site) log() *slog.Logger {
	if s.Log != nil {
		return s.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (s *Site) baseURL() string { return strings.TrimRight(s.BaseURL, "/") }

func (s *Site) location() *time.Location {
	if s.Location != nil {
		return s.Location
	}
	return time.UTC
}

// writeBody answers a body made before anything was written; a HEAD
// request gets the headers only.
func writeBody(w http.ResponseWriter, r *http.Request, contentType, cacheControl string, body []byte) {
	w.Header().Set("Content-Type", contentType)
	w.Header().Set("Cache-Control", cacheControl)
	w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		w.Write(body)
	}
}

// deskPreviewPath is /preview for signed-in editors.
const deskPreviewPath = deskPath + "/preview"

// GET /preview: the coming issue as it would go now. It is rendered at
// most once a minute, one render at a time: the requests that come during
// a render wait for it and share its result, so the page cannot make the
// daemon render in a loop.
//
// With editors (a desk), the coming issue is theirs until it is sent: the
// draft may hold articles they hid, and an approved issue is not
// published. Then it is shown at /desk/preview to a signed-in editor, or
// with a test send's view link (?view=) of that issue; /preview sends
// everyone else there, and the desk to its sign-in.
func (s *Site) preview(w http.ResponseWriter, r *http.Request) {
	var viewFor string
	if s.Desk != nil {
		var ok bool
		if viewFor, ok = s.previewAllowed(w, r); !ok {
			return
		}
	}
	p, err := s.previewBytes(r.Context())
	if r.Context().Err() != nil {
		return // the client left while waiting for its turn
	}
	if errors.Is(err, ErrPreviewNotReady) {
		// The answer is kept as long as a failure's, so a client that
		// comes back after Retry-After gets a new look.
		w.Header().Set("Retry-After", strconv.Itoa(int(previewFailedFresh.Seconds())))
		s.fail(w, r, failPreparing)
		return
	}
	if err != nil {
		s.fail(w, r, failSite)
		return
	}
	body := p.Body
	if s.Desk != nil {
		if viewFor != "" && viewFor != p.ID {
			// The link's issue is no longer the coming one: it was sent,
			// or its week is over. /issues/{id} has it.
			s.fail(w, r, failBadView)
			return
		}
		body = []byte(InHead(string(body), robotsLine))
	}
	writeBody(w, r, "text/html; charset=utf-8", "no-store", body)
}

// previewAllowed lets an editor's request for the preview through: a
// signed-in editor (the cookie reaches /desk/preview only), or a valid
// view link, whose issue id it returns. Anyone else is sent on (to
// /desk/preview, and from there to the sign-in) and false.
func (s *Site) previewAllowed(w http.ResponseWriter, r *http.Request) (viewFor string, ok bool) {
	if tok := r.URL.Query().Get("view"); tok != "" {
		if s.Signer == nil {
			s.fail(w, r, failBadView)
			return "", false
		}
		c, err := s.Signer.Verify(tok, subscribers.PurposeView, s.clock())
		switch {
		case errors.Is(err, subscribers.ErrExpired):
			s.fail(w, r, failViewExpired)
			return "", false
		case err != nil || c.Data == "":
			s.fail(w, r, failBadView)
			return "", false
		}
		return c.Data, true
	}
	if _, err := s.Desk.Auth.Session(r, s.clock()); err == nil {
		return "", true
	}
	to := deskPreviewPath
	if r.URL.Path == deskPreviewPath {
		to = DeskSignInPath
	}
	w.Header().Set("Cache-Control", "no-store")
	http.Redirect(w, r, s.baseURL()+to, http.StatusSeeOther)
	return "", false
}

func (s *Site) previewBytes(ctx context.Context) (PreviewPage, error) {
	select {
	case s.st.previewTurn <- struct{}{}:
	case <-ctx.Done():
		return PreviewPage{}, ctx.Err()
	}
	defer func() { <-s.st.previewTurn }()
	p := &s.st.preview
	fresh := previewFresh
	if p.err != nil {
		fresh = previewFailedFresh
	}
	if now := s.clock(); !p.at.IsZero() && !now.Before(p.at) && now.Sub(p.at) < fresh {
		return p.page, p.err
	}
	// The render is finished even if its client leaves: the ones waiting
	// behind it take the result.
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), previewTimeout)
	defer cancel()
	page, err := s.Preview(ctx)
	switch {
	case errors.Is(err, ErrPreviewNotReady):
		s.log().Info("preview asked for before the first fetch ended; answered that it is being prepared")
	case err != nil:
		// Logged once per render, not once per request answered from it.
		s.log().Error("preview failed", "err", err)
	}
	*p = previewResult{page: page, err: err, at: s.clock()}
	return page, err
}

// GET /healthz: 200 while the store answers and is still the file it
// opened, for a monitor or a container's health check.
func (s *Site) healthz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), healthTimeout)
	defer cancel()
	if err := s.Health(ctx); err != nil {
		s.log().Warn("health check failed", "err", err)
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		w.WriteHeader(http.StatusServiceUnavailable)
		// A reason meant to be shown (the store's file was deleted) is;
		// other errors may name paths and stay in the log.
		msg := "store unreachable"
		var shown interface{ Reason() string }
		if errors.As(err, &shown) {
			msg += ": " + shown.Reason()
		}
		io.WriteString(w, msg+"\n")
		return
	}
	writeBody(w, r, "text/plain; charset=utf-8", "no-store", []byte("ok\n"))
}
