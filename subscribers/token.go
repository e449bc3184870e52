package subscribers

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"strings"
	"time"
)

// Purpose is what a link token lets its holder do. It is signed into the
// token, so an unsubscribe link cannot be replayed as a confirmation.
type Purpose uint8

const (
	PurposeConfirm     Purpose = 1
	PurposeUnsubscribe Purpose = 2
	PurposePreferences Purpose = 3
	// The editor's desk (digest/web): the mailed sign-in link, the
	// session cookie, and the CSRF token of the session's forms. Their
	// Subscriber is the link's or the session's own random id.
	PurposeDeskSignIn  Purpose = 4
	PurposeDeskSession Purpose = 5
	PurposeDeskCSRF    Purpose = 6
	// PurposeView is a test send's "view in browser" link to an issue not
	// yet published (digest/web): its Data is the issue id, and it
	// expires (ViewTTL). It is for no reader in particular: its
	// Subscriber is ViewSubscriber.
	PurposeView Purpose = 8
)

// ViewTTL is how long a test send's "view in browser" link works: an
// editor's review takes days, not months, and the draft is not public.
const ViewTTL = 14 * 24 * time.Hour

// ViewSubscriber is the Subscriber of a view link, which names an issue,
// not a reader (a token's Subscriber must be positive).
const ViewSubscriber = 1

func (p Purpose) String() string {
	switch p {
	case PurposeConfirm:
		return "confirm"
	case PurposeUnsubscribe:
		return "unsubscribe"
	case PurposePreferences:
		return "preferences"
	case PurposeDeskSignIn:
		return "desk sign-in"
	case PurposeDeskSession:
		return "desk session"
	case PurposeDeskCSRF:
		return "desk form"
	case PurposeView:
		return "view"
	}
	return fmt.Sprintf("Purpose(%d)", uint8(p))
}

// Claims is what a link token says.
type Claims struct {
	Purpose    Purpose
	Subscriber int64
	// Data is per purpose: the issue id for unsubscribe links, the chosen
	// themes (FormatThemes) for confirm links, "" otherwise.
	Data    string
	Expires time.Time // zero = never
}

// ConfirmTTL is how long a confirmation link works: long enough for a
// reader back from a week away, short enough that an old mail found in
// someone else's inbox no longer subscribes anybody.
const ConfirmTTL = 7 * 24 * time.Hour

// The three ways Verify refuses a token. ErrExpired and ErrWrongPurpose
// do not match ErrBadToken under errors.Is: both are genuine links the
// reader clicked in good faith, and a handler tells them something
// different ("this link has expired; here is how to get a new one")
// from what it says to a forged or mangled one.
var (
	// ErrBadToken is a token this signer did not make: forged, cut
	// short, altered, from another key, or not a token at all.
	ErrBadToken = errors.New("subscribers: this link is not valid")
	// ErrExpired is a genuine token past its expiry.
	ErrExpired = errors.New("subscribers: this link has expired")
	// ErrWrongPurpose is a genuine token made for another purpose.
	ErrWrongPurpose = errors.New("subscribers: this link is for another purpose")
)

const (
	tokenVersion = 1
	// maxToken is checked before any decoding so a hostile query string
	// costs nothing; the longest token Sign makes is about 740 chars.
	maxToken     = 1024
	maxTokenData = 512
	macLen       = 16
	minKey       = 16
	// macContext keeps these MACs from meaning anything to other uses of
	// the same key, and lets a later format change its version.
	macContext = "gull-link-v1\x00"
)

// tokenEncoding is strict so that each token has exactly one spelling:
// the lenient decoder ignores stray low bits in the last character,
// which would let an altered link verify.
var tokenEncoding = base64.RawURLEncoding.Strict()

// Signer makes and checks the tokens in subscribers' links. The token
// carries the subscriber's id, never the address, so a forwarded mail or
// a server log does not leak who is on the list. A Signer is safe for
// concurrent use.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer for key, which must be at least 16 bytes;
// a shorter key could be guessed offline from a single link.
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < minKey {
		return nil, fmt.Errorf("subscribers: the link key is %d bytes; it needs at least %d", len(key), minKey)
	}
	return &Signer{key: bytes.Clone(key)}, nil
}

// Sign makes the token for c. The expiry is kept to the second, and one
// before 1970 is stored as already expired.
//
// Sign panics on claims no link should carry: an unknown purpose, a
// subscriber id that is not positive, or more than 512 bytes of data.
// Those are bugs in the caller, not states a reader can cause.
func (s *Signer) Sign(c Claims) string {
	p, err := encodeClaims(c)
	if err != nil {
		panic(err)
	}
	return tokenEncoding.EncodeToString(p) + "." + tokenEncoding.EncodeToString(s.mac(p))
}

// Verify checks token and returns its claims. It fails with ErrBadToken
// for anything Sign did not make with this key, ErrWrongPurpose for a
// token made for another purpose than want, and ErrExpired once now is
// after the expiry. With ErrExpired it also returns the claims, which
// are genuine, so a handler can offer to send a fresh link.
func (s *Signer) Verify(token string, want Purpose, now time.Time) (Claims, error) {
	if len(token) > maxToken {
		return Claims{}, ErrBadToken
	}
	p64, m64, ok := strings.Cut(token, ".")
	// base64 decoders skip \r and \n; checking the alphabet first keeps
	// one spelling per token.
	if !ok || !isBase64URL(p64) || !isBase64URL(m64) {
		return Claims{}, ErrBadToken
	}
	payload, err := tokenEncoding.DecodeString(p64)
	if err != nil {
		return Claims{}, ErrBadToken
	}
	mac, err := tokenEncoding.DecodeString(m64)
	if err != nil || len(mac) != macLen || !hmac.Equal(mac, s.mac(payload)) {
		return Claims{}, ErrBadToken
	}
	// Only now is the payload ours to read.
	c, err := decodeClaims(payload)
	if err != nil {
		return Claims{}, ErrBadToken
	}
	if c.Purpose != want {
		return Claims{}, ErrWrongPurpose
	}
	if !c.Expires.IsZero() && now.After(c.Expires) {
		return c, ErrExpired
	}
	return c, nil
}

func (s *Signer) mac(payload []byte) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte(macContext))
	h.Write(payload)
	return h.Sum(nil)[:macLen]
}

func isBase64URL(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return false
		}
	}
	return true
}

func validPurpose(p Purpose) bool {
	return p >= PurposeConfirm && p <= PurposeDeskCSRF || p == PurposeView
}

// encodeClaims lays out the payload: version, purpose, then uvarints for
// the subscriber id, the expiry in Unix seconds (0 = never) and the data
// length, then the data.
func encodeClaims(c Claims) ([]byte, error) {
	if !validPurpose(c.Purpose) {
		return nil, fmt.Errorf("subscribers: cannot sign a link for purpose %v", c.Purpose)
	}
	if c.Subscriber <= 0 {
		return nil, fmt.Errorf("subscribers: cannot sign a link for subscriber id %d", c.Subscriber)
	}
	if len(c.Data) > maxTokenData {
		return nil, fmt.Errorf("subscribers: link data is %d bytes; at most %d fit", len(c.Data), maxTokenData)
	}
	var exp uint64
	if !c.Expires.IsZero() {
		exp = uint64(max(c.Expires.Unix(), 1))
	}
	p := make([]byte, 0, 2+3*binary.MaxVarintLen64+len(c.Data))
	p = append(p, tokenVersion, byte(c.Purpose))
	p = binary.AppendUvarint(p, uint64(c.Subscriber))
	p = binary.AppendUvarint(p, exp)
	p = binary.AppendUvarint(p, uint64(len(c.Data)))
	return append(p, c.Data...), nil
}

var errPayload = errors.New("malformed payload")

func decodeClaims(p []byte) (Claims, error) {
	if len(p) < 2 || p[0] != tokenVersion || !validPurpose(Purpose(p[1])) {
		return Claims{}, errPayload
	}
	c := Claims{Purpose: Purpose(p[1])}
	rest := p[2:]
	var fields [3]uint64
	for i := range fields {
		v, n := binary.Uvarint(rest)
		if n <= 0 {
			return Claims{}, errPayload
		}
		fields[i], rest = v, rest[n:]
	}
	sub, exp, dataLen := fields[0], fields[1], fields[2]
	if sub == 0 || sub > math.MaxInt64 || exp > math.MaxInt64 || dataLen > maxTokenData || dataLen != uint64(len(rest)) {
		return Claims{}, errPayload
	}
	c.Subscriber = int64(sub)
	if exp != 0 {
		c.Expires = time.Unix(int64(exp), 0).UTC()
	}
	c.Data = string(rest)
	// Uvarint takes padded encodings; requiring Sign's exact bytes keeps
	// one payload per claims.
	if again, err := encodeClaims(c); err != nil || !bytes.Equal(again, p) {
		return Claims{}, errPayload
	}
	return c, nil
}
