package webhook

import (
	"encoding/json"
	"fmt"
	"time"

	"gull/digest/bounce"
)

// sesMessage is the Message of an SES notification (identity
// notifications say notificationType, configuration sets' event
// publishing says eventType).
type sesMessage struct {
	NotificationType string `json:"notificationType"`
	EventType        string `json:"eventType"`
	Bounce           *struct {
		BounceType        string `json:"bounceType"`
		BounceSubType     string `json:"bounceSubType"`
		FeedbackID        string `json:"feedbackId"`
		Timestamp         string `json:"timestamp"`
		BouncedRecipients []struct {
			EmailAddress   string `json:"emailAddress"`
			Action         string `json:"action"`
			Status         string `json:"status"`
			DiagnosticCode string `json:"diagnosticCode"`
		} `json:"bouncedRecipients"`
	} `json:"bounce"`
	Complaint *struct {
		FeedbackID            string `json:"feedbackId"`
		Timestamp             string `json:"timestamp"`
		ComplaintFeedbackType string `json:"complaintFeedbackType"`
		ComplainedRecipients  []struct {
			EmailAddress string `json:"emailAddress"`
		} `json:"complainedRecipients"`
	} `json:"complaint"`
	Mail struct {
		Source        string `json:"source"`
		CommonHeaders struct {
			MessageID string `json:"messageId"`
		} `json:"commonHeaders"`
	} `json:"mail"`
}

// SESEvents reads the bounce or complaint an SES notification (the
// Message of a verified SNS Notification) reports: a Permanent bounce is
// hard, a Transient or Undetermined one soft, a complaint a complaint;
// each bounced recipient is one of the event's recipients. Other
// notifications (Delivery, Send, Open...) are no events. snsID is the
// SNS MessageId, the event's id when SES gives no feedbackId.
func SESEvents(message, snsID string) ([]Event, error) {
	var m sesMessage
	if err := json.Unmarshal([]byte(message), &m); err != nil {
		return nil, fmt.Errorf("%w: SES notification: %v", ErrMalformed, err)
	}
	kindOf := m.NotificationType
	if kindOf == "" {
		kindOf = m.EventType
	}
	// The envelope sender holds the mail.return_path token; the
	// Message-ID is deliver's (SES keeps the one it was given).
	returnPaths := []string{m.Mail.Source}
	messageID := m.Mail.CommonHeaders.MessageID
	switch kindOf {
	case "Bounce":
		b := m.Bounce
		if b == nil || len(b.BouncedRecipients) == 0 || len(b.BouncedRecipients) > maxEvents {
			return nil, fmt.Errorf("%w: SES bounce without bouncedRecipients", ErrMalformed)
		}
		kind := bounce.Soft
		if b.BounceType == "Permanent" {
			kind = bounce.Hard
		}
		var rcpts []bounce.Recipient
		for _, br := range b.BouncedRecipients {
			text := br.DiagnosticCode
			if text == "" {
				text = b.BounceType + " bounce (" + b.BounceSubType + ")"
			}
			rcpts = append(rcpts, recipient(br.EmailAddress, kind, "failed", br.Status, text))
		}
		return []Event{{Provider: "ses", ID: orID(b.FeedbackID, snsID), At: sesTime(b.Timestamp),
			Report: report("ses", kind, messageID, returnPaths, rcpts...)}}, nil
	case "Complaint":
		c := m.Complaint
		if c == nil || len(c.ComplainedRecipients) > maxEvents {
			return nil, fmt.Errorf("%w: SES complaint without complaint", ErrMalformed)
		}
		reason := "marked as spam"
		if c.ComplaintFeedbackType != "" {
			reason += " (" + c.ComplaintFeedbackType + ")"
		}
		var rcpts []bounce.Recipient
		for _, cr := range c.ComplainedRecipients {
			rcpts = append(rcpts, recipient(cr.EmailAddress, bounce.Complaint, "complained", "", reason))
		}
		if len(rcpts) == 0 {
			// Matched by the Message-ID or the return path.
			rcpts = []bounce.Recipient{{Kind: bounce.Complaint, Action: "complained", Reason: reason}}
		}
		return []Event{{Provider: "ses", ID: orID(c.FeedbackID, snsID), At: sesTime(c.Timestamp),
			Report: report("ses", bounce.Complaint, messageID, returnPaths, rcpts...)}}, nil
	case "":
		return nil, fmt.Errorf("%w: SES notification without notificationType", ErrMalformed)
	}
	return nil, nil // a delivery, an open...: nothing to act on
}

func orID(id, fallback string) string {
	if id != "" {
		return id
	}
	return fallback
}

func sesTime(s string) time.Time {
	t, _ := time.Parse(time.RFC3339, s)
	return t
}
