package web

import (
	"html/template"
)

// The subscriber pages: small, plain, bilingual (Korean first, then
// English), no JavaScript, readable on a phone. Every value is escaped by
// html/template. Each page defines "ko" and "en" (its heading, also used
// in <title>) and "body"; they are parsed once, when the program starts,
// so a broken page fails start-up and not a reader's click.

// pageData is everything a subscriber page shows. Per-request values
// only; the words live in the templates.
type pageData struct {
	Title string // the newsletter's title

	// Token is the verified link token, sent back in a hidden field by the
	// forms that POST to themselves.
	Token string
	// Email is what the reader typed, to fill the sign-up form again; on
	// the confirm page, the address confirmed, partly masked.
	Email string
	// Themes are the checkboxes of the sign-up and preferences forms.
	Themes []themeBox
	// Problem, in English, says what was wrong with the form (a Go error's
	// words); ProblemKo says it in Korean.
	Problem, ProblemKo string

	PreferencesURL, UnsubscribeURL string
	// Saved: the preferences were just saved. NotActive: the subscriber
	// does not get the newsletter right now. Delayed: confirmation mails
	// are waiting for the site's hourly budget.
	Saved, NotActive, Delayed bool

	// Fail is the error page's message.
	Fail failure
}

// themeBox is one checkbox.
type themeBox struct {
	ID, Name string
	Checked  bool
}

// failure is an error page: its status and what it says.
type failure struct {
	Status         int
	KoHead, EnHead string
	Ko, En         string
	// SignUp offers the sign-up form.
	SignUp bool
}

var (
	failBadLink = failure{400,
		"링크가 올바르지 않습니다", "This link is not valid",
		"메일에 있는 링크를 잘리거나 바뀐 곳 없이 그대로 열었는지 확인해 주세요.",
		"Check that you opened the whole link from the mail, exactly as it was sent: a link that was cut short or changed does not work.",
		false}
	failExpiredConfirm = failure{400,
		"링크가 만료되었습니다", "This link has expired",
		"구독 확인 링크는 7일 동안만 쓸 수 있습니다. 다시 구독 신청해 주세요.",
		"Confirmation links work for 7 days. Please sign up again.",
		true}
	failStaleConfirm = failure{400,
		"이 링크는 더 이상 쓸 수 없습니다", "This link no longer works",
		"구독을 해지하기 전에 보낸 확인 링크입니다. 다시 받으려면 구독을 새로 신청해 주세요.",
		"It was sent before you unsubscribed. To get the newsletter again, please sign up again.",
		true}
	failExpired = failure{400,
		"링크가 만료되었습니다", "This link has expired",
		"최근에 받은 메일에 있는 링크를 사용해 주세요.",
		"Please use the link in a more recent mail.",
		false}
	failNotFound = failure{404,
		"구독 정보를 찾을 수 없습니다", "Subscription not found",
		"이 링크가 가리키는 구독 정보는 삭제되었습니다. 아무것도 바뀌지 않았습니다.",
		"The subscription this link was made for has been removed. Nothing was changed.",
		true}
	failBadForm = failure{400,
		"요청을 읽을 수 없습니다", "The request could not be read",
		"페이지를 다시 열어 양식을 새로 보내 주세요.",
		"Open the page again and send the form from there.",
		false}
	failTooLarge = failure{413,
		"요청이 너무 큽니다", "The request is too large",
		"양식에 적은 내용이 너무 깁니다. 아무것도 저장하지 않았습니다.",
		"What was sent is too long. Nothing was saved.",
		false}
	failTooMany = failure{429,
		"요청이 너무 많습니다", "Too many requests",
		"잠시 후 다시 시도해 주세요.",
		"Please try again in a few minutes.",
		false}
	failBusy = failure{503,
		"지금은 신청을 받을 수 없습니다", "Please try again later",
		"신청이 한꺼번에 많이 몰렸습니다. 아무것도 저장하지 않았고 메일도 보내지 않았습니다. 잠시 후(15분쯤 뒤) 다시 신청해 주세요.",
		"Too many sign-ups are arriving at once. Nothing was saved and no mail was sent. Please sign up again later (in about 15 minutes).",
		true}
	failServer = failure{500,
		"문제가 생겼습니다", "Something went wrong",
		"아무것도 바뀌지 않았을 수 있습니다. 잠시 후 다시 시도해 주세요.",
		"Your change may not have been saved. Please try again in a few minutes.",
		false}
)

const layoutPage = `<!DOCTYPE html>
<html lang="ko">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{template "ko" .}} / {{template "en" .}} · {{.Title}}</title>
<style>
body { font-family: system-ui, -apple-system, "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", sans-serif;
  max-width: 34em; margin: 0 auto; padding: 1.5em 1em 3em; line-height: 1.6; word-break: keep-all; overflow-wrap: anywhere; }
.brand { font-weight: 600; margin: 0 0 1.5em; }
h1 { font-size: 1.35em; line-height: 1.35; margin: 0 0 1em; }
[lang=en] { color: GrayText; }
h1 [lang=en], label [lang=en], button [lang=en], legend [lang=en], a [lang=en] { color: inherit; }
p[lang=en] { margin-top: -0.6em; }
.note { border-left: 4px solid; padding: 0.3em 0 0.3em 0.9em; margin: 1em 0 1.5em; }
.note p { margin: 0.3em 0; }
.problem { border-color: #c5221f; }
.saved { border-color: #188038; }
fieldset { border: 1px solid; border-radius: 6px; margin: 1em 0; padding: 0.5em 1em 1em; }
.choice { display: block; padding: 0.35em 0; }
input[type=email] { font: inherit; width: 100%; max-width: 24em; box-sizing: border-box; padding: 0.5em; margin-top: 0.3em; }
input[type=checkbox] { width: 1.15em; height: 1.15em; vertical-align: -0.15em; margin-right: 0.4em; }
button { font: inherit; padding: 0.6em 1.4em; border-radius: 6px; cursor: pointer; }
</style>
</head>
<body>
<p class="brand">{{.Title}}</p>
<main>
<h1>{{template "ko" .}} <span lang="en">/ {{template "en" .}}</span></h1>
{{template "body" .}}
</main>
</body>
</html>
`

// The pieces pages share.
const partsPage = `
{{define "problem"}}{{if .Problem}}<div class="note problem" role="alert">
<p>{{.ProblemKo}}</p>
<p lang="en">{{.Problem}}</p>
</div>
{{end}}{{end}}

{{define "themes"}}{{if .Themes}}<fieldset>
<legend>받을 주제 <span lang="en">/ Themes</span></legend>
<p>모두 고르거나 하나도 고르지 않으면 모든 주제를 받습니다.</p>
<p lang="en">Tick all or none to get every theme.</p>
{{range .Themes}}<label class="choice"><input type="checkbox" name="themes" value="{{.ID}}"{{if .Checked}} checked{{end}}>{{.Name}}</label>
{{end}}</fieldset>
{{end}}{{end}}
`

// pageTexts holds each page's own templates, by name.
var pageTexts = map[string]string{
	"subscribe": `{{define "ko"}}구독 신청{{end}}{{define "en"}}Subscribe{{end}}
{{define "body"}}{{template "problem" .}}<p>매주 한 번 메일로 받아 보세요. 주소를 적으면 구독을 확인하는 메일을 보내 드립니다.</p>
<p lang="en">Get it by mail once a week. Enter your address and we will send you a mail to confirm.</p>
<form method="post" action="subscribe">
<p><label for="email">이메일 주소 <span lang="en">/ Email address</span></label><br>
<input type="email" id="email" name="email" value="{{.Email}}" required maxlength="254" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false"></p>
{{template "themes" .}}<p><button type="submit">구독 신청 <span lang="en">/ Subscribe</span></button></p>
</form>
{{end}}`,

	"sent": `{{define "ko"}}메일함을 확인해 주세요{{end}}{{define "en"}}Please check your inbox{{end}}
{{define "body"}}<p>아직 구독 중이 아닌 주소라면, 구독을 확인하는 링크를 메일로 보냈습니다. 그 링크를 눌러야 구독이 시작됩니다. 링크는 7일 동안 쓸 수 있습니다.</p>
<p lang="en">If this address is not subscribed yet, we have sent it a link to confirm. The subscription starts when you open that link; it works for 7 days.</p>
<p>이미 구독 중이라면 바뀌는 것이 없고 메일도 보내지 않습니다. 메일이 보이지 않으면 스팸함을 확인하거나 10분 뒤에 다시 신청해 주세요.</p>
<p lang="en">If it is already subscribed, nothing changes and no mail is sent. No mail? Look in your spam folder, or sign up again after 10 minutes.</p>
{{if .Delayed}}<div class="note" role="status">
<p>지금은 신청이 많아 확인 메일이 늦어집니다. 한 시간 안에 도착합니다.</p>
<p lang="en">Many people are signing up right now: the mail is delayed, and arrives within the hour.</p>
</div>
{{end}}{{end}}`,

	"confirm": `{{define "ko"}}구독을 확인할까요?{{end}}{{define "en"}}Confirm your subscription?{{end}}
{{define "body"}}<p><strong>{{.Email}}</strong> 주소로 매주 뉴스레터를 받으려면 아래 버튼을 눌러 주세요.</p>
<p lang="en">Press the button to get the newsletter at <strong>{{.Email}}</strong> every week.</p>
<p>직접 신청하지 않았다면 이 페이지를 닫아 주세요. 아무것도 바뀌지 않습니다.</p>
<p lang="en">If it was not you, close this page: nothing changes.</p>
<form method="post" action="confirm">
<input type="hidden" name="t" value="{{.Token}}">
<p><button type="submit">구독 확인 <span lang="en">/ Confirm</span></button></p>
</form>
{{end}}`,

	"confirmed": `{{define "ko"}}구독이 확인되었습니다{{end}}{{define "en"}}You are subscribed{{end}}
{{define "body"}}<p>이제 매주 이 주소로 뉴스레터를 보내 드립니다.</p>
<p lang="en">From now on the newsletter comes to this address every week.</p>
<p><a href="{{.PreferencesURL}}">받을 주제 고르기 <span lang="en">/ Choose your themes</span></a></p>
{{end}}`,

	"unsubscribe": `{{define "ko"}}구독을 해지할까요?{{end}}{{define "en"}}Unsubscribe?{{end}}
{{define "body"}}<p>아래 버튼을 누르면 더 이상 뉴스레터를 보내지 않습니다.</p>
<p lang="en">Press the button and the newsletter stops coming to you.</p>
<form method="post" action="unsubscribe">
<input type="hidden" name="t" value="{{.Token}}">
<p><button type="submit">구독 해지 <span lang="en">/ Unsubscribe</span></button></p>
</form>
{{end}}`,

	"unsubscribed": `{{define "ko"}}구독이 해지되었습니다{{end}}{{define "en"}}You are unsubscribed{{end}}
{{define "body"}}<p>더 이상 뉴스레터를 보내지 않습니다. 마음이 바뀌면 언제든 다시 구독할 수 있습니다.</p>
<p lang="en">We will not send you the newsletter any more. If you change your mind, you can sign up again at any time.</p>
<p><a href="subscribe">다시 구독하기 <span lang="en">/ Sign up again</span></a></p>
{{end}}`,

	"preferences": `{{define "ko"}}받을 주제{{end}}{{define "en"}}Your themes{{end}}
{{define "body"}}{{if .Saved}}<div class="note saved" role="status">
<p>저장했습니다. 다음 호부터 적용됩니다.</p>
<p lang="en">Saved. It applies from the next issue.</p>
</div>
{{end}}{{template "problem" .}}{{if .NotActive}}<p>지금은 이 주소로 뉴스레터를 보내지 않습니다. 다시 받으려면 구독을 새로 신청해 주세요.</p>
<p lang="en">The newsletter is not being sent to this address now. To get it again, please sign up again.</p>
{{end}}{{if .Themes}}<p>뉴스레터에서 받을 주제를 고르세요.</p>
<p lang="en">Choose the themes you want in the newsletter.</p>
<form method="post" action="preferences">
<input type="hidden" name="t" value="{{.Token}}">
{{template "themes" .}}<p><button type="submit">저장 <span lang="en">/ Save</span></button></p>
</form>
{{else}}<p>고를 수 있는 주제가 없습니다. 모든 기사를 받습니다.</p>
<p lang="en">There are no themes to choose from: you get every article.</p>
{{end}}<p><a href="{{.UnsubscribeURL}}">구독 해지 <span lang="en">/ Unsubscribe</span></a></p>
{{end}}`,

	"error": `{{define "ko"}}{{.Fail.KoHead}}{{end}}{{define "en"}}{{.Fail.EnHead}}{{end}}
{{define "body"}}<p>{{.Fail.Ko}}</p>
<p lang="en">{{.Fail.En}}</p>
{{if .Fail.SignUp}}<p><a href="subscribe">구독 신청 <span lang="en">/ Sign up</span></a></p>
{{end}}{{end}}`,
}

// pages are the parsed pages by name.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(layoutPage))
	template.Must(base.Parse(partsPage))
	out := make(map[string]*template.Template, len(pageTexts))
	for name, text := range pageTexts {
		out[name] = template.Must(template.Must(base.Clone()).Parse(text))
	}
	return out
}
