package web

import (
	"html/template"

	"gull/subscribers"
)

// The subscriber pages: small, plain, in the reader's language (Korean or
// English), no JavaScript, readable on a phone. Every value is escaped by
// html/template. Each page defines "heading" (also used in <title>) and
// "body"; they are parsed once, when the program starts, so a broken page
// fails start-up and not a reader's click. layoutPage, the bilingual frame
// of the archive and the desk, is here too.

// pageData is everything a subscriber page shows. Per-request values
// only; the words live in the templates.
type pageData struct {
	Title string // the newsletter's title
	// Lang is the page's language, "ko" or "en": the reader's, or for a
	// page without a reader yet, the one asked for (pageLang).
	Lang string
	// SwitchURL, when set, is the same page in the other language
	// (SwitchLang), named in it (SwitchName).
	SwitchURL, SwitchLang, SwitchName string
	// Name is what the reader typed in the sign-up form's name field.
	Name string
	// Choice is the language and article languages the forms tick.
	Choice subscribers.Subscriber

	// Token is the verified link token, sent back in a hidden field by the
	// forms that POST to themselves.
	Token string
	// Email is what the reader typed, to fill the sign-up form again; on
	// the confirm, unsubscribe and preferences pages, the reader's
	// address, partly masked (maskEmail).
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

// T is ko or en, whichever is the page's language.
func (d pageData) T(ko, en string) string {
	if d.Lang == "ko" {
		return ko
	}
	return en
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

// readerLayout is the subscriber pages' frame: unlike the archive and the
// desk (layoutPage, bilingual side by side), each subscriber page is in
// one language, the reader's (pageData.Lang), with a link to the other on
// the pages that have no reader yet.
const readerLayout = `<!DOCTYPE html>
<html lang="{{.Lang}}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<title>{{template "heading" .}} · {{.Title}}</title>
<style>
/* The mail's palette (templates/styles.html.tmpl): a white card on grey,
   the blue of its links and headings, and the same in dark mode. */
body { font-family: "Apple SD Gothic Neo", "Malgun Gothic", "Noto Sans KR", system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
  margin: 0; padding: 16px 10px 40px; background-color: #eef1f4; color: #14202b; line-height: 1.6; word-break: keep-all; overflow-wrap: anywhere; }
.card { max-width: 34em; margin: 0 auto; padding: 20px 24px 28px; background-color: #ffffff; border-radius: 6px; }
.top { display: flex; justify-content: space-between; align-items: baseline; gap: 1em; margin: 0 0 1.2em; padding-bottom: 12px; border-bottom: 3px solid #0b6e99; }
.brand { font-weight: bold; margin: 0; font-size: 1.05em; }
.switch { white-space: nowrap; }
a { color: #0b6e99; }
h1 { font-size: 1.35em; line-height: 1.35; margin: 0 0 1em; }
.hint { color: #5b6670; font-size: 0.92em; }
.note { border-left: 4px solid; padding: 0.3em 0 0.3em 0.9em; margin: 1em 0 1.5em; }
.note p { margin: 0.3em 0; }
.problem { border-color: #b3261e; }
.saved { border-color: #188038; }
fieldset { border: 1px solid #c9d6de; border-radius: 6px; margin: 1em 0; padding: 0.5em 1em 1em; min-width: 0; }
legend { padding: 0 0.3em; font-weight: bold; }
.choice { display: block; padding: 0.35em 0; }
input[type=email], input[type=text] { font: inherit; width: 100%; max-width: 24em; box-sizing: border-box; padding: 0.5em;
  margin-top: 0.3em; border: 1px solid #c9d6de; border-radius: 4px; }
input[type=checkbox], input[type=radio] { width: 1.15em; height: 1.15em; vertical-align: -0.15em; margin-right: 0.4em; accent-color: #0b6e99; }
button { font: inherit; padding: 0.6em 1.4em; border: 0; border-radius: 6px; cursor: pointer; background-color: #0b6e99; color: #ffffff; font-weight: bold; }
@media (prefers-color-scheme: dark) {
  body { background-color: #101418; color: #eef2f5; }
  .card { background-color: #1b2228; }
  a { color: #6cc4ee; }
  .hint { color: #a9b4bd; }
  fieldset, input[type=email], input[type=text] { border-color: #3a4b58; }
  input[type=email], input[type=text] { background-color: #101418; color: #eef2f5; }
  .top { border-bottom-color: #6cc4ee; }
}
</style>
</head>
<body>
<div class="card">
<div class="top"><p class="brand">{{.Title}}</p>{{if .SwitchURL}}
<a class="switch" href="{{.SwitchURL}}" hreflang="{{.SwitchLang}}" lang="{{.SwitchLang}}">{{.SwitchName}}</a>{{end}}</div>
<main>
<h1>{{template "heading" .}}</h1>
{{template "body" .}}
</main>
</div>
</body>
</html>
`

// The pieces pages share.
const partsPage = `
{{define "problem"}}{{if .Problem}}<div class="note problem" role="alert">
<p>{{.T .ProblemKo .Problem}}</p>
{{if eq .Lang "ko"}}<p class="hint" lang="en">{{.Problem}}</p>
{{end}}</div>
{{end}}{{end}}

{{define "themes"}}{{if .Themes}}<fieldset>
<legend>{{.T "받을 주제" "Themes"}}</legend>
<p class="hint">{{.T "모두 고르거나 하나도 고르지 않으면 모든 주제를 받습니다." "Tick all or none to get every theme."}}</p>
{{range .Themes}}<label class="choice"><input type="checkbox" name="themes" value="{{.ID}}"{{if .Checked}} checked{{end}}>{{.Name}}</label>
{{end}}</fieldset>
{{end}}{{end}}

{{define "languages"}}<fieldset>
<legend>{{.T "메일의 언어" "Language of the mail"}}</legend>
<label class="choice"><input type="radio" name="language" value="ko"{{if eq .Choice.Language "ko"}} checked{{end}}>한국어</label>
<label class="choice"><input type="radio" name="language" value="en"{{if eq .Choice.Language "en"}} checked{{end}}>English</label>
</fieldset>
<fieldset>
<legend>{{.T "받을 기사" "Articles"}}</legend>
<label class="choice"><input type="radio" name="articles" value="both"{{if eq .Choice.Articles "both"}} checked{{end}}>{{.T "한국어와 영어 기사 모두" "Korean and English articles"}}</label>
<label class="choice"><input type="radio" name="articles" value="ko"{{if eq .Choice.Articles "ko"}} checked{{end}}>{{.T "한국어 기사만" "Korean articles only"}}</label>
<label class="choice"><input type="radio" name="articles" value="en"{{if eq .Choice.Articles "en"}} checked{{end}}>{{.T "영어 기사만" "English articles only"}}</label>
</fieldset>
{{end}}

{{define "address"}}{{if .Email}}<p>{{.T "주소" "Address"}}: <strong class="address">{{.Email}}</strong></p>
{{end}}{{end}}
`

// pageTexts holds each page's own templates, by name: "heading" (also
// the <title>) and "body", each word in both languages through .T.
var pageTexts = map[string]string{
	"subscribe": `{{define "heading"}}{{.T "구독 신청" "Subscribe"}}{{end}}
{{define "body"}}{{template "problem" .}}<p>{{.T "매주 한 번 메일로 받아 보세요. 주소를 적으면 구독을 확인하는 메일을 보내 드립니다." "Get it by mail once a week. Enter your address and we will send you a mail to confirm."}}</p>
<form method="post" action="subscribe">
<p><label for="email">{{.T "이메일 주소" "Email address"}}</label><br>
<input type="email" id="email" name="email" value="{{.Email}}" required maxlength="254" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false"></p>
<p><label for="name">{{.T "이름 (선택)" "Name (optional)"}}</label><br>
<input type="text" id="name" name="name" value="{{.Name}}" maxlength="200" autocomplete="name"></p>
{{template "languages" .}}{{template "themes" .}}<p><button type="submit">{{.T "구독 신청" "Subscribe"}}</button></p>
</form>
<p><a href="manage?lang={{.Lang}}">{{.T "이미 구독 중인가요? 구독 관리하기" "Already subscribed? Manage your subscription"}}</a></p>
{{end}}`,

	"sent": `{{define "heading"}}{{.T "메일함을 확인해 주세요" "Please check your inbox"}}{{end}}
{{define "body"}}<p>{{.T "아직 구독 중이 아닌 주소라면, 구독을 확인하는 링크를 메일로 보냈습니다. 그 링크를 눌러야 구독이 시작됩니다. 링크는 7일 동안 쓸 수 있습니다." "If this address is not subscribed yet, we have sent it a link to confirm. The subscription starts when you open that link; it works for 7 days."}}</p>
<p>{{.T "이미 구독 중이라면 바뀌는 것이 없고 메일도 보내지 않습니다. 메일이 보이지 않으면 스팸함을 확인하거나 10분 뒤에 다시 신청해 주세요." "If it is already subscribed, nothing changes and no mail is sent. No mail? Look in your spam folder, or sign up again after 10 minutes."}}</p>
{{if .Delayed}}<div class="note" role="status">
<p>{{.T "지금은 신청이 많아 확인 메일이 늦어집니다. 한 시간 안에 도착합니다." "Many people are signing up right now: the mail is delayed, and arrives within the hour."}}</p>
</div>
{{end}}{{end}}`,

	"confirm": `{{define "heading"}}{{.T "구독을 확인할까요?" "Confirm your subscription?"}}{{end}}
{{define "body"}}<p>{{if eq .Lang "ko"}}<strong class="address">{{.Email}}</strong> 주소로 매주 뉴스레터를 받으려면 아래 버튼을 눌러 주세요.{{else}}Press the button to get the newsletter at <strong class="address">{{.Email}}</strong> every week.{{end}}</p>
<p>{{.T "직접 신청하지 않았다면 이 페이지를 닫아 주세요. 아무것도 바뀌지 않습니다." "If it was not you, close this page: nothing changes."}}</p>
<form method="post" action="confirm">
<input type="hidden" name="t" value="{{.Token}}">
<p><button type="submit">{{.T "구독 확인" "Confirm"}}</button></p>
</form>
{{end}}`,

	"confirmed": `{{define "heading"}}{{.T "구독이 확인되었습니다" "You are subscribed"}}{{end}}
{{define "body"}}<p>{{.T "이제 매주 이 주소로 뉴스레터를 보내 드립니다. 환영 메일도 보냈습니다." "From now on the newsletter comes to this address every week. We have sent you a welcome mail."}}</p>
<p><a href="{{.PreferencesURL}}">{{.T "언어와 주제 고르기" "Choose your language and themes"}}</a></p>
{{end}}`,

	"unsubscribe": `{{define "heading"}}{{.T "구독을 해지할까요?" "Unsubscribe?"}}{{end}}
{{define "body"}}{{template "address" .}}<p>{{.T "아래 버튼을 누르면 이 주소로 더 이상 뉴스레터를 보내지 않습니다." "Press the button and the newsletter stops coming to this address."}}</p>
<form method="post" action="unsubscribe">
<input type="hidden" name="t" value="{{.Token}}">
<p><button type="submit">{{.T "구독 해지" "Unsubscribe"}}</button></p>
</form>
{{end}}`,

	"unsubscribed": `{{define "heading"}}{{.T "구독이 해지되었습니다" "You are unsubscribed"}}{{end}}
{{define "body"}}{{template "address" .}}<p>{{.T "더 이상 뉴스레터를 보내지 않습니다. 마음이 바뀌면 언제든 다시 구독할 수 있습니다." "We will not send you the newsletter any more. If you change your mind, you can sign up again at any time."}}</p>
<p><a href="subscribe?lang={{.Lang}}">{{.T "다시 구독하기" "Sign up again"}}</a></p>
{{end}}`,

	"preferences": `{{define "heading"}}{{.T "구독 설정" "Your preferences"}}{{end}}
{{define "body"}}{{if .Saved}}<div class="note saved" role="status">
<p>{{.T "저장했습니다. 다음 호부터 적용됩니다." "Saved. It applies from the next issue."}}</p>
</div>
{{end}}{{template "problem" .}}{{template "address" .}}{{if .NotActive}}<p>{{.T "지금은 이 주소로 뉴스레터를 보내지 않습니다. 다시 받으려면 구독을 새로 신청해 주세요." "The newsletter is not being sent to this address now. To get it again, please sign up again."}}</p>
{{end}}<form method="post" action="preferences">
<input type="hidden" name="t" value="{{.Token}}">
{{template "languages" .}}{{if .Themes}}{{template "themes" .}}{{else}}<p>{{.T "고를 수 있는 주제가 없습니다. 모든 기사를 받습니다." "There are no themes to choose from: you get every article."}}</p>
{{end}}<p><button type="submit">{{.T "저장" "Save"}}</button></p>
</form>
<p><a href="{{.UnsubscribeURL}}">{{.T "구독 해지" "Unsubscribe"}}</a></p>
{{end}}`,

	"manage": `{{define "heading"}}{{.T "구독 관리" "Manage your subscription"}}{{end}}
{{define "body"}}{{template "problem" .}}<p>{{.T "구독한 주소를 적으면 구독 설정 페이지로 가는 링크를 그 주소로 보내 드립니다." "Enter the address you subscribed with, and we will mail it a link to your preferences."}}</p>
<form method="post" action="manage">
<input type="hidden" name="lang" value="{{.Lang}}">
<p><label for="email">{{.T "이메일 주소" "Email address"}}</label><br>
<input type="email" id="email" name="email" value="{{.Email}}" required maxlength="254" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false"></p>
<p><button type="submit">{{.T "링크 받기" "Send me the link"}}</button></p>
</form>
<p><a href="subscribe?lang={{.Lang}}">{{.T "구독 신청" "Subscribe"}}</a></p>
{{end}}`,

	"manage-sent": `{{define "heading"}}{{.T "메일함을 확인해 주세요" "Please check your inbox"}}{{end}}
{{define "body"}}<p>{{.T "이 주소가 구독 목록에 있다면 구독 설정 링크를 메일로 보냈습니다. 확인하지 않은 신청이라면 확인 메일을 다시 보냈습니다." "If this address is on the list, we have mailed it a link to its preferences; if its sign-up was not confirmed yet, the confirmation mail again."}}</p>
<p>{{.T "메일이 보이지 않으면 스팸함을 확인하거나 10분 뒤에 다시 시도해 주세요." "No mail? Look in your spam folder, or try again after 10 minutes."}}</p>
{{end}}`,

	"error": `{{define "heading"}}{{.T .Fail.KoHead .Fail.EnHead}}{{end}}
{{define "body"}}<p>{{.T .Fail.Ko .Fail.En}}</p>
{{if .Fail.SignUp}}<p><a href="subscribe?lang={{.Lang}}">{{.T "구독 신청" "Sign up"}}</a></p>
{{end}}{{end}}`,
}

// pages are the parsed pages by name.
var pages = parsePages()

func parsePages() map[string]*template.Template {
	base := template.Must(template.New("layout").Parse(readerLayout))
	template.Must(base.Parse(partsPage))
	out := make(map[string]*template.Template, len(pageTexts))
	for name, text := range pageTexts {
		out[name] = template.Must(template.Must(base.Clone()).Parse(text))
	}
	return out
}
