// Package webhook reads what the mail providers post about bounces and
// complaints (Amazon SES through SNS, Postmark, Mailgun, SendGrid): it
// checks each provider's signature and turns its events into
// bounce.Reports, keyed by the provider's own event id. It answers no
// HTTP itself (digest/web does) and keeps no state but SNS's signing
// certificates; the only I/O is the SNS certificate fetch and the
// subscription confirmation, both through an http.Client the caller gives
// and only to Amazon's SNS hosts.
package webhook

import (
	"errors"
	"time"

	"gull/digest/bounce"
	"gull/subscribers"
)

// Errors of the checks. A caller answers ErrSignature with 401 and
// ErrMalformed with 400, and shows neither's detail to the sender.
var (
	// ErrSignature: the signature is missing, wrong, made with another
	// key, or (Mailgun) too old or already used.
	ErrSignature = errors.New("webhook: signature refused")
	// ErrMalformed: the body is not the provider's format.
	ErrMalformed = errors.New("webhook: malformed body")
)

// Event is one bounce or complaint a provider reported.
type Event struct {
	// Provider is "ses", "postmark", "mailgun" or "sendgrid".
	Provider string
	// ID is the provider's own id of the event (SES's feedbackId,
	// Postmark's bounce ID, Mailgun's event id, SendGrid's sg_event_id):
	// a provider posts an event again when it is not sure the first one
	// arrived, and a replay must change nothing. Key joins the two.
	ID string
	// Report is what happened: its Kind, Recipients (address, kind,
	// status, reason), and where the provider says it, the original's
	// MessageID and the envelope sender (ReturnPaths, which holds the
	// mail.return_path token). Its Format is the provider's name.
	Report bounce.Report
	// At is when the provider saw it; zero when it does not say.
	At time.Time
}

// Key is the event's identity across providers: "provider:id".
func (e Event) Key() string { return e.Provider + ":" + e.ID }

// recipient is one failed or complaining address, spelled as the list
// spells addresses when it can be (else as the provider gave it, for the
// caller to match or not).
func recipient(addr string, kind bounce.Kind, action, status, text string) bounce.Recipient {
	if a, err := subscribers.NormalizeEmail(addr); err == nil {
		addr = a
	}
	st, _, reason := bounce.Diagnose(status, text)
	return bounce.Recipient{Address: addr, Kind: kind, Status: st, Action: action, Reason: reason}
}

// report makes the report of one event: its kind is its recipients'.
func report(provider string, kind bounce.Kind, messageID string, returnPaths []string, rcpts ...bounce.Recipient) bounce.Report {
	r := bounce.Report{Kind: kind, Format: provider, Recipients: rcpts, MessageID: angle(messageID)}
	for _, rp := range returnPaths {
		if rp != "" {
			r.ReturnPaths = append(r.ReturnPaths, rp)
		}
	}
	return r
}

// angle writes a Message-ID as deliver sends it, in angle brackets (the
// providers drop them, or not).
func angle(id string) string {
	if id == "" || (id[0] == '<' && id[len(id)-1] == '>') {
		return id
	}
	return "<" + id + ">"
}

// maxEvents caps the events of one post (SendGrid batches them): what
// comes past it is malformed, not read.
const maxEvents = 10000
