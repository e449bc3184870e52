// Package bouncebox reads the bounce mailbox (config bounces: an IMAP
// folder, or a Maildir a local MTA delivers the return path into) and
// hands each bounce and complaint in it to the store's policy
// (subscribers.BounceRecorder): Check reads every message not yet
// handled, parses it (digest/bounce), finds whose copy it was (the
// return path's signed token first) and marks what it handled: moved to
// cur/ with the S flag in a Maildir, flagged \Seen and $GullHandled in
// IMAP. Mail it does not understand is left exactly as it was, and
// nothing is ever deleted.
package bouncebox

import (
	"context"
	"errors"

	"gull/digest/bounce"
)

// Message is one message of a mailbox, named for the operator.
type Message struct {
	// Name is the Maildir file ("new/1733...") or the IMAP UID ("uid 42").
	Name string
	// Size is its size in bytes when the mailbox says it before reading
	// (IMAP), else 0.
	Size int64

	entry bounce.Entry
	uid   uint32
}

// Mailbox is where bounces arrive.
type Mailbox interface {
	// Unhandled lists the messages not marked handled, oldest first.
	Unhandled(ctx context.Context) ([]Message, error)
	// Read returns a message's bytes, at most bounce.MaxSize+1 of them.
	Read(ctx context.Context, m Message) ([]byte, error)
	// MarkHandled marks a message so no later check reads it again.
	MarkHandled(ctx context.Context, m Message) error
	// Close ends the session.
	Close() error
}

// maildir is bounce.Maildir as a Mailbox.
type maildir struct{ md *bounce.Maildir }

// OpenMaildir opens the Maildir at dir (bounces.maildir).
func OpenMaildir(dir string) (Mailbox, error) {
	md, err := bounce.OpenMaildir(dir)
	if err != nil {
		return nil, err
	}
	return maildir{md}, nil
}

func (m maildir) Unhandled(ctx context.Context) ([]Message, error) {
	es, err := m.md.Unhandled()
	if err != nil {
		return nil, err
	}
	out := make([]Message, len(es))
	for i, e := range es {
		out[i] = Message{Name: e.Name, entry: e}
	}
	return out, nil
}

func (m maildir) Read(ctx context.Context, msg Message) ([]byte, error) { return m.md.Read(msg.entry) }

func (m maildir) MarkHandled(ctx context.Context, msg Message) error {
	return m.md.MarkHandled(msg.entry)
}

func (maildir) Close() error { return nil }

// errNotOurs is a Message from another mailbox.
var errNotOurs = errors.New("bouncebox: message of another mailbox")
