package webhook

import (
	"crypto/sha256"
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"gull/digest/bounce"
)

// SecretEqual compares a secret a request carries (Postmark's basic-auth
// password) with the configured one in constant time.
func SecretEqual(got, want string) bool {
	if want == "" {
		return false
	}
	// Hashed first, so the time does not tell the length either.
	g, w := sha256.Sum256([]byte(got)), sha256.Sum256([]byte(want))
	return subtle.ConstantTimeCompare(g[:], w[:]) == 1
}

type postmarkPost struct {
	RecordType  string      `json:"RecordType"`
	ID          json.Number `json:"ID"`
	Type        string      `json:"Type"`
	Email       string      `json:"Email"`
	Description string      `json:"Description"`
	Details     string      `json:"Details"`
	BouncedAt   string      `json:"BouncedAt"`
}

// Postmark's bounce types (its "Type"), by what they mean for the
// address; the others (an auto-reply, a subscribe request, a challenge,
// a virus notice...) are nothing to act on.
var postmarkKinds = map[string]bounce.Kind{
	"HardBounce": bounce.Hard, "BadEmailAddress": bounce.Hard,
	"SoftBounce": bounce.Soft, "Transient": bounce.Soft, "DnsError": bounce.Soft, "Blocked": bounce.Soft,
	"SpamNotification": bounce.Soft, "DMARCPolicy": bounce.Soft,
	"SpamComplaint": bounce.Complaint,
}

// ParsePostmark reads a Postmark bounce or spam-complaint webhook post;
// no event for the other record types and bounce types. Postmark signs
// nothing: the caller checks the secret the post carries (SecretEqual).
func ParsePostmark(body []byte) ([]Event, error) {
	var p postmarkPost
	if err := json.Unmarshal(body, &p); err != nil {
		return nil, fmt.Errorf("%w: Postmark post: %v", ErrMalformed, err)
	}
	if p.RecordType == "" {
		return nil, fmt.Errorf("%w: Postmark post without RecordType", ErrMalformed)
	}
	if p.RecordType != "Bounce" && p.RecordType != "SpamComplaint" {
		return nil, nil // Delivery, Open, Click, SubscriptionChange
	}
	if _, err := strconv.ParseInt(p.ID.String(), 10, 64); err != nil {
		return nil, fmt.Errorf("%w: Postmark %s without a numeric ID", ErrMalformed, p.RecordType)
	}
	kind, ok := postmarkKinds[p.Type]
	if p.RecordType == "SpamComplaint" {
		kind, ok = bounce.Complaint, true
	}
	if !ok {
		return nil, nil
	}
	action, text := "failed", p.Details
	if text == "" {
		text = p.Description
	}
	if kind == bounce.Complaint {
		action, text = "complained", "marked as spam"
	}
	at, _ := time.Parse(time.RFC3339Nano, p.BouncedAt)
	rc := recipient(p.Email, kind, action, "", text)
	return []Event{{Provider: "postmark", ID: p.ID.String(), At: at, Report: report("postmark", kind, "", nil, rc)}}, nil
}
