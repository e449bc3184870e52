package bounce

import (
	"regexp"
	"strings"
)

var (
	// enhancedRE is an RFC 3463 status code; in SMTP replies it follows
	// the reply code ("550 5.1.1", "550-5.1.1", "550 #5.1.1").
	enhancedRE = regexp.MustCompile(`(?:^|[^0-9.])([245])\.(\d{1,3})\.(\d{1,3})(?:[^0-9.]|$)`)
	// replyRE is a bare SMTP reply code where a bounce quotes the
	// server ("said: 550 ...", "554: delivery error", "550-").
	replyRE = regexp.MustCompile(`(?:^|[\s:;(\[])([45][0-5]\d)(?:[\s:\-]|$)`)
	// codesRE strips the codes a multi-line reply repeats on each line
	// ("550-5.1.1 ... 550-5.1.1 ..."), for the reason's words.
	codesRE = regexp.MustCompile(`(?:^|\s)[245]\d\d(?:[ -]|:\s)(?:#?[245]\.\d{1,3}\.\d{1,3}\s*)?|(?:^|\s)#?[245]\.\d{1,3}\.\d{1,3}(?:\s|$)|\s*\(\s*#?[245]\.\d{1,3}\.\d{1,3}\)`)
	// trailerRE is what servers append for their own logs: Gmail's
	// "<id> - gsmtp", qmail's "Giving up on <host>."
	// emptyBracketsRE is what codesRE leaves of "(550 5.1.1)".
	emptyBracketsRE = regexp.MustCompile(`\s*(?:\(\s*\)|\[\s*\])`)
	trailerRE       = regexp.MustCompile(`\s+[0-9a-z]{6,}-[0-9a-z.]+ - gsmtp\s*$|\s+- gsmtp\s*$|\s*Giving up on \S+\s*$`)
)

// statusIn finds the first enhanced status code in s, else the class of
// the first SMTP reply code as "5.0.0"; "" when it has neither.
func statusIn(s string) string {
	if m := enhancedRE.FindStringSubmatch(s); m != nil {
		return m[1] + "." + trimZeros(m[2]) + "." + trimZeros(m[3])
	}
	if m := replyRE.FindStringSubmatch(s); m != nil {
		return m[1][:1] + ".0.0"
	}
	return ""
}

func trimZeros(s string) string {
	t := strings.TrimLeft(s, "0")
	if t == "" {
		return "0"
	}
	return t
}

// Words that say what a bounce without a useful code means, in the
// wording of the MTAs and services in testdata/, English and Korean.
var (
	fullWords = []string{"mailbox full", "mailbox is full", "quota", "over quota", "insufficient storage",
		"storage space", "mailbox size limit", "사서함이 가득", "메일함이 가득", "용량 초과", "용량이 초과", "용량을 초과", "저장 공간"}
	greyWords    = []string{"greylist", "graylist", "try again later", "잠시 후 다시"}
	unknownWords = []string{"user unknown", "unknown user", "no such user", "does not exist", "doesn't exist",
		"no mailbox", "mailbox unavailable", "mailbox not found", "recipient not found",
		"invalid recipient", "account that you tried to reach", "doesn't have a", "not a valid", "no such domain",
		"host or domain name not found", "name service error", "domain not found", "couldn't be found",
		"account has been disabled", "account is disabled", "mailbox disabled", "unrouteable address", "unknown local part",
		"존재하지 않", "없는 사용자", "없는 주소", "찾을 수 없", "사용하지 않는", "휴면", "해지된"}
	// blockWords say the receiving side refused the sender or the
	// message (its reputation, a block list, its content, a policy, a
	// rate), not the address: whatever the code, that is soft.
	blockWords = []string{"spam", "block", "blacklist", "black list", "denylist", "reputation", "policy", "policies",
		"dmarc", "spf", "dkim", "rate limit", "rate-limit", "ratelimit", "too many", "throttl", "unsolicited", "junk",
		"rbl", "listed at", "listed in", "listed by", "banned", "not authorized", "unauthorized", "authentication",
		"content filter", "content rejected", "virus",
		"스팸", "차단", "수신거부", "수신 거부", "정책", "대량 발송", "대량발송", "발송 제한", "발송제한", "유해"}
	// failedWords say only that delivery failed for good ("This is a
	// permanent error", "I've given up"): every bounce says that, so
	// alone they are soft, never hard.
	failedWords = []string{"permanent error", "permanent failure", "i've given up", "giving up", "fatal error",
		"영구적", "전송하지 못했습니다", "could not be delivered", "couldn't be delivered"}
	delayWords = []string{"will be retried", "still trying", "still being retried", "delayed", "has not yet been delivered",
		"temporary failure", "will keep trying", "지연"}
)

func containsAny(s string, words []string) bool {
	l := strings.ToLower(s)
	for _, w := range words {
		if strings.Contains(l, w) {
			return true
		}
	}
	return false
}

// namesRE are the addresses, URLs and host names a server's words
// quote: "spam" in "<r@antispam.example>" or "mx.spamexperts.com" says
// nothing about why the message failed.
var namesRE = regexp.MustCompile(`(?i)\S+@\S+|[a-z][a-z0-9+.-]*://\S+|[a-z0-9_-]+(?:\.[a-z0-9_-]+)+\.[a-z]{2,}\b`)

// blocked: the words, less the names they quote, say the sender or the
// message was refused.
func blocked(text string) bool {
	return containsAny(namesRE.ReplaceAllString(text, " "), blockWords)
}

// classify decides the kind of one recipient's failure from the DSN's
// action (or "" for an MTA's text), the status and the server's words.
//
// Hard means the address itself is gone, so it is kept to the failures
// that say so: 5.1.x (bad mailbox, bad domain; but 5.1.7 and 5.1.8 are
// the sender's address), 5.2.1 (mailbox disabled), 5.4.4 (no route to
// the domain), and 5.0.0 or 5.5.x (a bare 550) only when the words say
// the mailbox, user or domain is unknown. Everything else in class 5 is
// soft: a refusal of the sender or the message (spam, a block list, its
// reputation, DMARC/SPF, a rate limit, a policy, in English or Korean:
// 스팸, 차단, 정책), whatever its code, because one blocklisting of the
// sender would otherwise bounce every reader at that provider for good;
// 5.7.x (security, policy), 5.6.x (the message's content), 5.3.x (the
// receiving system), 5.4.7 (delivery time expired), a full mailbox (5.2.2,
// as Gmail, Yahoo and the ESPs count it). A wrong soft costs a few more
// mails (bounces.soft_limit in a row still stops them); a wrong hard
// loses a reader.
func classify(action, status, text string) Kind {
	switch strings.ToLower(action) {
	case "delayed":
		return Delayed
	case "delivered", "relayed", "expanded":
		return ""
	}
	class := ""
	if status != "" {
		class = status[:1]
	}
	switch class {
	case "2":
		return ""
	case "4":
		return Soft
	case "5":
		if blocked(text) || containsAny(text, fullWords) || containsAny(text, greyWords) {
			return Soft
		}
		if addressFailure(status, text) {
			return Hard
		}
		return Soft
	}
	// No code: the words decide; an MTA's "this is a permanent error"
	// alone is a failure of unknown cause, soft.
	switch {
	case blocked(text), containsAny(text, fullWords), containsAny(text, greyWords):
		return Soft
	case containsAny(text, unknownWords):
		return Hard
	case containsAny(text, delayWords):
		return Delayed
	case containsAny(text, failedWords):
		return Soft
	}
	return ""
}

// addressFailure: a class-5 status that says the address is gone (see
// classify).
func addressFailure(status, text string) bool {
	switch {
	case status == "5.1.7" || status == "5.1.8":
		return false // the sender's address
	case strings.HasPrefix(status, "5.1."), status == "5.2.1", status == "5.4.4":
		return true
	case status == "5.0.0" || strings.HasPrefix(status, "5.5."):
		return containsAny(text, unknownWords)
	}
	return false
}

// statusMeaning is RFC 3463's words for the codes bounces carry, for a
// reason when the server gave none of its own.
var statusMeaning = map[string]string{
	"1.0": "other address status", "1.1": "bad destination mailbox address", "1.2": "bad destination system address",
	"1.3": "bad destination mailbox address syntax", "1.6": "destination mailbox has moved",
	"1.10": "recipient address has null MX", "2.0": "other or undefined mailbox status", "2.1": "mailbox disabled",
	"2.2": "mailbox full", "2.3": "message length exceeds administrative limit", "3.0": "other or undefined mail system status",
	"3.4": "message too big for system", "4.0": "other or undefined network or routing status",
	"4.4": "unable to route", "4.7": "delivery time expired", "7.0": "other or undefined security status",
	"7.1": "delivery not authorized, message refused", "0.0": "other undefined status",
}

func meaning(status string) string {
	if len(status) < 5 {
		return ""
	}
	return statusMeaning[status[2:]]
}

// reasonFrom is the server's words without the reply codes, or the
// status's meaning, as one line.
func reasonFrom(text, status string) string {
	text = strings.TrimSpace(text)
	if i := strings.IndexByte(text, ';'); i >= 0 && i < 12 && !strings.Contains(text[:i], " ") {
		text = text[i+1:] // "smtp; 550 ..." / "X-Postfix; ..."
	}
	words := strings.TrimSpace(codesRE.ReplaceAllString(" "+strings.ReplaceAll(strings.Join(strings.Fields(text), " "), "(", "( "), " "))
	words = trailerRE.ReplaceAllString(words, "")
	words = strings.ReplaceAll(words, "( ", "(")
	words = strings.TrimSpace(emptyBracketsRE.ReplaceAllString(words, ""))
	words = strings.TrimLeft(words, ":-# ")
	if words == "" {
		words = meaning(status)
	}
	return oneLine(words, MaxReason)
}
