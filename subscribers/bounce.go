package subscribers

import (
	"context"
	"fmt"
	"time"
)

// BounceKind is what a bounce or a provider's event says of an address.
// The values are digest/bounce's Kind spelled the same, so a caller
// converts one to the other.
type BounceKind string

const (
	// HardBounce: the address does not work (5.x.x: no such user or
	// domain): the reader is marked bounced at once.
	HardBounce BounceKind = "hard"
	// SoftBounce: a failure that may pass (mailbox full, greylisting, a
	// 4.x.x the relay gave up on): bounced after SoftLimit issues in a row.
	SoftBounce BounceKind = "soft"
	// Complaint: the reader marked the digest as spam: unsubscribed at
	// once, and the reason says it was a complaint.
	Complaint BounceKind = "complaint"
	// DelayedBounce: the relay is still trying; nothing changes.
	DelayedBounce BounceKind = "delayed"
)

// DefaultSoftLimit is bounces.soft_limit's default.
const DefaultSoftLimit = 3

// Bounce is one failed or complained recipient of one report, from the
// bounce mailbox or a provider's webhook, as RecordBounce takes it.
//
// The reader is found, most certain first, by SubscriberID (a verified
// mail.return_path token: set IssueID from it too), by MessageID (the
// original message's, which the send ledger keeps per issue and reader),
// else by Email (the failed recipient). A caller gives what it has.
type Bounce struct {
	SubscriberID int64
	MessageID    string
	Email        string

	Kind   BounceKind
	Status string // the enhanced status code ("5.1.1"), "" when none
	Reason string // one line for a person
	// IssueID is the issue whose copy bounced, "" when not known (the
	// store then takes the latest issue sent to the reader).
	IssueID string
	// Source and EventID make the report's key: the same (Source,
	// EventID) for the same reader is recorded once, so a report handled
	// twice (a crash before the mailbox was marked, a provider's retry)
	// changes nothing. Source is "mailbox" or a provider's name; EventID
	// the bounce message's Message-ID or the provider's event id.
	Source, EventID string
	// At is when the bounce happened (the report's date, else now). The
	// store holds it between the copy's send and Received: a report's own
	// Date is the sender's word.
	At time.Time
	// Received is when gull got the report (now when zero): the end of
	// what At may say, and the clock of the policy's windows.
	Received time.Time
	// SoftLimit is bounces.soft_limit: soft bounces of this many issues
	// in a row mark the reader bounced; 0 is DefaultSoftLimit.
	SoftLimit int
	// DryRun: decide everything, change nothing (bounces check --dry-run).
	DryRun bool
}

// BounceEffect is what a recorded bounce did to the reader.
type BounceEffect string

const (
	// EffectBounced: the reader was marked bounced now.
	EffectBounced BounceEffect = "bounced"
	// EffectUnsubscribed: a complaint unsubscribed the reader now.
	EffectUnsubscribed BounceEffect = "unsubscribed"
	// EffectCounted: a soft bounce counted (BounceOutcome.SoftCount of
	// SoftLimit), the reader still gets the digest.
	EffectCounted BounceEffect = "counted"
	// EffectNone: recorded, nothing changed (the reader was already
	// bounced or unsubscribed, or the report only says delayed).
	EffectNone BounceEffect = "none"
	// EffectDuplicate: this report was recorded before; nothing changed.
	EffectDuplicate BounceEffect = "duplicate"
	// EffectNoReader: nobody on the list matches; nothing recorded.
	EffectNoReader BounceEffect = "no reader"
	// EffectNotSent: the reader it names was sent no copy it can be about
	// (not the issue it names, none in the last 30 days): nothing
	// recorded, nothing changed. A forged report looks like that.
	EffectNotSent BounceEffect = "not sent"
	// EffectStale: the copy that bounced was sent before the reader last
	// confirmed their address: recorded, nothing changed.
	EffectStale BounceEffect = "stale"
)

// Matched reports whether the report was about a reader gull mailed:
// false when nobody on the list, or no copy sent, matches it (nothing
// was recorded, and nothing is counted).
func (o BounceOutcome) Matched() bool {
	return o.Effect != EffectNoReader && o.Effect != EffectNotSent
}

// Counted reports whether the report is new against a reader (not a
// duplicate): what /metrics counts.
func (o BounceOutcome) Counted() bool { return o.Matched() && o.Effect != EffectDuplicate }

// BounceOutcome is what RecordBounce did.
type BounceOutcome struct {
	Effect BounceEffect
	// Subscriber is the reader as they are after it (zero for
	// EffectNoReader); MatchedBy says how they were found: "id",
	// "message-id" or "address".
	Subscriber Subscriber
	MatchedBy  string
	// IssueID is the issue the bounce was counted against.
	IssueID string
	// SoftCount is the reader's soft bounces in a row, this one included,
	// for a soft bounce; SoftLimit the limit applied.
	SoftCount, SoftLimit int
}

// Describe says what the outcome did, for the operator.
func (o BounceOutcome) Describe() string {
	switch o.Effect {
	case EffectBounced:
		return "marked bounced"
	case EffectUnsubscribed:
		return "unsubscribed (complaint)"
	case EffectCounted:
		return fmt.Sprintf("soft bounce %d of %d in a row; still active", o.SoftCount, o.SoftLimit)
	case EffectNone:
		if o.Subscriber.Status == Active {
			return "recorded; nothing to change"
		}
		return "recorded; already " + string(o.Subscriber.Status)
	case EffectDuplicate:
		return "recorded before; nothing changed"
	case EffectNoReader:
		return "nobody on the list; nothing changed"
	case EffectNotSent:
		return "no copy was sent to them that can have bounced; nothing changed"
	case EffectStale:
		return "the copy was sent before they last confirmed; nothing changed"
	}
	return string(o.Effect)
}

// BounceRecorder records bounces and complaints and applies the policy
// (digest/store implements it; the bounce mailbox and the providers'
// webhooks call it).
type BounceRecorder interface {
	RecordBounce(ctx context.Context, b Bounce) (BounceOutcome, error)
}

// Limit is b's soft limit, the default when unset.
func (b Bounce) Limit() int {
	if b.SoftLimit <= 0 {
		return DefaultSoftLimit
	}
	return b.SoftLimit
}

// Describe is the bounce's kind, status and reason for a person:
// "hard bounce (5.1.1 User unknown)".
func (b Bounce) Describe() string {
	what := string(b.Kind) + " bounce"
	if b.Kind == Complaint {
		what = "complaint"
	}
	detail := b.Reason
	if b.Status != "" {
		detail = b.Status + " " + detail
	}
	if detail == "" {
		return what
	}
	return what + " (" + detail + ")"
}

// ApplyBounce is the policy, a pure function: what the bounce b does to
// s, given softCount, the soft bounces in a row with this one (for a
// soft bounce). A hard bounce marks an active or pending reader bounced;
// a complaint unsubscribes anyone not yet unsubscribed (a bounced reader
// who complains is unsubscribed too: they said no); soft bounces mark an
// active reader bounced at the limit. A reader already bounced or
// unsubscribed is left as they are, so the reason and date stay the
// first ones.
func ApplyBounce(s Subscriber, b Bounce, softCount int) (Subscriber, BounceEffect) {
	at := b.At
	switch b.Kind {
	case HardBounce:
		if s.Status == Active || s.Status == Pending {
			s.markBounced(b.Describe(), at)
			return s, EffectBounced
		}
	case SoftBounce:
		if s.Status != Active {
			return s, EffectNone
		}
		if softCount >= b.Limit() {
			s.markBounced(fmt.Sprintf("%d soft bounces in a row; the last: %s", softCount, b.Describe()), at)
			return s, EffectBounced
		}
		return s, EffectCounted
	case Complaint:
		if s.Status != Unsubscribed {
			s.SetStatus(Unsubscribed, at)
			s.Reason = b.Describe()
			return s, EffectUnsubscribed
		}
	}
	return s, EffectNone
}

func (s *Subscriber) markBounced(reason string, at time.Time) {
	s.SetStatus(Bounced, at)
	s.Reason = reason
}
