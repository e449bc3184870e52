package daemon

import (
	"bytes"
	"context"
	"html/template"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/deliver"
	"gull/digest/web"
	"gull/subscribers"
)

// confirmMailer sends the double opt-in mail of the sign-up page
// (web.ConfirmMailer) through the same composer and kind of transport as
// the digest, so it carries the same sender and DKIM signature.
type confirmMailer struct {
	// title is the newsletter's title in each language: a reader's mail
	// is in theirs.
	title    digest.Text
	lang     string // the list's (config language): the desk's mail's title
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

// linkMailHTML is the card of the mails that carry a link (the sign-up
// confirmation, the welcome, the manage link, the desk's sign-in): the
// same look, in the reader's language (the desk's in both).
var linkMailHTML = template.Must(template.New("link").Parse(`<!DOCTYPE html>
<html lang="{{.Lang}}"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title></head>
<body style="margin:0;padding:24px 16px;background:#f4f5f7;font-family:-apple-system,'Apple SD Gothic Neo','Malgun Gothic','Noto Sans KR',sans-serif;line-height:1.6;color:#1f2328;word-break:keep-all">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0"><tr><td align="center">
<table role="presentation" width="100%" cellpadding="0" cellspacing="0" style="max-width:520px;background:#ffffff;border-radius:8px"><tr><td style="padding:28px 24px">
<p style="margin:0 0 16px;font-weight:600">{{.Title}}</p>
<p style="margin:0 0 8px">{{.Ko}}</p>
{{if .En}}<p style="margin:0 0 20px;color:#57606a">{{.En}}</p>
{{end}}{{if .URL}}<p style="margin:0 0 20px"><a href="{{.URL}}" style="display:inline-block;padding:12px 22px;background:#0b6e6e;color:#ffffff;text-decoration:none;border-radius:6px;font-weight:600">{{.Button}}</a></p>
{{end}}{{range .Links}}<p style="margin:0 0 12px"><a href="{{.URL}}" style="color:#0b6e6e">{{.Text}}</a></p>
{{end}}<p style="margin:0;font-size:13px;color:#57606a">{{.KoIgnore}}{{if .EnIgnore}}<br>
{{.EnIgnore}}{{end}}</p>
</td></tr></table></td></tr></table>
</body></html>
`))

// linkMail is one mail of linkMailHTML and its plain-text twin. A mail
// in one language leaves the En fields empty and has its words in the Ko
// ones.
type linkMail struct {
	Lang               string // the <html lang>; "" is ko
	Title, URL, Button string
	// Links are further links, each a line under the button.
	Links              []mailLink
	Ko, En             string // what the link does, for the HTML part
	KoIgnore, EnIgnore string // what to do if it was not you, for the HTML part
	// The text part's own, shorter lines.
	TextKo, TextEn, TextKoIgnore, TextEnIgnore string
}

// mailLink is one more link of a linkMail.
type mailLink struct{ Text, URL string }

// send composes l to msg's reader and hands it to the transport. Each is a
// message of its own (a fresh Message-ID), not a copy of an issue.
func (m *confirmMailer) send(ctx context.Context, msg digest.Message, l linkMail) error {
	if l.Lang == "" {
		l.Lang = "ko"
	}
	var html bytes.Buffer
	if err := linkMailHTML.Execute(&html, l); err != nil {
		return err
	}
	msg.HTML = html.String()
	msg.Text = linkMailText(l)
	msg.Test = true
	out, err := m.composer.Compose(msg, time.Now())
	if err != nil {
		return err
	}
	return m.tr.Send(ctx, out)
}

// linkMailText is the plain-text part of l: its lines, the empty ones
// (the other language of a mail in one) left out.
func linkMailText(l linkMail) string {
	lines := []string{l.Title, ""}
	add := func(group ...string) {
		n := len(lines)
		for _, s := range group {
			if s != "" {
				lines = append(lines, s)
			}
		}
		if len(lines) > n {
			lines = append(lines, "")
		}
	}
	add(l.TextKo, l.TextEn)
	add(l.URL)
	for _, k := range l.Links {
		add(k.Text+":", k.URL)
	}
	add(l.TextKoIgnore, l.TextEnIgnore)
	return strings.Join(lines, "\n")
}

// readerMail is a mail to sub in their language (the pages set it): the
// Korean words when it is ko, else the English.
func (m *confirmMailer) readerMail(sub subscribers.Subscriber, subject [2]string, l [2]linkMail) (digest.Message, linkMail) {
	i := 1
	if sub.Language == "ko" {
		i = 0
	}
	mail := l[i]
	mail.Lang, mail.Title = sub.Language, m.title.In(sub.Language)
	if mail.Lang == "" {
		mail.Lang = "en"
	}
	return digest.Message{To: sub.Email, ToName: sub.Name, Subject: mail.Title + ": " + subject[i]}, mail
}

// SendConfirmation mails sub the link that confirms their sign-up, in
// their language.
func (m *confirmMailer) SendConfirmation(ctx context.Context, sub subscribers.Subscriber, confirmURL string) error {
	ko, en := m.title.In("ko"), m.title.In("en")
	msg, l := m.readerMail(sub, [2]string{"구독을 확인해 주세요", "Please confirm your subscription"}, [2]linkMail{{
		URL: confirmURL, Button: "구독 확인",
		Ko:           ko + " 구독 신청을 받았습니다. 아래 버튼을 누르면 구독이 시작됩니다. 링크는 7일 동안 쓸 수 있습니다.",
		KoIgnore:     "직접 신청하지 않았다면 이 메일을 무시해 주세요. 링크를 열지 않으면 아무 메일도 보내지 않습니다.",
		TextKo:       ko + " 구독 신청을 받았습니다. 아래 링크를 열면 구독이 시작됩니다(7일 동안 유효).",
		TextKoIgnore: "직접 신청하지 않았다면 이 메일을 무시해 주세요.",
	}, {
		URL: confirmURL, Button: "Confirm",
		Ko:           "We received a request to send " + en + " to this address. Press the button to confirm; the link works for 7 days.",
		KoIgnore:     "If it was not you, ignore this mail: nothing more is sent unless the link is opened.",
		TextKo:       "We received a request to send " + en + " to this address. Open the link to confirm; it works for 7 days.",
		TextKoIgnore: "If it was not you, ignore this mail: nothing more is sent unless the link is opened.",
	}})
	msg.IssueID = confirmIssueID
	return m.send(ctx, msg, l)
}

// welcomeIssueID and manageIssueID name the welcome and manage-link mails
// where an issue id goes.
const (
	welcomeIssueID = "welcome"
	manageIssueID  = "manage"
)

// SendWelcome mails sub, who just confirmed, the latest issue's web page
// (or that the first comes on the schedule), and how to change their
// preferences or leave (web.ConfirmMailer).
func (m *confirmMailer) SendWelcome(ctx context.Context, sub subscribers.Subscriber, w web.Welcome) error {
	koIntro, enIntro := "구독해 주셔서 고맙습니다. 매주 새 호를 이 주소로 보내 드립니다. 최신 호는 웹에서 바로 읽을 수 있습니다.",
		"Thank you for subscribing. Each week's issue comes to this address; the latest one is on the web now."
	if w.IssueURL == "" {
		koIntro, enIntro = "구독해 주셔서 고맙습니다. 아직 나온 호가 없습니다. 첫 호는 정해진 발송 일정에 맞춰 이 주소로 보내 드립니다.",
			"Thank you for subscribing. No issue has come out yet: the first one comes to this address on the schedule."
	} else if l := sub.Language; (l == "ko" || l == "en") && l != m.lang {
		// The archive's page in the reader's language, not the list's.
		w.IssueURL += "?lang=" + l
	}
	msg, l := m.readerMail(sub, [2]string{"구독을 환영합니다", "Welcome"}, [2]linkMail{{
		URL: w.IssueURL, Button: "최신 호 읽기",
		Links:        []mailLink{{"구독 설정 바꾸기 (언어, 주제)", w.PreferencesURL}, {"구독 해지", w.UnsubscribeURL}},
		Ko:           koIntro,
		TextKo:       koIntro,
		KoIgnore:     "언어와 주제는 언제든 구독 설정에서 바꿀 수 있습니다.",
		TextKoIgnore: "언어와 주제는 언제든 구독 설정에서 바꿀 수 있습니다.",
	}, {
		URL: w.IssueURL, Button: "Read the latest issue",
		Links:        []mailLink{{"Change your preferences (language, themes)", w.PreferencesURL}, {"Unsubscribe", w.UnsubscribeURL}},
		Ko:           enIntro,
		TextKo:       enIntro,
		KoIgnore:     "You can change your language and themes at any time.",
		TextKoIgnore: "You can change your language and themes at any time.",
	}})
	msg.IssueID = welcomeIssueID
	return m.send(ctx, msg, l)
}

// SendManageLink mails sub the link to their preferences they asked for
// on /manage (web.ConfirmMailer).
func (m *confirmMailer) SendManageLink(ctx context.Context, sub subscribers.Subscriber, preferencesURL string) error {
	msg, l := m.readerMail(sub, [2]string{"구독 설정 링크", "Your preferences link"}, [2]linkMail{{
		URL: preferencesURL, Button: "구독 설정 열기",
		Ko:           "구독 관리 링크를 요청하셨습니다. 아래 버튼을 누르면 언어와 주제를 바꾸거나 구독을 해지할 수 있습니다.",
		TextKo:       "구독 관리 링크를 요청하셨습니다. 아래 링크에서 언어와 주제를 바꾸거나 구독을 해지할 수 있습니다.",
		KoIgnore:     "직접 요청하지 않았다면 이 메일을 무시해 주세요. 아무것도 바뀌지 않습니다.",
		TextKoIgnore: "직접 요청하지 않았다면 이 메일을 무시해 주세요.",
	}, {
		URL: preferencesURL, Button: "Open your preferences",
		Ko:           "You asked for a link to manage your subscription. Press the button to change your language and themes, or to unsubscribe.",
		TextKo:       "You asked for a link to manage your subscription. Open it to change your language and themes, or to unsubscribe.",
		KoIgnore:     "If it was not you, ignore this mail: nothing changes.",
		TextKoIgnore: "If it was not you, ignore this mail: nothing changes.",
	}})
	msg.IssueID = manageIssueID
	return m.send(ctx, msg, l)
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
		Subject: m.title.In(m.lang) + ": 편집 데스크 로그인 / Sign in to the desk",
	}, linkMail{
		Title: m.title.In(m.lang), URL: link, Button: "데스크 열기 / Open the desk",
		Ko:           "편집 데스크 로그인 링크입니다. 15분 동안 한 번만 쓸 수 있습니다.",
		En:           "Your sign-in link to the editor's desk of " + m.title.In(m.lang) + ". It works once, for 15 minutes.",
		KoIgnore:     "직접 요청하지 않았다면 이 메일을 무시해 주세요.",
		EnIgnore:     "If it was not you, ignore this mail: the link signs in nobody unless it is opened.",
		TextKo:       "편집 데스크 로그인 링크입니다(15분 동안 한 번만 유효).",
		TextEn:       "Your sign-in link to the editor's desk. It works once, for 15 minutes.",
		TextKoIgnore: "직접 요청하지 않았다면 이 메일을 무시해 주세요.",
		TextEnIgnore: "If it was not you, ignore this mail.",
	})
}
