package bouncebox

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"time"

	"gull/digest/bounce"
	"gull/subscribers"
)

// Source is the bounces' source in the store: what came by mail.
const Source = "mailbox"

// Options is what a check needs beside the mailbox.
type Options struct {
	Recorder subscribers.BounceRecorder
	// Signer and ReturnPath verify the mail.return_path token (the
	// surest match); a zero ReturnPath (unset) skips it.
	Signer     *subscribers.Signer
	ReturnPath subscribers.ReturnPath
	SoftLimit  int
	// DryRun records nothing and marks nothing: it says what a check
	// would do.
	DryRun bool
	// Remember, when set, keeps the messages left alone from one check
	// to the next (the daemon's), so they are read once.
	Remember *Remembered
	// Now is when the check runs: the time of a bounce whose Date is
	// missing or unreadable.
	Now time.Time
}

// Line is one reader of one handled message, for the operator.
type Line struct {
	Message string // the mailbox's name of the message
	Reader  string // the reader's address, "" when nobody on the list matched
	Bounce  subscribers.Bounce
	Outcome subscribers.BounceOutcome
}

// String is the line `gull bounces check` prints: the message, the
// reader, the kind with its status and reason, and what it did.
func (l Line) String() string {
	who := l.Reader
	if who == "" {
		who = "(no reader on the list: " + orDash(l.Bounce.Email) + ")"
	}
	return fmt.Sprintf("%s: %s: %s: %s", l.Message, who, l.Bounce.Describe(), l.Outcome.Describe())
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// Result is what a check did.
type Result struct {
	Handled []Line
	// Messages is how many messages were handled (a report may name
	// several readers: a Line each).
	Messages int
	// Left counts the messages left alone, by why: "not a bounce",
	// "unreadable", "too large", "unmatched" (a bounce of nobody gull
	// mailed, or without the return path's token when mail.return_path is
	// set), "failed" (an error; tried again next time).
	Left map[string]int
	// Errs are the messages that failed, each with its error.
	Errs []error
}

// LeftTotal is how many messages the check left alone.
func (r Result) LeftTotal() int {
	n := 0
	for _, v := range r.Left {
		n += v
	}
	return n
}

// Check reads every message of box not yet handled, once, and records
// each bounce and complaint with o.Recorder. A message is marked handled
// once what it says is recorded against a reader; anything else (a
// report that names nobody gull mailed included) stays as it was. What
// was handled before an error is in the Result returned with it. An error reading the
// mailbox stops the check; an error with one message is kept in
// Result.Errs and the check goes on.
func Check(ctx context.Context, box Mailbox, o Options) (Result, error) {
	res := Result{Left: map[string]int{}}
	msgs, err := box.Unhandled(ctx)
	if err != nil {
		return res, err
	}
	for _, m := range msgs {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		if why, ok := o.Remember.get(m); ok {
			res.Left[why]++
			continue
		}
		raw, err := box.Read(ctx, m)
		if err != nil {
			return res, err
		}
		lines, why, err := handle(ctx, m.Name, raw, o)
		switch {
		case err != nil:
			res.Left["failed"]++
			res.Errs = append(res.Errs, fmt.Errorf("%s: %w", m.Name, err))
			continue
		case why != "":
			res.Left[why]++
			o.Remember.put(m, why)
			continue
		}
		if !o.DryRun {
			if err := box.MarkHandled(ctx, m); err != nil {
				// Recorded, not marked: the next check finds it again and
				// the store says it was recorded already.
				res.Errs = append(res.Errs, err)
			}
		}
		res.Messages++
		res.Handled = append(res.Handled, lines...)
	}
	return res, nil
}

// handle reads one message: the lines it recorded, or why it was left.
func handle(ctx context.Context, name string, raw []byte, o Options) ([]Line, string, error) {
	rep, err := bounce.Parse(raw)
	switch {
	case errors.Is(err, bounce.ErrNotBounce):
		return nil, "not a bounce", nil
	case errors.Is(err, bounce.ErrUnreadable):
		return nil, "unreadable", nil
	case errors.Is(err, bounce.ErrTooLarge):
		return nil, "too large", nil
	case err != nil:
		return nil, "unreadable", nil
	}
	eventID, at := identity(raw, o.Now)
	lines, err := Record(ctx, rep, Source, eventID, at, o)
	if err == nil && len(lines) == 0 {
		// Nobody it can be about (no verified token, no Message-ID of the
		// ledger, no address of a reader sent a copy lately): left unread
		// for a person, and nothing changed.
		return nil, Unmatched, nil
	}
	for i := range lines {
		lines[i].Message = name
	}
	return lines, "", err
}

// Unmatched is why a check leaves alone a bounce that names no reader
// gull mailed (Result.Left).
const Unmatched = "unmatched"

// Record acts on one report of source (a mailbox, a provider's webhook)
// keyed by its eventID (recording it twice changes nothing): it finds the
// reader and records it through o.Recorder with o's soft limit. The store
// changes a reader only for a copy its ledger sent them.
//
// Anyone can mail the bounce mailbox, so what a message of it may claim
// is limited (a provider's webhook is signed, and keeps matching by
// address): with mail.return_path set, only its verified token names a
// reader (a report without one is left unmatched); without it, a
// complaint needs the original Message-ID the ledger keeps, and a report
// changes at most one reader (its Message-ID's, else the first failed
// address on the list). Lines are only for the readers matched.
func Record(ctx context.Context, rep bounce.Report, source, eventID string, at time.Time, o Options) ([]Line, error) {
	base := subscribers.Bounce{MessageID: rep.MessageID, Source: source, EventID: eventID, At: at, Received: o.Now,
		SoftLimit: o.SoftLimit, DryRun: o.DryRun}
	token := false
	if !o.ReturnPath.IsZero() && o.Signer != nil {
		if c, ok := rep.Token(o.ReturnPath, o.Signer); ok {
			base.SubscriberID, base.IssueID, token = c.Subscriber, c.Issue, true
		}
	}
	mailbox := source == Source
	rcpts := rep.Recipients
	switch {
	case mailbox && !token && !o.ReturnPath.IsZero():
		return nil, nil
	case token || base.MessageID != "" || len(rcpts) == 0:
		// The token or the Message-ID names the one reader the message
		// went to (gull mails one reader a message); several recipients
		// are what an alias expanded it to. The report's worst one says
		// what happened.
		rcpts = []bounce.Recipient{worst(rep)}
	}
	var lines []Line
	for _, rc := range rcpts {
		b := base
		b.Email = rc.Original
		if b.Email == "" {
			b.Email = rc.Address
		}
		b.Kind, b.Status, b.Reason = subscribers.BounceKind(rc.Kind), rc.Status, rc.Reason
		if mailbox && !token && b.Kind == subscribers.Complaint {
			// A complaint unsubscribes: an address in a mail anyone can
			// write is not enough, the ledger's Message-ID is.
			b.Email = ""
		}
		if b.SubscriberID == 0 && b.MessageID == "" && b.Email == "" {
			continue
		}
		out, err := o.Recorder.RecordBounce(ctx, b)
		if err != nil {
			return nil, err
		}
		if out.Matched() {
			return append(lines, Line{Reader: out.Subscriber.Email, Bounce: b, Outcome: out}), nil
		}
	}
	return lines, nil
}

// worst is the report's recipient of its kind (the most serious), or
// one of that kind naming nobody.
func worst(rep bounce.Report) bounce.Recipient {
	for _, rc := range rep.Recipients {
		if rc.Kind == rep.Kind {
			return rc
		}
	}
	return bounce.Recipient{Kind: rep.Kind}
}

// identity is the report's key and time: its own Message-ID (a relay
// gives each bounce one), else a hash of its bytes; its Date, else now.
func identity(raw []byte, now time.Time) (string, time.Time) {
	if now.IsZero() {
		now = time.Now()
	}
	id, at := "", now
	if m, err := mail.ReadMessage(bytes.NewReader(raw)); err == nil {
		id = strings.TrimSpace(m.Header.Get("Message-Id"))
		if t, err := m.Header.Date(); err == nil && !t.After(now.Add(time.Hour)) {
			at = t
		}
	}
	if id == "" || len(id) > 250 {
		sum := sha256.Sum256(raw)
		id = "sha256:" + hex.EncodeToString(sum[:])
	}
	return id, at
}
