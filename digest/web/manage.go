package web

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"gull/subscribers"
)

// The reader's language on the subscriber pages, the welcome mail sent
// after confirming, and /manage, where a reader who lost every mail asks
// for a link to their preferences.

// lang is the list's language (config language), the last resort.
func (p *SubscriberPages) lang() string {
	if l, err := subscribers.ParseLanguage(p.Language); err == nil && l != "" {
		return l
	}
	return "en"
}

// pageLang is the language of a page that has no reader yet (the sign-up
// and manage forms, a link that does not work): ?lang= when it names ko or
// en (the page's switch), else the browser's Accept-Language when it
// names one of them, else the list's.
func (p *SubscriberPages) pageLang(r *http.Request) string {
	if l, err := subscribers.ParseLanguage(r.URL.Query().Get("lang")); err == nil && l != "" {
		return l
	}
	if l := acceptLanguage(r.Header.Get("Accept-Language")); l != "" {
		return l
	}
	return p.lang()
}

// acceptLanguage is ko or en, whichever an Accept-Language header prefers
// (the higher q, else the first), or "" when it names neither.
func acceptLanguage(header string) string {
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		primary, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if primary != "ko" && primary != "en" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			var err error
			if q, err = strconv.ParseFloat(v, 64); err != nil || math.IsNaN(q) {
				continue
			}
		}
		if q > bestQ {
			best, bestQ = primary, q
		}
	}
	return best
}

// readerLang is the language of the first of subs that chose one, else
// the list's.
func (p *SubscriberPages) readerLang(subs ...subscribers.Subscriber) string {
	for _, s := range subs {
		if l, err := subscribers.ParseLanguage(s.Language); err == nil && l != "" {
			return l
		}
	}
	return p.lang()
}

// switchable is the data of a page offered in both languages (route, by
// ?lang=), shown in lang with a link to the other.
func (p *SubscriberPages) switchable(route, lang string) pageData {
	d := pageData{Lang: lang, SwitchURL: route + "?lang=ko", SwitchLang: "ko", SwitchName: "한국어"}
	if lang == "ko" {
		d.SwitchURL, d.SwitchLang, d.SwitchName = route+"?lang=en", "en", "English"
	}
	return d
}

// welcome queues the welcome mail of sub, who just confirmed: the latest
// issue's web page, their preferences and unsubscribe links, in their
// language. It goes through the sign-up queue like the confirmation, after
// the page is answered; failing to send it never undoes the confirmation.
func (p *SubscriberPages) welcome(sub subscribers.Subscriber) {
	sub.Language = p.readerLang(sub)
	if !p.st.signUps.enqueue(func(ctx context.Context) { p.sendWelcome(ctx, sub) }) {
		p.log().Warn("welcome mail not sent: the sign-up queue is full", "subscriber_id", sub.ID)
	}
}

func (p *SubscriberPages) sendWelcome(ctx context.Context, sub subscribers.Subscriber) {
	links := p.links()
	w := Welcome{PreferencesURL: links.Preferences(sub), UnsubscribeURL: links.Unsubscribe(sub, "")}
	if p.Archive != nil {
		switch recs, err := p.Archive.Issues(ctx, 1); {
		case err != nil:
			// The rest of the mail is worth sending without it.
			p.log().Error("welcome mail: latest issue not found", "err", err)
		case len(recs) > 0:
			w.IssueURL = links.BaseURL + "/issues/" + url.PathEscape(recs[0].ID)
		}
	}
	if err := p.Mailer.SendWelcome(ctx, sub, w); err != nil {
		p.log().Error("welcome mail failed; the subscription stands", "subscriber_id", sub.ID, "err", err)
		return
	}
	p.log().Info("welcome mail sent", "subscriber_id", sub.ID)
}

// GET /manage: the form that asks for an address.
func (p *SubscriberPages) manageForm(w http.ResponseWriter, r *http.Request) {
	p.render(w, http.StatusOK, "manage", p.switchable("manage", p.pageLang(r)))
}

// POST /manage mails a link to the preferences page to an address on the
// list: active and unsubscribed readers get it (the page lets them change
// their choice, or says how to come back); a pending one gets the
// confirmation mail again, since its sign-up is not done; a bounced
// address, or one not on the list, gets nothing. The answer is the same
// page, byte for byte, in every case, and the work is done after
// answering, so neither the page nor its timing says whether the address
// is known. It is rate-limited per client (as sign-ups are) and per
// address (as confirmations are, counted apart: one manage link every 10
// minutes, 3 a day, and the site's hourly budget).
//
// A form on another site cannot use it against a reader: the only effect
// is a mail to the address's owner, and browsers that say a POST comes
// from another site (Sec-Fetch-Site: cross-site) are refused.
func (p *SubscriberPages) manage(w http.ResponseWriter, r *http.Request) {
	now := p.now()
	if ok, retry := p.st.manage.allow(clientKey(r), now); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(retry.Seconds()))))
		p.fail(w, p.pageLang(r), failTooMany)
		return
	}
	if !p.parseForm(w, r) {
		return
	}
	lang, _ := subscribers.ParseLanguage(r.PostForm.Get("lang"))
	if lang == "" {
		lang = p.pageLang(r)
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		p.fail(w, lang, failBadForm)
		return
	}
	email, err := subscribers.NormalizeEmail(r.PostForm.Get("email"))
	if err != nil {
		d := p.switchable("manage", lang)
		d.Email = r.PostForm.Get("email")
		d.ProblemKo, d.Problem = "이메일 주소를 확인해 주세요.", err.Error()
		p.render(w, http.StatusBadRequest, "manage", d)
		return
	}
	if !p.st.signUps.enqueue(func(ctx context.Context) { p.sendManage(ctx, email) }) {
		p.refuse(w, lang, "queue_full", "manage link refused: the sign-up mail queue is full (is the mail server slow?)")
		return
	}
	p.render(w, http.StatusOK, "manage-sent", pageData{Lang: lang})
}

// sendManage does the work of POST /manage for email.
func (p *SubscriberPages) sendManage(ctx context.Context, email string) {
	log, now := p.log(), p.now()
	sub, err := p.Store.SubscriberByEmail(ctx, email)
	switch {
	case errors.Is(err, subscribers.ErrNotFound):
		log.Info("manage link asked for an address not on the list; nothing sent")
		return
	case err != nil:
		log.Error("manage link failed", "err", err)
		return
	}
	switch sub.Status {
	case subscribers.Bounced:
		log.Info("manage link asked for a bounced address; nothing sent", "subscriber_id", sub.ID)
		return
	case subscribers.Pending:
		// Their choices are on the row: the link carries them again.
		p.sendConfirmation(ctx, sub, sub, false, now)
		return
	}
	if !p.st.manageMailed.reserve(sub.ID, now) {
		log.Info("manage link held back: one mail per address every 10 minutes, 3 a day, within the hourly budget", "subscriber_id", sub.ID)
		return
	}
	to := sub
	to.Language = p.readerLang(sub)
	if err := p.Mailer.SendManageLink(ctx, to, p.links().Preferences(sub)); err != nil {
		p.st.manageMailed.release(sub.ID, now)
		log.Error("manage link failed", "subscriber_id", sub.ID, "err", err)
		return
	}
	log.Info("manage link sent", "subscriber_id", sub.ID)
}
