package deliver

import "context"

// Outgoing is one composed message ready for the wire.
type Outgoing struct {
	IssueID string // names the outbox file
	From    string // envelope sender, bare address
	To      string // bare address
	// MessageID is the Message-ID header's value, angle brackets
	// included, exactly as the message carries it.
	MessageID string
	Test      bool
	Body      []byte // the whole RFC 5322 message, CRLF line ends
}

// Transport delivers composed messages. Send is called from many
// goroutines at once.
type Transport interface {
	// Send returns nil when the server accepted the message (or the
	// outbox wrote it); otherwise an *Error.
	Send(ctx context.Context, m Outgoing) error
	// Close ends every connection politely (QUIT).
	Close() error
	// String describes the transport for the operator.
	String() string
}

var (
	_ Transport = (*SMTP)(nil)
	_ Transport = (*Outbox)(nil)
)
