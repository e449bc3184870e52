package bounce

import (
	"bytes"
	"net/mail"
	"net/textproto"
	"strings"
	"unicode/utf8"

	"gull/subscribers"
)

// Parse reads one message from the bounce mailbox. It returns a Report
// for a bounce (a failure or a delay) or a complaint, ErrNotBounce for
// anything else, ErrUnreadable for a mailer daemon's message it cannot
// read, ErrTooLarge past MaxSize.
func Parse(raw []byte) (Report, error) {
	if len(raw) > MaxSize {
		return Report{}, ErrTooLarge
	}
	m, err := readMessage(raw)
	if err != nil {
		return Report{}, err
	}
	r := Report{Subject: oneLine(headerText(m.header, "Subject"), MaxReason)}
	media, params := m.contentType()
	reportType := strings.ToLower(params["report-type"])
	switch {
	case reportType == "feedback-report" || m.has("message/feedback-report"):
		if !m.complaint(&r) {
			return Report{}, ErrNotBounce
		}
	case reportType == "delivery-status" || reportType == "global-delivery-status" ||
		m.has("message/delivery-status") || m.has("message/global-delivery-status"):
		m.dsn(&r)
		if len(r.Recipients) == 0 && m.looksLikeBounce() {
			// A report whose fields we cannot use: its text may.
			m.text(&r)
		}
	case media == "multipart/report":
		return Report{}, ErrNotBounce // another kind of report (e.g. a read receipt, RFC 8098)
	default:
		if !m.looksLikeBounce() {
			return Report{}, ErrNotBounce
		}
		m.text(&r)
	}
	m.envelope(&r)
	return finish(r)
}

// finish sets the report's overall kind and refuses a report that says
// nothing to act on.
func finish(r Report) (Report, error) {
	for _, rc := range r.Recipients {
		if rc.Kind.rank() > r.Kind.rank() {
			r.Kind = rc.Kind
		}
	}
	if r.Kind == "" {
		if r.Format == "dsn" {
			return Report{}, ErrNotBounce // every recipient delivered, relayed or expanded
		}
		return Report{}, ErrUnreadable
	}
	return r, nil
}

func (m *message) contentType() (string, map[string]string) {
	media, params, _ := parseMediaType(m.header.Get("Content-Type"))
	return media, params
}

func (m *message) has(media string) bool {
	for _, p := range m.parts {
		if p.media == media {
			return true
		}
	}
	return false
}

// dsn reads the message/delivery-status part: a block of per-message
// fields, then one block per recipient (RFC 3464 §2.2, §2.3).
func (m *message) dsn(r *Report) {
	r.Format = "dsn"
	for _, p := range m.parts {
		if p.media != "message/delivery-status" && p.media != "message/global-delivery-status" {
			continue
		}
		// global-delivery-status is UTF-8; plain delivery-status is ASCII.
		for _, h := range fieldBlocks(toUTF8(p.body, "")) {
			if v := h.Get("X-Postfix-Sender"); v != "" {
				r.ReturnPaths = append(r.ReturnPaths, addrOf(v))
			}
			if v := h.Get("X-Original-Message-Id"); v != "" && r.MessageID == "" {
				r.MessageID = messageID(v)
			}
			final, orig := h.Get("Final-Recipient"), h.Get("Original-Recipient")
			if final == "" && orig == "" {
				continue
			}
			action := strings.ToLower(strings.TrimSpace(h.Get("Action")))
			diag := h.Get("Diagnostic-Code")
			status := statusIn(h.Get("Status"))
			// A generic Status (5.0.0) where the server said more.
			if d := statusIn(diag); d != "" && (status == "" || strings.HasSuffix(status, ".0.0") && d[0] == status[0]) {
				status = d
			}
			rc := Recipient{Address: addrOf(final), Original: addrOf(orig), Action: action, Status: status}
			if rc.Address == "" {
				rc.Address = rc.Original
			}
			rc.Kind = classify(action, status, diag)
			rc.Reason = reasonFrom(diag, status)
			if rc.Kind != "" {
				r.add(rc)
			}
		}
	}
}

// fieldBlocks splits a delivery-status or feedback-report body into its
// header-like blocks.
func fieldBlocks(body []byte) []textproto.MIMEHeader {
	body = bytes.ReplaceAll(body, []byte("\r\n"), []byte("\n"))
	var out []textproto.MIMEHeader
	for _, block := range bytes.Split(body, []byte("\n\n")) {
		block = bytes.TrimLeft(block, "\n")
		if len(bytes.TrimSpace(block)) == 0 {
			continue
		}
		out = append(out, readHeader(append(block, '\n', '\n')))
		if len(out) >= maxParts {
			break
		}
	}
	return out
}

// complaint reads an ARF report (RFC 5965): the feedback-report part and
// the original message or its headers. False for reports that are not a
// reader's complaint (not-spam, auth-failure).
func (m *message) complaint(r *Report) bool {
	r.Format = "arf"
	var fb textproto.MIMEHeader
	for _, p := range m.parts {
		if p.media == "message/feedback-report" {
			if blocks := fieldBlocks(p.body); len(blocks) > 0 {
				fb = blocks[0]
			}
			break
		}
	}
	if fb == nil {
		return false
	}
	ftype := strings.ToLower(strings.TrimSpace(fb.Get("Feedback-Type")))
	switch ftype {
	case "abuse", "fraud", "virus", "other", "":
	default:
		return false // not-spam, auth-failure (RFC 6591): nobody complained
	}
	if ftype == "" {
		ftype = "abuse"
	}
	if v := fb.Get("Original-Mail-From"); v != "" {
		r.ReturnPaths = append(r.ReturnPaths, addrOf(v))
	}
	reason := "marked as spam (" + ftype + ")"
	if ua := oneLine(fb.Get("User-Agent"), 80); ua != "" {
		reason += " via " + ua
	}
	rc := Recipient{Kind: Complaint, Action: "complained", Reason: oneLine(reason, MaxReason)}
	for _, v := range fb.Values("Original-Rcpt-To") {
		rc.Address = addrOf(v)
		r.add(rc)
	}
	for _, v := range fb.Values("Removal-Recipient") {
		rc.Address = addrOf(v)
		r.add(rc)
	}
	if len(r.Recipients) == 0 && m.original != nil {
		// Most loops keep the original's To (some redact it).
		if a, err := mail.ParseAddress(headerText(m.original, "To")); err == nil && !redacted(a.Address) {
			rc.Address = normalize(a.Address)
			r.add(rc)
		}
	}
	if len(r.Recipients) == 0 {
		// The provider removed the address: the return path or the
		// Message-ID still names the reader.
		r.Kind = Complaint
		r.Recipients = []Recipient{{Kind: Complaint, Action: "complained", Reason: rc.Reason}}
	}
	return true
}

// redacted is an address a feedback loop blanked ("redacted@...",
// "xxxxx@...").
func redacted(a string) bool {
	l := strings.ToLower(a)
	local, _, _ := strings.Cut(l, "@")
	return strings.Contains(local, "redacted") || strings.Trim(local, "x*") == ""
}

// envelope gathers the original's Message-ID and every address that may
// hold the return-path token.
func (m *message) envelope(r *Report) {
	for _, k := range []string{"X-Original-To", "Delivered-To", "To", "Envelope-To"} {
		for _, v := range m.header.Values(k) {
			if list, err := mail.ParseAddressList(v); err == nil {
				for _, a := range list {
					r.ReturnPaths = append(r.ReturnPaths, a.Address)
				}
			} else if a := addrOf(v); a != "" {
				r.ReturnPaths = append(r.ReturnPaths, a)
			}
		}
	}
	if o := m.original; o != nil {
		if r.MessageID == "" {
			r.MessageID = messageID(o.Get("Message-Id"))
		}
		if v := o.Get("Return-Path"); v != "" {
			r.ReturnPaths = append(r.ReturnPaths, addrOf(v))
		}
	}
	seen := map[string]bool{}
	out := r.ReturnPaths[:0]
	for _, a := range r.ReturnPaths {
		if k := strings.ToLower(a); a != "" && !seen[k] && len(a) <= maxAddress && utf8.ValidString(a) && !strings.ContainsAny(a, " \t\r\n") {
			seen[k] = true
			out = append(out, a)
		}
	}
	r.ReturnPaths = out
}

// add appends rc unless its address is already there or it says
// nothing (no kind: words that are neither a failure nor a delay).
func (r *Report) add(rc Recipient) {
	if rc.Kind == "" {
		return
	}
	for i, have := range r.Recipients {
		if rc.Address != "" && strings.EqualFold(have.Address, rc.Address) {
			if have.Reason == "" || have.Status == "" && rc.Status != "" {
				r.Recipients[i] = rc
			}
			return
		}
	}
	if len(r.Recipients) < maxRecipients {
		r.Recipients = append(r.Recipients, rc)
	}
}

// addrOf is the address in a DSN field ("rfc822; a@b", "RFC822;<a@b>",
// "utf-8; ..."), a Return-Path or a bare address, normalized.
func addrOf(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, ';'); i >= 0 && !strings.Contains(v[:i], "@") {
		v = strings.TrimSpace(v[i+1:])
	}
	if a, err := mail.ParseAddress(v); err == nil {
		v = a.Address
	}
	v = strings.Trim(v, "<> \t")
	if !strings.Contains(v, "@") || strings.ContainsAny(v, " \t\r\n") || len(v) > maxAddress || !utf8.ValidString(v) {
		return ""
	}
	return normalize(v)
}

// normalize spells an address as the list does, so a caller can look it
// up; one the list would not take is kept as given.
func normalize(a string) string {
	if n, err := subscribers.NormalizeEmail(a); err == nil {
		return n
	}
	return a
}

// messageID is the first <...> in v, or v in brackets.
func messageID(v string) string {
	v = strings.TrimSpace(v)
	if i := strings.IndexByte(v, '<'); i >= 0 {
		if j := strings.IndexByte(v[i:], '>'); j > 0 {
			return v[i : i+j+1]
		}
	}
	if v == "" || strings.ContainsAny(v, " \t<>") {
		return ""
	}
	return "<" + v + ">"
}
