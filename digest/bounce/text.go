package bounce

import (
	"mime"
	"net/mail"
	"net/textproto"
	"regexp"
	"strings"
)

func parseMediaType(v string) (string, map[string]string, error) {
	media, params, err := mime.ParseMediaType(v)
	if params == nil {
		params = map[string]string{}
	}
	return strings.ToLower(media), params, err
}

// The words by which the mail services in testdata/ name their bounces
// (subjects) and themselves (senders).
var (
	bounceSubjects = []string{"undeliver", "delivery status notification", "mail delivery failed", "failure notice",
		"returned mail", "delivery failure", "could not be delivered", "delivery has failed", "delivery failed",
		"mail delivery subsystem", "delivery notification", "delayed mail", "warning: message", "mail delivery problem",
		"non remis", "nicht zustellbar", "반송", "전송 실패", "발송 실패", "배달 실패", "전달 실패", "전송 지연", "전송실패", "발송실패"}
	daemonLocals  = []string{"mailer-daemon", "postmaster", "mail-daemon", "maildaemon", "mailerdaemon", "mdaemon", "bounce", "bounces"}
	daemonNames   = []string{"mail delivery", "mailer-daemon", "postmaster", "mail administrator", "메일 전송 시스템", "메일 시스템"}
	autoSubjects  = []string{"out of office", "automatic reply", "auto reply", "autoreply", "auto-reply", "vacation", "away from", "자동 회신", "자동회신", "자동 응답", "부재"}
	deliveryWords = []string{"could not be delivered", "wasn't able to deliver", "was not able to deliver", "unable to deliver",
		"delivery to the following", "following address", "permanent error", "permanent failure", "delivery has failed",
		"couldn't be delivered", "undeliverable", "전송하지 못했습니다", "전달되지 못했습니다", "전송되지 않았습니다", "발송되지 못했습니다", "반송되었습니다"}
)

// looksLikeBounce: a mailer daemon (or the null sender) writing about a
// delivery. An auto-reply, a person's reply quoting a bounce, or a
// newsletter is none.
func (m *message) looksLikeBounce() bool {
	if m.header.Get("X-Failed-Recipients") != "" {
		return true
	}
	subject := headerText(m.header, "Subject")
	daemon := strings.TrimSpace(m.header.Get("Return-Path")) == "<>"
	if a, err := mail.ParseAddress(headerText(m.header, "From")); err == nil {
		local, _, _ := strings.Cut(strings.ToLower(a.Address), "@")
		for _, d := range daemonLocals {
			if local == d || strings.HasPrefix(local, d+"+") || strings.HasPrefix(local, d+"-") {
				daemon = true
			}
		}
		if containsAny(a.Name, daemonNames) {
			daemon = true
		}
	}
	if containsAny(subject, autoSubjects) || m.header.Get("X-Autoreply") != "" || m.header.Get("X-Autorespond") != "" {
		return false
	}
	if !daemon {
		return false
	}
	if containsAny(subject, bounceSubjects) {
		return true
	}
	for _, p := range m.parts {
		if strings.HasPrefix(p.media, "text/") && containsAny(plainText(p), deliveryWords) {
			return true
		}
	}
	return false
}

// separators start the copy of the original in a plain-text bounce
// (qmail, Yahoo; Exim; Postfix's old form; Exchange; Korean services).
var separators = []string{
	"below this line is a copy of the message", "this is a copy of the message", "this is a copy of the headers",
	"original message follows", "----- original message", "-----original message-----", "--- the header of the original message",
	"original message headers", "the original message was", "원본 메시지", "원본 메일", "----- transcript of session follows",
}

// addrLineRE is a line that names a failed address: on its own, in
// brackets, followed by ":" and the server's words (Postfix, qmail,
// Yahoo), with the address again in parentheses (Exchange), after a
// label (Korean services: 받는 사람, 수신자), followed by the date it
// failed (Exchange's "ADDR on 12/7/2026 3:12 AM"), or followed by a
// Korean particle and a sentence (Daum's "ADDR 님에게 보내신 메일이
// 반송되었습니다", Gmail's "ADDR 주소를 찾을 수 없거나 ..."): the
// sentence is the headline, not the reason, which follows it.
var addrLineRE = regexp.MustCompile(`(?i)^\s*(?:(?:failed recipient|final recipient|recipient(?: address)?|to|address|받는\s*사람|받는\s*분|수신자|수신인|받는\s*주소|수신\s*주소)\s*[:：]\s*)?` +
	`<?([^\s<>()"':;,\[\]]+@[\p{L}\p{N}.\-_]+[\p{L}\p{N}])>?\s*(?:\([^)]*\)|\[[^\]]*\])?\s*` +
	`(?:[:：]\s*(.*)|on\s+\d{1,4}[/.\-]\d{1,2}[/.\-]\d{1,4}\b.*|(?:님에게|님께|님|에게|주소를|주소로|주소에|으로|로)(?:\s.*)?)?$`)

// reasonLineRE is a labelled reason (Korean services, some webmail):
// "label: words", or the label and the words in two cells of an HTML
// table (plainText separates cells with a tab).
var reasonLineRE = regexp.MustCompile(`(?i)^\s*(?:reason|error|diagnostic(?:-code)?|remote server said|실패\s*사유|반송\s*사유|사유|오류\s*내용|오류|원인)(?:\s*[:：]|[ ]*\t)\s*(\S.*)$`)

// text reads an MTA's own wording: the failed addresses, each with the
// server's words that follow it, and the quoted original's header.
func (m *message) text(r *Report) {
	if r.Format == "" {
		r.Format = "text"
	}
	body := m.bodyText()
	head, quoted := splitOriginal(body)
	if m.original == nil && quoted != "" {
		m.original = quotedHeader(quoted)
	}
	own := m.ownAddresses()
	lines := strings.Split(head, "\n")
	if len(lines) > 2000 {
		lines = lines[:2000]
	}
	labelled := ""
	for _, l := range lines {
		if mm := reasonLineRE.FindStringSubmatch(l); mm != nil && labelled == "" {
			labelled = mm[1]
		}
	}
	type named struct{ addr, words string }
	var names []named
	for i := 0; i < len(lines); i++ {
		mm := addrLineRE.FindStringSubmatch(lines[i])
		if mm == nil || own[strings.ToLower(mm[1])] || isDaemon(mm[1]) {
			continue
		}
		block := []string{mm[2]}
		for j := i + 1; j < len(lines) && j <= i+8; j++ {
			t := strings.TrimSpace(lines[j])
			if t == "" || addrLineRE.MatchString(lines[j]) || hasSeparator(t) {
				break
			}
			if rm := reasonLineRE.FindStringSubmatch(t); rm != nil {
				t = rm[1]
			}
			block = append(block, t)
		}
		names = append(names, named{mm[1], strings.TrimSpace(strings.Join(block, " "))})
	}
	for _, n := range names {
		if n.words == "" && len(names) == 1 {
			// The only address named: the text's reason is its own
			// (Gmail's Korean bounce gives it paragraphs below).
			n.words = firstCodeLine(head, labelled)
		} else if n.words == "" {
			n.words = labelled
		}
		r.add(textRecipient(n.addr, n.words, head))
	}
	for _, v := range m.header.Values("X-Failed-Recipients") {
		for _, a := range strings.Split(v, ",") {
			if a = addrOf(a); a != "" {
				r.add(textRecipient(a, firstCodeLine(head, labelled), head))
			}
		}
	}
	if len(r.Recipients) == 0 {
		// Nobody named: the return path or the Message-ID may still say
		// whose copy it was.
		if rc := textRecipient("", firstCodeLine(head, labelled), head); rc.Kind != "" {
			r.Recipients = append(r.Recipients, rc)
		}
	}
}

// textRecipient classifies addr's failure from the words beside it,
// then from the whole text ("This is a permanent error").
func textRecipient(addr, words, all string) Recipient {
	words = serverWords(words)
	status := statusIn(words)
	kind := classify("", status, words)
	if kind == "" && status == "" {
		// Its own words say nothing: the whole text may ("This is a
		// permanent error: the mailbox does not exist"). Never when
		// its own status said something else (a 2.x.x, say).
		kind = classify("", "", all)
	}
	if status == "" && kind == Hard {
		status = "5.0.0"
	}
	rc := Recipient{Address: normalizeIf(addr), Kind: kind, Status: status, Action: "failed", Reason: reasonFrom(words, status)}
	if kind == Delayed {
		rc.Action = "delayed"
	}
	return rc
}

func normalizeIf(a string) string {
	if a == "" {
		return ""
	}
	return normalize(a)
}

// exchangeDiagRE is the remote server's reply in an old Exchange
// NDR's diagnostic line ("<EX02.example #5.1.1 smtp;550 5.1.1 User
// unknown>"), below Exchange's own sentence.
var exchangeDiagRE = regexp.MustCompile(`<\S+ #[245]\.\d{1,3}\.\d{1,3} smtp;\s*([^>]*[^>\s])\s*>`)

// serverWords drops what an MTA says before the remote server's reply
// ("host mx.example[192.0.2.1] said:", "SMTP error from remote mail
// server after RCPT TO:<...>:"); words without such a preamble (a
// Korean service's own sentence with the code in brackets) stay whole.
func serverWords(words string) string {
	if m := exchangeDiagRE.FindStringSubmatch(words); m != nil {
		return m[1]
	}
	loc := enhancedRE.FindStringIndex(words)
	if loc == nil {
		loc = replyRE.FindStringIndex(words)
	}
	if loc == nil {
		return words
	}
	pre := strings.ToLower(words[:loc[0]])
	if strings.TrimSpace(pre) == "" || strings.Contains(pre, "said") || strings.Contains(pre, "host ") ||
		strings.Contains(pre, "smtp error") || strings.Contains(pre, "reason:") {
		return words[loc[0]:]
	}
	return words
}

// firstCodeLine is the first line of text with an SMTP code, else the
// labelled reason, else the first line whose words say what failed.
func firstCodeLine(text, labelled string) string {
	lines := strings.Split(text, "\n")
	for _, l := range lines {
		if enhancedRE.MatchString(l) || replyRE.MatchString(l) {
			if rm := reasonLineRE.FindStringSubmatch(l); rm != nil {
				return rm[1] // the words, not their label
			}
			return l
		}
	}
	if labelled != "" {
		return labelled
	}
	for _, words := range [][]string{unknownWords, fullWords, greyWords, blockWords, failedWords} {
		for _, l := range lines {
			if containsAny(l, words) {
				return l
			}
		}
	}
	return ""
}

// bodyText is the bounce's own words: its text parts (plain preferred to
// HTML), not the original it attaches.
func (m *message) bodyText() string {
	var plain, html []string
	for _, p := range m.parts {
		switch p.media {
		case "text/plain":
			plain = append(plain, plainText(p))
		case "text/html":
			html = append(html, plainText(p))
		}
	}
	if len(plain) == 0 {
		plain = html
	}
	return strings.Join(plain, "\n\n")
}

func hasSeparator(line string) bool {
	return containsAny(line, separators)
}

// splitOriginal cuts text at the line that starts the quoted original.
func splitOriginal(text string) (head, quoted string) {
	off := 0
	for _, l := range strings.SplitAfter(text, "\n") {
		if hasSeparator(l) {
			return text[:off], text[off+len(l):]
		}
		off += len(l)
	}
	return text, ""
}

var headerLineRE = regexp.MustCompile(`(?m)^(?:Return-Path|Received|Message-I[dD]|From|To|Subject|Date|MIME-Version):`)

// quotedHeader reads the original's header from the text after the
// separator.
func quotedHeader(quoted string) textproto.MIMEHeader {
	loc := headerLineRE.FindStringIndex(quoted)
	if loc == nil {
		return nil
	}
	return readHeader([]byte(strings.ReplaceAll(quoted[loc[0]:], "\n", "\r\n")))
}

// ownAddresses are the addresses a bounce names that are not a
// recipient: the bounce's own From and To (our return path).
func (m *message) ownAddresses() map[string]bool {
	own := map[string]bool{}
	for _, k := range []string{"From", "To", "Delivered-To", "X-Original-To", "Return-Path", "Sender", "Reply-To"} {
		for _, v := range m.header.Values(k) {
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					own[strings.ToLower(a.Address)] = true
				}
			}
		}
	}
	if o := m.original; o != nil {
		for _, k := range []string{"From", "Return-Path", "Sender", "Reply-To"} {
			if a := addrOf(o.Get(k)); a != "" {
				own[strings.ToLower(a)] = true
			}
			if a, err := mail.ParseAddress(headerText(o, k)); err == nil {
				own[strings.ToLower(a.Address)] = true
			}
		}
	}
	return own
}

func isDaemon(addr string) bool {
	local, _, _ := strings.Cut(strings.ToLower(addr), "@")
	for _, d := range daemonLocals {
		if local == d {
			return true
		}
	}
	return false
}
