// Package bounce reads the mail that comes back to the return path:
// delivery status notifications (RFC 3464), complaints through a
// provider's feedback loop (ARF, RFC 5965) and the plain-text bounces of
// the MTAs and mail services that send neither (Postfix, qmail, Exim,
// Exchange, Gmail, Yahoo, Naver, Daum/Kakao, SES), and the Maildir they
// arrive in. It says who bounced, how and why; matching that to a reader
// and acting on it is the caller's (the store's policy, the daemon).
//
// Parse never guesses a reader from an unrelated message: what is not a
// bounce or a complaint is ErrNotBounce, and a caller leaves it where it
// was.
//
// Matching a report to a reader, most certain first: Report.Token (the
// mail.return_path token names the subscriber id and the issue, signed),
// else Report.MessageID (deliver.MessageID is one per issue and reader,
// and the send ledger keeps it), else each Recipient.Original or Address (spelled as
// the list spells addresses, subscribers.NormalizeEmail). A recipient
// with no address (a complaint whose provider removed it, a bounce that
// names nobody) can only be matched the first two ways. A caller that
// keeps a report should keep the message's own Message-ID or file name
// to be idempotent, and the kind, status, reason and issue per reader.
package bounce

import (
	"errors"
	"strings"

	"gull/subscribers"
)

// Kind is what a bounce means for the reader's address.
type Kind string

const (
	// Hard is a permanent failure of the address itself (5.1.x: no such
	// user, no such domain; 5.2.1 mailbox disabled; 5.4.4; see
	// classify): stop mailing it now.
	Hard Kind = "hard"
	// Soft is a failure that may pass or is not the address's: a 4.x.x
	// the relay gave up on, greylisting, a full mailbox (5.2.2 too), a
	// message refused for its content, a policy or the sender's
	// reputation (5.7.x, spam or block list words whatever the code),
	// which says nothing about whether the address works.
	Soft Kind = "soft"
	// Complaint is a reader who marked the digest as spam (ARF).
	Complaint Kind = "complaint"
	// Delayed is a warning that the relay is still trying (Action:
	// delayed): not a failure, and a caller counts nothing for it.
	Delayed Kind = "delayed"
)

// rank orders kinds from the least to the most serious, for a report's
// overall kind.
func (k Kind) rank() int {
	switch k {
	case Delayed:
		return 1
	case Soft:
		return 2
	case Hard:
		return 3
	case Complaint:
		return 4
	}
	return 0
}

// Report is what one bounce or complaint says.
type Report struct {
	// Kind is the most serious of the recipients' kinds.
	Kind Kind
	// Format is how the message was read: "dsn", "arf" or "text" (an
	// MTA's own wording).
	Format string
	// Recipients are the addresses that failed or complained, each once.
	// A complaint whose provider removed the address has none: match it
	// by ReturnPaths or MessageID.
	Recipients []Recipient
	// MessageID is the original message's Message-ID as deliver sent it
	// ("<gull.issue....@example.org>"), "" when the bounce quotes none.
	MessageID string
	// ReturnPaths are the addresses the bounce was sent to or that name
	// the original's envelope sender (To, Delivered-To, X-Original-To,
	// X-Postfix-Sender, ARF's Original-Mail-From, a quoted Return-Path):
	// where a mail.return_path token is found. See Token.
	ReturnPaths []string
	// Subject is the bounce's own subject, decoded, one line.
	Subject string
}

// Recipient is one failed address of a report.
type Recipient struct {
	// Address is the recipient the relay tried (Final-Recipient, or the
	// address an MTA names), normalized like the list's addresses when
	// it can be; Original is Original-Recipient when the DSN gives one:
	// the address gull gave in RCPT TO, which differs from Address when
	// the receiving side forwarded or expanded it (match a reader by
	// Original first).
	Address  string
	Original string
	Kind     Kind
	// Status is the enhanced status code (RFC 3463) such as "5.1.1";
	// when the bounce gives only an SMTP reply code (554) it is the
	// class with ".0.0"; "" when it gives neither.
	Status string
	// Action is the DSN's ("failed", "delayed"), or "failed" for a
	// plain-text bounce and "complained" for a complaint.
	Action string
	// Reason is one line of at most MaxReason bytes for a person: the
	// remote server's words when given, else the status's meaning.
	Reason string
}

// Errors of Parse. A caller leaves a message that gets any of them where
// it is; none of them means the message was a bounce.
var (
	// ErrNotBounce: an auto-reply, a newsletter, a reader's own mail, a
	// success notice: nothing to act on.
	ErrNotBounce = errors.New("bounce: not a bounce or a complaint")
	// ErrUnreadable: it comes from a mailer daemon but says neither who
	// failed nor why (and carries no return-path token or Message-ID).
	ErrUnreadable = errors.New("bounce: looks like a bounce but names no recipient or reason")
	// ErrTooLarge: more than MaxSize bytes.
	ErrTooLarge = errors.New("bounce: message too large")
)

// Limits on what Parse reads, so a hostile message costs little: a
// bounce quotes one digest (tens of KB) at most, and real reports nest
// two or three levels.
const (
	MaxSize   = 4 << 20
	maxDepth  = 6
	maxParts  = 64
	MaxReason = 200
	// maxRecipients: a digest goes to one reader per message; a report
	// naming more is an expanded alias or junk.
	maxRecipients = 100
	maxAddress    = 254 // RFC 5321's path limit, less the brackets
)

// Token returns the claims of the first return path in r that is rp with
// a token s signed, so a bounce that quotes nothing of the message still
// names the reader and the issue.
func (r Report) Token(rp subscribers.ReturnPath, s *subscribers.Signer) (subscribers.ReturnClaims, bool) {
	for _, a := range r.ReturnPaths {
		if tok := rp.Token(a); tok != "" {
			if c, err := s.VerifyReturnToken(tok); err == nil {
				return c, true
			}
		}
	}
	return subscribers.ReturnClaims{}, false
}

// oneLine makes s one line of single spaces, at most n bytes, cut only
// between UTF-8 sequences (and between words when one is near).
func oneLine(s string, n int) string {
	s = strings.Join(strings.Fields(strings.ToValidUTF8(s, "\uFFFD")), " ")
	if len(s) <= n {
		return s
	}
	const ellipsis = "…"
	cut := n - len(ellipsis)
	for cut > 0 && !startsRune(s[cut]) {
		cut--
	}
	if sp := strings.LastIndexByte(s[:cut], ' '); sp > cut*3/4 {
		cut = sp
	}
	return strings.TrimRight(s[:cut], " ") + ellipsis
}

func startsRune(b byte) bool { return b&0xC0 != 0x80 }
