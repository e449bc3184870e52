package render

import (
	"strings"
	"testing"
	"time"
)

// A test send's view link replaces the issue's public address in the
// mail ("view in browser" and List-Archive), rendered alone or in a
// batch; without one, the public address stays.
func TestViewURLReplacesTheArchiveLink(t *testing.T) {
	r := newRenderer(t, "en", "")
	is := sampleIssue(time.UTC)
	const view = "https://gull.example.org/issues/2026-W48?view=abc.def"
	to := Recipient{Email: "ed@example.org", Test: true, ViewURL: view}
	b := r.Batch(is)
	for what, render := range map[string]func(Recipient) (string, string, error){
		"Render": func(to Recipient) (string, string, error) {
			m, err := r.Render(is, to)
			return m.HTML, m.ArchiveURL, err
		},
		"Batch": func(to Recipient) (string, string, error) { m, err := b.Render(to); return m.HTML, m.ArchiveURL, err },
	} {
		html, archive, err := render(to)
		if err != nil {
			t.Fatal(err)
		}
		if archive != view || !strings.Contains(html, `href="`+view+`"`) {
			t.Errorf("%s: archive %q; the HTML lacks the view link", what, archive)
		}
		html, archive, err = render(Recipient{Email: "reader@example.org"})
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(html, "view=") || strings.Contains(archive, "view=") {
			t.Errorf("%s: a reader's copy has the view link: %q", what, archive)
		}
	}
}
