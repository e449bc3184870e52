package digest

import (
	"errors"
	"time"
)

// IssueStatus is where an issue stands in the send.
type IssueStatus string

const (
	// IssueOpen: built and frozen; deliveries may be pending.
	IssueOpen IssueStatus = "open"
	// IssueQuiet: the week had no new articles and quiet_week is skip;
	// nothing was frozen, so a later run may still build it.
	IssueQuiet IssueStatus = "quiet"
	// IssueDone: every delivery reached an end (sent, failed or skipped).
	IssueDone IssueStatus = "done"
)

// IssueRecord is what the store knows about an issue besides its content.
type IssueRecord struct {
	ID    string
	Title string
	// Number is the issue's number (Issue.Number).
	Number   int
	Period   Period
	Status   IssueStatus
	Articles int
	Created  time.Time
	Done     time.Time // zero until done
	// Awaiting: an editor approved it and its send has not begun; it may
	// still be reopened and changed, so it is not published yet.
	Awaiting bool
}

// DeliveryStatus is one row of the send ledger: one issue to one reader.
type DeliveryStatus string

const (
	// DeliveryPending: not sent yet (new, or deferred after temporary
	// failures, or left when a send was stopped).
	DeliveryPending DeliveryStatus = "pending"
	// DeliverySending: claimed for an SMTP transaction that has not
	// reported back. Found at start, it means a send died mid-message:
	// the message may or may not have arrived, and it is sent again.
	DeliverySending DeliveryStatus = "sending"
	DeliverySent    DeliveryStatus = "sent"
	// DeliveryFailed: refused permanently; never retried.
	DeliveryFailed DeliveryStatus = "failed"
	// DeliverySkipped: nothing to send (none of the reader's themes had an
	// article) or the reader left before it was sent.
	DeliverySkipped DeliveryStatus = "skipped"
)

// Delivery is a pending row of the ledger with the reader it is for.
type Delivery struct {
	IssueID      string
	SubscriberID int64
	Email        string
	Name         string
	Themes       []string // empty = every theme
	// Language and Articles are the reader's (subscribers.Subscriber):
	// the mail's wording, and which articles by language ("" = defaults).
	Language string
	Articles string
	Status   DeliveryStatus
	Attempts int // SMTP transactions tried so far, over every run
	// Error is the last answer or reason recorded on the row.
	Error string
	// Bounced: the subscriber is marked bounced (the server said the
	// address does not exist).
	Bounced bool
}

// DeliveryUpdate moves a ledger row to Status.
type DeliveryUpdate struct {
	IssueID      string
	SubscriberID int64
	Status       DeliveryStatus
	// Attempt counts one more transaction (set on the claim).
	Attempt   bool
	MessageID string
	// Error is the server's answer or the reason for a skip; kept on the
	// row for the operator.
	Error string
	// Bounced marks the subscriber bounced as well: the server said the
	// address does not exist (5.1.x).
	Bounced bool
	At      time.Time
	// Owner is the sender whose claim the row is under ("" for none).
	// With an owner, the update applies only while that sender still
	// holds the row, except a sent mark, which always applies: another
	// sender that took the row over (ours lapsed) must not send it again.
	Owner string
	// Park: the owner is done with the row for this run (deferred, or in
	// doubt); it keeps the claim, so no other sender takes the row, or
	// waits for it, until the owner ends or its claim lapses.
	Park bool
	// ClaimFor extends the owner's claim by this much from now (the
	// store's clock) when the update is its claim (Attempt): the message
	// starts with a whole claim ahead. 0 leaves the claim's expiry as it is.
	ClaimFor time.Duration
}

// DeliveryCounts is how many rows of an issue are in each status.
type DeliveryCounts map[DeliveryStatus]int

// Left is what a later run would still try to send.
func (c DeliveryCounts) Left() int { return c[DeliveryPending] + c[DeliverySending] }

// Articles lists the issue's articles in order, each story's other
// coverage after its lead: all were mailed, so none comes again.
func (is Issue) Articles() []Article {
	var out []Article
	for _, s := range is.Sections {
		for _, a := range s.Articles {
			out = append(out, a)
			out = append(out, a.Also...)
		}
	}
	return out
}

// ErrNoIssue means the store has no issue of that id.
var ErrNoIssue = errors.New("no such issue")
