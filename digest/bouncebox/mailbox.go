// Package bouncebox reads the bounce mailbox (config bounces: an IMAP
// folder, or a Maildir a local MTA delivers the return path into) and
// hands each bounce and complaint in it to the store's policy
// (subscribers.BounceRecorder): Check reads every message not yet
// handled, parses it (digest/bounce), finds whose copy it was (the
// return path's signed token first) and marks what it handled: moved to
// cur/ with the S flag in a Maildir, flagged \Seen and $GullHandled in
// IMAP (or moved to HandledFolder where the server keeps no keyword).
// Mail it does not understand is left exactly as it was, and nothing is
// ever deleted.
package bouncebox

import (
	"context"
	"errors"
	"sync"

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
	// key names the message for Remembered: the Maildir file, or the
	// folder's UIDVALIDITY and the UID (a UID is only unique with it).
	key string
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
		out[i] = Message{Name: e.Name, entry: e, key: e.Name}
	}
	return out, nil
}

func (m maildir) Read(ctx context.Context, msg Message) ([]byte, error) { return m.md.Read(msg.entry) }

func (m maildir) MarkHandled(ctx context.Context, msg Message) error {
	return m.md.MarkHandled(msg.entry)
}

func (maildir) Close() error { return nil }

// Remembered keeps, for the life of one process (the daemon), the
// messages a check left alone and why, so its next checks, every few
// minutes, do not fetch and parse them again: they are never marked (a
// person finds them as they came), so nothing in the mailbox says so.
type Remembered struct {
	mu  sync.Mutex
	why map[string]string
}

// NewRemembered is an empty memory.
func NewRemembered() *Remembered { return &Remembered{why: map[string]string{}} }

func (r *Remembered) get(m Message) (string, bool) {
	if r == nil || m.key == "" {
		return "", false
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	why, ok := r.why[m.key]
	return why, ok
}

func (r *Remembered) put(m Message, why string) {
	if r == nil || m.key == "" {
		return
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.why[m.key] = why
}

// errNotOurs is a Message from another mailbox.
var errNotOurs = errors.New("bouncebox: message of another mailbox")
