package webhook

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"gull/digest/bounce"
)

// The headers of SendGrid's Signed Event Webhook.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// ParseSendGridKey reads the verification key SendGrid shows for a
// signed event webhook: base64 of a PKIX (DER) ECDSA P-256 public key,
// with or without PEM armour.
func ParseSendGridKey(s string) (*ecdsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	s = strings.TrimPrefix(s, "-----BEGIN PUBLIC KEY-----")
	s = strings.TrimSuffix(s, "-----END PUBLIC KEY-----")
	der, err := base64.StdEncoding.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		return nil, fmt.Errorf("not base64: %v", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("not a public key: %v", err)
	}
	ec, ok := k.(*ecdsa.PublicKey)
	if !ok || ec.Curve != elliptic.P256() {
		return nil, fmt.Errorf("not an ECDSA P-256 key")
	}
	return ec, nil
}

// VerifySendGrid checks a signed event webhook post: signature (base64
// of an ASN.1 ECDSA signature) over SHA-256 of timestamp followed by the
// body, exactly as received. Any failure is ErrSignature.
func VerifySendGrid(key *ecdsa.PublicKey, signature, timestamp string, body []byte) error {
	sig, err := base64.StdEncoding.DecodeString(signature)
	if err != nil || len(sig) == 0 || timestamp == "" || key == nil {
		return fmt.Errorf("%w: SendGrid signature or timestamp missing", ErrSignature)
	}
	h := sha256.New()
	h.Write([]byte(timestamp))
	h.Write(body)
	if !ecdsa.VerifyASN1(key, h.Sum(nil), sig) {
		return fmt.Errorf("%w: SendGrid signature does not match", ErrSignature)
	}
	return nil
}

type sendgridEvent struct {
	Email     string `json:"email"`
	Event     string `json:"event"`
	Timestamp int64  `json:"timestamp"`
	EventID   string `json:"sg_event_id"`
	SMTPID    string `json:"smtp-id"`
	Type      string `json:"type"`
	Reason    string `json:"reason"`
	Status    string `json:"status"`
	// Classification is SendGrid's reading of a bounce ("Invalid
	// Address", "Mailbox Unavailable", "Technical", "Content", ...).
	Classification string `json:"bounce_classification"`
}

// ParseSendGrid reads the events of a SendGrid post (a JSON list): a
// bounce is hard (SendGrid's type "blocked", and a bounce it classifies
// as not the address's fault, are soft), a drop for an address SendGrid
// knows bounced or is invalid is hard, one for a spam report a
// complaint, and a spam report a complaint. Other events (delivered,
// open, a drop for an unsubscribe...) are no events.
func ParseSendGrid(body []byte) ([]Event, error) {
	var list []sendgridEvent
	if err := json.Unmarshal(body, &list); err != nil {
		return nil, fmt.Errorf("%w: SendGrid post: %v", ErrMalformed, err)
	}
	if len(list) > maxEvents {
		return nil, fmt.Errorf("%w: SendGrid post of %d events", ErrMalformed, len(list))
	}
	var out []Event
	for _, e := range list {
		var kind bounce.Kind
		action, text := "failed", e.Reason
		switch e.Event {
		case "bounce":
			kind = bounce.Hard
			switch {
			case e.Type == "blocked":
				kind = bounce.Soft
			case e.Classification != "" && e.Classification != "Invalid Address" && e.Classification != "Unclassified":
				kind = bounce.Soft // Mailbox Unavailable, Technical, Content, Reputation, Frequency...
			default:
				if _, k, _ := bounce.Diagnose(e.Status, e.Reason); k == bounce.Soft {
					kind = bounce.Soft
				}
			}
		case "dropped":
			switch e.Reason {
			case "Bounced Address", "Invalid":
				kind = bounce.Hard
			case "Spam Reporting Address":
				kind, action = bounce.Complaint, "complained"
			default:
				continue // unsubscribed, a bad header, spam content: not the address
			}
			text = "dropped by SendGrid: " + e.Reason
		case "spamreport":
			kind, action, text = bounce.Complaint, "complained", "marked as spam"
		default:
			continue
		}
		if e.EventID == "" {
			return nil, fmt.Errorf("%w: SendGrid %s event without sg_event_id", ErrMalformed, e.Event)
		}
		status := e.Status
		if kind == bounce.Complaint {
			status = ""
		}
		var at time.Time
		if e.Timestamp > 0 {
			at = time.Unix(e.Timestamp, 0)
		}
		rc := recipient(e.Email, kind, action, status, text)
		out = append(out, Event{Provider: "sendgrid", ID: e.EventID, At: at,
			Report: report("sendgrid", kind, e.SMTPID, nil, rc)})
	}
	return out, nil
}
