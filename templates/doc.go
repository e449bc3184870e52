// Package templates embeds gull's default digest templates (DESIGN.md §2)
// and nothing else:
//
//	digest.html.tmpl   the HTML part (html/template); *.html.tmpl beside it are partials
//	digest.txt.tmpl    the plain-text part (text/template); *.txt.tmpl are partials
//	subject.tmpl       the subject line (text/template)
//
// A folder named by `templates:` in the config (or `--templates DIR`)
// overrides these files one by one; digest/render does the parsing.
package templates

import "embed"

// FS holds the default templates.
//
//go:embed *.tmpl
var FS embed.FS
