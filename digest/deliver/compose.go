// Package deliver turns rendered messages into MIME mail and hands them to
// an SMTP server or the outbox folder. It is the only package that imports
// go-mail.
package deliver

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"math/bits"
	"mime"
	"net/mail"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"

	"gull/digest"
)

// Envelope is what every message of a list shares: who sends it and how
// the list names itself (DESIGN.md §6).
type Envelope struct {
	From    string // "AI Policy Weekly <digest@example.org>"
	ReplyTo string
	// ListName is the newsletter's title; List-Id is made from it and the
	// sender's domain.
	ListName string
	// UnsubscribeMailto, when set, is offered beside the one-click URL.
	UnsubscribeMailto string
}

// compose builds the MIME message of m: multipart/alternative with the
// plain text first (clients show the last part they understand), the
// list headers, and a Message-ID that is the same every time the same
// issue goes to the same reader, so a duplicate is recognisable. It
// returns the envelope sender and the Message-ID beside the message.
//
// The parts carry bodies[0] (text) and bodies[1] (HTML), which are m.Text
// and m.HTML or markers that Compose replaces with their encoding, in
// the encodings enc (bodyEncoding of m.Text and m.HTML).
func compose(m digest.Message, env Envelope, date time.Time, bodies [2]string, enc [2]gomail.Encoding) (msg *gomail.Msg, from, id string, err error) {
	sender, err := mail.ParseAddress(env.From)
	if err != nil {
		return nil, "", "", fmt.Errorf("deliver: mail.from %q: %w", env.From, err)
	}
	from = sender.Address
	domain := domainOf(from)
	if m.ReturnPath != "" {
		// The bounce address of this copy (mail.return_path); the
		// Message-ID and List-Id stay in mail.from's domain.
		rp, err := mail.ParseAddress(m.ReturnPath)
		if err != nil || rp.Name != "" || rp.Address != m.ReturnPath {
			return nil, "", "", fmt.Errorf("deliver: return path %q is not a bare address (mail.return_path)", m.ReturnPath)
		}
		from = rp.Address
	}
	msg = gomail.NewMsg(gomail.WithNoDefaultUserAgent())
	msg.FromMailAddress(sender)
	to, err := recipient(m.ToName, m.To)
	if err != nil {
		return nil, "", "", err
	}
	msg.ToMailAddress(to)
	if env.ReplyTo != "" {
		if err := msg.ReplyTo(env.ReplyTo); err != nil {
			return nil, "", "", fmt.Errorf("deliver: mail.reply_to %q: %w", env.ReplyTo, err)
		}
	}
	// Subjects come from feed titles; go-mail encodes them, and the
	// renderer already made them one line.
	msg.Subject(strings.Join(strings.Fields(m.Subject), " "))
	msg.SetDateWithValue(date)
	id = MessageID(m.IssueID, m.To, domain)
	if m.Test {
		// A test send is not a delivery of the issue, and an editor who
		// sends one again after fixing a template must see it arrive:
		// Gmail drops a message whose Message-ID it has seen.
		id = TestMessageID(m.IssueID, m.To, domain, date)
	}
	msg.SetMessageIDWithValue(id)
	if env.ListName != "" {
		msg.SetGenHeaderPreformatted("List-Id", listID(env.ListName, domain))
	}
	var unsub []string
	webUnsub := safeHeaderURL(m.UnsubscribeURL)
	if webUnsub {
		unsub = append(unsub, m.UnsubscribeURL)
	}
	if env.UnsubscribeMailto != "" {
		unsub = append(unsub, "mailto:"+env.UnsubscribeMailto+"?subject=unsubscribe")
	}
	if len(unsub) > 0 {
		msg.SetListUnsubscribe(unsub...)
		if webUnsub && strings.HasPrefix(m.UnsubscribeURL, "https://") {
			// RFC 8058 one-click needs an https URL to POST to.
			msg.SetListUnsubscribePost()
		}
	}
	if safeHeaderURL(m.ArchiveURL) {
		msg.SetGenHeaderPreformatted("List-Archive", "<"+m.ArchiveURL+">")
	}
	msg.SetBodyString(gomail.TypeTextPlain, bodies[0], gomail.WithPartEncoding(enc[0]))
	msg.AddAlternativeString(gomail.TypeTextHTML, bodies[1], gomail.WithPartEncoding(enc[1]))
	return msg, from, "<" + id + ">", nil
}

// recipient is the To address of one reader. go-mail's AddToFormat pastes
// the name between quotes as it is, so a name with a " or \ in it made a
// header that did not parse (the reader could never be mailed) or, worse,
// one with a second address in it. mail.Address quotes the name as RFC
// 5322 says (quoted-pairs) or makes it an RFC 2047 encoded-word when it is
// not ASCII, and go-mail writes it with its String method. The address
// itself must be one bare address: anything else is this reader's
// problem alone, so it is ErrInvalidEnvelope (failed, not retried) and
// the send goes on with the others. Spaces in the name are made single,
// as in the subject.
func recipient(name, addr string) (*mail.Address, error) {
	a, err := mail.ParseAddress(addr)
	if err == nil && a.Name != "" {
		err = fmt.Errorf("a name or comment beside the address")
	}
	if err != nil {
		return nil, &Error{Err: fmt.Errorf("%w: recipient %q: %v; correct the subscriber's address", ErrInvalidEnvelope, addr, err)}
	}
	// go-mail folds the header at spaces and a run of them may lose one
	// there; the name reads the same with single spaces.
	return &mail.Address{Name: strings.Join(strings.Fields(name), " "), Address: a.Address}, nil
}

// Composer turns rendered messages into wire-ready Outgoing values: the
// one step between the renderer and a Transport, shared by SMTP and the
// outbox so a dry run writes the very bytes SMTP would send.
type Composer struct {
	Envelope Envelope
	// DKIM signs every message when set (mail.dkim); nil sends unsigned.
	DKIM *DKIMKey
	// boundary replaces go-mail's random multipart boundary, so that a
	// test can compare two compositions byte for byte.
	boundary string
}

// Compose builds m's MIME message, signs it when a DKIM key is set, and
// returns it as bytes with CRLF line ends. It is safe for concurrent use.
func (c Composer) Compose(m digest.Message, date time.Time) (Outgoing, error) {
	bodies := [2]string{m.Text, m.HTML}
	enc := [2]gomail.Encoding{bodyEncoding(m.Text), bodyEncoding(m.HTML)}
	framed := framedParts(m, enc)
	for k, f := range framed {
		if f != nil {
			bodies[k] = bodyMarkers[k]
		}
	}
	msg, from, id, err := compose(m, c.Envelope, date, bodies, enc)
	if err != nil {
		return Outgoing{}, err
	}
	if c.boundary != "" {
		msg.SetBoundary(c.boundary)
	}
	spliced := framed != [2]*digest.Frame{}
	if c.DKIM != nil && !spliced {
		msg.SetDKIM(c.DKIM.signer())
	}
	// 32 KiB covers a typical digest in one allocation.
	buf := bytes.NewBuffer(make([]byte, 0, 32<<10))
	_, err = msg.WriteTo(buf)
	body := buf.Bytes()
	if err == nil && spliced {
		body, err = c.splice(body, m, framed)
	}
	if err != nil {
		if c.DKIM != nil {
			return Outgoing{}, fmt.Errorf("deliver: composing the message to %s with DKIM (mail.dkim): %w", m.To, err)
		}
		return Outgoing{}, fmt.Errorf("deliver: composing the message to %s: %w", m.To, err)
	}
	return Outgoing{IssueID: m.IssueID, From: from, To: m.To, MessageID: id, Test: m.Test, Body: body}, nil
}

// bodyMarkers stand for the text and the HTML part in a message go-mail
// writes, where Compose puts their encoding made from the frames. They
// are random (crypto/rand, per process), so no text can hold them, and
// quoted-printable leaves them as they are.
var bodyMarkers = func() [2]string {
	r := strings.ToLower(rand.Text())
	return [2]string{"gull-text-" + r, "gull-html-" + r}
}()

// framedParts are the frames of m's text and HTML that Compose can
// encode a frame at a time: quoted-printable parts whose framing spells
// them exactly. Base64 cannot be cut anywhere after a slot (each value
// shifts the three-byte groups), and encodes quickly anyway.
func framedParts(m digest.Message, enc [2]gomail.Encoding) (framed [2]*digest.Frame) {
	fr := m.Framing
	if fr == nil {
		return framed
	}
	for k, p := range [2]struct {
		f *digest.Frame
		s string
	}{{fr.Text, m.Text}, {fr.HTML, m.HTML}} {
		if p.f != nil && len(p.f.Slots) > 0 && enc[k] == gomail.EncodingQP && p.f.Spells(fr.Vals, p.s) {
			framed[k] = p.f
		}
	}
	return framed
}

// splice puts the encoded framed parts in place of their markers in msg,
// as go-mail wrote it, and signs the result when DKIM is on: the
// signature covers the body, so it is made here, after the splice, by the
// same signer go-mail would call.
func (c Composer) splice(msg []byte, m digest.Message, framed [2]*digest.Frame) ([]byte, error) {
	out := bytes.NewBuffer(make([]byte, 0, len(m.Text)+len(m.HTML)+len(msg)+len(msg)/8))
	rest := msg
	for k, f := range framed {
		if f == nil {
			continue
		}
		i := bytes.Index(rest, []byte(bodyMarkers[k]))
		if i < 0 || bytes.Contains(rest[i+len(bodyMarkers[k]):], []byte(bodyMarkers[k])) {
			return nil, fmt.Errorf("the %s part's place was not found once in go-mail's message", [2]string{"text", "HTML"}[k])
		}
		out.Write(rest[:i])
		qpFrameOf(f).write(out, f, m.Framing.Vals)
		rest = rest[i+len(bodyMarkers[k]):]
	}
	out.Write(rest)
	if c.DKIM == nil {
		return out.Bytes(), nil
	}
	whole := out.Bytes()
	// As go-mail's Msg.WriteTo: the header block with its last CRLF.
	headers, body := whole, []byte(nil)
	if i := bytes.Index(whole, []byte("\r\n\r\n")); i >= 0 {
		headers, body = whole[:i+2], whole[i+4:]
	}
	sig, err := c.DKIM.signer().Sign(headers, body)
	if err != nil {
		return nil, fmt.Errorf("failed to DKIM sign message: %w", err)
	}
	return append([]byte(sig), whole...), nil
}

// bodyEncoding picks the smaller transfer encoding: quoted-printable keeps
// mostly-ASCII text readable, but spends 3 bytes on every byte it escapes:
// each byte of a Hangul syllable (3 become 9), and each "=", of which
// inlined-CSS HTML has one per attribute. base64 adds a third to
// everything (and encodes several times faster, which a send of 10,000
// feels). Both add line breaks: QP every 76 characters, base64 every 76.
func bodyEncoding(s string) gomail.Encoding {
	qp := len(s) + 2*(strings.Count(s, "=")+nonASCII(s))
	b64 := (len(s) + 2) / 3 * 4
	if b64 <= qp {
		return gomail.EncodingB64
	}
	return gomail.EncodingQP
}

// nonASCII counts the bytes of s at or above 0x80, eight at a time: it
// runs over every message of a send.
func nonASCII(s string) int {
	n, i := 0, 0
	for ; i+8 <= len(s); i += 8 {
		n += bits.OnesCount64(binary.LittleEndian.Uint64([]byte(s[i:i+8])) & 0x8080808080808080)
	}
	for ; i < len(s); i++ {
		if s[i] >= 0x80 {
			n++
		}
	}
	return n
}

// MessageID is deterministic for (issue, reader): a rerun of the same send
// produces the same id, and a receiving server or the reader's client can
// drop the duplicate. The address is hashed, so the id does not spell it
// out in forwarded mail.
func MessageID(issueID, to, domain string) string {
	return fmt.Sprintf("gull.issue.%s.%s@%s", idPart(issueID), addrHash("issue", issueID, to), domain)
}

// TestMessageID is unique per test send (by its time), so each one shows.
func TestMessageID(issueID, to, domain string, at time.Time) string {
	return fmt.Sprintf("gull.test.%s.%s.%d@%s", idPart(issueID), addrHash("test", issueID, to), at.UnixNano(), domain)
}

func addrHash(kind, issueID, to string) string {
	sum := sha256.Sum256([]byte(kind + "\x00" + issueID + "\x00" + strings.ToLower(strings.TrimSpace(to))))
	return hex.EncodeToString(sum[:10])
}

// idPart keeps s's ASCII letters, digits and hyphens, one hyphen for
// each run of anything else, and trims hyphens at the ends.
func idPart(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	gap := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case 'a' <= c && c <= 'z', 'A' <= c && c <= 'Z', '0' <= c && c <= '9', c == '-':
			if gap && b.Len() > 0 {
				b.WriteByte('-')
			}
			gap = false
			b.WriteByte(c)
		default:
			gap = true
		}
	}
	return strings.Trim(b.String(), "-")
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 {
		return strings.ToLower(addr[i+1:])
	}
	return "localhost"
}

// listID is RFC 2919's List-Id: the title as phrase and a dotted id made
// of its ASCII words and the sender's domain.
func listID(title, domain string) string {
	slug := strings.ToLower(idPart(title))
	if slug == "" {
		slug = "digest"
	}
	phrase := strings.Join(strings.Fields(strings.NewReplacer(`"`, "", `\`, "").Replace(title)), " ")
	for _, r := range phrase {
		if r > 126 {
			// An encoded word may not sit inside quotes (RFC 2047 §5).
			return fmt.Sprintf(`%s <%s.%s>`, mime.QEncoding.Encode("UTF-8", phrase), slug, domain)
		}
	}
	return fmt.Sprintf(`"%s" <%s.%s>`, phrase, slug, domain)
}

// safeHeaderURL refuses anything that could break out of a header: the
// URL goes in between angle brackets verbatim.
func safeHeaderURL(u string) bool {
	return u != "" && !strings.ContainsAny(u, "\r\n<> \t") &&
		(strings.HasPrefix(u, "https://") || strings.HasPrefix(u, "http://"))
}
