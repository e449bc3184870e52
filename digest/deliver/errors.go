package deliver

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/textproto"
	"regexp"
	"strings"
	"syscall"
)

// Stages of one delivery, for Error.Stage.
const (
	// StageConnect is dial, greeting, EHLO, STARTTLS and AUTH: a failure
	// there says nothing about the message, so it is never Permanent.
	StageConnect = "connect"
	StageMail    = "mail" // MAIL FROM
	StageRcpt    = "rcpt" // RCPT TO
	StageData    = "data" // DATA, the body, and the reply to its end
	StageWrite   = "write"
)

var (
	// ErrClosed is the cause when Send is called after Close.
	ErrClosed = errors.New("deliver: transport is closed")
	// ErrInvalidEnvelope is the cause when an Outgoing can never be sent
	// as it is (no recipient, a line break in an address, no body).
	ErrInvalidEnvelope = errors.New("deliver: invalid message")
	// errSetup marks connection problems that retrying cannot fix: the
	// configuration or the server's setup must change first.
	errSetup = errors.New("deliver: mail.smtp setup")
)

// Error is what Send returns on failure. Decide with its methods: a
// BadAddress error bounces the subscriber, a Permanent one fails the
// message, anything else leaves it pending for the next run.
type Error struct {
	Code     int    // SMTP reply code, 0 for network errors and timeouts
	Enhanced string // "5.1.1" when the server gave one
	Reply    string // the server's text, one line, no CR/LF
	Attempts int    // transactions tried (0 when none started)
	// Stage is where it failed: StageConnect, StageMail, StageRcpt,
	// StageData, StageWrite for the outbox, or "" for a message that was
	// never tried (ErrInvalidEnvelope).
	Stage string
	Err   error

	conn uint64 // the connection it happened on, so a retry can avoid it
	// inDoubt: the whole message went out but no answer came back.
	inDoubt bool
}

func (e *Error) Error() string {
	var b strings.Builder
	switch {
	case e.Err != nil && (e.Stage == StageConnect || e.Stage == StageWrite || e.Stage == ""):
		// Connecting, the outbox, a message that cannot be sent: the
		// cause says it all, with the config key to check.
		b.WriteString(e.Err.Error())
	case e.Code != 0:
		fmt.Fprintf(&b, "deliver: smtp %s refused: %d %s", stageCommand(e.Stage), e.Code, e.Reply)
	case e.Err != nil:
		fmt.Fprintf(&b, "deliver: smtp %s: %v", stageCommand(e.Stage), e.Err)
	default:
		fmt.Fprintf(&b, "deliver: smtp %s failed", stageCommand(e.Stage))
	}
	if e.Attempts > 1 {
		fmt.Fprintf(&b, " (after %d attempts)", e.Attempts)
	}
	if e.inDoubt {
		b.WriteString("; the message went out in full but no answer came, so the server may have it")
	}
	return b.String()
}

// InDoubt reports that the whole message went out but the server's answer
// never came (a dropped connection, a timeout): it may have the message.
// Send does not try again at once, since that could deliver a second copy;
// it is Temporary, and left to the next run like a message in flight when
// a send died.
func (e *Error) InDoubt() bool { return e.inDoubt }

func (e *Error) Unwrap() error { return e.Err }

// Temporary reports a failure worth retrying later: a 4xx reply, a dropped
// connection, a timeout, EOF, or a send cut short by the context before
// the message went out.
func (e *Error) Temporary() bool {
	if e.Code != 0 {
		return e.Code/100 == 4
	}
	return transient(e.Err)
}

// Permanent reports that the server refused this message for good (5xx on
// RCPT or DATA), or that it can never be sent as it is. A 5xx while
// connecting (say, AUTH refused) or to MAIL FROM (the sender: a relay
// that wants a login, SPF, a sender domain it does not accept) is not
// Permanent: it is the same for every reader, the message is fine, and it
// must stay pending until the configuration is fixed.
func (e *Error) Permanent() bool {
	if e.Code/100 == 5 {
		return e.Stage != StageConnect && e.Stage != StageMail
	}
	return errors.Is(e.Err, ErrInvalidEnvelope)
}

// BadAddress reports that the recipient's mailbox or address is bad
// (enhanced status 5.1.x, RFC 3463): mark the subscriber bounced. 5.1.7
// and 5.1.8 are about the sender, and a refusal of MAIL FROM never blames
// the recipient.
func (e *Error) BadAddress() bool {
	if !e.Permanent() || e.Code == 0 || e.Stage == StageMail {
		return false
	}
	return strings.HasPrefix(e.Enhanced, "5.1.") && e.Enhanced != "5.1.7" && e.Enhanced != "5.1.8"
}

func stageCommand(stage string) string {
	switch stage {
	case StageMail:
		return "MAIL FROM"
	case StageRcpt:
		return "RCPT TO"
	case StageData:
		return "DATA"
	case StageWrite:
		return "outbox"
	}
	return stage
}

// transient decides for errors that carry no reply code.
func transient(err error) bool {
	if err == nil {
		return false
	}
	var (
		certErr  *tls.CertificateVerificationError
		unknown  x509.UnknownAuthorityError
		hostErr  x509.HostnameError
		invalid  x509.CertificateInvalidError
		alert    tls.AlertError
		recHdr   tls.RecordHeaderError
		protoErr textproto.ProtocolError
		netErr   net.Error
	)
	switch {
	case errors.Is(err, ErrClosed), errors.Is(err, ErrInvalidEnvelope), errors.Is(err, errSetup):
		return false
	case errors.As(err, &certErr), errors.As(err, &unknown), errors.As(err, &hostErr),
		errors.As(err, &invalid), errors.As(err, &alert), errors.As(err, &recHdr):
		// TLS trust and protocol mismatches fail the same way every time.
		return false
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return true // cut short before the message went out
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE), errors.Is(err, syscall.ECONNREFUSED),
		errors.Is(err, syscall.ECONNABORTED), errors.Is(err, syscall.ETIMEDOUT):
		return true
	case errors.As(err, &protoErr), errors.As(err, &netErr):
		// A garbled reply or any socket-level error: the connection is
		// suspect, a fresh one may well work.
		return true
	}
	return false
}

// networkLevel reports whether err leaves the connection unusable, so it
// must be closed rather than reset: anything that is not an SMTP reply,
// and 421, with which the server announces it is closing.
func networkLevel(err error) bool {
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		return tpe.Code == 421
	}
	return err != nil
}

var enhancedRE = regexp.MustCompile(`^([245])\.(\d{1,3})\.(\d{1,3})(?:\s|$)`)

// smtpError builds the *Error for a failure at stage.
func smtpError(stage string, err error) *Error {
	e := &Error{Stage: stage, Err: err}
	var tpe *textproto.Error
	if errors.As(err, &tpe) {
		e.Code = tpe.Code
		e.Reply = oneLine(tpe.Msg)
		// In a multi-line reply the code may sit on any line (go-smtp
		// puts it on the last); the first one whose class matches wins.
		for line := range strings.SplitSeq(tpe.Msg, "\n") {
			m := enhancedRE.FindStringSubmatch(strings.TrimSpace(line))
			if m != nil && m[1][0] == byte('0'+e.Code/100) {
				e.Enhanced = m[1] + "." + m[2] + "." + m[3]
				break
			}
		}
	}
	return e
}

// oneLine joins a multi-line reply and drops control characters, so a
// hostile server cannot forge lines in our logs.
func oneLine(s string) string {
	s = strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == '\t' {
			return ' '
		}
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, s)
	s = strings.Join(strings.Fields(s), " ")
	const maxReply = 512
	if len(s) > maxReply {
		cut := maxReply
		for cut > 0 && s[cut]&0xC0 == 0x80 {
			cut-- // do not split a UTF-8 sequence
		}
		s = s[:cut] + "…"
	}
	return s
}
