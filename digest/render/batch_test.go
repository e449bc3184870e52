package render

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"
	"unicode/utf8"

	"gull/digest"
)

// Values that reach the per-reader fields: ordinary ones, and every kind
// the fast path must not take or must take exactly (Hangul, markup, quotes,
// spaces, '+', '&', '%', decomposed text, invalid UTF-8, values longer than
// the long probes).
var (
	batchNames = []string{
		"", "Reader", "Jane Park", "김하늘", "홍 길동", "Tom & Jerry", "<b>Bold</b>", `O'Brien "Bob"`,
		"  spaced  ", "a  b", "Ünïcödé", "e\u0301clair", "ᄒᆞᆫ글", "under_score-dash.dot", "bob+tag",
		"tab\tname", "line\nbreak", strings.Repeat("긴이름", 100), strings.Repeat("x", 300), "\xffbad", "Жанна",
	}
	batchEmails = []string{
		"", "reader@example.org", "Reader.Name@Example.ORG", "reader+news@example.org", "김하늘@example.kr",
		"a_b@example.org", strings.Repeat("a", 240) + "@example.org", "x&y<z>@example.org", `"quoted"@example.org`,
		"UPPER@EXAMPLE.ORG", strings.Repeat("b", 300) + "@example.org", "has space@example.org",
	}
	batchURLs = []string{
		"", "https://gull.example.org/unsubscribe?t=TOKEN",
		"https://gull.example.org/unsubscribe?t=eyJwIjoxLCJzIjo0Mn0.q-_Zx9Tk2mB_0aQ-zz",
		"https://gull.example.org/u?t=a&b=c", "https://gull.example.org/u?t=%41%zz", "javascript:alert(1)",
		"http://gull.example.org/é", "https://gull.example.org/u?t=" + strings.Repeat("A", 3000),
		"HTTPS://GULL.EXAMPLE.ORG/U", "https://gull.example.org/u?t=a+b", "mailto:x@example.org", "/relative",
		"https://gull.example.org/u#frag", `https://gull.example.org/u?t="x"`,
	}
	// The fixture's themes, the catch-all, and one with no article.
	batchThemes = []string{"compute", "regulation", "strategy", "other", "safety"}
)

// randomReader picks a reader from the lists above, with a theme subset of
// batchThemes in any order, sometimes repeated, sometimes empty but not nil.
func randomReader(rng *rand.Rand) Recipient {
	pick := func(s []string) string { return s[rng.IntN(len(s))] }
	to := Recipient{
		Email: pick(batchEmails), Name: pick(batchNames),
		UnsubscribeURL: pick(batchURLs), PreferencesURL: pick(batchURLs),
		Test: rng.IntN(4) == 0,
	}
	if rng.IntN(3) == 0 {
		to.Lang, to.Articles = pick([]string{"", "ko", "en"}), pick([]string{"", "ko", "en", "both"})
	}
	switch rng.IntN(6) {
	case 0: // nil: every theme
	case 1:
		to.Themes = []string{}
	default:
		for _, i := range rng.Perm(len(batchThemes))[:1+rng.IntN(3)] {
			to.Themes = append(to.Themes, batchThemes[i])
		}
		if rng.IntN(4) == 0 {
			to.Themes = append(to.Themes, to.Themes[0])
		}
	}
	return to
}

// plainReader has values every tier takes.
func plainReader(i int, themes ...string) Recipient {
	return Recipient{
		Email:          fmt.Sprintf("reader%d@example.org", i),
		Name:           fmt.Sprintf("Reader%d", i),
		UnsubscribeURL: fmt.Sprintf("https://gull.example.org/unsubscribe?t=tok-%d_x.y", i),
		PreferencesURL: fmt.Sprintf("https://gull.example.org/preferences?t=tok-%d_x.y", i),
		Themes:         themes,
	}
}

// How a Batch made one message.
const (
	viaFrame = "frame"
	viaFull  = "full render"
	viaError = "error"
)

// sameAsRender renders to with b and with r.Render and fails the test
// unless message and error are identical. It returns how b made it, from
// the change in b.Stats (so b must not be used concurrently). When b
// rendered in full, its message is r.Render's by construction, and the
// second render is skipped.
func sameAsRender(t testing.TB, r *Renderer, b *Batch, is digest.Issue, to Recipient) string {
	t.Helper()
	before := b.Stats()
	got, gerr := b.Render(to)
	after := b.Stats()
	path := viaError
	switch {
	case after.Substituted > before.Substituted:
		path = viaFrame
	case after.FullRenders > before.FullRenders:
		return viaFull // b called r.Render(is, to): nothing to compare
	}
	want, werr := r.Render(is, to)
	switch {
	case (gerr == nil) != (werr == nil) || gerr != nil && gerr.Error() != werr.Error():
		t.Errorf("reader %s: error %v, Render gives %v", desc(to), gerr, werr)
	case errors.Is(werr, ErrNothingToSend) != errors.Is(gerr, ErrNothingToSend):
		t.Errorf("reader %s: error %v, Render gives %v", desc(to), gerr, werr)
	}
	if fr := got.Framing; fr != nil {
		// The framing is deliver's shortcut to the HTML and the text:
		// it must spell them exactly.
		if !fr.HTML.Spells(fr.Vals, got.HTML) || !fr.Text.Spells(fr.Vals, got.Text) {
			t.Errorf("reader %s: the message's Framing does not spell its HTML and text", desc(to))
		}
		got.Framing = nil
	}
	gv, wv := reflect.ValueOf(got), reflect.ValueOf(want)
	for i := range gv.NumField() {
		g, w := gv.Field(i).Interface(), wv.Field(i).Interface()
		if g == w {
			continue
		}
		name := gv.Type().Field(i).Name
		if gs, ok := g.(string); ok {
			ws := w.(string)
			at := 0
			for at < len(gs) && at < len(ws) && gs[at] == ws[at] {
				at++
			}
			t.Errorf("reader %s: %s differs from Render at byte %d:\n got …%q…\nwant …%q…",
				desc(to), name, at, gs[max(0, at-80):min(len(gs), at+80)], ws[max(0, at-80):min(len(ws), at+80)])
			continue
		}
		t.Errorf("reader %s: %s is %v, Render gives %v", desc(to), name, g, w)
	}
	return path
}

// desc names a reader in a failure, long values cut.
func desc(to Recipient) string {
	short := func(s string) string {
		if len(s) > 60 {
			return fmt.Sprintf("%q…(%d bytes)", s[:60], len(s))
		}
		return fmt.Sprintf("%q", s)
	}
	return fmt.Sprintf("{Email %s Name %s Unsubscribe %s Preferences %s Themes %q (nil %v) Test %v Lang %q Articles %q}",
		short(to.Email), short(to.Name), short(to.UnsubscribeURL), short(to.PreferencesURL), to.Themes, to.Themes == nil, to.Test, to.Lang, to.Articles)
}

// overrides writes an override folder with the given files.
func overrides(t testing.TB, files map[string]string) string {
	dir := t.TempDir()
	for name, text := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// footer is an override footer.html.tmpl with body as its first line.
func footer(body string) map[string]string {
	return map[string]string{"footer.html.tmpl": `{{ define "footer" -}}
<tr><td class="footer">
  <p>` + body + `</p>
  <p><a href="{{ .Links.Preferences }}" class="footer-link">{{ .L.preferences }}</a> · <a href="{{ .Links.Unsubscribe }}" class="footer-link">{{ .L.unsubscribe }}</a></p>
</td></tr>
{{- end }}`}
}

// TestBatchEqualsRender is the property the Batch rests on: whatever the
// reader, its message is Render's, byte for byte. Each case also says which
// readers must take the fast path and which a full render, so a check that
// wrongly fails (all slow) or wrongly passes (wrong output, caught above)
// both show.
func TestBatchEqualsRender(t *testing.T) {
	is := fixtureIssue()
	for _, c := range []struct {
		name, lang string
		files      map[string]string
		// expect, if set, says how a reader must be rendered ("" = any).
		expect func(to Recipient) string
	}{
		{name: "embedded en", lang: "en", expect: func(to Recipient) string {
			// The embedded templates show the address in the footer's text
			// and the links in hrefs and the plain part; the name nowhere.
			if plainASCII(to.Email) && plainURL(to.UnsubscribeURL) && plainURL(to.PreferencesURL) {
				return viaFrame
			}
			return ""
		}},
		{name: "embedded ko", lang: "ko"},
		{name: "upper name", lang: "en", files: footer(`{{ .L.why }} {{ .Title }}{{ with .To.Name }} — {{ . | upper }}{{ end }}.`),
			expect: func(to Recipient) string {
				if to.Name != "" {
					return viaFull // upper changes the placeholder: the check fails
				}
				if plainURL(to.UnsubscribeURL) && plainURL(to.PreferencesURL) {
					return viaFrame
				}
				return ""
			}},
		{name: "mailto", lang: "en", files: footer(`{{ .L.why }} <a href="mailto:{{ .To.Email }}">{{ .To.Email }}</a>`),
			expect: func(to Recipient) string {
				// An href percent-encodes Hangul, so only ASCII addresses
				// (with '+', which it keeps) are proven.
				if to.Email == "reader+news@example.org" && plainURL(to.UnsubscribeURL) && plainURL(to.PreferencesURL) {
					return viaFrame
				}
				if strings.Contains(to.Email, "김") {
					return viaFull
				}
				return ""
			}},
		{name: "korean greeting", lang: "ko", files: map[string]string{
			"footer.html.tmpl": footer(`{{ with .To.Name }}{{ . }}님, {{ end }}{{ .L.why }} {{ .Title }}.`)["footer.html.tmpl"],
			"subject.tmpl":     `{{ with .To.Name }}{{ . }}님, {{ end }}{{ .Title }} · {{ .IssueID }} · {{ .CountText }}`,
		}, expect: func(to Recipient) string {
			// Names in Hangul, with a space, go through the frame.
			if (to.Name == "김하늘" || to.Name == "홍 길동") && plainURL(to.UnsubscribeURL) && plainURL(to.PreferencesURL) && plainASCII(to.Email) {
				return viaFrame
			}
			if to.Name == "Tom & Jerry" || to.Name == "a  b" || to.Name == "ᄒᆞᆫ글" {
				return viaFull
			}
			return ""
		}},
		{name: "themes as given", lang: "en", files: footer(`Your themes: {{ join ", " .To.Themes }} ({{ printf "%#v" .To.Themes }}).`),
			expect: func(to Recipient) string {
				// The key is the themes as spelt, nil apart from empty: a
				// template may compute on them.
				if plainURL(to.UnsubscribeURL) && plainURL(to.PreferencesURL) {
					return viaFrame
				}
				return ""
			}},
	} {
		t.Run(c.name, func(t *testing.T) {
			if raceEnabled() {
				// One goroutine: nothing for the race detector to find
				// (TestBatchConcurrent is for that), and it makes each
				// render 15 times slower.
				t.Skip("single-threaded; see TestBatchConcurrent")
			}
			t.Parallel()
			dir := ""
			if c.files != nil {
				dir = overrides(t, c.files)
			}
			r := newRenderer(t, c.lang, dir)
			b := r.Batch(is)
			var readers []Recipient
			for i := range 3 {
				readers = append(readers, plainReader(i), plainReader(i, "regulation"), plainReader(i, "compute", "strategy"))
			}
			for _, n := range batchNames {
				to := plainReader(1, "regulation")
				to.Name = n
				readers = append(readers, to)
			}
			for _, e := range batchEmails {
				to := plainReader(2)
				to.Email = e
				readers = append(readers, to)
			}
			for _, u := range batchURLs {
				to := plainReader(3, "strategy")
				to.UnsubscribeURL = u
				readers = append(readers, to)
				to.PreferencesURL = u
				readers = append(readers, to)
			}
			rng := rand.New(rand.NewPCG(1, uint64(len(c.name))))
			// Nearly every random reader is a new key (up to three renders
			// for its frame).
			for range 100 {
				readers = append(readers, randomReader(rng))
			}
			paths := map[string]int{}
			for _, to := range readers {
				path := sameAsRender(t, r, b, is, to)
				paths[path]++
				if c.expect == nil {
					continue
				}
				if want := c.expect(to); want != "" && want != path && path != viaError {
					t.Errorf("reader %s: made by %s, want %s", desc(to), path, want)
				}
			}
			st := b.Stats()
			t.Logf("%v; %v", paths, st)
			if st.Substituted == 0 {
				t.Errorf("no reader took the fast path: %+v", st)
			}
			if st.Substituted+st.FullRenders != paths[viaFrame]+paths[viaFull] {
				t.Errorf("stats %+v do not add up to %v", st, paths)
			}
		})
	}
}

// plainASCII reports whether s is a non-empty value in the ASCII class
// of names and addresses, and no longer than the long probes, which a
// template takes unless it transforms it.
func plainASCII(s string) bool {
	return s != "" && len(s) <= longText && fits(tierPlus, fieldEmail, s)
}

// plainURL is the same for links, which may be empty (the generic link).
func plainURL(s string) bool {
	return s == "" || len(s) <= longURL && fits(tierPlus, fieldUnsubscribe, s)
}

// With the embedded templates, readers whose values are plain ASCII all
// take the fast path, each key costs one frame and one check, and the
// frames are the same bytes as Render's.
func TestBatchEmbeddedAllFast(t *testing.T) {
	is := fixtureIssue()
	r := newRenderer(t, "ko", "")
	b := r.Batch(is)
	keys := [][]string{nil, {"compute"}, {"regulation", "other"}, {"other", "regulation"}, {"strategy", "strategy"}}
	for i := range 40 {
		to := plainReader(i, keys[i%len(keys)]...)
		to.Test = i%7 == 0
		if path := sameAsRender(t, r, b, is, to); path != viaFrame {
			t.Errorf("reader %d: %s", i, path)
		}
	}
	st := b.Stats()
	// Each of the five spellings, with and without Test.
	if st.Frames != 10 || st.Probes != 2*st.Frames || st.FullRenders != 0 || st.Fallbacks != 0 || st.Substituted != 40 {
		t.Errorf("stats %+v; want 10 frames of 2 renders each, 40 substituted", st)
	}
	if b.computed != 0 {
		t.Errorf("the embedded templates compute on fields %04b", b.computed)
	}
}

// Templates that test a reader's value rather than print it, and styles
// that select elements by one: a frame rendered with a random placeholder
// would take the placeholder's branch, or miss the rule, for everyone.
// Readers who differ in the tested property must each get Render's
// message; those with a value in a field tested so get a full render, and
// those with the field empty still a frame.
func TestBatchTestedValues(t *testing.T) {
	if raceEnabled() {
		t.Skip("single-threaded; see TestBatchConcurrent")
	}
	is := fixtureIssue()
	with := func(i int, email, name string) Recipient {
		to := plainReader(i, "regulation")
		to.Email, to.Name = email, name
		return to
	}
	for _, c := range []struct {
		name  string
		files map[string]string
		// Readers, and how each must be made.
		readers []Recipient
		paths   []string
	}{
		{"hasSuffix", footer(`{{ if hasSuffix ".kr" .To.Email }}한국 독자님께{{ else }}Dear reader{{ end }} {{ .L.why }}`),
			[]Recipient{with(1, "reader@example.kr", ""), with(2, "reader@example.org", ""), with(3, "", "")},
			[]string{viaFull, viaFull, viaFrame}},
		{"len", footer(`{{ if lt (len .To.Name) 4 }}Hi {{ .To.Name }}{{ else }}Dear {{ .To.Name }}{{ end }}`),
			[]Recipient{with(1, "a@example.org", "Kim"), with(2, "b@example.org", "Reader Name"), with(3, "c@example.org", "")},
			[]string{viaFull, viaFull, viaFrame}},
		{"regexMatch", footer(`{{ if regexMatch "^[가-힣 ]+$" .To.Name }}{{ .To.Name }}님, {{ end }}{{ .L.why }}`),
			[]Recipient{with(1, "a@example.org", "김하늘"), with(2, "b@example.org", "Jane"), with(3, "c@example.org", "")},
			[]string{viaFull, viaFull, viaFrame}},
		{"eq", footer(`{{ if eq .To.Email .To.Name }}{{ .To.Email }}{{ else }}{{ .To.Name }} ({{ .To.Email }}){{ end }}`),
			[]Recipient{with(1, "a@example.org", "a@example.org"), with(2, "b@example.org", "Reader"), with(3, "", "")},
			[]string{viaFull, viaFull, viaFrame}},
		{"attribute selector", footer(`<style>[title$=".kr"] { color: #b3261e; }</style><span title="{{ .To.Email }}">{{ .L.why }}</span>`),
			[]Recipient{with(1, "reader@example.kr", ""), with(2, "reader@example.org", ""), with(3, "", "")},
			[]string{viaFull, viaFull, viaFull}},
		{"class selector", footer(`<style>.vip { color: #b3261e; }</style><span class="{{ .To.Name }}">{{ .L.why }}</span>`),
			[]Recipient{with(1, "a@example.org", "vip"), with(2, "b@example.org", "Reader"), with(3, "c@example.org", "")},
			[]string{viaFull, viaFull, viaFrame}},
	} {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRenderer(t, "en", overrides(t, c.files))
			b := r.Batch(is)
			var msgs []string
			for i, to := range c.readers {
				if path := sameAsRender(t, r, b, is, to); path != c.paths[i] {
					t.Errorf("reader %s: made by %s, want %s", desc(to), path, c.paths[i])
				}
				// sameAsRender trusts a full render; compare anyway, as
				// these are the readers a frame would get wrong.
				got, gerr := b.Render(to)
				want, werr := r.Render(is, to)
				got.Framing = nil
				if gerr != nil || werr != nil || got != want {
					t.Errorf("reader %s: Batch gives another message than Render (%v, %v)", desc(to), gerr, werr)
				}
				msgs = append(msgs, want.HTML)
			}
			// The readers really differ in what the template tests.
			if stripReader(msgs[0], c.readers[0]) == stripReader(msgs[1], c.readers[1]) {
				t.Errorf("the first two readers get the same message but for their values; the case tests nothing")
			}
		})
	}
}

// stripReader takes to's values out of s, so that what remains shows
// whether a template did more with them than print them.
func stripReader(s string, to Recipient) string {
	for _, v := range readerValues(to) {
		if v != "" {
			s = strings.ReplaceAll(s, v, "")
		}
	}
	return s
}

// The analysis of the templates, case by case: what it lets through
// (printing, emptiness tests, dot inside a with on the field, the data
// handed to a partial, the theme list) and what makes a field computed on.
func TestBatchComputeds(t *testing.T) {
	if raceEnabled() {
		// A walk of parse trees in one goroutine, after 25 renderers'
		// start-up renders, which the race detector makes 15 times slower.
		t.Skip("single-threaded")
	}
	const (
		email = 1 << fieldEmail
		name  = 1 << fieldName
		links = 1<<fieldUnsubscribe | 1<<fieldPreferences
		all   = allFields
	)
	partial := func(body, extra string) map[string]string {
		return map[string]string{"footer.html.tmpl": footer(body)["footer.html.tmpl"] + extra}
	}
	cases := []struct {
		name  string
		files map[string]string
		want  fieldMask
	}{
		{"print", partial(`{{ .To.Name }} {{ $.To.Email }}`, ""), 0},
		{"with", partial(`{{ with .To.Name }}{{ . }}님{{ if . }}!{{ end }}{{ end }}`, ""), 0},
		{"if", partial(`{{ if .To.Name }}{{ .To.Name }}{{ else }}—{{ end }}`, ""), 0},
		{"else with", partial(`{{ with .To.Name }}{{ . }}{{ else with .To.Email }}{{ . }}{{ end }}`, ""), 0},
		{"key and issue", partial(`{{ join ", " .To.Themes }}{{ range .To.Themes }}{{ . }}{{ end }}{{ if .To.Test }}t{{ end }}{{ .Links.Archive | urlquery }}{{ len .Sections }}`, ""), 0},
		{"query", partial(`<a href="https://x.example/?n={{ .To.Name }}">x</a>`, ""), 0},
		{"data to a partial", partial(`{{ template "x" . }}`, `{{ define "x" }}{{ .To.Name }}{{ $.To.Email }}{{ end }}`), 0},
		{"pipe", partial(`{{ .To.Name | upper }}`, ""), name},
		{"argument", partial(`{{ printf "%s" .To.Email }}`, ""), email},
		{"and", partial(`{{ if and .To.Name .To.Email }}x{{ end }}`, ""), name | email},
		{"variable", partial(`{{ $n := .To.Name }}{{ $n }}`, ""), name},
		{"with variable", partial(`{{ with $n := .To.Name }}{{ $n }}{{ end }}`, ""), name},
		{"data in a variable", partial(`{{ $d := . }}{{ $d.To.Name }}`, ""), all},
		{"dot in a with", partial(`{{ with .To.Name }}{{ upper . }}{{ end }}`, ""), name},
		{"dot to a partial", partial(`{{ with .To.Name }}{{ template "x" . }}{{ end }}`, `{{ define "x" }}{{ . }}{{ end }}`), name},
		{"with To", partial(`{{ with .To }}{{ .Name }}{{ end }}`, ""), all},
		{"To to a partial", partial(`{{ template "x" .To }}`, `{{ define "x" }}{{ .Name }}{{ end }}`), all},
		{"Links to a partial", partial(`{{ template "x" .Links }}`, `{{ define "x" }}{{ .Home }}{{ end }}`), links},
		{"block", partial(`{{ block "y" .To }}{{ .Email }}{{ end }}`, ""), all},
		{"dict", partial(`{{ template "x" (dict "D" .) }}`, `{{ define "x" }}{{ .D.Title }}{{ end }}`), all},
		{"print To", partial(`{{ .To }}`, ""), all},
		{"style value", partial(`<p style="color: {{ .To.Name }}">x</p>`, ""), name},
		{"in a partial", partial(`{{ template "x" . }}`, `{{ define "x" }}{{ .To.Email | lower }}{{ end }}`), email},
		{"text", map[string]string{"digest.txt.tmpl": `{{ wrap 72 .To.Name }}`}, name},
		{"subject", map[string]string{"subject.tmpl": `{{ .To.Email }} {{ .Links.Unsubscribe | trunc 10 }}`}, 1 << fieldUnsubscribe},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			t.Parallel()
			r := newRenderer(t, "en", overrides(t, c.files))
			if got := computeds(r); got != c.want {
				t.Errorf("computed on %04b, want %04b", got, c.want)
			}
		})
	}
}

// Keys with the same empty fields try first the tier that proved the
// last one: a template that percent-encodes Hangul in a mailto: link fails
// the wide tier once, and later keys go straight to the '+' tier.
func TestBatchTierMemory(t *testing.T) {
	is := fixtureIssue()
	r := newRenderer(t, "en", overrides(t, footer(`{{ .L.why }} <a href="mailto:{{ .To.Email }}">{{ .To.Email }}</a>`)))
	b := r.Batch(is)
	for i, themes := range [][]string{nil, {"compute"}, {"regulation"}, {"strategy", "other"}} {
		if path := sameAsRender(t, r, b, is, plainReader(i, themes...)); path != viaFrame {
			t.Errorf("reader %d: %s", i, path)
		}
	}
	if st := b.Stats(); st.Frames != 4 || st.Probes != 3+2*3 || st.Fallbacks != 0 {
		t.Errorf("stats %+v; want 4 frames, 3 renders for the first and 2 for each other", st)
	}
}

// A reader whose themes have nothing this week gets ErrNothingToSend, as
// from Render, every time, without a render.
func TestBatchNothingToSend(t *testing.T) {
	is := fixtureIssue()
	r := newRenderer(t, "en", "")
	b := r.Batch(is)
	for _, themes := range [][]string{{"safety"}, {"safety", "safety"}, {"nope", "safety"}} {
		to := plainReader(1, themes...)
		if _, err := r.Render(is, to); !errors.Is(err, ErrNothingToSend) {
			t.Fatalf("Render: %v", err)
		}
		m, err := b.Render(to)
		if !errors.Is(err, ErrNothingToSend) || m != (digest.Message{}) {
			t.Errorf("themes %q: %v, %+v; want ErrNothingToSend and no message", themes, err, m)
		}
	}
	if st := b.Stats(); st.Frames != 3 || st.Probes != 3 || st.Substituted+st.FullRenders != 0 {
		t.Errorf("stats %+v; want 3 frames, one probe render each, no messages", st)
	}
	// An empty week is no error: Render sends it.
	empty := digest.Issue{ID: is.ID, Title: is.Title, Period: is.Period}
	sameAsRender(t, r, r.Batch(empty), empty, plainReader(2, "safety"))
}

// A template error reaches the reader as Render reports it.
func TestBatchTemplateError(t *testing.T) {
	// Fails only for readers with a long name, which the start-up sample
	// (named "Sample") does not have.
	dir := overrides(t, footer(`{{ if gt (len .To.Name) 30 }}{{ .To.Nope }}{{ end }}{{ .L.why }}`))
	r := newRenderer(t, "en", dir)
	is := fixtureIssue()
	b := r.Batch(is)
	to := plainReader(1)
	sameAsRender(t, r, b, is, to)
	to.Name = strings.Repeat("n", 40)
	sameAsRender(t, r, b, is, to)
	if _, err := b.Render(to); !errors.Is(err, ErrTemplate) {
		t.Errorf("long name: %v, want ErrTemplate", err)
	}
}

// Many goroutines on few keys: every message right, each key rendered as
// a frame once (the others wait for it), no data race (go test -race).
func TestBatchConcurrent(t *testing.T) {
	is := fixtureIssue()
	r := newRenderer(t, "en", "")
	b := r.Batch(is)
	keys := []struct {
		themes []string
		test   bool
	}{{nil, false}, {[]string{"compute"}, false}, {[]string{"regulation"}, false}, {[]string{"strategy", "other"}, false}, {[]string{"compute"}, true}}
	readers := make([]Recipient, 200)
	for i := range readers {
		k := keys[i%len(keys)]
		readers[i] = plainReader(i, k.themes...)
		readers[i].Test = k.test
		if i%3 == 0 {
			readers[i].Name = "독자 " + fmt.Sprint(i) // Unused by the embedded templates.
		}
	}
	// One expected message per key, with the reader's values in it: the
	// messages of one key differ only in them.
	want := map[int]digest.Message{}
	for k := range keys {
		m, err := r.Render(is, readers[k])
		if err != nil {
			t.Fatal(err)
		}
		want[k] = m
	}
	got := make([]digest.Message, len(readers))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 8 {
		wg.Go(func() {
			for i := range next {
				m, err := b.Render(readers[i])
				if err != nil {
					t.Error(err)
				}
				got[i] = m
			}
		})
	}
	for i := range readers {
		next <- i
	}
	close(next)
	wg.Wait()
	for i, to := range readers {
		w := want[i%len(keys)]
		model := readers[i%len(keys)]
		rep := strings.NewReplacer(model.Email, to.Email, model.UnsubscribeURL, to.UnsubscribeURL, model.PreferencesURL, to.PreferencesURL)
		w.To, w.ToName, w.HTML, w.Text, w.UnsubscribeURL = to.Email, to.Name, rep.Replace(w.HTML), rep.Replace(w.Text), rep.Replace(w.UnsubscribeURL)
		g := got[i]
		g.Framing = nil // Render makes none; sameAsRender checks it
		if g != w {
			t.Errorf("reader %d: message differs from Render's", i)
		}
	}
	// And a sample against Render itself.
	for i := 0; i < len(readers); i += 37 {
		sameAsRender(t, r, b, is, readers[i])
	}
	if st := b.Stats(); st.Frames != len(keys) || st.Probes != 2*len(keys) || st.Fallbacks != 0 || st.FullRenders != 0 {
		t.Errorf("stats %+v; want %d frames of two renders each and no full render", st, len(keys))
	}
}

// FuzzBatchEqualsRender: any reader gets Render's message from a Batch,
// with the embedded templates and with templates that put the name and
// address into every context (HTML text, attribute, mailto: href, subject,
// plain part).
//
//	go test -run '^$' -fuzz FuzzBatchEqualsRender -fuzztime 60s ./digest/render
func FuzzBatchEqualsRender(f *testing.F) {
	f.Add("Reader", "reader@example.org", "TOKEN", uint8(0), false)
	f.Add("", "", "", uint8(1), true)
	f.Add("김하늘", "reader+news@example.org", "eyJwIjoxfQ.q-_Z", uint8(6), false)
	f.Add("Tom & Jerry", "x&y@example.org", "a&b=%zz", uint8(16), false)
	f.Add("홍 길동", "김@example.kr", strings.Repeat("A", 2100), uint8(31), true)
	f.Add(" a", "A@B", "x y", uint8(9), false)
	f.Add("e\u0301", "\xff@x", "é", uint8(3), true)
	everywhere := map[string]string{
		"footer.html.tmpl": footer(`<span title="{{ .To.Name }}">{{ .To.Name }}</span> <a href="mailto:{{ .To.Email }}">{{ .To.Email }}</a>`)["footer.html.tmpl"],
		"subject.tmpl":     `{{ .To.Name }} {{ .Title }} · {{ .IssueID }}`,
		"digest.txt.tmpl":  "{{ .To.Name }} <{{ .To.Email }}>\n{{ .Links.Unsubscribe }}\n{{ .Links.Preferences }}\n",
	}
	is := fixtureIssue()
	var rs []*Renderer
	var bs []*Batch
	for _, dir := range []string{"", overrides(f, everywhere)} {
		r := newRenderer(f, "ko", dir)
		rs, bs = append(rs, r), append(bs, r.Batch(is))
	}
	f.Fuzz(func(t *testing.T, name, email, token string, themeMask uint8, test bool) {
		var themes []string
		for i, id := range batchThemes {
			if themeMask&(1<<i) != 0 {
				themes = append(themes, id)
			}
		}
		if themeMask&0x80 != 0 {
			slices.Reverse(themes)
		}
		// The values as given, which mostly take a full render, and
		// with only the characters the fast path may take, so the
		// fuzzer's strings also go through the frames.
		for _, keep := range []func(string) string{nil, keepSafe} {
			name, email, token := name, email, token
			if keep != nil {
				name, email, token = keep(name), keep(email), keep(token)
			}
			to := Recipient{Name: name, Email: email, Test: test, Themes: themes}
			if token != "" {
				to.UnsubscribeURL = "https://gull.example.org/unsubscribe?t=" + token
				to.PreferencesURL = "https://gull.example.org/preferences?t=" + token
			}
			for i, r := range rs {
				sameAsRender(t, r, bs[i], is, to)
			}
		}
	})
}

// keepSafe drops the runes no tier takes (it still leaves values outside
// every class: double spaces, marks in non-NFC order, too long ones).
func keepSafe(s string) string {
	return strings.Map(func(c rune) rune {
		if c < utf8.RuneSelf && (textSafe[c] || urlSafe[c] || c == '+' || c == ' ') || c >= utf8.RuneSelf && unicode.IsLetter(c) {
			return c
		}
		return -1
	}, s)
}

// The probes are what the check rests on: each long probe is in its own
// tier's class and holds every character of it; short probes differ from
// long ones at every position from either end.
func TestBatchProbes(t *testing.T) {
	p := newProbes()
	for f := range numFields {
		s := p.short[f]
		if len(s) != shortLen || !fits(tierPlus, f, s) {
			t.Errorf("field %d: short probe %q", f, s)
		}
		for tr := range numTiers {
			l := p.long[tr][f]
			if !fits(tr, f, l) {
				t.Errorf("tier %d field %d: long probe %q is outside its class", tr, f, l)
			}
			if strings.Contains(l, "  ") || strings.HasPrefix(l, " ") || strings.HasSuffix(l, " ") {
				t.Errorf("tier %d field %d: long probe has a leading, trailing or double space", tr, f)
			}
			for i := range shortLen {
				if isURLField(f) && i < len(httpScheme) {
					continue // the scheme: http:// and https://
				}
				if s[i] == l[i] || s[i] == l[len(l)-shortLen+i] {
					t.Errorf("tier %d field %d: short and long probes share a byte at %d", tr, f, i)
				}
			}
			// Every character the tier accepts is in the probe.
			prefix := ""
			if isURLField(f) {
				prefix = httpsScheme
			}
			for c := rune(0); c < 0x3000; c++ {
				if c == ' ' || !fits(tr, f, prefix+"a"+string(c)+"a") {
					continue
				}
				if c < utf8.RuneSelf && !strings.ContainsRune(l, c) {
					t.Errorf("tier %d field %d: %q fits but is not in the long probe", tr, f, c)
				}
			}
			if tr == tierWide && f == fieldName && !strings.Contains(l, " ") {
				t.Errorf("wide name probe has no space")
			}
		}
	}
	if q := newProbes(); q.short == p.short {
		t.Error("two batches share placeholders; they must be random")
	}
}

func TestBatchFits(t *testing.T) {
	for _, c := range []struct {
		tier  tier
		field int
		v     string
		want  bool
	}{
		{tierPlus, fieldEmail, "reader.name-1_x@example.org", true},
		{tierPlus, fieldEmail, "reader+news@example.org", true},
		{tierPlus, fieldEmail, "김@example.kr", false},
		{tierWide, fieldEmail, "김@example.kr", true},
		{tierWide, fieldEmail, "a b@example.kr", false}, // spaces only in names
		{tierWide, fieldName, "홍 길동", true},
		{tierWide, fieldName, "홍  길동", false},
		{tierWide, fieldName, " 홍", false},
		{tierWide, fieldName, "홍 ", false},
		{tierWide, fieldName, "e\u0301", false},      // a mark
		{tierWide, fieldName, "\u1112\u1161", false}, // conjoining jamo
		{tierWide, fieldName, "Tom & Jerry", false},
		{tierWide, fieldName, "O'Brien", false},
		{tierWide, fieldName, "\xff", false},
		{tierWide, fieldName, "\uFFFD", false},
		{tierPlus, fieldUnsubscribe, "https://gull.example.org/u?t=ab-_.~:@=", true},
		{tierPlus, fieldUnsubscribe, "http://gull.example.org/u", true},
		{tierPlus, fieldUnsubscribe, "HTTPS://gull.example.org/u", false},
		{tierPlus, fieldUnsubscribe, "javascript:alert(1)", false},
		{tierPlus, fieldUnsubscribe, "https://gull.example.org/u?a=1&b=2", false},
		{tierPlus, fieldUnsubscribe, "https://gull.example.org/u?t=%41", false},
		{tierPlus, fieldUnsubscribe, "https://gull.example.org/u#x", false},
		{tierPlus, fieldUnsubscribe, "https://gull.example.org/u?t=a+b", true},
		{tierWide, fieldUnsubscribe, "https://gull.example.org/é", false},
	} {
		if got := fits(c.tier, c.field, c.v); got != c.want {
			t.Errorf("fits(tier %d, field %d, %q) = %v, want %v", c.tier, c.field, c.v, got, c.want)
		}
	}
}

// Batch copies Recipient's per-reader fields and digest.Message's fields
// one by one, and its template analysis takes every field of Data and
// Links but To and the two links to be the same for every reader of a
// key; a field added to any of them must be added there too.
func TestBatchKnowsEveryField(t *testing.T) {
	var names []string
	for _, typ := range []reflect.Type{reflect.TypeFor[Recipient](), reflect.TypeFor[digest.Message](), reflect.TypeFor[Data](), reflect.TypeFor[Links]()} {
		for i := range typ.NumField() {
			names = append(names, typ.Field(i).Name)
		}
		names = append(names, "|")
	}
	want := "Email Name Themes Lang Articles UnsubscribeURL PreferencesURL Test ViewURL | " +
		"IssueID To ToName Subject HTML Text UnsubscribeURL ArchiveURL Test ReturnPath Framing | " +
		"Lang Title IssueID Number NumberText Period Lead Subject Note NoteText Count CountText Sections Preheader To Links Test Web L | " +
		"Home Archive Unsubscribe Preferences Subscribe |"
	if got := strings.Join(names, " "); got != want {
		t.Errorf("fields changed:\n got %s\nwant %s\nupdate batch.go (readerValues, frameKey, frame.message, readerFields)", got, want)
	}
}

// The frames of a full week stay small: one per key, none per reader.
func TestBatchMemory(t *testing.T) {
	if testing.Short() || raceEnabled() {
		// Single-threaded, so the race detector has nothing to find, and
		// it makes the 400 renders take half a minute.
		t.Skip("renders 200 frames of a 60-article issue")
	}
	is, ids := benchIssue()
	r := newRenderer(t, "ko", "")
	b := r.Batch(is)
	sets := themeSets(append(ids, "other"), 200)
	before := heapInUse()
	for i, set := range sets {
		if _, err := b.Render(plainReader(i, set...)); err != nil && !errors.Is(err, ErrNothingToSend) {
			t.Fatal(err)
		}
	}
	used := int64(heapInUse()) - int64(before)
	st := b.Stats()
	t.Logf("%d frames: %.1f MiB", st.Frames, float64(used)/(1<<20))
	if st.Frames != 200 || used > 100<<20 {
		t.Errorf("%d frames take %d MiB; want 200 frames well under 100 MiB", st.Frames, used>>20)
	}
	runtime.KeepAlive(b)
}

func raceEnabled() bool {
	bi, ok := debug.ReadBuildInfo()
	return ok && slices.ContainsFunc(bi.Settings, func(s debug.BuildSetting) bool { return s.Key == "-race" && s.Value == "true" })
}

func heapInUse() uint64 {
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return m.HeapAlloc
}

// BenchmarkBatchSubstitute compares the two ways to make a reader's HTML
// from a frame: the precomputed layout (what Batch uses) and a
// strings.Replacer over the frame.
func BenchmarkBatchSubstitute(b *testing.B) {
	is, _ := benchIssue()
	r := newRenderer(b, "ko", "")
	bt := r.Batch(is)
	to := plainReader(1)
	if _, err := bt.Render(to); err != nil {
		b.Fatal(err)
	}
	var f *frame
	for _, f = range bt.frames {
	}
	// The frame as rendered, placeholders in.
	frameHTML := f.html.fill(&bt.probe.short)
	vals := readerValues(to)
	b.Run("layout", func(b *testing.B) {
		for b.Loop() {
			_ = f.html.fill(&vals)
		}
		b.SetBytes(int64(len(frameHTML)))
	})
	b.Run("replacer", func(b *testing.B) {
		p := bt.probe.short
		for b.Loop() {
			rep := strings.NewReplacer(p[0], vals[0], p[1], vals[1], p[2], vals[2], p[3], vals[3])
			_ = rep.Replace(frameHTML)
		}
		b.SetBytes(int64(len(frameHTML)))
	})
}
