package subscribers

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/binary"
	"errors"
	"fmt"
	"net/mail"
	"strconv"
	"strings"
	"time"
)

// The return path (mail.return_path) is a VERP envelope sender such as
// "bounces+{token}@example.org": a bounce goes back to it, and the token
// in it names the reader and the issue even when the bounce quotes
// nothing else of the message. Its token is not a link token: it must
// fit in an address's local part (64 octets, RFC 5321 §4.5.3.1.1) beside
// the rest, survive MTAs that change its case, and hold only characters
// every MTA passes through unquoted. So it is lower-case base32 without
// padding, of a compact payload with a shorter MAC, signed with the same
// key under its own context.

// ReturnPathPlaceholder is what mail.return_path must hold once.
const ReturnPathPlaceholder = "{token}"

const (
	returnContext = "gull-return-v1\x00"
	returnMACLen  = 10 // 80 bits: a forger must guess them through an MTA
	// The issue forms: digest.IssueID's three, packed, and any other id
	// as its bytes.
	issueWeek  = 1 // "2026-W48" -> year*100+week
	issueDay   = 2 // "2026-11-30" -> days since 1970-01-01
	issueHour  = 3 // "2026-11-30T08" -> hours since 1970-01-01T00
	issueOther = 4 // len, bytes
	// maxReturnIssue keeps an odd issue id from making an address no MTA
	// takes; digest's own ids are packed in a few bytes.
	maxReturnIssue = 24
)

// MaxReturnToken is the longest token ReturnToken makes for any
// subscriber id and any issue id digest.IssueID makes: 1 form byte, a
// 9-byte id, a 4-byte issue and the MAC, in base32. Config validation
// leaves this much room in the local part.
const MaxReturnToken = ((1+9+4+returnMACLen)*8 + 4) / 5 // 24 bytes: 39 chars

// returnEncoding is lower-case base32 without padding: letters and the
// digits 2-7, nothing an MTA quotes or folds.
var returnEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// ReturnClaims is what a return-path token says: whose copy of which
// issue bounced.
type ReturnClaims struct {
	Subscriber int64
	Issue      string
}

// ReturnToken signs c for a return path. It panics on a subscriber id
// that is not positive or an issue id longer than 24 bytes that is not
// one of digest's forms (bugs in the caller).
func (s *Signer) ReturnToken(c ReturnClaims) string {
	p, err := encodeReturn(c)
	if err != nil {
		panic(err)
	}
	return returnEncoding.EncodeToString(append(p, s.returnMAC(p)...))
}

// VerifyReturnToken checks a token found in a bounce's address, in any
// case, and returns its claims; ErrBadToken for anything ReturnToken did
// not make with this key. The tokens do not expire: a bounce may come
// days after the send.
func (s *Signer) VerifyReturnToken(token string) (ReturnClaims, error) {
	if len(token) > 2*MaxReturnToken+8 {
		return ReturnClaims{}, ErrBadToken
	}
	token = strings.ToLower(token)
	raw, err := returnEncoding.DecodeString(token)
	if err != nil || len(raw) <= returnMACLen || returnEncoding.EncodeToString(raw) != token {
		return ReturnClaims{}, ErrBadToken
	}
	p, mac := raw[:len(raw)-returnMACLen], raw[len(raw)-returnMACLen:]
	if !hmac.Equal(mac, s.returnMAC(p)) {
		return ReturnClaims{}, ErrBadToken
	}
	c, err := decodeReturn(p)
	if err != nil {
		return ReturnClaims{}, ErrBadToken
	}
	return c, nil
}

func (s *Signer) returnMAC(p []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(returnContext))
	h.Write(p)
	return h.Sum(nil)[:returnMACLen]
}

var epoch = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)

func encodeReturn(c ReturnClaims) ([]byte, error) {
	if c.Subscriber <= 0 {
		return nil, fmt.Errorf("subscribers: cannot sign a return path for subscriber id %d", c.Subscriber)
	}
	form, n := packIssue(c.Issue)
	if form == issueOther && len(c.Issue) > maxReturnIssue {
		return nil, fmt.Errorf("subscribers: issue id %q is too long for a return path", c.Issue)
	}
	p := make([]byte, 0, 1+2*binary.MaxVarintLen64+len(c.Issue))
	p = append(p, form)
	p = binary.AppendUvarint(p, uint64(c.Subscriber))
	if form == issueOther {
		p = binary.AppendUvarint(p, uint64(len(c.Issue)))
		return append(p, c.Issue...), nil
	}
	return binary.AppendUvarint(p, n), nil
}

func decodeReturn(p []byte) (ReturnClaims, error) {
	if len(p) < 3 || p[0] < issueWeek || p[0] > issueOther {
		return ReturnClaims{}, errPayload
	}
	sub, n := binary.Uvarint(p[1:])
	if n <= 0 || sub == 0 || sub > 1<<63-1 {
		return ReturnClaims{}, errPayload
	}
	rest := p[1+n:]
	v, m := binary.Uvarint(rest)
	if m <= 0 {
		return ReturnClaims{}, errPayload
	}
	rest = rest[m:]
	c := ReturnClaims{Subscriber: int64(sub)}
	switch p[0] {
	case issueOther:
		if v != uint64(len(rest)) {
			return ReturnClaims{}, errPayload
		}
		c.Issue = string(rest)
	default:
		if len(rest) != 0 || v > 1<<40 {
			return ReturnClaims{}, errPayload
		}
		c.Issue = unpackIssue(p[0], v)
	}
	// One payload per claims, as for link tokens.
	if again, err := encodeReturn(c); err != nil || string(again) != string(p) {
		return ReturnClaims{}, errPayload
	}
	return c, nil
}

// packIssue packs digest.IssueID's forms, when id is exactly one of them
// (the round trip must give id back).
func packIssue(id string) (byte, uint64) {
	if len(id) == 8 && id[4] == '-' && id[5] == 'W' {
		y, e1 := strconv.Atoi(id[:4])
		w, e2 := strconv.Atoi(id[6:])
		if e1 == nil && e2 == nil && y >= 1000 && w >= 1 && w <= 53 && id[6] >= '0' && id[6] <= '9' {
			n := uint64(y*100 + w)
			if unpackIssue(issueWeek, n) == id {
				return issueWeek, n
			}
		}
	}
	if t, err := time.Parse("2006-01-02", id); err == nil && t.Year() >= 1970 && t.Format("2006-01-02") == id {
		return issueDay, uint64(t.Sub(epoch) / (24 * time.Hour))
	}
	if t, err := time.Parse("2006-01-02T15", id); err == nil && t.Year() >= 1970 && t.Format("2006-01-02T15") == id {
		return issueHour, uint64(t.Sub(epoch) / time.Hour)
	}
	return issueOther, 0
}

func unpackIssue(form byte, n uint64) string {
	switch form {
	case issueWeek:
		return fmt.Sprintf("%d-W%02d", n/100, n%100)
	case issueDay:
		return epoch.Add(time.Duration(n) * 24 * time.Hour).Format("2006-01-02")
	case issueHour:
		return epoch.Add(time.Duration(n) * time.Hour).Format("2006-01-02T15")
	}
	return ""
}

// ReturnPath is mail.return_path, checked: the address around its one
// {token}.
type ReturnPath struct {
	local, domain string // local holds the placeholder
}

// ErrReturnPath is why ParseReturnPath refused a template.
var ErrReturnPath = errors.New("not a return path")

// ParseReturnPath checks a mail.return_path template: one bare address
// with {token} exactly once in its local part, and room there for the
// longest token (the local part may have 64 octets).
func ParseReturnPath(template string) (ReturnPath, error) {
	if n := strings.Count(template, ReturnPathPlaceholder); n != 1 {
		return ReturnPath{}, fmt.Errorf("%w: it must hold %s exactly once, it has it %d times; e.g. \"bounces+{token}@example.org\"", ErrReturnPath, ReturnPathPlaceholder, n)
	}
	at := strings.LastIndexByte(template, '@')
	if at < 0 || at < strings.Index(template, ReturnPathPlaceholder) {
		return ReturnPath{}, fmt.Errorf("%w: %s belongs in the part before the @, e.g. \"bounces+{token}@example.org\"", ErrReturnPath, ReturnPathPlaceholder)
	}
	local, domain := template[:at], template[at+1:]
	sample := strings.Replace(local, ReturnPathPlaceholder, strings.Repeat("a", MaxReturnToken), 1) + "@" + domain
	a, err := mail.ParseAddress(sample)
	if err != nil || a.Name != "" || a.Address != sample || strings.ContainsAny(sample, "\"\\ <>") || !isASCII(sample) {
		return ReturnPath{}, fmt.Errorf("%w: it must be a bare ASCII address once %s is replaced, e.g. \"bounces+{token}@example.org\"", ErrReturnPath, ReturnPathPlaceholder)
	}
	if fixed := len(local) - len(ReturnPathPlaceholder); fixed+MaxReturnToken > 64 {
		return ReturnPath{}, fmt.Errorf("%w: the part before the @ may have %d characters beside %s, it has %d", ErrReturnPath, 64-MaxReturnToken, ReturnPathPlaceholder, fixed)
	}
	return ReturnPath{local: local, domain: domain}, nil
}

// IsZero is true for the zero ReturnPath: mail.return_path unset.
func (r ReturnPath) IsZero() bool { return r.local == "" }

// Address is the envelope sender of sub's copy of issue, its token
// signed by s. It is "" (send from mail.from's address) when the token
// cannot name them within the local part's 64 octets: an issue id that
// is none of digest.IssueID's forms and too long, or no subscriber id.
func (r ReturnPath) Address(s *Signer, sub int64, issue string) string {
	c := ReturnClaims{Subscriber: sub, Issue: issue}
	if _, err := encodeReturn(c); err != nil || r.IsZero() {
		return ""
	}
	local := strings.Replace(r.local, ReturnPathPlaceholder, s.ReturnToken(c), 1)
	if len(local) > 64 {
		return ""
	}
	return local + "@" + r.domain
}

// Token finds the token in addr when addr is this return path with one
// filled in (in any case, as MTAs may change it); "" otherwise. Verify
// it with Signer.VerifyReturnToken.
func (r ReturnPath) Token(addr string) string {
	if r.IsZero() {
		return ""
	}
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || !strings.EqualFold(addr[at+1:], r.domain) {
		return ""
	}
	prefix, suffix, _ := strings.Cut(r.local, ReturnPathPlaceholder)
	local := addr[:at]
	if len(local) <= len(prefix)+len(suffix) || !strings.EqualFold(local[:len(prefix)], prefix) ||
		!strings.EqualFold(local[len(local)-len(suffix):], suffix) {
		return ""
	}
	return strings.ToLower(local[len(prefix) : len(local)-len(suffix)])
}
