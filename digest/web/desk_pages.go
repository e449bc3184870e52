package web

import (
	"html/template"
	"strings"
)

// The desk's pages share the subscriber pages' layout, with a head of
// their own in place of its robots line: still out of search engines, a
// wider column for the desk, and the desk's styles. Every value is
// escaped by html/template; the draft's mail goes into a sandboxed
// iframe's srcdoc as an attribute value, so nothing in it runs, and the
// page needs no script at all.

const deskHead = robotsLine + `
<style>
/* The layout's own styles come after these: "html body" outranks its "body". */
html body { max-width: 78em; }
.bar { display: flex; flex-wrap: wrap; gap: 0.5em 1em; align-items: center; margin: 0 0 1em; }
.bar form { margin: 0; }
.badge { display: inline-block; font-size: 0.8em; padding: 0 0.45em; border: 1px solid; border-radius: 4px; margin-right: 0.3em; }
.hidden-badge { color: #c5221f; }
.pinned-badge { color: #1a73e8; }
.new-badge { color: #188038; }
.desk { display: grid; gap: 1.5em; }
@media (min-width: 70em) { .desk { grid-template-columns: minmax(0, 1fr) 640px; align-items: start; }
  .mail { position: sticky; top: 1em; } }
.mail iframe { width: 100%; height: 46em; border: 1px solid GrayText; border-radius: 6px; background: #fff; }
section.theme { margin: 0 0 1.5em; }
h2 { font-size: 1.15em; margin: 1.5em 0 0.5em; }
h3 { font-size: 1em; margin: 0 0 0.3em; }
.art { border: 1px solid GrayText; border-radius: 6px; padding: 0.7em 0.9em; margin: 0 0 0.8em; }
/* A hidden article is greyed, its controls not: they still work. */
.art.is-hidden { border-style: dashed; }
.art.is-hidden h3 a, .art.is-hidden .meta, .art.is-hidden .sum { opacity: 0.6; }
.art .meta { font-size: 0.85em; color: GrayText; margin: 0 0 0.4em; }
.art .sum { font-size: 0.9em; margin: 0 0 0.5em; }
.controls { display: flex; flex-wrap: wrap; gap: 0.4em; align-items: center; }
.controls form { margin: 0; display: flex; gap: 0.3em; flex-wrap: wrap; align-items: center; }
.art details { margin-top: 0.4em; }
textarea, input[type=text], select { font: inherit; box-sizing: border-box; max-width: 100%; }
textarea, input[type=text] { width: 100%; padding: 0.4em; }
textarea { min-height: 6em; }
button { padding: 0.35em 0.9em; }
.history { font-size: 0.9em; padding-left: 1.2em; }
.history li { margin: 0.2em 0; }
.status { font-weight: 600; }
</style>`

var deskTexts = map[string]string{
	"signin": `{{define "ko"}}편집 데스크 로그인{{end}}{{define "en"}}Sign in to the desk{{end}}
{{define "body"}}{{if .Problem}}<div class="note problem" role="alert"><p lang="en">{{.Problem}}</p></div>
{{end}}{{if .Sent}}<div class="note saved" role="status">
<p>편집자 주소라면 로그인 링크를 메일로 보냈습니다. 링크는 15분 동안 한 번만 쓸 수 있습니다.</p>
<p lang="en">If this address is one of the editors', a sign-in link is on its way. It works once, for 15 minutes.</p>
</div>
{{else}}<p>편집자 주소를 적으면 로그인 링크를 메일로 보내 드립니다.</p>
<p lang="en">Enter your editor's address and we will mail you a sign-in link.</p>
<form method="post" action="/desk/sign-in">
<p><label for="email">이메일 주소 <span lang="en">/ Email address</span></label><br>
<input type="email" id="email" name="email" value="{{.Email}}" required maxlength="254" autocomplete="email" inputmode="email" autocapitalize="none" spellcheck="false"></p>
<p><button type="submit">링크 받기 <span lang="en">/ Mail me a link</span></button></p>
</form>
{{end}}{{end}}`,

	"link": `{{define "ko"}}편집 데스크 로그인{{end}}{{define "en"}}Sign in to the desk{{end}}
{{define "body"}}<p>아래 버튼을 누르면 로그인합니다.</p>
<p lang="en">Press the button to sign in.</p>
<form method="post" action="/desk/sign-in">
<input type="hidden" name="t" value="{{.Token}}">
<p><button type="submit" id="sign-in">로그인 <span lang="en">/ Sign in</span></button></p>
</form>
{{end}}`,

	"desk": `{{define "ko"}}편집 데스크{{end}}{{define "en"}}The editor's desk{{end}}
{{define "form"}}<input type="hidden" name="csrf" value="{{.CSRF}}"><input type="hidden" name="issue" value="{{.IssueID}}"><input type="hidden" name="version" value="{{.Version}}">{{end}}
{{define "body"}}<div class="bar"><span lang="en">Signed in as <strong>{{.Editor}}</strong></span>
<form method="post" action="/desk/sign-out"><input type="hidden" name="csrf" value="{{.CSRF}}"><button type="submit">로그아웃 <span lang="en">/ Sign out</span></button></form></div>
{{if .Problem}}<div class="note problem" role="alert" id="problem"><p lang="en">{{.Problem}}</p></div>
{{end}}{{if .Done}}<div class="note saved" role="status" id="done"><p lang="en">{{.Done}}</p></div>
{{end}}{{if .NoDraft}}<p>아직 만들어진 초안이 없습니다.</p>
<p lang="en">No draft has been built yet: the daemon builds it at review.draft time.</p>
{{else}}{{$top := .}}
<p class="status" id="status" lang="en">Issue {{.IssueID}} · version {{.Version}} · {{.Status}} · {{.Articles}} articles{{if .Hidden}}, {{.Hidden}} hidden{{end}}</p>
<div class="bar">{{if .Open}}<form method="post" action="/desk/change">{{template "form" .}}<input type="hidden" name="action" value="approve"><button type="submit" id="approve">승인 <span lang="en">/ Approve</span></button></form>
{{else if eq .Status "approved"}}<form method="post" action="/desk/change">{{template "form" .}}<input type="hidden" name="action" value="reopen"><button type="submit" id="reopen">다시 열기 <span lang="en">/ Reopen</span></button></form>
{{end}}</div>
<div class="desk">
<div class="edit">
<h2>제목과 소개 <span lang="en">/ Subject and note</span></h2>
<form method="post" action="/desk/change" id="subject-form">{{template "form" .}}<input type="hidden" name="action" value="subject">
<p><label for="subject">제목 <span lang="en">/ Subject (empty: the default)</span></label>
<input type="text" id="subject" name="text" value="{{.Subject}}" maxlength="200"{{if not .Open}} disabled{{end}}></p>
{{if .Open}}<p><button type="submit">제목 저장 <span lang="en">/ Save the subject</span></button></p>{{end}}</form>
<form method="post" action="/desk/change" id="note-form">{{template "form" .}}<input type="hidden" name="action" value="note">
<p><label for="note">소개 <span lang="en">/ Note: paragraphs, [links](https://…), *emphasis*</span></label>
<textarea id="note" name="text"{{if not .Open}} disabled{{end}}>{{.Note}}</textarea></p>
{{if .Open}}<p><button type="submit">소개 저장 <span lang="en">/ Save the note</span></button></p>{{end}}</form>

{{range .Sections}}<section class="theme" id="theme-{{.ID}}">
<h2>{{.Name}}</h2>
{{range .Articles}}<div class="art{{if .Hidden}} is-hidden{{end}}" id="a-{{.ID}}" data-id="{{.ID}}">
<h3>{{if .Hidden}}<span class="badge hidden-badge">숨김 / hidden</span>{{end}}{{if .Pinned}}<span class="badge pinned-badge">고정 / pinned</span>{{end}}{{if .New}}<span class="badge new-badge">새 기사 / new</span>{{end}}<a href="{{.Link}}" rel="noopener noreferrer" target="_blank">{{.Title}}</a></h3>
<p class="meta">{{.Feed}}{{if .Also}} · +{{.Also}}{{end}} · <code>{{.ID}}</code></p>
<p class="sum">{{if .Blurb}}{{.Blurb}}{{else}}{{.Summary}}{{end}}</p>
{{if $top.Open}}<div class="controls">
<form method="post" action="/desk/change">{{template "form" $top}}<input type="hidden" name="article" value="{{.ID}}">{{if .Hidden}}<input type="hidden" name="action" value="show-again"><button type="submit" class="show-again">다시 보이기 <span lang="en">/ Show again</span></button>{{else}}<input type="hidden" name="action" value="hide"><button type="submit" class="hide">숨기기 <span lang="en">/ Hide</span></button>{{end}}</form>
<form method="post" action="/desk/change">{{template "form" $top}}<input type="hidden" name="article" value="{{.ID}}">{{if .Pinned}}<input type="hidden" name="action" value="unpin"><button type="submit" class="unpin">고정 해제 <span lang="en">/ Unpin</span></button>{{else}}<input type="hidden" name="action" value="pin"><button type="submit" class="pin">맨 위에 고정 <span lang="en">/ Pin</span></button>{{end}}</form>
<form method="post" action="/desk/change" class="move">{{template "form" $top}}<input type="hidden" name="article" value="{{.ID}}"><input type="hidden" name="action" value="move">
<select name="theme" aria-label="Move to section">{{$sec := .Section}}{{range $top.Themes}}<option value="{{.ID}}"{{if eq .ID $sec}} selected{{end}}>{{.Name}}</option>{{end}}</select><button type="submit">옮기기 <span lang="en">/ Move</span></button></form>
</div>
<details><summary>요약 고치기 <span lang="en">/ Edit the blurb</span></summary>
<form method="post" action="/desk/change" class="blurb">{{template "form" $top}}<input type="hidden" name="article" value="{{.ID}}"><input type="hidden" name="action" value="blurb">
<textarea name="text" aria-label="Blurb (empty: the feed's summary)">{{.Blurb}}</textarea>
<p><button type="submit">요약 저장 <span lang="en">/ Save the blurb</span></button></p></form></details>
{{end}}</div>
{{end}}</section>
{{end}}
<h2>피드 <span lang="en">/ Feeds</span></h2>
{{if .Failed}}<ul id="failed-feeds">{{range .Failed}}<li><strong>{{if .Name}}{{.Name}}{{else}}{{.URL}}{{end}}</strong> failed: {{.Error}}</li>{{end}}</ul>
{{else}}<p lang="en" id="feeds-ok">Every feed worked this week.</p>
{{end}}
<h2>기록 <span lang="en">/ History</span></h2>
<ol class="history" id="history" reversed>{{range .History}}<li><time>{{.At}}</time> · {{.Editor}} · {{.What}}</li>{{end}}</ol>
</div>
<div class="mail"><h2>메일 미리 보기 <span lang="en">/ The mail as readers get it</span></h2>
<iframe title="The draft as the mail" sandbox="" referrerpolicy="no-referrer" srcdoc="{{.Mail}}"></iframe></div>
</div>
{{end}}{{end}}`,
}

// deskPages are the parsed desk pages by name; a broken one fails
// start-up.
var deskPages = parseDeskPages()

func parseDeskPages() map[string]*template.Template {
	layout := strings.Replace(layoutPage, robotsLine, `{{template "head" .}}`, 1)
	base := template.Must(template.New("layout").Parse(layout))
	template.Must(base.Parse(`{{define "head"}}` + deskHead + `{{end}}`))
	out := make(map[string]*template.Template, len(deskTexts))
	for name, text := range deskTexts {
		out[name] = template.Must(template.Must(base.Clone()).Parse(text))
	}
	return out
}
