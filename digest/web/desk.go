package web

// The editor's desk (/desk): the coming issue's draft as the mail,
// with a form for every change an editor may make to it.
//
// Every page is plain forms: it works without JavaScript, and the site's
// Content-Security-Policy allows none. The draft's mail is shown in an
// iframe's srcdoc, sandboxed, so its styles stay its own and nothing in
// it runs. Every change is a POST carrying the session's CSRF token, the
// issue's id and the version of the draft the page showed: the store
// refuses a change made against another version (another editor's edit,
// or a rebuild, came in between), and the editor is told, the draft
// unchanged. A GET changes nothing.
//
// A signed-out visitor gets the sign-in form and nothing of the draft.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// DraftStore is what the desk reads and changes (digest/store.Store has
// it all).
type DraftStore interface {
	Draft(ctx context.Context, id string) (digest.Draft, error)
	LatestDraft(ctx context.Context) (digest.Draft, error)
	EditDraft(ctx context.Context, id string, version int, editor string, e digest.Edit, now time.Time) (int, error)
	ApproveDraft(ctx context.Context, id string, version int, editor string, now time.Time) (int, error)
	ReopenDraft(ctx context.Context, id string, version int, editor string, now time.Time) (int, error)
	DraftHistory(ctx context.Context, id string) ([]digest.HistoryEntry, error)
}

// DeskMailer mails an editor their sign-in link.
type DeskMailer interface {
	SendDeskLink(ctx context.Context, to, link string) error
}

// DeskMailFunc is a function as a DeskMailer.
type DeskMailFunc func(ctx context.Context, to, link string) error

// SendDeskLink implements DeskMailer.
func (f DeskMailFunc) SendDeskLink(ctx context.Context, to, link string) error {
	return f(ctx, to, link)
}

// Desk serves /desk. Auth, Store, Mailer and Render are needed.
type Desk struct {
	Auth   *DeskAuth
	Store  DraftStore
	Mailer DeskMailer
	// Render is the issue as the mail's HTML part (a full document), for
	// the draft as readers would get it now (hidden articles left out).
	Render func(is digest.Issue) ([]byte, error)
	Title  string // the newsletter's
	Now    func() time.Time
	Log    *slog.Logger
	// SignInBurst/SignInEvery rate-limit the sign-in form per client, as
	// the sign-up form is: Burst requests, then one per Every. Zero means
	// 5, and one a minute.
	SignInBurst int
	SignInEvery time.Duration

	st *deskState
}

const (
	// deskLinksPerAddress is how many sign-in links one address is
	// mailed per deskLinkEvery, however often it is typed in: nobody
	// can use the form to flood an editor's mailbox.
	deskLinksPerAddress = 3
	deskLinkEvery       = 15 * time.Minute
	// deskMailTimeout bounds the mailing of one sign-in link.
	deskMailTimeout = time.Minute
	// deskFormBody is the most a desk form may send: a note of
	// digest.MaxNoteBytes, escaped, with the other fields. A longer one is
	// refused before it is read.
	deskFormBody = 4*digest.MaxNoteBytes + 4<<10
)

// deskState is what the desk keeps between requests, in memory.
type deskState struct {
	clients *limiter // sign-in form posts per client
	address *limiter // links mailed per address
	mails   sync.WaitGroup
}

// Continue makes d take over the rate limits of old, the desk a reload
// replaces. Call it before d serves its first request.
func (d *Desk) Continue(old *Desk) {
	if old != nil && old.st != nil {
		d.st = old.st
	}
}

// Wait waits for the sign-in links being mailed.
func (d *Desk) Wait() {
	if d.st != nil {
		d.st.mails.Wait()
	}
}

// Handler serves the desk under /desk. It panics when a part is missing:
// a wiring mistake, found at start-up.
func (d *Desk) Handler() http.Handler {
	if d.Auth == nil || d.Store == nil || d.Mailer == nil || d.Render == nil {
		panic("web: Desk needs Auth, Store, Mailer and Render")
	}
	if d.st == nil {
		burst, every := d.SignInBurst, d.SignInEvery
		if burst <= 0 {
			burst = 5
		}
		if every <= 0 {
			every = time.Minute
		}
		d.st = &deskState{
			clients: newLimiter(burst, every),
			address: newLimiter(deskLinksPerAddress, deskLinkEvery/deskLinksPerAddress),
		}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /desk", d.page)
	mux.HandleFunc("GET /desk/sign-in", d.signInForm)
	mux.HandleFunc("POST /desk/sign-in", d.signIn)
	mux.HandleFunc("POST /desk/sign-out", d.signOut)
	mux.HandleFunc("POST /desk/change", d.change)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Nothing of the desk is cached anywhere, nor indexed.
		w.Header().Set("Cache-Control", "no-store")
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, deskFormBody)
		}
		mux.ServeHTTP(w, r)
	})
}

func (d *Desk) now() time.Time {
	if d.Now != nil {
		return d.Now()
	}
	return time.Now()
}

func (d *Desk) log() *slog.Logger {
	if d.Log != nil {
		return d.Log
	}
	return slog.New(slog.DiscardHandler)
}

// deskData is everything a desk page shows.
type deskData struct {
	Title   string
	Problem string // what was wrong with the last change, in a line
	Done    string // what the last change did
	// The sign-in pages.
	Token string // the sign-in link's, for its button
	Email string
	Sent  bool
	// The desk itself.
	Editor, CSRF     string
	IssueID, Status  string
	Version          int
	Open             bool // the draft may be changed
	NoDraft          bool
	Subject, Note    string
	Mail             string // the draft as the mail, for the iframe's srcdoc
	Sections         []deskSection
	Themes           []ThemeChoice
	Hidden, Articles int
	Failed           []digest.FeedReport
	History          []deskHistory
}

type deskSection struct {
	ID, Name string
	Articles []deskArticle
}

type deskArticle struct {
	ID, Section         string
	Title, Link, Feed   string
	Summary, Blurb      string
	Hidden, Pinned, New bool
	Also                int
}

type deskHistory struct {
	At, Editor, What string
}

// page answers GET /desk: the desk, or the way to sign in.
func (d *Desk) page(w http.ResponseWriter, r *http.Request) {
	s, ok := d.session(w, r)
	if !ok {
		return
	}
	d.showDesk(w, r, s, http.StatusOK, doneLines[r.URL.Query().Get("done")], "")
}

// session is the signed-in editor, or a redirect to the sign-in form
// (a GET) or a 403 (a POST) and false.
func (d *Desk) session(w http.ResponseWriter, r *http.Request) (DeskSession, bool) {
	s, err := d.Auth.Session(r, d.now())
	if err == nil {
		return s, true
	}
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		http.Redirect(w, r, DeskSignInPath, http.StatusSeeOther)
		return s, false
	}
	d.render(w, http.StatusForbidden, "signin", deskData{Problem: ErrSignedOut.Error()})
	return s, false
}

// showDesk renders the latest draft for s, with what the last change did
// or why it was refused.
func (d *Desk) showDesk(w http.ResponseWriter, r *http.Request, s DeskSession, status int, done, problem string) {
	data := deskData{Editor: s.Editor, CSRF: d.Auth.CSRFToken(s), Done: done, Problem: problem}
	dr, err := d.Store.LatestDraft(r.Context())
	switch {
	case errors.Is(err, digest.ErrNoDraft):
		data.NoDraft = true
		d.render(w, status, "desk", data)
		return
	case err != nil:
		d.serverError(w, "read the draft", err)
		return
	}
	if err := d.fill(r.Context(), &data, dr); err != nil {
		d.serverError(w, "show the draft", err)
		return
	}
	d.render(w, status, "desk", data)
}

// fill puts draft dr in data: its mail, its articles (hidden ones too,
// marked), the feeds that failed, its history.
func (d *Desk) fill(ctx context.Context, data *deskData, dr digest.Draft) error {
	is := dr.Issue()
	data.IssueID, data.Version, data.Status = is.ID, dr.Version, dr.Status
	data.Open = dr.Status == digest.DraftOpen
	data.Subject, data.Note = is.Subject, is.Note
	mail, err := d.Render(dr.Readers())
	if err != nil {
		return err
	}
	data.Mail = string(mail)
	for _, t := range dr.Themes {
		data.Themes = append(data.Themes, ThemeChoice{ID: t.ID, Name: t.Name})
	}
	for _, sec := range is.Sections {
		ds := deskSection{ID: sec.ID, Name: sec.Name}
		for _, a := range sec.Articles {
			ds.Articles = append(ds.Articles, deskArticle{
				ID: a.ID, Section: sec.ID, Title: a.Title, Link: a.Link, Feed: a.FeedName,
				Summary: a.Summary, Blurb: a.Blurb, Hidden: a.Hidden, Pinned: a.Pinned,
				New: dr.New(a), Also: len(a.Also),
			})
			data.Articles++
			if a.Hidden {
				data.Hidden++
			}
		}
		data.Sections = append(data.Sections, ds)
	}
	for _, f := range is.Feeds {
		if f.Status == digest.FeedError {
			data.Failed = append(data.Failed, f)
		}
	}
	hist, err := d.Store.DraftHistory(ctx, is.ID)
	if err != nil {
		return err
	}
	// Newest first: what an editor coming back wants to see.
	for i := len(hist) - 1; i >= 0; i-- {
		h := hist[i]
		data.History = append(data.History, deskHistory{
			At: h.At.UTC().Format("2006-01-02 15:04 UTC"), Editor: h.Editor, What: h.What(),
		})
	}
	return nil
}

// postSession is the session of a POST to the desk, its form read and
// its CSRF token checked; false when it answered already.
func (d *Desk) postSession(w http.ResponseWriter, r *http.Request) (DeskSession, bool) {
	s, ok := d.session(w, r)
	if !ok {
		return s, false
	}
	if err := r.ParseForm(); err != nil {
		d.formError(w, err)
		return s, false
	}
	if err := d.Auth.CheckCSRF(s, r.PostForm.Get("csrf")); err != nil {
		d.render(w, http.StatusForbidden, "signin", deskData{Problem: err.Error()})
		return s, false
	}
	return s, true
}

// change answers POST /desk/change: one edit, an approval or a
// reopening, made against the version the page showed. Done, it
// redirects to the desk (a reload then posts nothing again); refused, it
// shows the desk as it is now with the reason, and changes nothing.
func (d *Desk) change(w http.ResponseWriter, r *http.Request) {
	s, ok := d.postSession(w, r)
	if !ok {
		return
	}
	id := r.PostForm.Get("issue")
	version, err := strconv.Atoi(r.PostForm.Get("version"))
	if id == "" || err != nil {
		d.showDesk(w, r, s, http.StatusBadRequest, "", ErrDeskForm.Error())
		return
	}
	action := r.PostForm.Get("action")
	now := d.now()
	switch action {
	case "approve":
		_, err = d.Store.ApproveDraft(r.Context(), id, version, s.Editor, now)
	case "reopen":
		_, err = d.Store.ReopenDraft(r.Context(), id, version, s.Editor, now)
	default:
		e := digest.Edit{Kind: digest.EditKind(action), Article: r.PostForm.Get("article"),
			Theme: r.PostForm.Get("theme"), Text: r.PostForm.Get("text")}
		_, err = d.Store.EditDraft(r.Context(), id, version, s.Editor, e, now)
	}
	if err != nil {
		d.refused(w, r, s, action, err)
		return
	}
	d.log().Info("desk change", "issue", id, "action", action, "editor", s.Editor)
	http.Redirect(w, r, deskPath+"?done="+actionWord(action), http.StatusSeeOther)
}

// refused shows why a change was not made: 409 when the draft moved on
// (stale, approved, sent), 400 for a bad edit, 404 when there is no such
// draft.
func (d *Desk) refused(w http.ResponseWriter, r *http.Request, s DeskSession, action string, err error) {
	status := http.StatusBadRequest
	switch {
	case errors.Is(err, digest.ErrStaleDraft), errors.Is(err, digest.ErrDraftClosed):
		status = http.StatusConflict
	case errors.Is(err, digest.ErrNoDraft):
		status = http.StatusNotFound
	case !errors.Is(err, digest.ErrBadEdit):
		d.serverError(w, "change the draft", err)
		return
	}
	d.log().Info("desk change refused", "action", action, "editor", s.Editor, "err", err)
	d.showDesk(w, r, s, status, "", "Nothing was changed: "+err.Error())
}

// actionWord is a known action's name for the "done" line, "" for any
// other: the query is the visitor's to write.
func actionWord(a string) string {
	switch a {
	case "hide", "show-again", "move", "pin", "unpin", "blurb", "note", "subject", "approve", "reopen":
		return a
	}
	return ""
}

// doneLines say what a change did, by action.
var doneLines = map[string]string{
	"hide": "Hidden: readers will not get it.", "show-again": "Shown again.", "move": "Moved.",
	"pin": "Pinned to the top of its section.", "unpin": "Unpinned.", "blurb": "Blurb saved.",
	"note": "Note saved.", "subject": "Subject saved.",
	"approve": "Approved: this is the issue the send will mail.", "reopen": "Reopened: the draft may be changed again.",
}

// signInForm answers GET /desk/sign-in: the address form, or, for a
// mailed link, a button that signs in (mail scanners open links, and a
// GET must not use up the link).
func (d *Desk) signInForm(w http.ResponseWriter, r *http.Request) {
	tok := r.URL.Query().Get("t")
	if tok == "" {
		d.render(w, http.StatusOK, "signin", deskData{})
		return
	}
	if _, err := d.Auth.CheckSignInLink(tok, d.now()); err != nil {
		d.render(w, http.StatusBadRequest, "signin", deskData{Problem: linkProblem(err)})
		return
	}
	d.render(w, http.StatusOK, "link", deskData{Token: tok})
}

// signIn answers POST /desk/sign-in: with t, the button of a mailed link
// (sign in, then the desk); with email, a request for a link, answered
// the same way whoever asks.
func (d *Desk) signIn(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		d.formError(w, err)
		return
	}
	if tok := r.PostForm.Get("t"); tok != "" {
		s, err := d.Auth.SignIn(r.Context(), tok, d.now())
		if err != nil {
			d.log().Info("desk sign-in refused", "err", err)
			d.render(w, http.StatusBadRequest, "signin", deskData{Problem: linkProblem(err)})
			return
		}
		http.SetCookie(w, d.Auth.SessionCookie(s, d.now()))
		d.log().Info("desk signed in", "editor", s.Editor)
		http.Redirect(w, r, deskPath, http.StatusSeeOther)
		return
	}
	now := d.now()
	if ok, retry := d.st.clients.allow(clientKey(r), now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		d.render(w, http.StatusTooManyRequests, "signin", deskData{Problem: "Too many requests: try again in a few minutes."})
		return
	}
	email := strings.TrimSpace(r.PostForm.Get("email"))
	link, err := d.Auth.SignInLink(email, now)
	switch {
	case errors.Is(err, ErrNotEditor):
		// Answered as for an editor: nobody learns who the editors are.
	case err != nil:
		d.render(w, http.StatusBadRequest, "signin", deskData{Email: email,
			Problem: fmt.Sprintf("%q is not an email address: type the whole address, like editor@example.org.", email)})
		return
	default:
		n, _ := subscribers.NormalizeEmail(email)
		if ok, _ := d.st.address.allow(subscribers.EmailKey(n), now); ok {
			d.mailLink(n, link)
		}
	}
	d.render(w, http.StatusOK, "signin", deskData{Sent: true})
}

// mailLink mails link to an editor after the answer, so that how long
// the answer takes does not tell an editor's address from another.
func (d *Desk) mailLink(to, link string) {
	d.st.mails.Add(1)
	go func() {
		defer d.st.mails.Done()
		ctx, cancel := context.WithTimeout(context.Background(), deskMailTimeout)
		defer cancel()
		if err := d.Mailer.SendDeskLink(ctx, to, link); err != nil {
			// The link is a secret: the error is logged, the link never.
			d.log().Error("desk sign-in link not mailed", "err", err)
		}
	}()
}

// signOut answers POST /desk/sign-out.
func (d *Desk) signOut(w http.ResponseWriter, r *http.Request) {
	if _, ok := d.postSession(w, r); !ok {
		return
	}
	http.SetCookie(w, d.Auth.SignOutCookie())
	http.Redirect(w, r, DeskSignInPath, http.StatusSeeOther)
}

// linkProblem says why a sign-in link does not work, in a line.
func linkProblem(err error) string {
	switch {
	case errors.Is(err, subscribers.ErrExpired):
		return "This sign-in link has expired (links work for 15 minutes): ask for a new one below."
	case errors.Is(err, ErrLinkUsed), errors.Is(err, ErrNotEditor):
		return err.Error()
	}
	return "This is not a sign-in link of the desk: ask for a new one below, and open it whole."
}

// formError answers a form that could not be read: too large, or garbled.
func (d *Desk) formError(w http.ResponseWriter, err error) {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		d.render(w, http.StatusRequestEntityTooLarge, "signin",
			deskData{Problem: "What was sent is too long (a note may be 64 KiB): nothing was changed."})
		return
	}
	d.render(w, http.StatusBadRequest, "signin", deskData{Problem: "The form could not be read: reload the page and try again."})
}

func (d *Desk) serverError(w http.ResponseWriter, what string, err error) {
	d.log().Error("desk failed", "what", what, "err", err)
	d.render(w, http.StatusInternalServerError, "signin", deskData{Problem: "Something went wrong; nothing may have been changed. Try again in a few minutes."})
}

// render answers a desk page built before anything is written.
func (d *Desk) render(w http.ResponseWriter, status int, name string, data deskData) {
	data.Title = d.Title
	var buf bytes.Buffer
	if err := deskPages[name].Execute(&buf, data); err != nil {
		d.log().Error("desk page failed", "page", name, "err", err)
		http.Error(w, "500 internal server error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}
