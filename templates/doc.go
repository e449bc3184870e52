// Package templates embeds gull's default digest templates (DESIGN.md §2)
// and nothing else:
//
//	digest.html.tmpl   the HTML part (html/template); *.html.tmpl beside it are partials
//	digest.txt.tmpl    the plain-text part (text/template); *.txt.tmpl are partials
//	subject.tmpl       the subject line (text/template)
//
// A folder named by `templates:` in the config (or `--templates DIR`)
// overrides these files one by one; digest/render does the parsing.
//
// The reader's own values (.To.Email, .To.Name, .To.UnsubscribeURL,
// .To.PreferencesURL, and .Links.Unsubscribe and .Links.Preferences, which
// are the same links) cost nothing where a template prints them as they
// are ({{ .To.Name }}) or tests them for emptiness as the whole condition
// of an if or with ({{ with .To.Name }}{{ . }}님, {{ end }}). Anything
// more, such as a function of the value (upper, truncate, hasSuffix), a
// comparison or a variable, still renders correctly, but every reader
// with a value in that field is then rendered on their own instead of from
// a copy shared by their theme list: tens of times slower on a large list.
// So is every reader when a <style> could select elements by a value: an
// attribute selector with a value ([title$=".kr"]), or a class or id
// attribute that holds one. .To.Themes and .Test are free to use.
//
// digest.html.tmpl also renders the web copy (the archive's page,
// the mail's "view in browser"): .Web is true there, there is no reader,
// and .Links.Subscribe is the sign-up page to offer instead of the
// reader's links.
//
// The editor's edits arrive already applied: hidden articles are gone,
// pinned ones lead their section (.Pinned marks them) and the subject's
// .Lead, an editor's blurb is .Blurb (shown whole instead of the
// .Summary excerpt), .Subject is the editor's subject ("" = the default),
// and the editor's note is .Note (HTML gull built from the note's
// Markdown subset, every piece of text escaped) and .NoteText (the same,
// a plain-text paragraph each, for the text part).
package templates

import "embed"

// FS holds the default templates.
//
//go:embed *.tmpl
var FS embed.FS
