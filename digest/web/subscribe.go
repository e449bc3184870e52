package web

import (
	"bytes"
	"cmp"
	"container/list"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"mime/multipart"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/net/idna"

	"gull/digest"
	"gull/subscribers"
)

// ConfirmMailer sends the subscriber pages' mails (digest/daemon
// implements it): the double opt-in link, the welcome after confirming,
// and the manage link. Each is in to.Language, which the pages always set
// ("ko" or "en").
type ConfirmMailer interface {
	SendConfirmation(ctx context.Context, to subscribers.Subscriber, confirmURL string) error
	SendWelcome(ctx context.Context, to subscribers.Subscriber, w Welcome) error
	SendManageLink(ctx context.Context, to subscribers.Subscriber, preferencesURL string) error
}

// Welcome is what the welcome mail links to.
type Welcome struct {
	// IssueURL is the latest published issue's web page; "" when none
	// has come out yet (the mail says the first comes on the schedule).
	IssueURL                       string
	PreferencesURL, UnsubscribeURL string
}

// SignUpStore is the store of the subscriber pages: the list, and the
// pending sign-ups' expiry and count that bound a flood of sign-ups.
type SignUpStore interface {
	subscribers.Store
	// ExpirePending deletes the pending sign-ups made before before,
	// and says how many.
	ExpirePending(ctx context.Context, before time.Time) (int64, error)
	// CountPending is the number of pending sign-ups.
	CountPending(ctx context.Context) (int, error)
}

// ThemeChoice is a theme a reader may choose.
type ThemeChoice struct {
	ID, Name string // Name: in the list's language
	// Names is the name in each language, for a reader's own.
	Names digest.Text
}

// SubscriberPages are the pages readers sign up and out with (README.md,
// "Subscribers"): /subscribe, /confirm, /unsubscribe and /preferences. Every link
// token is checked for its purpose; a page never shows a whole address, and
// the answer to a sign-up is the same whether or not the address is on
// the list.
type SubscriberPages struct {
	Store   SignUpStore
	Signer  *subscribers.Signer
	Mailer  ConfirmMailer
	BaseURL string // absolute, no trailing slash; links in mails start with it
	Title   string // the newsletter's title
	// Titles is the title in each language, when the config names it so:
	// a page shows the one of its language, else Title.
	Titles digest.Text
	Themes []ThemeChoice // choosable themes, in order
	// Language is the list's (config language): the pages' language when
	// neither the reader nor the browser names one.
	Language string
	// Archive finds the latest issue for the welcome mail; nil: the
	// welcome mail has no issue link.
	Archive ArchiveStore
	Now     func() time.Time
	Log     *slog.Logger
	// Other is the catch-all section (config key other), offered after
	// the themes: a reader may choose it like a theme, and one who chose
	// only it must see that, not a form that reads as "every theme".
	// No ID: not offered.
	Other ThemeChoice
	// SubscribeRate limits POST /subscribe per client IP: Burst requests,
	// then one per Every. Zero means 5, and one a minute.
	SubscribeBurst int
	SubscribeEvery time.Duration
	// ConfirmPerHour caps the confirmation mails of the whole site per
	// hour; zero means 200. A confirmation past it waits (up to an
	// hour's worth) and goes when the budget allows.
	ConfirmPerHour int
	// PendingTTL is how long a sign-up stays pending before it is
	// deleted, its link with it (http.pending_ttl); zero means 7 days.
	PendingTTL time.Duration
	// MaxPending caps the pending sign-ups (http.max_pending): past it a
	// sign-up is refused with 503 until some confirm or expire. Zero
	// means 10,000.
	MaxPending int
	// Metrics counts refused and delayed sign-ups; nil counts nothing.
	Metrics *Metrics
	// Outbox keeps the sign-ups whose confirmation is owed in the store
	// every instance shares, so one is not lost with the instance that
	// answered it (signup_outbox.go); nil keeps them in memory only.
	Outbox SignUpOutbox
	// Instance names this instance's claims in Outbox: the same for its
	// whole life (reloads too).
	Instance string
	// OwedClaim is how long a claim in Outbox lasts unless SendOwed
	// renews it; zero means a minute.
	OwedClaim time.Duration

	st *pagesState
}

const (
	// maxFormBody is the most a form POST may send; a sign-up is an
	// address and a few theme ids.
	maxFormBody = 16 << 10
	// confirmMailEvery is how often one address may be sent a
	// confirmation mail, however often it is signed up.
	confirmMailEvery = 10 * time.Minute
	// confirmMailsPerDay caps the confirmation mails one address gets in
	// a day, so nobody can use the form to pester a stranger.
	confirmMailsPerDay = 3
	// signUpTimeout bounds the work of one sign-up (the store and the
	// mail) after the page has been answered.
	signUpTimeout = 2 * time.Minute
	// signUpWorkers is how many sign-ups are worked on at once; more
	// wait in the queue (signUpQueue).
	signUpWorkers = 8
	// maxClients is how many client addresses the rate limiter follows
	// at once; beyond that it forgets the least recently seen.
	maxClients = 1 << 16
	// maxTokenData is the most data subscribers.Signer signs into a link.
	maxTokenData = 512
)

// pagesState is what the pages keep between requests, in memory. A
// reload carries it over (Continue), so its caps hold across SIGHUP.
type pagesState struct {
	limiter *limiter
	// manage limits POST /manage per client, as limiter does sign-ups;
	// manageMailed the manage links per address and per hour, as mailed
	// does the confirmations (apart, so a reader who just confirmed may
	// ask for one at once).
	manage       *limiter
	manageMailed *mailThrottle
	mailed       *mailThrottle
	signUps      *signUps
}

// Handler serves the pages. It panics when Store, Signer or Mailer is
// missing: that is a wiring mistake, found at start-up.
func (p *SubscriberPages) Handler() http.Handler {
	if p.Store == nil || p.Signer == nil || p.Mailer == nil {
		panic("web: SubscriberPages needs a Store, a Signer and a Mailer")
	}
	if p.st == nil {
		burst, every := p.SubscribeBurst, p.SubscribeEvery
		if burst <= 0 {
			burst = 5
		}
		if every <= 0 {
			every = time.Minute
		}
		mailed := &mailThrottle{sent: map[int64][]time.Time{}, sweepAt: 1024, perHour: p.confirmPerHour()}
		p.st = &pagesState{
			limiter:      newLimiter(burst, every),
			manage:       newLimiter(burst, every),
			manageMailed: &mailThrottle{sent: map[int64][]time.Time{}, sweepAt: 1024, perHour: p.confirmPerHour()},
			mailed:       mailed,
			// An hour's budget may wait: the next hour sends it all.
			signUps: newSignUps(signUpQueue, p.confirmPerHour(), mailed),
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /subscribe", p.subscribeForm)
	mux.HandleFunc("POST /subscribe", p.subscribe)
	mux.HandleFunc("GET /confirm", p.confirmForm)
	mux.HandleFunc("POST /confirm", p.confirm)
	mux.HandleFunc("GET /unsubscribe", p.unsubscribeForm)
	mux.HandleFunc("POST /unsubscribe", p.unsubscribe)
	mux.HandleFunc("GET /preferences", p.preferencesForm)
	mux.HandleFunc("POST /preferences", p.savePreferences)
	mux.HandleFunc("GET /manage", p.manageForm)
	mux.HandleFunc("POST /manage", p.manage)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		pageHeaders(w)
		mux.ServeHTTP(w, r)
	})
}

func (p *SubscriberPages) confirmPerHour() int {
	if p.ConfirmPerHour > 0 {
		return p.ConfirmPerHour
	}
	return 200
}

func (p *SubscriberPages) pendingTTL() time.Duration {
	if p.PendingTTL > 0 {
		return p.PendingTTL
	}
	return 7 * 24 * time.Hour
}

func (p *SubscriberPages) maxPending() int {
	if p.MaxPending > 0 {
		return p.MaxPending
	}
	return 10000
}

// Continue makes p take over the in-memory state of old, the pages a
// reload replaces: the rate limits, the hourly confirmation budget and
// the sign-up queue, so a SIGHUP resets none of the caps. Call it before
// p serves its first request.
func (p *SubscriberPages) Continue(old *SubscriberPages) {
	if old != nil && old.st != nil {
		p.st = old.st
	}
}

// Wait returns when the sign-ups queued or being worked on after their
// page was answered are done. Call it after the HTTP server has shut down
// and before closing the Store.
func (p *SubscriberPages) Wait() {
	if p.st != nil {
		p.st.signUps.inflight.Wait()
	}
}

// Stop ends the sign-up work at shutdown: a confirmation on the wire is
// cancelled and the queued ones are dropped (logged). Each such reader
// is stored as pending and can sign up again. Wait returns soon after.
func (p *SubscriberPages) Stop() {
	if p.st == nil {
		return
	}
	if queued, held := p.st.signUps.halt(); queued+held > 0 {
		p.log().Warn("stopping: confirmation mails not sent; those readers can sign up again", "queued", queued, "held_back", held)
	}
}

// pageHeaders are gull's security headers for pages that post forms to
// themselves. Tokens are in the URLs: no page is cached (and
// securityHeaders keeps them out of the Referer).
func pageHeaders(w http.ResponseWriter) {
	securityHeaders(w, "'self'")
	w.Header().Set("Cache-Control", "no-store")
}

func (p *SubscriberPages) now() time.Time {
	if p.Now != nil {
		return p.Now()
	}
	return time.Now()
}

func (p *SubscriberPages) log() *slog.Logger {
	if p.Log != nil {
		return p.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

func (p *SubscriberPages) links() Links {
	return Links{BaseURL: strings.TrimRight(p.BaseURL, "/"), Signer: p.Signer}
}

// render answers a page. The body is built before anything is written,
// so a template failure is a clean 500.
func (p *SubscriberPages) render(w http.ResponseWriter, status int, name string, d pageData) {
	if d.Lang == "" {
		d.Lang = p.lang()
	}
	d.Title = cmp.Or(p.Titles.In(d.Lang), p.Title)
	var buf bytes.Buffer
	if err := pages[name].Execute(&buf, d); err != nil {
		p.log().Error("subscriber page failed", "page", name, "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// fail answers the error page f in lang.
func (p *SubscriberPages) fail(w http.ResponseWriter, lang string, f failure) {
	p.render(w, f.Status, "error", pageData{Fail: f, Lang: lang})
}

// parseForm reads a POST body of at most maxFormBody bytes, URL-encoded
// or multipart (RFC 8058 allows both for one-click). It answers the
// request itself and returns false when the body is refused.
func (p *SubscriberPages) parseForm(w http.ResponseWriter, r *http.Request) bool {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBody)
	// ParseForm first: ParseMultipartForm reports ErrNotMultipart in place
	// of ParseForm's error, a body too large included.
	err := r.ParseForm()
	if err == nil {
		if err = r.ParseMultipartForm(maxFormBody); errors.Is(err, http.ErrNotMultipart) {
			err = nil
		}
	}
	if err == nil {
		return true
	}
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) || errors.Is(err, multipart.ErrMessageTooLarge) {
		p.fail(w, p.pageLang(r), failTooLarge)
	} else {
		p.fail(w, p.pageLang(r), failBadForm)
	}
	return false
}

// verify checks the link token of r (the form field t, in the body or the
// query) for want and loads its subscriber. On failure it answers the
// error page and returns false; nothing has changed.
func (p *SubscriberPages) verify(w http.ResponseWriter, r *http.Request, want subscribers.Purpose) (string, subscribers.Claims, subscribers.Subscriber, bool) {
	token := r.FormValue("t")
	lang := p.pageLang(r)
	c, err := p.Signer.Verify(token, want, p.now())
	switch {
	case err == nil:
	case errors.Is(err, subscribers.ErrExpired) && want == subscribers.PurposeConfirm:
		p.fail(w, lang, failExpiredConfirm)
		return "", c, subscribers.Subscriber{}, false
	case errors.Is(err, subscribers.ErrExpired):
		p.fail(w, lang, failExpired)
		return "", c, subscribers.Subscriber{}, false
	default:
		p.log().Info("refused a link", "path", r.URL.Path, "err", err)
		p.fail(w, lang, failBadLink)
		return "", c, subscribers.Subscriber{}, false
	}
	sub, err := p.Store.SubscriberByID(r.Context(), c.Subscriber)
	switch {
	case errors.Is(err, subscribers.ErrNotFound):
		p.log().Info("link for a removed subscriber", "path", r.URL.Path, "subscriber_id", c.Subscriber)
		p.fail(w, lang, failNotFound)
		return "", c, sub, false
	case err != nil:
		p.serverError(w, lang, "read subscriber", err, c.Subscriber)
		return "", c, sub, false
	}
	return token, c, sub, true
}

func (p *SubscriberPages) serverError(w http.ResponseWriter, lang, what string, err error, id int64) {
	p.log().Error("subscriber page: "+what, "subscriber_id", id, "err", err)
	p.fail(w, lang, failServer)
}

// choices are what a reader may choose, in the order offered: the themes,
// then the catch-all section.
func (p *SubscriberPages) choices() []ThemeChoice {
	if p.Other.ID == "" {
		return p.Themes
	}
	return append(slices.Clip(p.Themes), p.Other)
}

// themeIDs are the choosable theme ids.
func (p *SubscriberPages) themeIDs() []string {
	choices := p.choices()
	ids := make([]string, len(choices))
	for i, t := range choices {
		ids[i] = t.ID
	}
	return ids
}

// chooseThemes reads the themes form field (repeated, or one comma list).
// Every theme chosen is the same as none: nil, every theme, including
// ones added later.
func (p *SubscriberPages) chooseThemes(values []string) ([]string, error) {
	themes, err := subscribers.ParseThemes(strings.Join(values, ","), p.themeIDs())
	if err != nil {
		return nil, err
	}
	return p.allIsNil(themes), nil
}

func (p *SubscriberPages) allIsNil(themes []string) []string {
	if len(themes) == 0 {
		return nil
	}
	for _, t := range p.choices() {
		if !slices.Contains(themes, t.ID) {
			return themes
		}
	}
	return nil
}

// boxes are the theme checkboxes for a choice, named in lang; no choice
// (every theme) ticks them all.
func (p *SubscriberPages) boxes(chosen []string, lang string) []themeBox {
	choices := p.choices()
	out := make([]themeBox, len(choices))
	for i, t := range choices {
		out[i] = themeBox{ID: t.ID, Name: cmp.Or(t.Names.In(lang), t.Name), Checked: len(chosen) == 0 || slices.Contains(chosen, t.ID)}
	}
	return out
}

// GET /subscribe: the sign-up form, in the language asked for
// (pageLang), which also starts as the mail's.
func (p *SubscriberPages) subscribeForm(w http.ResponseWriter, r *http.Request) {
	lang := p.pageLang(r)
	d := p.switchable("subscribe", lang)
	d.Themes = p.boxes(nil, lang)
	d.Choice = subscribers.Subscriber{Language: lang, Articles: "both"}
	p.render(w, http.StatusOK, "subscribe", d)
}

// POST /subscribe. A good address is answered with the same page, byte
// for byte, whatever happens to it; the work (the store, the mail) is
// done after answering, so neither the page nor its timing says whether
// the address was new, pending or already active.
func (p *SubscriberPages) subscribe(w http.ResponseWriter, r *http.Request) {
	now := p.now()
	if ok, retry := p.st.limiter.allow(clientKey(r), now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		p.fail(w, p.pageLang(r), failTooMany)
		return
	}
	if !p.parseForm(w, r) {
		return
	}
	in, d, ok := p.readSignUp(r)
	if !ok {
		p.render(w, http.StatusBadRequest, "subscribe", d)
		return
	}
	lang := in.Language
	if !p.roomForPending(w, lang, r.Context(), now) {
		return
	}
	// Said before the work is queued, and the same for every address: the
	// budget is the whole site's.
	delayed := p.st.mailed.budgetLeft(now) == 0
	if delayed && !p.st.signUps.canHold() {
		p.refuse(w, lang, "confirmation_budget", "sign-up refused: the hourly confirmation budget is spent and an hour's worth already waits")
		return
	}
	work, forget, err := p.owe(r.Context(), in, now)
	if err != nil {
		p.serverError(w, lang, "sign-up", err, 0)
		return
	}
	if !p.st.signUps.enqueue(work) {
		forget()
		p.refuse(w, lang, "queue_full", "sign-up refused: the confirmation queue is full (is the mail server slow?)")
		return
	}
	p.render(w, http.StatusOK, "sent", pageData{Delayed: delayed, Lang: lang})
}

// readSignUp reads the sign-up form: the address, the name (optional),
// the language (the mail's and every page's after; the page's when not
// given), the article languages (both when not given) and the themes
// (none: all). When something is wrong it returns the form again, filled
// in, with the problem.
func (p *SubscriberPages) readSignUp(r *http.Request) (subscribers.Subscriber, pageData, bool) {
	f := r.PostForm
	lang, langErr := subscribers.ParseLanguage(f.Get("language"))
	lang = cmp.Or(lang, p.pageLang(r))
	articles, articlesErr := subscribers.ParseArticles(f.Get("articles"))
	articles = cmp.Or(articles, "both")
	themes, themeErr := p.chooseThemes(f["themes"])
	name := strings.TrimSpace(f.Get("name"))
	nameErr := subscribers.CheckName(name)
	email, emailErr := subscribers.NormalizeEmail(f.Get("email"))
	in := subscribers.Subscriber{Email: email, Name: name, Themes: themes, Language: lang, Articles: articles}
	d := p.switchable("subscribe", lang)
	d.Email, d.Name, d.Themes, d.Choice = f.Get("email"), f.Get("name"), p.boxes(themes, lang), in
	switch {
	case emailErr != nil:
		d.ProblemKo, d.Problem = "이메일 주소를 확인해 주세요.", emailErr.Error()
	case nameErr != nil:
		d.ProblemKo, d.Problem = "이름은 한 줄, 200자 이내로 적어 주세요.", nameErr.Error()
	case langErr != nil:
		d.ProblemKo, d.Problem = "메일의 언어는 한국어나 영어 중에서 골라 주세요.", langErr.Error()
	case articlesErr != nil:
		d.ProblemKo, d.Problem = "받을 기사는 한국어, 영어, 모두 중에서 골라 주세요.", articlesErr.Error()
	case themeErr != nil:
		d.ProblemKo, d.Problem = "없는 주제를 골랐습니다.", themeErr.Error()
	default:
		return in, d, true
	}
	return in, d, false
}

// retryLater is the Retry-After of a refused sign-up, in seconds.
const retryLater = 15 * 60

// refuse answers a sign-up the site cannot take now: 503, try again
// later, never a promise of a mail. It is a WARN, and counted: an
// operator should know the sign-up page is turning people away.
func (p *SubscriberPages) refuse(w http.ResponseWriter, lang, reason, msg string) {
	p.log().Warn(msg, "reason", reason)
	p.Metrics.CountSignUpRefused(reason)
	w.Header().Set("Retry-After", strconv.Itoa(retryLater))
	p.fail(w, lang, failBusy)
}

// roomForPending deletes the pending sign-ups past their time (at most
// once a minute) and says whether another may be added; when not, it has
// answered. A sign-up of an address already on the list is refused too:
// the answer must not say whether it is known.
func (p *SubscriberPages) roomForPending(w http.ResponseWriter, lang string, ctx context.Context, now time.Time) bool {
	if p.st.signUps.shouldExpire(now) {
		n, err := p.Store.ExpirePending(ctx, now.Add(-p.pendingTTL()))
		if err != nil {
			p.log().Error("deleting expired sign-ups failed", "err", err)
		} else if n > 0 {
			p.log().Info("expired sign-ups deleted", "count", n, "pending_ttl", p.pendingTTL().String())
			p.Metrics.CountPendingExpired(n)
		}
	}
	n, err := p.Store.CountPending(ctx)
	if err != nil {
		p.serverError(w, lang, "count pending sign-ups", err, 0)
		return false
	}
	if n >= p.maxPending() {
		p.refuse(w, lang, "pending_cap", "sign-up refused: too many pending sign-ups (http.max_pending); they expire after http.pending_ttl")
		return false
	}
	return true
}

// signUp adds a new address as pending, with everything the form gave,
// and mails it a confirm link; an address already pending, unsubscribed or
// bounced gets a new link and its row stays as it is until the link is
// opened (a stranger's sign-up must not change a reader's choices); an
// active one gets nothing. The themes, language and article languages
// chosen travel in the link, and the mail is in the language chosen.
func (p *SubscriberPages) signUp(ctx context.Context, in subscribers.Subscriber, now time.Time) {
	log := p.log()
	sub, created, err := p.Store.CreatePending(ctx, in, now)
	if err != nil {
		log.Error("sign-up failed", "err", err)
		return
	}
	if sub.Status == subscribers.Active {
		log.Info("sign-up of an active subscriber; nothing sent", "subscriber_id", sub.ID)
		return
	}
	p.sendConfirmation(ctx, sub, in, created, now)
}

// sendConfirmation mails sub a confirm link carrying the choice made
// (themes, language, article languages), in its language, within the
// throttles: one per address every 10 minutes and 3 a day (held back for
// good, at INFO: that is someone pestering a stranger), and the site's
// hourly budget (held back to be retried when it allows, at WARN).
func (p *SubscriberPages) sendConfirmation(ctx context.Context, sub, choice subscribers.Subscriber, created bool, now time.Time) {
	log := p.log()
	if !p.st.mailed.reserve(sub.ID, now) {
		if p.st.mailed.budgetLeft(now) > 0 {
			log.Info("confirmation mail held back: one per address every 10 minutes, 3 a day", "subscriber_id", sub.ID)
			return
		}
		retry := func(ctx context.Context) { p.sendConfirmation(ctx, sub, choice, created, p.now()) }
		if p.st.signUps.hold(heldMail{p: p, send: retry}) {
			log.Warn("confirmation mail delayed: the hourly confirmation budget is spent; it goes when the budget allows", "subscriber_id", sub.ID)
			p.Metrics.CountConfirmationDelayed()
		} else {
			log.Warn("confirmation mail dropped: the hourly confirmation budget is spent and an hour's worth already waits; the reader can sign up again", "subscriber_id", sub.ID)
			p.Metrics.CountSignUpRefused("confirmation_budget")
		}
		return
	}
	data := confirmData(choice)
	if len(data) > maxTokenData {
		// Sign refuses it; a link that works matters more than the choice,
		// which the reader can make again on the preferences page.
		log.Warn("sign-up chose more themes than a link holds; the link subscribes to every theme", "subscriber_id", sub.ID)
		choice.Themes = nil
		data = confirmData(choice)
	}
	token := p.Signer.Sign(subscribers.Claims{
		Purpose:    subscribers.PurposeConfirm,
		Subscriber: sub.ID,
		Data:       data,
		Expires:    now.Add(subscribers.ConfirmTTL),
	})
	link := p.links().BaseURL + "/confirm?t=" + url.QueryEscape(token)
	to := sub
	to.Language = p.readerLang(choice)
	if err := p.Mailer.SendConfirmation(ctx, to, link); err != nil {
		// Let the reader try again at once rather than in 10 minutes.
		p.st.mailed.release(sub.ID, now)
		if p.st.signUps.ctx.Err() != nil {
			log.Warn("confirmation mail cut at shutdown; the reader can sign up again", "subscriber_id", sub.ID)
			return
		}
		log.Error("confirmation mail failed", "subscriber_id", sub.ID, "err", err)
		return
	}
	log.Info("confirmation mail sent", "subscriber_id", sub.ID, "new", created, "status", string(sub.Status))
}

// GET /confirm?t=: the link in the confirmation mail shows one button.
// Opening the link must not confirm: mail scanners (Safe Links,
// Proofpoint, prefetching) open every link, and an address someone else
// signed up would be confirmed by its own scanner. The page names the
// address, partly masked, so the reader sees what they confirm; HEAD
// answers nothing more than that the link exists.
func (p *SubscriberPages) confirmForm(w http.ResponseWriter, r *http.Request) {
	token, c, sub, ok := p.verify(w, r, subscribers.PurposeConfirm)
	if !ok {
		return
	}
	if r.Method == http.MethodHead {
		w.WriteHeader(http.StatusOK)
		return
	}
	choice := p.tokenChoice(c.Data)
	lang := p.readerLang(choice, sub)
	if p.staleConfirm(w, lang, c, sub) {
		return
	}
	if sub.Status == subscribers.Active {
		p.render(w, http.StatusOK, "confirmed", pageData{PreferencesURL: p.links().Preferences(sub), Lang: p.readerLang(sub)})
		return
	}
	p.render(w, http.StatusOK, "confirm", pageData{Token: token, Email: maskEmail(sub.Email), Lang: lang})
}

// POST /confirm: the button. The subscriber becomes active with the
// themes chosen when signing up; pressing it again changes nothing (and
// so does not undo a later theme choice).
func (p *SubscriberPages) confirm(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	_, c, sub, ok := p.verify(w, r, subscribers.PurposeConfirm)
	if !ok {
		return
	}
	choice := p.tokenChoice(c.Data)
	lang := p.readerLang(choice, sub)
	if p.staleConfirm(w, lang, c, sub) {
		return
	}
	if sub.Status != subscribers.Active {
		ctx, now := r.Context(), p.now()
		// The choices first: if the status change then fails, opening the
		// link again finishes the job.
		if choice.Themes != nil || sub.Themes != nil {
			if _, err := p.Store.SetThemes(ctx, sub.ID, choice.Themes, now); err != nil {
				p.serverError(w, lang, "set themes", err, sub.ID)
				return
			}
		}
		if choice.Language != "" || choice.Articles != "" {
			language, articles := cmp.Or(choice.Language, sub.Language), cmp.Or(choice.Articles, sub.Articles)
			if _, err := p.Store.SetLanguage(ctx, sub.ID, language, articles, now); err != nil {
				p.serverError(w, lang, "set language", err, sub.ID)
				return
			}
		}
		var err error
		if sub, err = p.Store.SetStatus(ctx, sub.ID, subscribers.Active, now); err != nil {
			p.serverError(w, lang, "confirm", err, sub.ID)
			return
		}
		p.log().Info("subscription confirmed", "subscriber_id", sub.ID)
		p.welcome(sub)
	}
	p.render(w, http.StatusOK, "confirmed", pageData{PreferencesURL: p.links().Preferences(sub), Lang: p.readerLang(sub)})
}

// staleConfirm answers the error page and says true when the link was
// mailed before the reader unsubscribed (or before the address bounced):
// the later event wins.
func (p *SubscriberPages) staleConfirm(w http.ResponseWriter, lang string, c subscribers.Claims, sub subscribers.Subscriber) bool {
	issued := c.Expires.Add(-subscribers.ConfirmTTL)
	if sub.Status == subscribers.Unsubscribed && sub.Unsubscribed.After(issued) ||
		sub.Status == subscribers.Bounced && sub.Updated.After(issued) {
		p.log().Info("confirm link older than the unsubscribe", "subscriber_id", sub.ID)
		p.fail(w, lang, failStaleConfirm)
		return true
	}
	return false
}

// maskEmail shows enough of an address for its owner to know it and
// little for anyone else, never the whole local part: kimjisoo@naver.com
// is ki•••@naver.com, jane@example.org j•••e@example.org, ab@ a•••@ and a
// one-letter one •••@. It counts characters, not bytes, so a Korean local
// part is never cut inside a character. The domain is shown as its owner
// typed it (독•••름@한국.kr), not in the xn-- form the store keeps.
func maskEmail(email string) string {
	const dots = "•••"
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return dots
	}
	domain := "@" + displayDomain(email[at+1:])
	local := []rune(email[:at])
	switch n := len(local); {
	case n >= 6:
		return string(local[:2]) + dots + domain
	case n >= 4:
		return string(local[:1]) + dots + string(local[n-1:]) + domain
	case n >= 2:
		return string(local[:1]) + dots + domain
	}
	return dots + domain
}

// displayDomain is an address's domain in its own script (xn--3e0b707e.kr
// is 한국.kr), or as stored when that is not valid IDNA: a page shows
// nothing the address does not hold.
func displayDomain(domain string) string {
	if !strings.Contains(strings.ToLower(domain), "xn--") {
		return domain
	}
	u, err := idna.Display.ToUnicode(domain)
	if err != nil {
		return domain
	}
	return u
}

// confirmData is what a confirm link carries of the sign-up form: the
// themes, then the language and the article languages, apart by "|"
// ("compute safety|ko|both"). Links mailed before the languages came
// carry the themes alone; tokenChoice reads both.
func confirmData(choice subscribers.Subscriber) string {
	return subscribers.FormatThemes(choice.Themes) + "|" + choice.Language + "|" + choice.Articles
}

// tokenChoice reads what a confirm link carries (confirmData), keeping
// the themes still configured (none, or all, is nil: every theme) and a
// language and article choice only when valid.
func (p *SubscriberPages) tokenChoice(data string) subscribers.Subscriber {
	parts := strings.SplitN(data, "|", 3)
	var themes []string
	for _, id := range strings.Fields(parts[0]) {
		if slices.Contains(p.themeIDs(), id) && !slices.Contains(themes, id) {
			themes = append(themes, id)
		}
	}
	choice := subscribers.Subscriber{Themes: p.allIsNil(themes)}
	if len(parts) == 3 {
		choice.Language, _ = subscribers.ParseLanguage(parts[1])
		choice.Articles, _ = subscribers.ParseArticles(parts[2])
	}
	return choice
}

// GET /unsubscribe?t=: one button. Opening the link must not unsubscribe:
// mail scanners open links to check them.
func (p *SubscriberPages) unsubscribeForm(w http.ResponseWriter, r *http.Request) {
	token, _, sub, ok := p.verify(w, r, subscribers.PurposeUnsubscribe)
	if !ok {
		return
	}
	d := pageData{Token: token, Email: maskEmail(sub.Email), Lang: p.readerLang(sub)}
	if sub.Status == subscribers.Unsubscribed {
		p.render(w, http.StatusOK, "unsubscribed", d)
		return
	}
	p.render(w, http.StatusOK, "unsubscribe", d)
}

// POST /unsubscribe: the button, or a mail program's RFC 8058 one-click
// POST (body List-Unsubscribe=One-Click, token in the query). It
// unsubscribes at once; doing it again changes nothing and answers the
// same.
func (p *SubscriberPages) unsubscribe(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	_, c, sub, ok := p.verify(w, r, subscribers.PurposeUnsubscribe)
	if !ok {
		return
	}
	lang := p.readerLang(sub)
	if sub.Status != subscribers.Unsubscribed {
		if _, err := p.Store.SetStatus(r.Context(), sub.ID, subscribers.Unsubscribed, p.now()); err != nil {
			p.serverError(w, lang, "unsubscribe", err, sub.ID)
			return
		}
		p.log().Info("unsubscribed", "subscriber_id", sub.ID, "issue", c.Data,
			"one_click", r.PostForm.Get("List-Unsubscribe") == "One-Click")
	}
	p.render(w, http.StatusOK, "unsubscribed", pageData{Email: maskEmail(sub.Email), Lang: lang})
}

// GET /preferences?t=: the language, article languages and themes.
func (p *SubscriberPages) preferencesForm(w http.ResponseWriter, r *http.Request) {
	token, _, sub, ok := p.verify(w, r, subscribers.PurposePreferences)
	if !ok {
		return
	}
	p.render(w, http.StatusOK, "preferences", p.preferencesPage(token, sub))
}

// POST /preferences: save the choice; an unknown theme, language or
// article choice saves nothing. A form without the language fields keeps
// them. The answer is in the language just chosen.
func (p *SubscriberPages) savePreferences(w http.ResponseWriter, r *http.Request) {
	if !p.parseForm(w, r) {
		return
	}
	token, _, sub, ok := p.verify(w, r, subscribers.PurposePreferences)
	if !ok {
		return
	}
	themes, err := p.chooseThemes(r.PostForm["themes"])
	lang, langErr := subscribers.ParseLanguage(r.PostForm.Get("language"))
	articles, articlesErr := subscribers.ParseArticles(r.PostForm.Get("articles"))
	if err = cmp.Or(err, langErr, articlesErr); err != nil {
		d := p.preferencesPage(token, sub)
		d.ProblemKo, d.Problem = "고를 수 없는 값입니다. 아무것도 저장하지 않았습니다.", err.Error()+"; nothing was saved"
		p.render(w, http.StatusBadRequest, "preferences", d)
		return
	}
	ctx, now := r.Context(), p.now()
	if sub, err = p.Store.SetThemes(ctx, sub.ID, themes, now); err != nil {
		p.serverError(w, p.readerLang(sub), "set themes", err, sub.ID)
		return
	}
	if lang != "" || articles != "" {
		if sub, err = p.Store.SetLanguage(ctx, sub.ID, cmp.Or(lang, sub.Language), cmp.Or(articles, sub.Articles), now); err != nil {
			p.serverError(w, p.readerLang(sub), "set language", err, sub.ID)
			return
		}
	}
	d := p.preferencesPage(token, sub)
	d.Saved = true
	p.render(w, http.StatusOK, "preferences", d)
}

func (p *SubscriberPages) preferencesPage(token string, sub subscribers.Subscriber) pageData {
	lang := p.readerLang(sub)
	return pageData{
		Token:          token,
		Lang:           lang,
		Email:          maskEmail(sub.Email),
		Choice:         subscribers.Subscriber{Language: lang, Articles: sub.ArticlesOr()},
		Themes:         p.boxes(sub.Themes, lang),
		NotActive:      sub.Status != subscribers.Active,
		UnsubscribeURL: p.links().Unsubscribe(sub, ""),
	}
}

// clientKey is who the rate limit counts: the peer's IP address, or its
// /64 for IPv6, where one host commonly holds a whole /64. Behind a
// reverse proxy every request has the proxy's address; a forwarded-for
// header is not trusted, since anyone can write one.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap().WithZone("")
	if ip.Is6() {
		if pfx, err := ip.Prefix(64); err == nil {
			return pfx.String()
		}
	}
	return ip.String()
}

// limiter is a token bucket per client: burst requests at once, then one
// per every. It follows at most max clients: past that it forgets the
// least recently seen one, so memory stays bounded and a new client is
// always served, however many addresses a flood came from (an IPv6 /48
// alone holds 65,536 /64 keys). A forgotten client starts again with a
// full bucket; that is the price of never locking everyone out, and the
// site-wide caps on pending rows and confirmation mails still hold.
type limiter struct {
	mu      sync.Mutex
	burst   float64
	every   time.Duration
	max     int
	clients map[string]*list.Element // of *bucket
	recent  list.List                // most recently seen first
}

type bucket struct {
	key    string
	tokens float64
	last   time.Time
}

func newLimiter(burst int, every time.Duration) *limiter {
	return &limiter{burst: float64(burst), every: every, max: maxClients, clients: map[string]*list.Element{}}
}

// allow takes a token for key at now; when there is none it says how long
// until there is.
func (l *limiter) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	var b *bucket
	if e := l.clients[key]; e != nil {
		l.recent.MoveToFront(e)
		b = e.Value.(*bucket)
	} else {
		if len(l.clients) >= l.max {
			oldest := l.recent.Back()
			l.recent.Remove(oldest)
			delete(l.clients, oldest.Value.(*bucket).key)
		}
		b = &bucket{key: key, tokens: l.burst, last: now}
		l.clients[key] = l.recent.PushFront(b)
	}
	b.refill(now, l.burst, l.every)
	if b.tokens >= 1 {
		b.tokens--
		return true, 0
	}
	wait := time.Duration((1 - b.tokens) * float64(l.every))
	return false, max(wait, time.Second)
}

func (b *bucket) refill(now time.Time, burst float64, every time.Duration) {
	if d := now.Sub(b.last); d > 0 {
		b.tokens = min(burst, b.tokens+float64(d)/float64(every))
		b.last = now
	}
}

// mailThrottle remembers when each subscriber was last sent a
// confirmation mail.
type mailThrottle struct {
	mu      sync.Mutex
	sent    map[int64][]time.Time // per subscriber, the last day's mails
	sweepAt int
	// perHour caps confirmation mails from the whole site: many clients
	// (a botnet, an IPv6 /48) signing up strangers must not turn gull into
	// a mail cannon that ruins the sender's reputation.
	perHour   int
	hourStart time.Time
	hourCount int
}

// reserve says whether id may be mailed at now, and if so records it: at
// most one mail per address every confirmMailEvery, confirmMailsPerDay a
// day, and perHour for the whole site.
func (m *mailThrottle) reserve(id int64, now time.Time) bool {
	m.mu.Lock()
	defer m.mu.Unlock()
	recent := m.sent[id][:0:0]
	for _, t := range m.sent[id] {
		if now.Sub(t) < 24*time.Hour {
			recent = append(recent, t)
		}
	}
	if n := len(recent); n >= confirmMailsPerDay || n > 0 && now.Sub(recent[n-1]) < confirmMailEvery {
		return false
	}
	if now.Sub(m.hourStart) >= time.Hour {
		m.hourStart, m.hourCount = now, 0
	}
	if m.hourCount >= m.perHour {
		return false
	}
	if len(m.sent) >= m.sweepAt {
		for k, ts := range m.sent {
			if len(ts) == 0 || now.Sub(ts[len(ts)-1]) >= 24*time.Hour {
				delete(m.sent, k)
			}
		}
		m.sweepAt = max(1024, 2*len(m.sent))
	}
	m.sent[id] = append(recent, now)
	m.hourCount++
	return true
}

// budgetLeft is how many confirmation mails the site may still send in
// the hour of now.
func (m *mailThrottle) budgetLeft(now time.Time) int {
	m.mu.Lock()
	defer m.mu.Unlock()
	if now.Sub(m.hourStart) >= time.Hour {
		return m.perHour
	}
	return max(0, m.perHour-m.hourCount)
}

// release undoes reserve(id, at) after a failed send.
func (m *mailThrottle) release(id int64, at time.Time) {
	m.mu.Lock()
	defer m.mu.Unlock()
	ts := m.sent[id]
	n := len(ts)
	if n == 0 || !ts[n-1].Equal(at) {
		return
	}
	if n == 1 {
		delete(m.sent, id)
	} else {
		m.sent[id] = ts[:n-1]
	}
	// Only a reservation of the current hour counts against it.
	if !at.Before(m.hourStart) && m.hourCount > 0 {
		m.hourCount--
	}
}
