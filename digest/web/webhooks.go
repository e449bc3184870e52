package web

// The providers' bounce and complaint webhooks (POST /webhooks/{provider}):
// each post's signature is checked (digest/webhook), and each bounce or
// complaint it reports goes to the store's bounce policy, once per the
// provider's event id.

import (
	"context"
	"crypto/ecdsa"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"time"

	"gull/digest/bounce"
	"gull/digest/webhook"
)

// BounceRecorder is the store's bounce policy, as the webhooks use it.
type BounceRecorder interface {
	// RecordBounce acts on what e reports: it finds the reader (by
	// e.Report's return-path token, its Message-ID, then each
	// recipient's address) and marks them as the policy says. It does so
	// once per e.Key(): an event recorded before changes nothing and is
	// no error (providers post an event again when unsure it arrived).
	// An error means nothing was recorded, and the provider is asked to
	// post again later.
	RecordBounce(ctx context.Context, e webhook.Event) error
}

// webhooksPath is where the providers post; each has its own route.
const webhooksPath = "/webhooks/"

// maxWebhookBody bounds a post: SendGrid batches events up to about
// 768 KB; SNS messages are at most 256 KB; the others are one event.
const maxWebhookBody = 1 << 20

// Webhooks take the providers' posts. A provider left unset is not
// configured: its route answers 404.
type Webhooks struct {
	Recorder BounceRecorder
	// SES checks Amazon SNS messages of the configured topics and
	// confirms their subscriptions.
	SES *webhook.SNS
	// PostmarkSecret is the secret a Postmark post carries as the
	// password of HTTP basic auth (any user name): Postmark signs
	// nothing. Not in the path, where access logs would keep it.
	PostmarkSecret string
	// MailgunKey is Mailgun's webhook signing key.
	MailgunKey []byte
	// SendGridKey is the signed event webhook's verification key.
	SendGridKey *ecdsa.PublicKey
	Log         *slog.Logger

	now     func() time.Time // tests move the clock
	replays *webhook.Replays
}

// Continue makes h take over the Mailgun tokens old has seen (a reload
// must not make a used one good again). Call it before h serves.
func (h *Webhooks) Continue(old *Webhooks) {
	if old != nil && old.replays != nil {
		h.replays = old.replays
	}
}

// Handler serves the webhooks.
func (h *Webhooks) Handler() http.Handler {
	if h.Recorder == nil {
		panic("web: Webhooks needs a Recorder")
	}
	if h.replays == nil {
		h.replays = &webhook.Replays{}
	}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /webhooks/ses", h.ses)
	mux.HandleFunc("POST /webhooks/postmark", h.postmark)
	mux.HandleFunc("POST /webhooks/mailgun", h.mailgun)
	mux.HandleFunc("POST /webhooks/sendgrid", h.sendgrid)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		r.Body = http.MaxBytesReader(w, r.Body, maxWebhookBody)
		mux.ServeHTTP(w, r)
	})
}

// answer writes a short plain-text answer: the providers read the code
// only, and a refusal says no more than its code does.
func answer(w http.ResponseWriter, code int) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	w.WriteHeader(code)
	io.WriteString(w, http.StatusText(code)+"\n")
}

// body reads the post, answering 413 past maxWebhookBody.
func (h *Webhooks) body(w http.ResponseWriter, r *http.Request, provider string) ([]byte, bool) {
	b, err := io.ReadAll(r.Body)
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			h.log().Warn("webhook refused: body too large", "provider", provider, "limit", maxWebhookBody)
			answer(w, http.StatusRequestEntityTooLarge)
		} else {
			answer(w, http.StatusBadRequest)
		}
		return nil, false
	}
	return b, true
}

// refuse answers a check that failed: 401 for a signature, 403 for an
// SNS topic not configured, 400 for a malformed body. The reason goes to
// the log only.
func (h *Webhooks) refuse(w http.ResponseWriter, provider string, err error) {
	code := http.StatusBadRequest
	switch {
	case errors.Is(err, webhook.ErrSignature):
		code = http.StatusUnauthorized
	case errors.Is(err, webhook.ErrTopic):
		code = http.StatusForbidden
	}
	h.log().Warn("webhook refused", "provider", provider, "status", code, "err", err)
	answer(w, code)
}

// record hands each event to the policy; 500 when one failed (the
// provider posts again; those recorded before change nothing then).
func (h *Webhooks) record(w http.ResponseWriter, r *http.Request, events []webhook.Event) bool {
	for _, e := range events {
		if e.Report.Kind == bounce.Delayed {
			continue // the provider is still trying: nothing to count
		}
		if err := h.Recorder.RecordBounce(r.Context(), e); err != nil {
			h.log().Error("webhook event not recorded", "provider", e.Provider, "event", e.ID, "err", err)
			answer(w, http.StatusInternalServerError)
			return false
		}
		for _, rc := range e.Report.Recipients {
			// The address masked, and no reason: a server's words often
			// quote the address whole.
			h.log().Info("webhook event", "provider", e.Provider, "event", e.ID, "kind", rc.Kind,
				"status", rc.Status, "to", maskEmail(rc.Address))
		}
	}
	answer(w, http.StatusOK)
	return true
}

func (h *Webhooks) clock() time.Time {
	if h.now != nil {
		return h.now()
	}
	return time.Now()
}

func (h *Webhooks) log() *slog.Logger {
	if h.Log != nil {
		return h.Log
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// POST /webhooks/ses: Amazon SNS, a topic SES publishes its bounces and
// complaints to.
func (h *Webhooks) ses(w http.ResponseWriter, r *http.Request) {
	if h.SES == nil {
		answer(w, http.StatusNotFound)
		return
	}
	b, ok := h.body(w, r, "ses")
	if !ok {
		return
	}
	m, err := webhook.ParseSNS(b)
	if err == nil {
		err = h.SES.Verify(r.Context(), m, h.clock())
	}
	if err != nil {
		h.refuse(w, "ses", err)
		return
	}
	switch m.Type {
	case webhook.SNSSubscriptionConfirmation:
		if err := h.SES.Confirm(r.Context(), m); errors.Is(err, webhook.ErrSignature) {
			h.refuse(w, "ses", err) // signed, yet not an SNS host's URL
			return
		} else if err != nil {
			h.log().Error("SNS subscription not confirmed", "topic", m.TopicARN, "err", err)
			answer(w, http.StatusBadGateway)
			return
		}
		h.log().Info("SNS subscription confirmed", "topic", m.TopicARN)
		answer(w, http.StatusOK)
	case webhook.SNSUnsubscribeConfirmation:
		h.log().Warn("SNS subscription ended: SES bounces no longer come here", "topic", m.TopicARN)
		answer(w, http.StatusOK)
	default:
		events, err := webhook.SESEvents(m.Message, m.MessageID)
		if err != nil {
			h.refuse(w, "ses", err)
			return
		}
		h.record(w, r, events)
	}
}

// POST /webhooks/postmark, with basic auth.
func (h *Webhooks) postmark(w http.ResponseWriter, r *http.Request) {
	if h.PostmarkSecret == "" {
		answer(w, http.StatusNotFound)
		return
	}
	_, secret, _ := r.BasicAuth()
	if !webhook.SecretEqual(secret, h.PostmarkSecret) {
		w.Header().Set("WWW-Authenticate", `Basic realm="gull webhooks"`)
		h.refuse(w, "postmark", webhook.ErrSignature)
		return
	}
	b, ok := h.body(w, r, "postmark")
	if !ok {
		return
	}
	events, err := webhook.ParsePostmark(b)
	if err != nil {
		h.refuse(w, "postmark", err)
		return
	}
	h.record(w, r, events)
}

// POST /webhooks/mailgun: the signature is in the body.
func (h *Webhooks) mailgun(w http.ResponseWriter, r *http.Request) {
	if len(h.MailgunKey) == 0 {
		answer(w, http.StatusNotFound)
		return
	}
	b, ok := h.body(w, r, "mailgun")
	if !ok {
		return
	}
	sig, events, err := webhook.ParseMailgun(b)
	if err == nil {
		err = webhook.VerifyMailgun(h.MailgunKey, sig, h.clock())
	}
	if err != nil {
		h.refuse(w, "mailgun", err)
		return
	}
	if h.replays.Seen(sig.Token, h.clock()) {
		// Taken before: accepted, and nothing done again.
		h.log().Info("webhook replay ignored", "provider", "mailgun")
		answer(w, http.StatusOK)
		return
	}
	if !h.record(w, r, events) {
		h.replays.Forget(sig.Token) // Mailgun's retry must be taken
	}
}

// POST /webhooks/sendgrid: the signature is in the headers, over the
// body as sent.
func (h *Webhooks) sendgrid(w http.ResponseWriter, r *http.Request) {
	if h.SendGridKey == nil {
		answer(w, http.StatusNotFound)
		return
	}
	b, ok := h.body(w, r, "sendgrid")
	if !ok {
		return
	}
	err := webhook.VerifySendGrid(h.SendGridKey, r.Header.Get(webhook.SendGridSignatureHeader),
		r.Header.Get(webhook.SendGridTimestampHeader), b)
	var events []webhook.Event
	if err == nil {
		events, err = webhook.ParseSendGrid(b)
	}
	if err != nil {
		h.refuse(w, "sendgrid", err)
		return
	}
	h.record(w, r, events)
}
