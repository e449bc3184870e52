package web

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"html"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/store"
	"gull/subscribers"
)

// The store is what `gull run` gives the site.
var _ ArchiveStore = (*store.Store)(nil)

var seoul = time.FixedZone("KST", 9*3600)

// siteFixture is the subscriber pages' fixture with the whole site in
// front: a real store, real metrics, and stand-ins for the renderer.
type siteFixture struct {
	*fixture
	site    *Site
	sh      http.Handler
	metrics *Metrics
	archive *flakyArchive

	renders     atomic.Int32 // calls of Preview
	previewGate chan struct{}
	mu          sync.Mutex
	previewErr  error
	previewID   string // the coming issue's id; "" is 2026-W48
	healthErr   error
}

// flakyArchive is the store, with failures on demand and a count of the
// issues asked for.
type flakyArchive struct {
	ArchiveStore
	mu       sync.Mutex
	asked    []string
	listErr  error
	issueErr map[string]error
}

func (a *flakyArchive) Issues(ctx context.Context, limit int) ([]digest.IssueRecord, error) {
	a.mu.Lock()
	err := a.listErr
	a.mu.Unlock()
	if err != nil {
		return nil, err
	}
	return a.ArchiveStore.Issues(ctx, limit)
}

func (a *flakyArchive) IssuesPage(ctx context.Context, offset, limit int) ([]digest.IssueRecord, int, error) {
	a.mu.Lock()
	err := a.listErr
	a.mu.Unlock()
	if err != nil {
		return nil, 0, err
	}
	return a.ArchiveStore.IssuesPage(ctx, offset, limit)
}

// testStyles stands for the mail's stylesheet (render.Styles).
const testStyles = `<style>.column { max-width: 600px; }</style>`

func (a *flakyArchive) Issue(ctx context.Context, id string) (digest.Issue, digest.IssueRecord, error) {
	a.mu.Lock()
	a.asked = append(a.asked, id)
	err := a.issueErr[id]
	a.mu.Unlock()
	if err != nil {
		return digest.Issue{}, digest.IssueRecord{ID: id}, err
	}
	return a.ArchiveStore.Issue(ctx, id)
}

func (a *flakyArchive) askedFor() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.asked...)
}

func newSiteFixture(t *testing.T, edit ...func(*Site)) *siteFixture {
	t.Helper()
	sf := &siteFixture{fixture: newFixture(t), metrics: NewMetrics()}
	sf.archive = &flakyArchive{ArchiveStore: sf.store, issueErr: map[string]error{}}
	sf.site = &Site{
		Pages:   sf.pages,
		Archive: sf.archive,
		IssuePage: func(is digest.Issue, _ string) ([]byte, error) {
			if is.Title == "unrenderable" {
				return nil, errors.New("template digest.html.tmpl: secret detail")
			}
			return []byte("<!DOCTYPE html><title>" + html.EscapeString(is.Title) + "</title><p>issue " + is.ID +
				", " + strconv.Itoa(is.Count()) + " articles</p>"), nil
		},
		Preview: func(ctx context.Context) (PreviewPage, error) {
			n := sf.renders.Add(1)
			if sf.previewGate != nil {
				select {
				case <-sf.previewGate:
				case <-ctx.Done():
					return PreviewPage{}, ctx.Err()
				}
			}
			sf.mu.Lock()
			defer sf.mu.Unlock()
			if sf.previewErr != nil {
				return PreviewPage{}, sf.previewErr
			}
			return PreviewPage{ID: cmp.Or(sf.previewID, "2026-W48"), Body: []byte(fmt.Sprintf("<!DOCTYPE html><p>preview number %d</p>", n))}, nil
		},
		Health: func(ctx context.Context) error {
			sf.mu.Lock()
			err := sf.healthErr
			sf.mu.Unlock()
			if err != nil {
				return err
			}
			return sf.store.Ping(ctx)
		},
		Metrics:    sf.metrics.Handler(),
		BaseURL:    baseURL + "/",
		Title:      "AI 정책 주간 <Weekly>",
		Location:   seoul,
		Log:        sf.pages.Log,
		WriteBurst: 100,
		WriteEvery: time.Second,
		now:        sf.clock.now,

		Lang:   "ko",
		Themes: []ThemeChoice{{ID: "regulation", Name: "규제", Names: digest.Text{Ko: "규제", En: "Regulation"}}, {ID: "compute", Name: "반도체", Names: digest.Text{Ko: "반도체", En: "Compute"}}},
		Other:  ThemeChoice{ID: "other", Name: "기타", Names: digest.Text{Ko: "기타", En: "Other"}},
		Styles: testStyles,
		Signer: sf.pages.Signer,
	}
	for _, e := range edit {
		e(sf.site)
	}
	sf.sh = sf.site.Handler()
	return sf
}

// visit sends a request through the site and waits for any sign-up's work.
func (sf *siteFixture) visit(method, target, contentType, body, remote string) *httptest.ResponseRecorder {
	sf.t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	if remote != "" {
		req.RemoteAddr = remote
	}
	rec := httptest.NewRecorder()
	sf.sh.ServeHTTP(rec, req)
	sf.pages.Wait()
	checkSecurity(sf.t, method+" "+target, rec)
	return rec
}

func (sf *siteFixture) open(target string) *httptest.ResponseRecorder {
	return sf.visit("GET", target, "", "", "")
}

func (sf *siteFixture) submit(target string, form url.Values, remote string) *httptest.ResponseRecorder {
	return sf.visit("POST", target, "application/x-www-form-urlencoded", form.Encode(), remote)
}

func (sf *siteFixture) setPreviewErr(err error) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.previewErr = err
}

func (sf *siteFixture) setHealthErr(err error) {
	sf.mu.Lock()
	defer sf.mu.Unlock()
	sf.healthErr = err
}

// checkSecurity checks the headers every answer of the site carries.
func checkSecurity(t *testing.T, what string, rec *httptest.ResponseRecorder) {
	t.Helper()
	h := rec.Header()
	csp := h.Get("Content-Security-Policy")
	for _, w := range []string{"default-src 'none'", "form-action 'self'", "frame-ancestors 'none'", "base-uri 'none'"} {
		if !strings.Contains(csp, w) {
			t.Errorf("%s (%d): Content-Security-Policy %q lacks %q", what, rec.Code, csp, w)
		}
	}
	if strings.Contains(csp, "script-src") {
		t.Errorf("%s: the policy allows scripts: %q", what, csp)
	}
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" {
		t.Errorf("%s (%d): security headers %v", what, rec.Code, h)
	}
}

// checkSitePage checks an HTML page of the site (not the subscriber
// pages', which checkPage knows).
func checkSitePage(t *testing.T, what string, rec *httptest.ResponseRecorder, code int, cacheControl string, want ...string) {
	t.Helper()
	if rec.Code != code {
		t.Errorf("%s: status %d, want %d\n%s", what, rec.Code, code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Errorf("%s: Content-Type %q", what, ct)
	}
	if cc := rec.Header().Get("Cache-Control"); cc != cacheControl {
		t.Errorf("%s: Cache-Control %q, want %q", what, cc, cacheControl)
	}
	body := rec.Body.String()
	// In the config's language (the fixture's is Korean).
	for _, w := range append([]string{"<!DOCTYPE html>", `<html lang="ko">`, "AI 정책 주간 &lt;Weekly&gt;", "</html>"}, want...) {
		if !strings.Contains(body, w) {
			t.Errorf("%s: the page lacks %q\n%s", what, w, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "<script") || strings.Contains(body, "<Weekly>") {
		t.Errorf("%s: script or unescaped markup in\n%s", what, body)
	}
}

func TestSiteNeedsItsParts(t *testing.T) {
	sf := newSiteFixture(t)
	for name, drop := range map[string]func(*Site){
		"Pages":     func(s *Site) { s.Pages = nil },
		"Archive":   func(s *Site) { s.Archive = nil },
		"IssuePage": func(s *Site) { s.IssuePage = nil },
		"Preview":   func(s *Site) { s.Preview = nil },
		"Health":    func(s *Site) { s.Health = nil },
		"Metrics":   func(s *Site) { s.Metrics = nil },
	} {
		s := *sf.site
		s.st = nil
		drop(&s)
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("no panic without %s", name)
				}
			}()
			s.Handler()
		}()
	}
}

func TestSitePreviewIsCached(t *testing.T) {
	sf := newSiteFixture(t)
	a := sf.open("/preview")
	b := sf.open("/preview")
	for _, rec := range []*httptest.ResponseRecorder{a, b} {
		if rec.Code != 200 || rec.Body.String() != "<!DOCTYPE html><p>preview number 1</p>" {
			t.Errorf("preview: %d %q", rec.Code, rec.Body)
		}
		if rec.Header().Get("Content-Type") != "text/html; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
			t.Errorf("preview headers: %v", rec.Header())
		}
	}
	if n := sf.renders.Load(); n != 1 {
		t.Errorf("two quick requests rendered %d times, want 1", n)
	}
	sf.clock.add(59 * time.Second)
	if rec := sf.open("/preview"); !strings.Contains(rec.Body.String(), "preview number 1") || sf.renders.Load() != 1 {
		t.Errorf("59 s later: %q after %d renders; want the first render again", rec.Body, sf.renders.Load())
	}
	sf.clock.add(time.Second)
	if rec := sf.open("/preview"); !strings.Contains(rec.Body.String(), "preview number 2") {
		t.Errorf("a minute later: %q, want a new render", rec.Body)
	}
	// HEAD answers from the same render, without a body.
	if rec := sf.visit("HEAD", "/preview", "", "", ""); rec.Code != 200 || rec.Body.Len() != 0 || sf.renders.Load() != 2 {
		t.Errorf("HEAD: %d, %d bytes, %d renders", rec.Code, rec.Body.Len(), sf.renders.Load())
	}
}

func TestSitePreviewOneRenderAtATime(t *testing.T) {
	sf := newSiteFixture(t)
	sf.previewGate = make(chan struct{})
	const clients = 6
	var wg sync.WaitGroup
	recs := make([]*httptest.ResponseRecorder, clients)
	for i := range clients {
		wg.Go(func() {
			rec := httptest.NewRecorder()
			sf.sh.ServeHTTP(rec, httptest.NewRequest("GET", "/preview", nil))
			recs[i] = rec
		})
	}
	// Let every request arrive while the first render is held up.
	deadline := time.Now().Add(5 * time.Second)
	for sf.renders.Load() == 0 && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	time.Sleep(50 * time.Millisecond)
	close(sf.previewGate)
	wg.Wait()
	if n := sf.renders.Load(); n != 1 {
		t.Errorf("%d requests during a render made %d renders, want 1", clients, n)
	}
	for i, rec := range recs {
		if rec.Code != 200 || rec.Body.String() != "<!DOCTYPE html><p>preview number 1</p>" {
			t.Errorf("client %d: %d %q", i, rec.Code, rec.Body)
		}
	}
}

func TestSitePreviewWaiterMayLeave(t *testing.T) {
	sf := newSiteFixture(t)
	sf.previewGate = make(chan struct{})
	done := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		sf.sh.ServeHTTP(rec, httptest.NewRequest("GET", "/preview", nil))
		done <- rec
	}()
	for sf.renders.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	// A second client gives up while the first render runs: it returns
	// at once, and the render goes on for the first.
	ctx, cancel := context.WithCancel(context.Background())
	left := make(chan struct{})
	go func() {
		sf.sh.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/preview", nil).WithContext(ctx))
		close(left)
	}()
	cancel()
	select {
	case <-left:
	case <-time.After(5 * time.Second):
		t.Fatal("a client that left still waits for the render")
	}
	close(sf.previewGate)
	if rec := <-done; rec.Code != 200 || sf.renders.Load() != 1 {
		t.Errorf("the first client: %d after %d renders", rec.Code, sf.renders.Load())
	}
}

func TestSitePreviewOutlivesItsClient(t *testing.T) {
	sf := newSiteFixture(t)
	sf.previewGate = make(chan struct{})
	// The client that started the render leaves mid-way; the one waiting
	// behind it gets that render, not a second one.
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan struct{})
	go func() {
		sf.sh.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/preview", nil).WithContext(ctx))
		close(first)
	}()
	for sf.renders.Load() == 0 {
		time.Sleep(time.Millisecond)
	}
	second := make(chan *httptest.ResponseRecorder)
	go func() {
		rec := httptest.NewRecorder()
		sf.sh.ServeHTTP(rec, httptest.NewRequest("GET", "/preview", nil))
		second <- rec
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	time.Sleep(20 * time.Millisecond)
	close(sf.previewGate)
	<-first
	if rec := <-second; rec.Code != 200 || rec.Body.String() != "<!DOCTYPE html><p>preview number 1</p>" || sf.renders.Load() != 1 {
		t.Errorf("the waiting client: %d %q after %d renders; want the first render", rec.Code, rec.Body, sf.renders.Load())
	}
}

func TestSitePreviewError(t *testing.T) {
	sf := newSiteFixture(t)
	sf.setPreviewErr(errors.New("templates/digest.html.tmpl:3: <secret> in /etc/gull"))
	rec := sf.open("/preview")
	checkSitePage(t, "failed preview", rec, 500, "no-store", "문제가 생겼습니다", `<meta name="robots" content="noindex, nofollow">`)
	if body := rec.Body.String(); strings.Contains(body, "secret") || strings.Contains(body, "digest.html.tmpl") {
		t.Errorf("the error shows on the public page:\n%s", body)
	}
	if !strings.Contains(sf.log.String(), "digest.html.tmpl:3") {
		t.Errorf("the error was not logged:\n%s", sf.log)
	}
	// A failure is answered from memory for a while, then tried again.
	sf.setPreviewErr(nil)
	if rec := sf.open("/preview"); rec.Code != 500 || sf.renders.Load() != 1 {
		t.Errorf("right after a failure: %d after %d renders; want 500 from memory", rec.Code, sf.renders.Load())
	}
	sf.clock.add(10 * time.Second)
	if rec := sf.open("/preview"); rec.Code != 200 || sf.renders.Load() != 2 {
		t.Errorf("10 s after a failure: %d after %d renders; want a new render", rec.Code, sf.renders.Load())
	}
}

func TestSiteHealthz(t *testing.T) {
	sf := newSiteFixture(t)
	rec := sf.open("/healthz")
	if rec.Code != 200 || rec.Body.String() != "ok\n" || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("healthy: %d %q %v", rec.Code, rec.Body, rec.Header())
	}
	if rec := sf.visit("HEAD", "/healthz", "", "", ""); rec.Code != 200 || rec.Body.Len() != 0 {
		t.Errorf("HEAD: %d %q", rec.Code, rec.Body)
	}
	sf.setHealthErr(errors.New("database is locked: /var/lib/gull/gull.db"))
	rec = sf.open("/healthz")
	if rec.Code != 503 || rec.Header().Get("Cache-Control") != "no-store" || rec.Header().Get("Content-Type") != "text/plain; charset=utf-8" {
		t.Errorf("unhealthy: %d %v", rec.Code, rec.Header())
	}
	if body := rec.Body.String(); body == "" || strings.Contains(body, "gull.db") {
		t.Errorf("unhealthy body %q: want a short text without the error", body)
	}
	if !strings.Contains(sf.log.String(), "database is locked") {
		t.Errorf("the failure was not logged:\n%s", sf.log)
	}
	// The real check: a closed store is not healthy.
	sf.setHealthErr(nil)
	sf.store.Close()
	if rec := sf.open("/healthz"); rec.Code != 503 {
		t.Errorf("closed store: %d, want 503", rec.Code)
	}
}

func TestSiteMetrics(t *testing.T) {
	sf := newSiteFixture(t)
	sf.metrics.CountOutcome(digest.DeliverySent)
	sf.metrics.CountOutcome(digest.DeliverySent)
	rec := sf.open("/metrics")
	if rec.Code != 200 || !strings.Contains(rec.Body.String(), "\ngull_messages_sent_total 2\n") {
		t.Errorf("metrics: %d\n%s", rec.Code, rec.Body)
	}
	if !strings.HasPrefix(rec.Header().Get("Content-Type"), "text/plain") || rec.Header().Get("Cache-Control") != "no-store" {
		t.Errorf("metrics headers: %v", rec.Header())
	}
}

func TestSiteWrongMethods(t *testing.T) {
	sf := newSiteFixture(t)
	for _, c := range []struct{ method, path, allow string }{
		{"POST", "/", "GET, HEAD"},
		{"DELETE", "/issues/x", "GET, HEAD"},
		{"POST", "/issues/2026-W48", "GET, HEAD"},
		{"POST", "/feed.atom", "GET, HEAD"},
		{"PUT", "/healthz", "GET, HEAD"},
		{"POST", "/preview", "GET, HEAD"},
		{"POST", "/metrics", "GET, HEAD"},
		{"PUT", "/subscribe", "GET, HEAD, POST"},
		{"PUT", "/confirm?t=x", "GET, HEAD, POST"},
		{"DELETE", "/preferences", "GET, HEAD, POST"},
	} {
		rec := sf.visit(c.method, c.path, "", "", "")
		if rec.Code != 405 || rec.Header().Get("Allow") != c.allow {
			t.Errorf("%s %s: %d, Allow %q; want 405, %q", c.method, c.path, rec.Code, rec.Header().Get("Allow"), c.allow)
		}
	}
}

func TestSiteNotFound(t *testing.T) {
	sf := newSiteFixture(t)
	for _, c := range []struct{ method, path string }{
		{"GET", "/nothing"},
		{"GET", "/index.html"},
		{"GET", "/issues"},
		{"GET", "/issues/"},
		{"GET", "/issues/a/b"},
		{"GET", "/feed.atom/x"},
		{"GET", "/subscribe/x"},
		{"POST", "/nothing"},
		{"HEAD", "/wp-login.php"},
	} {
		rec := sf.visit(c.method, c.path, "", "", "")
		checkSitePage(t, c.method+" "+c.path, rec, 404, "no-store",
			"페이지를 찾을 수 없습니다", `href="https://news.example.org/"`, `<meta name="robots" content="noindex, nofollow">`)
		if strings.Contains(rec.Body.String(), "404 page not found") {
			t.Errorf("%s %s: the mux's own page:\n%s", c.method, c.path, rec.Body)
		}
	}
}

func TestSiteSubscriberPages(t *testing.T) {
	sf := newSiteFixture(t)
	checkPage(t, "GET /subscribe", sf.open("/subscribe"), 200, `<form method="post" action="subscribe">`)
	checkPage(t, "sign-up", sf.submit("/subscribe", url.Values{"email": {"new@example.org"}}, ""), 200, "메일함을 확인해 주세요")
	if m := sf.mailer.mails(); len(m) != 1 || !strings.HasPrefix(m[0].url, baseURL+"/confirm?t=") {
		t.Fatalf("confirmation mails: %+v", m)
	}
	page := sf.open(path(t, sf.mailer.mails()[0].url))
	token, ok := confirmButton(page.Body.String())
	if !ok {
		t.Fatalf("the confirm link shows no button:\n%s", page.Body)
	}
	checkPage(t, "confirm", sf.submit("/confirm", url.Values{"t": {token}}, ""), 200, "구독이 확인되었습니다")
	sub := sf.byEmail("new@example.org")
	if sub.Status != subscribers.Active {
		t.Fatalf("after confirming: %+v", sub)
	}
	checkPage(t, "one-click", sf.submit(path(t, sf.links().Unsubscribe(sub, "2026-W48")), url.Values{"List-Unsubscribe": {"One-Click"}}, ""), 200, "구독이 해지되었습니다")
	if got := sf.sub(sub.ID); got.Status != subscribers.Unsubscribed {
		t.Errorf("after one-click: %+v", got)
	}
}

func TestSiteBodyTooLarge(t *testing.T) {
	sf := newSiteFixture(t)
	sub := sf.sub(sf.add("reader@example.org", subscribers.Active).ID)
	big := "email=big@example.org&themes=" + strings.Repeat("compute,", 2100) // > 16 KiB
	for _, target := range []string{
		"/subscribe",
		"/unsubscribe?t=" + url.QueryEscape(sf.token(subscribers.PurposeUnsubscribe, sub.ID, "")),
		"/preferences?t=" + url.QueryEscape(sf.token(subscribers.PurposePreferences, sub.ID, "")),
	} {
		checkPage(t, "POST "+target, sf.visit("POST", target, "application/x-www-form-urlencoded", big, ""), 413, "요청이 너무 큽니다")
	}
	if s := sf.sub(sub.ID); !reflect.DeepEqual(s, sub) {
		t.Errorf("changed by a refused request:\n%+v\n%+v", sub, s)
	}
	if _, err := sf.store.SubscriberByEmail(context.Background(), "big@example.org"); !errors.Is(err, subscribers.ErrNotFound) || len(sf.mailer.mails()) != 0 {
		t.Errorf("a refused sign-up was stored or mailed: %v", err)
	}
}

func TestSiteBadTokens(t *testing.T) {
	sf := newSiteFixture(t)
	sub := sf.sub(sf.add("reader@example.org", subscribers.Active, "compute").ID)
	good := sf.token(subscribers.PurposePreferences, sub.ID, "")
	changed := []byte(good)
	changed[len(changed)/2] ^= 0x01
	for _, token := range []string{"", "garbage", string(changed), sf.token(subscribers.PurposeConfirm, sub.ID, "")} {
		for _, c := range []struct{ method, route string }{
			{"GET", "/unsubscribe"}, {"POST", "/unsubscribe"}, {"GET", "/preferences"}, {"POST", "/preferences"},
		} {
			target := c.route + "?t=" + url.QueryEscape(token)
			var rec *httptest.ResponseRecorder
			if c.method == "GET" {
				rec = sf.open(target)
			} else {
				rec = sf.submit(target, url.Values{"themes": {"regulation"}, "List-Unsubscribe": {"One-Click"}}, "")
			}
			checkPage(t, c.method+" "+target, rec, 400, "링크가 올바르지 않습니다", "링크가 올바르지 않습니다")
		}
	}
	if got := sf.sub(sub.ID); !reflect.DeepEqual(got, sub) {
		t.Errorf("bad links changed the subscriber:\n%+v\n%+v", sub, got)
	}
}

func TestSiteWriteRateLimit(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) { s.WriteBurst, s.WriteEvery = 3, time.Minute })
	sub := sf.add("reader@example.org", subscribers.Active)
	for i := range 3 {
		if rec := sf.submit("/preferences?t=bad", nil, "192.0.2.1:1000"); rec.Code != 400 {
			t.Fatalf("POST %d: %d", i+1, rec.Code)
		}
	}
	rec := sf.submit("/preferences?t=bad", nil, "192.0.2.1:2000")
	// The site's own answer, in the config's language.
	checkSitePage(t, "over the burst", rec, 429, "no-store", "요청이 너무 많습니다", "잠시 후 다시 시도해 주세요")
	if ra := rec.Header().Get("Retry-After"); ra != "60" {
		t.Errorf("Retry-After %q, want 60", ra)
	}
	// Every POST route counts, an unknown one too.
	if rec := sf.submit("/", nil, "192.0.2.1:1000"); rec.Code != 429 {
		t.Errorf("POST / over the limit: %d, want 429", rec.Code)
	}
	// A one-click unsubscribe is never refused: a mail provider posts
	// them by the thousand from a few addresses.
	unsubscribe := path(t, sf.links().Unsubscribe(sub, ""))
	if rec := sf.submit(unsubscribe, url.Values{"List-Unsubscribe": {"One-Click"}}, "192.0.2.1:2000"); rec.Code != 200 {
		t.Errorf("one-click POST over the limit: %d, want 200", rec.Code)
	}
	if got := sf.sub(sub.ID); got.Status != subscribers.Unsubscribed {
		t.Errorf("one-click POST over the limit: %+v", got)
	}
	// Reading is not limited, and another client is not held back.
	if rec := sf.open("/"); rec.Code != 200 {
		t.Errorf("GET over the POST limit: %d", rec.Code)
	}
	if rec := sf.submit("/preferences?t=bad", nil, "192.0.2.2:1000"); rec.Code != 400 {
		t.Errorf("another client: %d", rec.Code)
	}
	sf.clock.add(time.Minute)
	if rec := sf.submit("/preferences?t=bad", nil, "192.0.2.1:1000"); rec.Code != 400 {
		t.Errorf("a minute later: %d", rec.Code)
	}
}

func TestSiteCountsClientsBehindTrustedProxies(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) {
		s.WriteBurst, s.WriteEvery = 1, time.Hour
		s.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	})
	post := func(remote string, forwarded ...string) int {
		req := httptest.NewRequest("POST", "/preferences?t=bad", nil)
		req.RemoteAddr = remote
		for _, f := range forwarded {
			req.Header.Add("X-Forwarded-For", f)
		}
		rec := httptest.NewRecorder()
		sf.sh.ServeHTTP(rec, req)
		return rec.Code
	}
	// Through the proxy, each client has its own budget of one.
	for _, c := range []struct {
		what, remote string
		xff          []string
		want         int
	}{
		{"first client", "10.0.0.5:40000", []string{"198.51.100.1"}, 400},
		{"second client, same proxy", "10.0.0.5:40001", []string{"198.51.100.2"}, 400},
		{"first client again", "10.0.0.6:40002", []string{"198.51.100.1"}, 429},
		// A client's own X-Forwarded-For entry, left of the proxy's,
		// proves nothing: the proxy's entry counts.
		{"a forged hop before the real one", "10.0.0.5:40003", []string{"203.0.113.9, 198.51.100.2"}, 429},
		{"a chain of two proxies", "10.0.0.5:40004", []string{"198.51.100.3", "10.1.1.1"}, 400},
		// Some proxies write the client's port, and IPv6 in brackets.
		{"with a port", "10.0.0.5:40005", []string{"198.51.100.6:4711"}, 400},
		{"the same client, another port", "10.0.0.5:40006", []string{"198.51.100.6:4712"}, 429},
		{"IPv6 in brackets with a port", "10.0.0.5:40007", []string{"[2001:db8::1]:4711"}, 400},
		{"IPv6 bare, another /64", "10.0.0.5:40008", []string{"2001:db8:1::2"}, 400},
		{"IPv6 in the same /64: one client", "10.0.0.5:40009", []string{"2001:db8::3"}, 429},
		// From outside the trusted range, the header is ignored.
		{"not a proxy", "192.0.2.7:1000", []string{"198.51.100.4"}, 400},
		{"not a proxy, another forged client", "192.0.2.7:1001", []string{"198.51.100.5"}, 429},
	} {
		if got := post(c.remote, c.xff...); got != c.want {
			t.Errorf("%s: %d, want %d", c.what, got, c.want)
		}
	}
}

// TestSiteEveryAnswerIsSafe walks every route, answers of every kind
// (200, 404, 405, 429, 500, 503), and checks the security headers on each
// (visit does) and that none leaks an error.
func TestSiteEveryAnswerIsSafe(t *testing.T) {
	sf := newSiteFixture(t, func(s *Site) { s.WriteBurst, s.WriteEvery = 1, time.Hour })
	sf.saveIssue("2026-W48", "AI Policy Weekly", start, digest.IssueOpen, start, "One")
	for _, c := range []struct {
		method, target string
		code           int
	}{
		{"GET", "/", 200},
		{"HEAD", "/", 200},
		{"GET", "/issues/2026-W48", 200},
		{"GET", "/issues/2026-W01", 404},
		{"GET", "/feed.atom", 200},
		{"GET", "/preview", 200},
		{"GET", "/healthz", 200},
		{"GET", "/metrics", 200},
		{"GET", "/subscribe", 200},
		{"GET", "/confirm", 400},
		{"GET", "/nothing", 404},
		{"POST", "/", 405},
		{"POST", "/subscribe", 429},
	} {
		if rec := sf.visit(c.method, c.target, "", "", ""); rec.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.target, rec.Code, c.code)
		}
	}
	sf.setPreviewErr(errors.New("boom"))
	sf.clock.add(time.Hour)
	sf.setHealthErr(errors.New("down"))
	sf.archive.listErr = errors.New("disk I/O error")
	for _, c := range []struct {
		target string
		code   int
	}{{"/preview", 500}, {"/healthz", 503}, {"/", 500}, {"/feed.atom", 500}} {
		rec := sf.open(c.target)
		if rec.Code != c.code {
			t.Errorf("GET %s: %d, want %d", c.target, rec.Code, c.code)
		}
		for _, leak := range []string{"boom", "down", "disk I/O"} {
			if strings.Contains(rec.Body.String(), leak) {
				t.Errorf("GET %s shows the error %q", c.target, leak)
			}
		}
	}
}
