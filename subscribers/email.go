package subscribers

import (
	"errors"
	"fmt"
	"net/mail"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

// Limits from RFC 5321 §4.5.3.1: longer addresses are refused by mail
// servers, so taking them would only produce a bounce later.
const (
	maxAddress = 254
	maxLocal   = 64
	maxLabel   = 63
	// maxInput stops work on pasted junk before parsing. It is well past
	// the longest way to type an address that fits maxAddress: a Unicode
	// domain takes up to four bytes for each character of its xn-- form,
	// and a quoted local part two for each character it stores.
	maxInput = 2048
)

// NormalizeEmail checks an address typed by a person and returns the form
// the list stores: the local part as written (mailbox names may be case
// sensitive), the domain lower-cased with any international labels in
// their xn-- form, so the same mailbox is always spelled the same way and
// every mail server can take it.
//
// It refuses what would not reach a mailbox: a display name, white space,
// a domain without a dot, domain literals and quoted local parts that need
// their quotes. The error is one line naming the input and how to fix it.
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("the address is empty; write one like reader@example.org")
	}
	if len(s) > maxInput {
		return "", fmt.Errorf("%s is too long for an address (at most %d bytes); check the cell holds only the address", quoteInput(s), maxAddress)
	}
	if !utf8.ValidString(s) {
		return "", fmt.Errorf("%s is not valid UTF-8; save the file as UTF-8", quoteInput(s))
	}
	a, err := mail.ParseAddress(s)
	if err == nil && a.Name != "" {
		return "", fmt.Errorf("%s has a name with the address; write the address alone (%s) and put the name in the name column", quoteInput(s), a.Address)
	}
	if err != nil && strings.ContainsAny(s, "<>") {
		return "", fmt.Errorf("%s looks like a name with an address; write the address alone and put the name in the name column", quoteInput(s))
	}
	if strings.IndexFunc(s, unicode.IsSpace) >= 0 {
		return "", fmt.Errorf("%s contains a space; write the address alone, without spaces, e.g. reader@example.org", quoteInput(s))
	}
	if err != nil {
		return "", parseError(s)
	}
	at := strings.LastIndexByte(a.Address, '@')
	if at < 0 {
		// ParseAddress guarantees an @; this keeps a changed parser from
		// slipping through.
		return "", parseError(s)
	}
	local, domain := a.Address[:at], a.Address[at+1:]
	// One spelling per mailbox: composed and decomposed "josé" are the
	// same person.
	local = norm.NFC.String(local)
	if err := checkLocal(s, local); err != nil {
		return "", err
	}
	domain, err = normalizeDomain(s, domain)
	if err != nil {
		return "", err
	}
	out := local + "@" + domain
	if len(out) > maxAddress {
		return "", fmt.Errorf("%s is %d bytes long, more than the %d mail servers accept; use a shorter address", quoteInput(s), len(out), maxAddress)
	}
	return out, nil
}

// EmailKey is what makes two addresses the same subscriber. Local parts
// are case sensitive in theory, but no mail service treats them so, and
// people retype their address with different capitals; one person must
// not end up on the list twice. It takes a normalized address.
func EmailKey(email string) string {
	return strings.ToLower(email)
}

// parseError explains why net/mail refused s in the operator's terms
// rather than the RFC's.
func parseError(s string) error {
	in := quoteInput(s)
	switch n := strings.Count(s, "@"); {
	case n == 0:
		return fmt.Errorf("%s has no @; write the full address, e.g. reader@example.org", in)
	case n > 1 && strings.ContainsAny(s, ",;"):
		return fmt.Errorf("%s looks like more than one address; write one address per row", in)
	case n > 1 && !strings.HasPrefix(s, `"`):
		return fmt.Errorf("%s has more than one @; write a single address, e.g. reader@example.org", in)
	case strings.HasPrefix(s, "@"):
		return fmt.Errorf("%s has nothing before the @; write the full address, e.g. reader@example.org", in)
	case strings.HasSuffix(s, "@"):
		return fmt.Errorf("%s has nothing after the @; write the full address, e.g. reader@example.org", in)
	case strings.Contains(s, ".."):
		return fmt.Errorf("%s has two dots in a row; correct the typo", in)
	}
	at := strings.LastIndexByte(s, '@')
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(local, ".") || strings.HasSuffix(local, ".") {
		return fmt.Errorf("%s has a dot at the start or end of the part before the @; correct the typo", in)
	}
	if strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") {
		return fmt.Errorf("%s has a dot at the start or end of its domain; write it like example.org", in)
	}
	for _, r := range s {
		if r != '@' && !isAtext(r) {
			return fmt.Errorf("%s has %q, which an address cannot have; write it like reader@example.org", in, r)
		}
	}
	return fmt.Errorf("%s is not a valid address; write it like reader@example.org", in)
}

// checkLocal insists on a dot-atom. net/mail has already checked one
// written plainly, but it also takes quoted local parts ("a b"@x) and
// hands them back unquoted, which would store an address that is no
// longer valid.
func checkLocal(in, local string) error {
	if len(local) > maxLocal {
		return fmt.Errorf("%s has %d bytes before the @, more than the %d mail servers accept; check the address", quoteInput(in), len(local), maxLocal)
	}
	ok := local != "" && local[0] != '.' && local[len(local)-1] != '.' && !strings.Contains(local, "..")
	for _, r := range local {
		if !ok {
			break
		}
		ok = isAtext(r)
	}
	if !ok {
		return fmt.Errorf("%s has a quoted or unusual part before the @; write a plain address like reader@example.org", quoteInput(in))
	}
	return nil
}

// isAtext is RFC 5322 atext plus the dot, widened to printable non-ASCII
// for RFC 6532 mailboxes; invisible runes are refused because nobody can
// see, let alone type, the address that contains them.
func isAtext(r rune) bool {
	switch {
	case r >= utf8.RuneSelf:
		return unicode.IsGraphic(r) && !unicode.IsSpace(r) && !unicode.Is(unicode.Cf, r)
	case 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9':
		return true
	}
	return strings.ContainsRune("!#$%&'*+-/=?^_`{|}~.", r)
}

// normalizeDomain applies the part of IDNA that matters for mail: the
// same name always in the same ASCII form. Full UTS #46 mapping lives in
// x/net/idna, which this package may not import.
func normalizeDomain(in, domain string) (string, error) {
	q := quoteInput(in)
	if strings.HasPrefix(domain, "[") {
		return "", fmt.Errorf("%s has an IP address for a domain; write the address with its domain name", q)
	}
	// Korean and Japanese keyboards type these full stops in an IME; UTS
	// #46 treats them as dots, and so do browsers.
	domain = strings.NewReplacer("\u3002", ".", "\uff0e", ".", "\uff61", ".").Replace(domain)
	// A character whose compatibility form holds punctuation (⒈ is "1.",
	// ․ is ".") would smuggle a dot or worse into the domain; UTS #46
	// refuses them, and so do we.
	for _, r := range domain {
		if r < utf8.RuneSelf {
			continue
		}
		for _, c := range norm.NFKC.String(string(r)) {
			if c < utf8.RuneSelf && !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
				return "", fmt.Errorf("%s has %q in its domain, which stands for %q; write the domain plainly, e.g. example.org", q, r, norm.NFKC.String(string(r)))
			}
		}
	}
	// NFKC folds what a Korean or Japanese keyboard in full-width mode
	// types (ｅｘａｍｐｌｅ.com) to the ASCII it stands for, as UTS #46 does;
	// otherwise it would become a second, undeliverable xn-- domain.
	domain = norm.NFC.String(strings.ToLower(norm.NFKC.String(domain)))
	if !strings.Contains(domain, ".") {
		return "", fmt.Errorf("%s has no dot in its domain; write the full address, e.g. reader@example.org", q)
	}
	labels := strings.Split(domain, ".")
	for i, l := range labels {
		if l == "" {
			return "", fmt.Errorf("%s has an empty part in its domain (two dots in a row, or one at the start or end); write it like example.org", q)
		}
		if utf8.RuneCountInString(l) > maxLabel {
			return "", fmt.Errorf("%s has a domain part longer than %d characters; check the address", q, maxLabel)
		}
		if !isASCII(l) {
			for _, r := range l {
				if r >= utf8.RuneSelf && !unicode.IsLetter(r) && !unicode.IsMark(r) && !unicode.IsDigit(r) {
					return "", fmt.Errorf("%s has %q in its domain; a domain has only letters, digits, hyphens and dots", q, r)
				}
			}
			l = "xn--" + punycode(l)
			labels[i] = l
		}
		if len(l) > maxLabel {
			return "", fmt.Errorf("%s has a domain part longer than %d characters once encoded for mail; check the address", q, maxLabel)
		}
		for j := 0; j < len(l); j++ {
			if c := l[j]; !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return "", fmt.Errorf("%s has %q in its domain; a domain has only letters, digits, hyphens and dots", q, rune(c))
			}
		}
		if l[0] == '-' || l[len(l)-1] == '-' {
			return "", fmt.Errorf("%s has a domain part that starts or ends with a hyphen; check the address", q)
		}
	}
	if tld := labels[len(labels)-1]; strings.Trim(tld, "0123456789") == "" {
		return "", fmt.Errorf("%s has an IP address or a number for a domain; write the address with its domain name", q)
	}
	return strings.Join(labels, "."), nil
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}

// quoteInput names the input in a message: quoted so that stray spaces
// and control characters show, and cut so that a pasted paragraph does
// not become a paragraph of error.
func quoteInput(s string) string {
	const max = 80
	if utf8.RuneCountInString(s) <= max {
		return fmt.Sprintf("%q", s)
	}
	r := []rune(s)
	return fmt.Sprintf("%q…", string(r[:max]))
}

// Punycode parameters, RFC 3492 §5.
const (
	pcBase        = 36
	pcTMin        = 1
	pcTMax        = 26
	pcSkew        = 38
	pcDamp        = 700
	pcInitialBias = 72
	pcInitialN    = 128
)

// punycode encodes one label by RFC 3492 §6.3, without the xn-- prefix.
// Callers bound the label to maxLabel runes, so the int arithmetic
// cannot overflow (delta stays below 0x10FFFF * 64).
func punycode(label string) string {
	runes := []rune(label)
	var out []byte
	for _, r := range runes {
		if r < utf8.RuneSelf {
			out = append(out, byte(r))
		}
	}
	b := len(out)
	h := b
	if b > 0 {
		out = append(out, '-')
	}
	n, delta, bias := rune(pcInitialN), 0, pcInitialBias
	for h < len(runes) {
		m := rune(unicode.MaxRune + 1)
		for _, r := range runes {
			if r >= n && r < m {
				m = r
			}
		}
		delta += int(m-n) * (h + 1)
		n = m
		for _, r := range runes {
			if r < n {
				delta++
			}
			if r != n {
				continue
			}
			q := delta
			for k := pcBase; ; k += pcBase {
				t := k - bias
				if t < pcTMin {
					t = pcTMin
				} else if t > pcTMax {
					t = pcTMax
				}
				if q < t {
					break
				}
				out = append(out, pcDigit(t+(q-t)%(pcBase-t)))
				q = (q - t) / (pcBase - t)
			}
			out = append(out, pcDigit(q))
			bias = pcAdapt(delta, h+1, h == b)
			delta = 0
			h++
		}
		delta++
		n++
	}
	return string(out)
}

func pcDigit(d int) byte {
	if d < 26 {
		return byte('a' + d)
	}
	return byte('0' + d - 26)
}

func pcAdapt(delta, numPoints int, first bool) int {
	if first {
		delta /= pcDamp
	} else {
		delta /= 2
	}
	delta += delta / numPoints
	k := 0
	for delta > ((pcBase-pcTMin)*pcTMax)/2 {
		delta /= pcBase - pcTMin
		k += pcBase
	}
	return k + (pcBase-pcTMin+1)*delta/(delta+pcSkew)
}
