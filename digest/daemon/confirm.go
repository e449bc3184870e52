package daemon

import (
	"bytes"
	"context"
	"html/template"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/deliver"
	"gull/subscribers"
)

// confirmMailer sends the double opt-in mail of the sign-up page
// (web.ConfirmMailer) through the same composer and kind of transport as
// the digest, so it carries the same sender and DKIM signature.
type confirmMailer struct {
	title    string
	composer deliver.Composer
	tr       deliver.Transport
	// No stop of its own: SendConfirmation runs under the sign-up queue's
	// context, which the shutdown ends when the sign-ups' share of the
	// grace is over (siteHolder.stop). Ending it at SIGTERM instead would
	// drop at once the confirmations of people just told to check their
	// inbox, with the mail server working.
}

// confirmIssueID names the confirmation mails where an issue id goes (the
// outbox's folder, the Message-ID's seed).
const confirmIssueID = "confirm"

// linkMailHTML is the card of the mails that carry one link (the sign-up
// confirmation, the desk's sign-in): the same look, in both languages.
var linkMailHTML = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="ko"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body style="margin:0;padding:24px 16px;background:#f4f5f7;font-family:-apple-system,'Apple SD Gothic Neo','Malgun Gothic','Noto Sans KR',sans-serif;line-height:1.6;color:#1f2328;word-break:keep-all">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:520px;background:#ffffff;border-radius:8px"><tr><td style="padding:28px 24px">
<p style="margin:0 0 16px;font-weight:600">{{.Title}}</p>
<p style="margin:0 0 8px">{{.Ko}}</p>
<p style="margin:0 0 20px;color:#57606a">{{.En}}</p>
<p style="margin:0 0 20px"><a href="{{.URL}}" style="display:inline-block;padding:12px 22px;background:#0b6e6e;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">{{.Button}}</a></p>
<p style="margin:0;font-size:13px;color:#57606a">{{.KoIgnore}}<br>
{{.EnIgnore}}</p>
</td></tr></table></td></tr></table>
</body></html>
`))

// linkMail is one mail of linkMailHTML and its plain-text twin.
type linkMail struct {
	Title, URL, Button string
	Ko, En             string // what the link does, for the HTML part
	KoIgnore, EnIgnore string // what to do if it was not you, for the HTML part
	// The text part's own, shorter lines.
	TextKo, TextEn, TextKoIgnore, TextEnIgnore string
}

// send composes l to msg's reader and hands it to the transport. Each is a
// message of its own (a fresh Message-ID), not a copy of an issue.
func (m *confirmMailer) send(ctx context.Context, msg digest.Message, l linkMail) error {
	var html bytes.Buffer
	if err := linkMailHTML.Execute(&html, l); err != nil {
		return err
	}
	msg.HTML = html.String()
	msg.Text = strings.Join([]string{
		l.Title, "", l.TextKo, l.TextEn, "", l.URL, "", l.TextKoIgnore, l.TextEnIgnore, "",
	}, "\n")
	msg.Test = true
	out, err := m.composer.Compose(msg, time.Now())
	if err != nil {
		return err
	}
	return m.tr.Send(ctx, out)
}

// SendConfirmation mails sub the link that confirms their sign-up.
func (m *confirmMailer) SendConfirmation(ctx context.Context, sub subscribers.Subscriber, confirmURL string) error {
	return m.send(ctx, digest.Message{
		IssueID: confirmIssueID,
		To:      sub.Email,
		ToName:  sub.Name,
		Subject: m.title + ": 구독을 확인해 주세요 / Please confirm your subscription",
	}, linkMail{
		Title: m.title, URL: confirmURL, Button: "구독 확인 / Confirm",
		Ko:           "구독 신청을 받았습니다. 아래 버튼을 누르면 구독이 시작됩니다. 링크는 7일 동안 쓸 수 있습니다.",
		En:           "We received a request to send " + m.title + " to this address. Press the button to confirm; the link works for 7 days.",
		KoIgnore:     "직접 신청하지 않았다면 이 메일을 무시해 주세요. 링크를 열지 않으면 아무 메일도 보내지 않습니다.",
		EnIgnore:     "If it was not you, ignore this mail: nothing more is sent unless the link is opened.",
		TextKo:       "구독 신청을 받았습니다. 아래 링크를 열면 구독이 시작됩니다(7일 동안 유효).",
		TextEn:       "We received a request to send " + m.title + " to this address. Open the link to confirm; it works for 7 days.",
		TextKoIgnore: "직접 신청하지 않았다면 이 메일을 무시해 주세요.",
		TextEnIgnore: "If it was not you, ignore this mail: nothing more is sent unless the link is opened.",
	})
}

// deskLinkIssueID names the desk's sign-in mails where an issue id goes.
const deskLinkIssueID = "desk"

// SendDeskLink mails an editor their sign-in link to the desk
// (web.DeskMailer), as the confirmations go: same composer, same
// transport. The link is a secret: it is in the mail, never in the log.
func (m *confirmMailer) SendDeskLink(ctx context.Context, to, link string) error {
	return m.send(ctx, digest.Message{
		IssueID: deskLinkIssueID,
		To:      to,
		Subject: m.title + ": 편집 데스크 로그인 / Sign in to the desk",
	}, linkMail{
		Title: m.title, URL: link, Button: "데스크 열기 / Open the desk",
		Ko:           "편집 데스크 로그인 링크입니다. 15분 동안 한 번만 쓸 수 있습니다.",
		En:           "Your sign-in link to the editor's desk of " + m.title + ". It works once, for 15 minutes.",
		KoIgnore:     "직접 요청하지 않았다면 이 메일을 무시해 주세요.",
		EnIgnore:     "If it was not you, ignore this mail: the link signs in nobody unless it is opened.",
		TextKo:       "편집 데스크 로그인 링크입니다(15분 동안 한 번만 유효).",
		TextEn:       "Your sign-in link to the editor's desk. It works once, for 15 minutes.",
		TextKoIgnore: "직접 요청하지 않았다면 이 메일을 무시해 주세요.",
		TextEnIgnore: "If it was not you, ignore this mail.",
	})
}
