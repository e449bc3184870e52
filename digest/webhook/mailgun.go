package webhook

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"gull/digest/bounce"
)

// MailgunMaxAge is how old a Mailgun signature's timestamp may be.
// Mailgun retries a post that failed (gull's store was down: 500) for
// 8 hours, and a retry may carry the first post's signature, so the
// window covers that schedule with an hour to spare; a captured post
// replayed later is refused, and within it the token is refused the
// second time (Replays), and past that memory (a restart) the store's
// idempotence on the event id makes a replay change nothing.
const MailgunMaxAge = 9 * time.Hour

// MailgunMaxSkew is how far in the future a timestamp may be: the
// daemon's clock and Mailgun's differ by seconds, not hours.
const MailgunMaxSkew = 15 * time.Minute

// MailgunSignature is the signature part of a Mailgun webhook post.
type MailgunSignature struct {
	Timestamp string `json:"timestamp"`
	Token     string `json:"token"`
	Signature string `json:"signature"`
	// Parent is the primary account's signature of a subaccount's event.
	Parent string `json:"parent-signature"`
}

// VerifyMailgun checks sig: HMAC-SHA256 of timestamp and token with the
// webhook signing key (or, for a subaccount, the parent account's
// signature with the same key), and a timestamp at most MailgunMaxAge
// old and MailgunMaxSkew ahead of now. Any failure is ErrSignature; the token's reuse is the caller's
// to check (Replays), once the signature holds.
func VerifyMailgun(key []byte, sig MailgunSignature, now time.Time) error {
	if len(key) == 0 || sig.Token == "" || sig.Timestamp == "" {
		return fmt.Errorf("%w: Mailgun signature without token or timestamp", ErrSignature)
	}
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(sig.Timestamp + sig.Token))
	want := mac.Sum(nil)
	ok := false
	for _, s := range []string{sig.Signature, sig.Parent} {
		if got, err := hex.DecodeString(s); err == nil && hmac.Equal(got, want) {
			ok = true
		}
	}
	if !ok {
		return fmt.Errorf("%w: Mailgun signature does not match", ErrSignature)
	}
	ts, err := strconv.ParseInt(sig.Timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: Mailgun timestamp %q", ErrSignature, sig.Timestamp)
	}
	if age := now.Sub(time.Unix(ts, 0)); age > MailgunMaxAge || age < -MailgunMaxSkew {
		return fmt.Errorf("%w: Mailgun timestamp %v away from now", ErrSignature, age.Round(time.Second))
	}
	return nil
}

type mailgunPost struct {
	Signature *MailgunSignature `json:"signature"`
	EventData *struct {
		Event     string  `json:"event"`
		ID        string  `json:"id"`
		Timestamp float64 `json:"timestamp"`
		Severity  string  `json:"severity"`
		Reason    string  `json:"reason"`
		Recipient string  `json:"recipient"`
		Message   struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
		DeliveryStatus struct {
			Code         json.Number `json:"code"`
			EnhancedCode string      `json:"enhanced-code"`
			Message      string      `json:"message"`
			Description  string      `json:"description"`
		} `json:"delivery-status"`
		Envelope struct {
			Sender string `json:"sender"`
		} `json:"envelope"`
	} `json:"event-data"`
}

// ParseMailgun reads a Mailgun webhook post (the JSON one): its signature
// and its event, if it is a failure or a complaint. A failure Mailgun
// will try again (severity temporary) is Delayed; a permanent one is
// hard, or soft when its code says the address is not at fault (a full
// mailbox, a policy refusal, a delivery that timed out: reason "old"); a
// drop for an earlier complaint is a complaint, for an earlier
// unsubscribe nothing.
func ParseMailgun(body []byte) (MailgunSignature, []Event, error) {
	var p mailgunPost
	if err := json.Unmarshal(body, &p); err != nil {
		return MailgunSignature{}, nil, fmt.Errorf("%w: Mailgun post: %v", ErrMalformed, err)
	}
	if p.Signature == nil || p.EventData == nil {
		return MailgunSignature{}, nil, fmt.Errorf("%w: Mailgun post without signature or event-data", ErrMalformed)
	}
	e := p.EventData
	if e.ID == "" {
		return MailgunSignature{}, nil, fmt.Errorf("%w: Mailgun event without id", ErrMalformed)
	}
	var at time.Time
	if e.Timestamp > 0 && e.Timestamp < 1e11 { // seconds; nonsense is no time
		sec, frac := math.Modf(e.Timestamp)
		at = time.Unix(int64(sec), int64(frac*1e9))
	}
	ds := e.DeliveryStatus
	text := strings.TrimSpace(ds.Message + " " + ds.Description)
	status := ds.EnhancedCode
	if status == "" && len(ds.Code) == 3 && (ds.Code[0] == '4' || ds.Code[0] == '5') {
		status = ds.Code.String()[:1] + ".0.0"
	}
	var kind bounce.Kind
	action := "failed"
	switch e.Event {
	case "complained":
		kind, action, text, status = bounce.Complaint, "complained", "marked as spam", ""
	case "failed":
		switch {
		case e.Severity == "temporary":
			kind, action = bounce.Delayed, "delayed"
		case e.Reason == "suppress-unsubscribe":
			return *p.Signature, nil, nil
		case e.Reason == "suppress-complaint":
			kind, action = bounce.Complaint, "complained"
		case e.Reason == "old":
			kind = bounce.Soft
		default:
			kind = bounce.Hard
			if _, k, _ := bounce.Diagnose(status, text); k == bounce.Soft {
				kind = bounce.Soft
			}
		}
		if text == "" {
			text = e.Reason
		}
	default:
		return *p.Signature, nil, nil // delivered, opened...: nothing to act on
	}
	rc := recipient(e.Recipient, kind, action, status, text)
	return *p.Signature, []Event{{Provider: "mailgun", ID: e.ID, At: at,
		Report: report("mailgun", kind, e.Message.Headers.MessageID, []string{e.Envelope.Sender}, rc)}}, nil
}
