package render

// Rendering one issue for thousands of readers.
//
// A full Render costs milliseconds (html/template, sprig, and the CSS
// inlining, which parses and re-serializes the whole HTML), but readers
// differ in little: the articles follow from the theme list, the test
// marker from Test, and the rest is four strings (address, name, two
// signed links). So a Batch renders each distinct content once, with
// made-up placeholder strings in those four fields, and makes each
// reader's copy by putting the reader's strings where the placeholders
// landed.
//
// That is only right when a reader's string comes out of the templates,
// escapers and CSS inliner exactly as it went in, and when nothing else in
// the output depends on it. The second part cannot be seen by rendering
// samples ({{ if hasSuffix ".kr" .To.Email }} takes the same branch for
// any two random addresses), so it is read off the templates: a field the
// templates do anything with beyond printing it or testing it for
// emptiness is "computed on", and every reader with a value in it gets a
// full Render (computeds below). The inliner is the other reader of
// values: a key whose <style> could select elements by them gets full
// renders too (stylesSeeValues).
//
// The first part is checked per frame rather than assumed: the frame is
// rendered with a short placeholder set and cut at the placeholders, then
// rendered again with a long set made of every character a reader's value
// may contain, and used only if filling the cut frame with the long set
// gives the second render byte for byte. Readers whose values hold
// characters the check did not cover get a full Render; so does every
// reader of a frame that fails the check.

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"text/template/parse"
	"unicode"
	"unicode/utf8"

	"golang.org/x/net/html"
	"golang.org/x/text/unicode/norm"

	"gull/digest"
)

// Batch renders one issue for many readers, exactly as Renderer.Render
// would, but renders each distinct content (theme list, test flag, which
// per-reader fields are empty) only once. It keeps one frame per such key,
// never anything per reader. Safe for concurrent use.
type Batch struct {
	r        *Renderer
	is       digest.Issue
	probe    probes
	computed fieldMask // fields the templates compute on (computeds)

	mu     sync.RWMutex
	frames map[string]*frame

	// passed[empty] is 1 + the tier that last proved a frame whose empty
	// fields are empty: whether a tier passes depends on where the
	// templates print each field, the same for every key, so later keys
	// try it first and usually need one long render, not the ladder.
	passed [1 << numFields]atomic.Uint32

	nFrames, nFallbacks, nProbes, nSubstituted, nFull atomic.Int64
}

// BatchStats says how a Batch made its messages, for logs and tests.
type BatchStats struct {
	// Frames is the number of distinct keys seen; each was prepared once.
	Frames int
	// Fallbacks is how many of those frames failed the check (or hold a
	// value the templates compute on), so that every reader of theirs is
	// rendered in full.
	Fallbacks int
	// Probes is the number of renders spent preparing frames (two per
	// frame when the first check passes).
	Probes int
	// Substituted counts messages made from a frame; FullRenders those
	// rendered from scratch (a failed frame, or a reader value outside
	// what the frame's check covered).
	Substituted int
	FullRenders int
}

// Batch prepares is for rendering to many readers. is must not be changed
// while the Batch is in use.
func (r *Renderer) Batch(is digest.Issue) *Batch {
	return &Batch{r: r, is: is, probe: newProbes(), computed: computeds(r), frames: map[string]*frame{}}
}

// Stats reports the work done so far.
func (b *Batch) Stats() BatchStats {
	return BatchStats{
		Frames:      int(b.nFrames.Load()),
		Fallbacks:   int(b.nFallbacks.Load()),
		Probes:      int(b.nProbes.Load()),
		Substituted: int(b.nSubstituted.Load()),
		FullRenders: int(b.nFull.Load()),
	}
}

// Render renders the issue for to; the result and the errors (including
// ErrNothingToSend and template errors) are those of r.Render(is, to).
func (b *Batch) Render(to Recipient) (digest.Message, error) {
	if to.ViewURL != "" {
		// A test send's own view link: rare, and no frame has its slot.
		b.nFull.Add(1)
		return b.r.Render(b.is, to)
	}
	vals := readerValues(to)
	f := b.frameFor(to, &vals)
	f.once.Do(func() { b.build(f) })
	if f.err != nil {
		return digest.Message{}, f.err
	}
	if f.full || !f.accepts(&vals, &b.probe) {
		b.nFull.Add(1)
		return b.r.Render(b.is, to)
	}
	b.nSubstituted.Add(1)
	return f.message(b.is.ID, to, &vals), nil
}

// The per-reader strings a frame has slots for.
const (
	fieldEmail = iota
	fieldName
	fieldUnsubscribe
	fieldPreferences
	numFields
)

// A fieldMask is a set of fields, bit i for field i.
type fieldMask uint8

const allFields fieldMask = 1<<numFields - 1

func readerValues(to Recipient) [numFields]string {
	return [numFields]string{to.Email, to.Name, to.UnsubscribeURL, to.PreferencesURL}
}

func emptyFields(vals *[numFields]string) fieldMask {
	var m fieldMask
	for i, v := range vals {
		if v == "" {
			m |= 1 << i
		}
	}
	return m
}

func isURLField(f int) bool { return f == fieldUnsubscribe || f == fieldPreferences }

// A frame is one rendered content with the places of the per-reader
// strings marked.
type frame struct {
	once sync.Once

	// The key: the theme list as the reader spelt it (the caller passes
	// themes in config order, so readers with the same choice share it,
	// and a template may print or index .To.Themes), the test flag, and
	// which fields are empty. Emptiness is part of the key because
	// templates branch on it ({{ with .To.Name }}) and an empty link is
	// replaced by the generic one (Data.Links), so a placeholder could not
	// stand for "".
	themes []string
	test   bool
	empty  fieldMask
	// The reader's language and article choice as they take effect
	// (Renderer.langOf, articlesOf): "" and the list's language share
	// a frame, as do "" and "both".
	lang, articles string

	// Set once by build.
	err                  error // ErrNothingToSend: the theme list has no article
	full                 bool  // no usable frame: render every reader in full
	tier                 tier  // the character classes the check proved
	used                 fieldMask
	subject              layout // Message.Subject
	html                 layout // Message.HTML
	text                 layout // Message.Text
	unsubscribe, archive layout // Message.UnsubscribeURL, ArchiveURL
}

// frameFor finds or makes the frame of to's key.
func (b *Batch) frameFor(to Recipient, vals *[numFields]string) *frame {
	empty := emptyFields(vals)
	var buf [128]byte
	lang, articles := b.r.langOf(to), articlesOf(to)
	key := frameKey(buf[:0], to, empty, lang, articles)
	b.mu.RLock()
	f := b.frames[string(key)]
	b.mu.RUnlock()
	if f != nil {
		return f
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if f = b.frames[string(key)]; f == nil {
		// full until build says otherwise, so a build that never
		// finishes its check cannot leave a half-made frame in use.
		f = &frame{themes: slices.Clone(to.Themes), test: to.Test, empty: empty, lang: lang, articles: articles, full: true}
		b.frames[string(key)] = f
	}
	return f
}

// frameKey appends to's key. Theme ids are length-prefixed, so no id can
// pass for two; nil themes (every theme) are flagged apart from an empty
// list, which a template could tell apart (printf "%#v"). The language
// and article choice come first, a byte each ("ko", "en"; "ko", "en",
// "both"), as the reader's choices take effect.
func frameKey(buf []byte, to Recipient, empty fieldMask, lang, articles string) []byte {
	buf = append(buf, lang[0], articles[0])
	flags := byte(empty)
	if to.Test {
		flags |= 1 << numFields
	}
	if to.Themes == nil {
		flags |= 2 << numFields
	}
	buf = append(buf, flags)
	for _, t := range to.Themes {
		buf = binary.AppendUvarint(buf, uint64(len(t)))
		buf = append(buf, t...)
	}
	return buf
}

// build renders f's short probe, cuts it into the frame, and then renders
// long probes until one proves the frame, or gives up and leaves f.full
// set.
func (b *Batch) build(f *frame) {
	b.nFrames.Add(1)
	if b.computed&^f.empty != 0 {
		// A template computes on a value every reader of this key has:
		// no frame can stand for them.
		b.nFallbacks.Add(1)
		return
	}
	short := b.probeFor(f, &b.probe.short)
	b.nProbes.Add(1)
	// Without the inlining first, to look at the <style> it will apply.
	m1, err := b.r.render(b.is, short, false)
	if err == nil {
		pre := m1.HTML
		if m1.HTML, err = b.r.inline(pre); err == nil && stylesSeeValues(pre, short) {
			b.nFallbacks.Add(1)
			return
		}
	}
	if err != nil {
		if errors.Is(err, ErrNothingToSend) {
			// Depends on the theme list alone, which is the key.
			f.err = ErrNothingToSend
			return
		}
		// Template errors may depend on the reader's values: let
		// Render report each reader's own.
		b.nFallbacks.Add(1)
		return
	}
	ph := readerValues(short)
	f.subject = split(m1.Subject, &ph)
	f.html = split(m1.HTML, &ph)
	f.text = split(m1.Text, &ph)
	f.unsubscribe = split(m1.UnsubscribeURL, &ph)
	f.archive = split(m1.ArchiveURL, &ph)
	for _, l := range []*layout{&f.subject, &f.html, &f.text, &f.unsubscribe, &f.archive} {
		for _, s := range l.slots {
			f.used |= 1 << s
		}
	}
	ladder := []tier{tierWide, tierPlus}
	if last := b.passed[f.empty].Load(); last > 0 {
		t := tier(last - 1)
		ladder = append([]tier{t}, slices.DeleteFunc(ladder, func(u tier) bool { return u == t })...)
	}
	var tried []Recipient
	for _, t := range ladder {
		long := b.probeFor(f, &b.probe.long[t])
		// With empty fields two tiers can make the same probe.
		if slices.ContainsFunc(tried, func(p Recipient) bool { return reflect.DeepEqual(p, long) }) {
			continue
		}
		tried = append(tried, long)
		b.nProbes.Add(1)
		m2, err := b.r.render(b.is, long, true)
		m2.Subject = fitSubject(m2.Subject)
		lv := readerValues(long)
		got := f.message(b.is.ID, long, &lv)
		got.Framing = nil // Render makes none
		if err != nil || got != m2 {
			continue
		}
		f.tier, f.full = t, false
		b.passed[f.empty].Store(uint32(t) + 1)
		return
	}
	b.nFallbacks.Add(1)
}

// probeFor is a reader of f's key whose fields are the placeholders ph
// ("" where the key's field is empty).
func (b *Batch) probeFor(f *frame, ph *[numFields]string) Recipient {
	var v [numFields]string
	for i := range v {
		if f.empty&(1<<i) == 0 {
			v[i] = ph[i]
		}
	}
	return Recipient{
		Email: v[fieldEmail], Name: v[fieldName],
		UnsubscribeURL: v[fieldUnsubscribe], PreferencesURL: v[fieldPreferences],
		Themes: f.themes, Test: f.test, Lang: f.lang, Articles: f.articles,
	}
}

// message is to's message from the frame. build proves a frame with this
// very function, so what is checked is what is sent.
func (f *frame) message(issueID string, to Recipient, vals *[numFields]string) digest.Message {
	return digest.Message{
		IssueID:        issueID,
		To:             to.Email,
		ToName:         to.Name,
		Subject:        fitSubject(f.subject.fill(vals)),
		HTML:           f.html.fill(vals),
		Text:           f.text.fill(vals),
		UnsubscribeURL: f.unsubscribe.fill(vals),
		ArchiveURL:     f.archive.fill(vals),
		Test:           to.Test,
		// The composer encodes the frames' literals once (deliver).
		Framing: &digest.Framing{HTML: &f.html.shared, Text: &f.text.shared, Vals: vals[:]},
	}
}

// accepts reports whether the frame's check covers the reader's values:
// every field that has a slot within the proven character class and no
// longer than the long probe (nothing longer was tried). A field without a
// slot is at most tested for emptiness, which the key fixes; anything
// more makes it computed on, and build refuses the key.
func (f *frame) accepts(vals *[numFields]string, p *probes) bool {
	for i, v := range vals {
		if f.used&(1<<i) == 0 {
			continue
		}
		if len(v) > p.maxBytes[f.tier][i] || !fits(f.tier, i, v) || utf8.RuneCountInString(v) > p.maxRunes[f.tier][i] {
			return false
		}
	}
	return true
}

// A layout is a frame's string cut at the placeholders: lits[0], the
// value of slots[0], lits[1], ... Filling it copies each literal once,
// where strings.Replacer would search the 30-100 KB of HTML again for
// every reader (BenchmarkBatchSubstitute).
type layout struct {
	lits  []string // len(slots)+1 pieces of the frame string
	slots []uint8  // field indices
	size  int      // bytes in lits
	// shared is lits and slots for the messages' Framing: one per
	// layout, so deliver can key its encoded copy by its address.
	shared digest.Frame
}

func split(s string, ph *[numFields]string) layout {
	var l layout
	l.size = len(s)
	next := [numFields]int{}
	for i, p := range ph {
		next[i] = -1
		if p != "" {
			next[i] = strings.Index(s, p)
		}
	}
	pos := 0
	for {
		which := -1
		for i, n := range next {
			if n >= 0 && (which < 0 || n < next[which]) {
				which = i
			}
		}
		if which < 0 {
			l.lits = append(l.lits, s[pos:])
			l.shared = digest.Frame{Lits: l.lits, Slots: l.slots}
			break
		}
		at := next[which]
		l.lits = append(l.lits, s[pos:at])
		l.slots = append(l.slots, uint8(which))
		l.size -= len(ph[which])
		pos = at + len(ph[which])
		if n := strings.Index(s[pos:], ph[which]); n >= 0 {
			next[which] = pos + n
		} else {
			next[which] = -1
		}
	}
	return l
}

func (l *layout) fill(vals *[numFields]string) string {
	if len(l.slots) == 0 {
		return l.lits[0] // shared by every reader of the frame
	}
	n := l.size
	for _, s := range l.slots {
		n += len(vals[s])
	}
	var b strings.Builder
	b.Grow(n)
	b.WriteString(l.lits[0])
	for i, s := range l.slots {
		b.WriteString(vals[s])
		b.WriteString(l.lits[i+1])
	}
	return b.String()
}

// stylesSeeValues reports whether the CSS inliner could pick rules by a
// reader's value in h, the HTML before inlining, rendered for probe: a
// <style> with an attribute selector that has a value ([title$=".kr"]) or
// that selects on text (cascadia's :contains and :matches, or a backslash
// escape that could spell them), or, when there is any <style>, a class
// or id attribute holding a value (.vip matches the reader named vip).
// Random placeholders match none of these, so the check could not see
// them. The scan is of the raw text, which finds every <style> premailer
// reads and perhaps more (one in a comment): a false alarm only costs
// full renders.
func stylesSeeValues(h string, probe Recipient) bool {
	lower := []byte(h)
	for i, c := range lower {
		if 'A' <= c && c <= 'Z' {
			lower[i] = c + 'a' - 'A'
		}
	}
	s, styled := string(lower), false
	for {
		i := strings.Index(s, "<style")
		if i < 0 {
			break
		}
		styled, s = true, s[i+len("<style"):]
		end := strings.Index(s, "</style")
		if end < 0 {
			end = len(s)
		}
		css := s[:end]
		s = s[end:]
		if strings.Contains(css, ":contains") || strings.Contains(css, ":matches") || strings.Contains(css, `\`) {
			return true
		}
		for {
			open := strings.IndexByte(css, '[')
			if open < 0 {
				break
			}
			css = css[open+1:]
			end := strings.IndexByte(css, ']')
			if end < 0 {
				end = len(css)
			}
			if strings.Contains(css[:end], "=") {
				return true
			}
			css = css[end:]
		}
	}
	ph := readerValues(probe)
	if !styled || ph == [numFields]string{} {
		return false
	}
	z := html.NewTokenizer(strings.NewReader(h))
	for {
		switch z.Next() {
		case html.ErrorToken:
			return false
		case html.StartTagToken, html.SelfClosingTagToken:
			for more := true; more; {
				var k, v []byte
				if k, v, more = z.TagAttr(); string(k) != "class" && string(k) != "id" {
					continue
				}
				for _, p := range ph {
					if p != "" && strings.Contains(string(v), p) {
						return true
					}
				}
			}
		}
	}
}

// computeds reads r's templates, from the three entries through every
// {{ template }} they reach, and returns the fields something is computed
// on. A field is safe only where it is printed bare ({{ .To.Name }},
// {{ $.To.Name }}, html/template's escapers after it), tested for
// emptiness as the whole pipeline of an if or with, or, inside
// {{ with FIELD }}, printed bare or tested as dot. Anything else hands it
// to code whose result the frames cannot follow: a function argument
// (hasSuffix, len, eq, upper, printf), a variable, a range, a template
// called with the field, .To or .Links, a method, or .To, .Links or the
// whole data printed or passed on. Unknown constructs count as computing
// on everything.
func computeds(r *Renderer) fieldMask {
	var m fieldMask
	for _, e := range []struct {
		name     string
		lookup   func(string) *parse.Tree
		escapers bool
	}{
		{htmlEntry, func(n string) *parse.Tree {
			if t := r.html.Lookup(n); t != nil {
				return t.Tree
			}
			return nil
		}, true},
		{textEntry, func(n string) *parse.Tree {
			if t := r.text.Lookup(n); t != nil {
				return t.Tree
			}
			return nil
		}, false},
		{subjectEntry, func(n string) *parse.Tree {
			if t := r.subject.Lookup(n); t != nil {
				return t.Tree
			}
			return nil
		}, false},
	} {
		u := usage{lookup: e.lookup, escapers: e.escapers, seen: map[string]bool{}}
		u.template(e.name, tval{kind: vData})
		m |= u.computed
	}
	return m
}

// What the analysis knows of a template value.
type valueKind uint8

const (
	// vOther holds no reader value, or only ones already marked computed.
	vOther valueKind = iota
	vData            // the Data
	vTo              // Data.To
	vLinks           // Data.Links
	vField           // one reader field, field says which
)

type tval struct {
	kind  valueKind
	field int
}

// fields are the reader fields inside v.
func (v tval) fields() fieldMask {
	switch v.kind {
	case vData, vTo:
		return allFields
	case vLinks:
		return 1<<fieldUnsubscribe | 1<<fieldPreferences
	case vField:
		return 1 << v.field
	}
	return 0
}

// readerFields maps the struct fields that are reader values, or hold
// them, to what they are. Links.Unsubscribe and Preferences are the
// reader's links (or the generic ones when empty, which the key fixes).
var readerFields = map[valueKind]map[string]tval{
	vData: {"To": {kind: vTo}, "Links": {kind: vLinks}},
	vTo: {
		"Email": {vField, fieldEmail}, "Name": {vField, fieldName},
		"UnsubscribeURL": {vField, fieldUnsubscribe}, "PreferencesURL": {vField, fieldPreferences},
	},
	vLinks: {"Unsubscribe": {vField, fieldUnsubscribe}, "Preferences": {vField, fieldPreferences}},
}

// The types whose other fields are the same for every reader of a key
// (TestBatchKnowsEveryField lists them).
var structTypes = map[valueKind]reflect.Type{
	vData: reflect.TypeFor[Data](), vTo: reflect.TypeFor[Recipient](), vLinks: reflect.TypeFor[Links](),
}

// usage walks one template set.
type usage struct {
	lookup   func(string) *parse.Tree
	escapers bool // html/template: the escapers it appended to actions
	computed fieldMask
	seen     map[string]bool
}

func (u *usage) use(v tval) { u.computed |= v.fields() }

// template walks the template name executed with dot (and $) v, which is
// the data or nothing of the reader's.
func (u *usage) template(name string, v tval) {
	key := name + "\x00" + string(rune('0'+v.kind))
	if u.seen[key] {
		return
	}
	u.seen[key] = true
	t := u.lookup(name)
	if t == nil {
		// html/template names a partial escaped for another context
		// "name$htmltemplate_..." and keeps it out of the set; its tree is
		// the partial's with other escapers.
		if base, _, ok := strings.Cut(name, "$htmltemplate_"); ok {
			t = u.lookup(base)
		}
	}
	if t == nil || t.Root == nil {
		u.computed = allFields
		return
	}
	u.walk(t.Root, v, v)
}

func (u *usage) walk(n parse.Node, dot, dollar tval) {
	switch n := n.(type) {
	case nil:
	case *parse.ListNode:
		if n == nil {
			return
		}
		for _, c := range n.Nodes {
			u.walk(c, dot, dollar)
		}
	case *parse.TextNode, *parse.CommentNode, *parse.BreakNode, *parse.ContinueNode:
	case *parse.ActionNode:
		cmds := n.Pipe.Cmds
		if u.escapers && len(n.Pipe.Decl) == 0 {
			for len(cmds) > 1 && transparent(cmds[len(cmds)-1]) {
				cmds = cmds[:len(cmds)-1]
			}
		}
		if v := u.pipe(n.Pipe.Decl, cmds, dot, dollar); v.kind != vField {
			u.use(v) // printing .To, .Links or the data prints every field
		}
	case *parse.IfNode:
		u.test(n.Pipe, dot, dollar)
		u.walk(n.List, dot, dollar)
		u.walk(n.ElseList, dot, dollar)
	case *parse.WithNode:
		v := u.test(n.Pipe, dot, dollar)
		u.walk(n.List, v, dollar)
		u.walk(n.ElseList, dot, dollar)
	case *parse.RangeNode:
		u.use(u.pipe(n.Pipe.Decl, n.Pipe.Cmds, dot, dollar))
		u.walk(n.List, tval{}, dollar)
		u.walk(n.ElseList, dot, dollar)
	case *parse.TemplateNode:
		v := tval{}
		if n.Pipe != nil {
			v = u.pipe(n.Pipe.Decl, n.Pipe.Cmds, dot, dollar)
		}
		if v.kind != vData {
			// The data itself goes in (the embedded footer); a part of
			// it would need the callee read for that part: not done.
			u.use(v)
			v = tval{}
		}
		u.template(n.Name, v)
	default:
		u.computed = allFields
	}
}

// test is an if or with pipeline: a lone field is tested for emptiness
// only, and is dot inside the with.
func (u *usage) test(p *parse.PipeNode, dot, dollar tval) tval {
	v := u.pipe(p.Decl, p.Cmds, dot, dollar)
	if v.kind != vField {
		u.use(v)
		return tval{}
	}
	return v
}

// pipe returns the value of a pipeline that is a lone value; any other
// pipeline passes its values to functions or variables, which use them.
func (u *usage) pipe(decl []*parse.VariableNode, cmds []*parse.CommandNode, dot, dollar tval) tval {
	if len(decl) == 0 && len(cmds) == 1 && len(cmds[0].Args) == 1 {
		return u.arg(cmds[0].Args[0], dot, dollar)
	}
	for _, c := range cmds {
		for _, a := range c.Args {
			u.use(u.arg(a, dot, dollar))
		}
	}
	return tval{}
}

func (u *usage) arg(n parse.Node, dot, dollar tval) tval {
	switch n := n.(type) {
	case *parse.DotNode:
		return dot
	case *parse.FieldNode:
		return u.chain(dot, n.Ident)
	case *parse.VariableNode:
		if n.Ident[0] == "$" {
			return u.chain(dollar, n.Ident[1:])
		}
		return tval{} // only pipe assigns variables, after using the value
	case *parse.ChainNode:
		return u.chain(u.arg(n.Node, dot, dollar), n.Field)
	case *parse.PipeNode:
		return u.pipe(n.Decl, n.Cmds, dot, dollar)
	}
	return tval{} // constants, nil, functions called without arguments
}

// chain follows .A.B.C from v.
func (u *usage) chain(v tval, idents []string) tval {
	for _, id := range idents {
		switch v.kind {
		case vOther:
			return v
		case vField:
			u.use(v) // a string has no fields: an error, but whose?
			return tval{}
		}
		if w, ok := readerFields[v.kind][id]; ok {
			v = w
			continue
		}
		if _, ok := structTypes[v.kind].FieldByName(id); ok {
			v = tval{} // fixed by the key (.To.Themes, .Test) or the issue
			continue
		}
		u.use(v) // a method sees its whole receiver
		return tval{}
	}
	return v
}

// transparent reports whether an escaper html/template appended changes
// each character on its own, so the frame's check covers it for every
// value of the proven classes. The filters are not: cssvaluefilter
// rejects "expression" and "--", htmlnamefilter and srcsetescaper judge
// the whole value. urlfilter judges the scheme only, and fits lets no
// value through that it would change.
func transparent(c *parse.CommandNode) bool {
	if len(c.Args) != 1 {
		return false
	}
	id, ok := c.Args[0].(*parse.IdentifierNode)
	if !ok {
		return false
	}
	switch id.Ident {
	case "_html_template_attrescaper", "_html_template_htmlescaper", "_html_template_rcdataescaper",
		"_html_template_nospaceescaper", "_html_template_commentescaper",
		"_html_template_urlescaper", "_html_template_urlnormalizer", "_html_template_urlfilter",
		"_html_template_cssescaper",
		"_html_template_jsvalescaper", "_html_template_jsstrescaper", "_html_template_jstmpllitescaper",
		"_html_template_jsregexpescaper":
		return true
	}
	return false
}

// A tier is a set of character classes a frame's check may prove: the long
// probe of the tier holds every character of its classes. The wider tier
// serves more readers without a full render but fails on more templates
// (Hangul is percent-encoded in an href).
type tier uint8

const (
	// tierWide adds to tierPlus, for addresses and names, letters beyond
	// ASCII (Hangul, accented Latin, kana, Han) and, for names, single
	// spaces between words.
	tierWide tier = iota
	// tierPlus: addresses and names [A-Za-z0-9._@+-], links
	// [A-Za-z0-9._~:/?=@+-]. No narrower ASCII tier: html/template's '+'
	// escape in text and attributes is undone by the inliner, and where
	// '+' stays escaped (a query) so does '@'.
	tierPlus
	numTiers
)

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	textPunct = "._@-_+"
	urlPunct  = "._~:/?=@-_+"
)

// wideSamples are the non-ASCII letters in tierWide's long probes: the
// scripts readers write names in, a lower-case accented letter so that
// case mapping shows, and one outside the BMP (four bytes, two UTF-16
// units).
const wideSamples = "éÅøжЖΩ漢字かなカナ한글ㅎ𠀋"

var textSafe, urlSafe = asciiTable(alnum + textPunct), asciiTable(alnum + urlPunct)

func asciiTable(chars string) (t [utf8.RuneSelf]bool) {
	for i := 0; i < len(chars); i++ {
		t[chars[i]] = true
	}
	return t
}

// fits reports whether v, a value of field f, is in tier t's class: made
// only of characters the tier's long probe carries (every ASCII one; for
// letters beyond ASCII, samples of their scripts), so the check showed
// they pass through unchanged. Links must also be http(s) URLs, since
// html/template replaces other schemes in an href with "#ZgotmplZ".
func fits(t tier, f int, v string) bool {
	url := isURLField(f)
	safe := &textSafe
	if url {
		safe = &urlSafe
		if !strings.HasPrefix(v, "https://") && !strings.HasPrefix(v, "http://") {
			return false
		}
	}
	ascii := true
	for i, c := range v {
		switch {
		case c < utf8.RuneSelf && safe[c]:
		case c == ' ' && t == tierWide && f == fieldName:
			// Inside only, and single: the subject and the plain part
			// trim and collapse spaces.
			if i == 0 || i == len(v)-1 || v[i-1] == ' ' {
				return false
			}
		case c >= utf8.RuneSelf && t == tierWide && !url && unicode.IsLetter(c) && !isConjoiningJamo(c):
			// Conjoining jamo could compose with text beside the slot
			// when a helper normalizes (NFC); marks are not letters.
			ascii = false
		default:
			return false
		}
	}
	return ascii || norm.NFC.IsNormalString(v)
}

// probes are a Batch's placeholders: short is what frames are rendered
// with, long[t] what proves tier t. They are random (crypto-seeded, new
// for each Batch), so feed text cannot hold them; short is 24 characters
// and long much longer, and past the fixed scheme of links the two differ
// at every position counted from either end (so an escaper that treated
// a value's ends apart would show).
type probes struct {
	short    [numFields]string
	long     [numTiers][numFields]string
	maxBytes [numTiers][numFields]int
	maxRunes [numTiers][numFields]int
}

const (
	shortLen    = 24
	longText    = 256  // an address has at most 254 bytes
	longURL     = 2048 // links carry tokens of up to 1 KiB
	httpScheme  = "http://"
	httpsScheme = "https://"
)

func newProbes() probes {
	var seed [32]byte
	_, _ = crand.Read(seed[:]) // never fails (crypto/rand.Read crashes instead)
	rng := rand.New(rand.NewChaCha8(seed))
	for {
		var p probes
		for f := range numFields {
			for t := range numTiers {
				p.long[t][f] = longProbe(rng, t, f)
			}
			if isURLField(f) {
				// Links take no letters or spaces, all the wide tier adds:
				// one probe for both, so a key with no address and no
				// name checks its links once.
				p.long[tierWide][f] = p.long[tierPlus][f]
			}
			for t := range numTiers {
				p.maxBytes[t][f] = len(p.long[t][f])
				p.maxRunes[t][f] = utf8.RuneCountInString(p.long[t][f])
			}
			p.short[f] = shortProbe(rng, f, &p.long)
		}
		if p.distinct() {
			return p
		}
	}
}

// longProbe is a random string of field f's class in tier t holding each
// of its characters at least once.
func longProbe(rng *rand.Rand, t tier, f int) string {
	url := isURLField(f)
	n, prefix, chars := longText, "", alnum+textPunct
	if url {
		n, prefix, chars = longURL, httpsScheme, alnum+urlPunct
	}
	alphabet := []rune(chars)
	required := alphabet
	if t == tierWide && !url {
		required = append(slices.Clone(alphabet), []rune(wideSamples)...)
	}
	body := make([]rune, n-len(prefix))
	for i := range body {
		body[i] = alphabet[rng.IntN(len(alphabet))]
	}
	free := rng.Perm(len(body))
	if t == tierWide && f == fieldName {
		// Single spaces between words, every 16 characters or so.
		for i := 2; i < len(body)-2; i += 8 + rng.IntN(16) {
			body[i] = ' '
		}
		free = slices.DeleteFunc(free, func(i int) bool { return body[i] == ' ' })
	}
	for i, c := range required {
		body[free[i]] = c
	}
	return prefix + string(body)
}

// shortProbe is a random alphanumeric string (an http:// URL for links)
// that differs from every long probe of f at each position, counted from
// the start and from the end, in bytes and in runes.
func shortProbe(rng *rand.Rand, f int, long *[numTiers][numFields]string) string {
	prefix := ""
	if isURLField(f) {
		prefix = httpScheme
	}
	var runes [numTiers][]rune
	for t := range numTiers {
		runes[t] = []rune(long[t][f])
	}
	out := []byte(prefix)
	for i := len(prefix); i < shortLen; i++ {
	pick:
		for {
			c := alnum[rng.IntN(len(alnum))]
			for t := range numTiers {
				l, r := long[t][f], runes[t]
				if l[i] == c || l[len(l)-shortLen+i] == c || r[i] == rune(c) || r[len(r)-shortLen+i] == rune(c) {
					continue pick
				}
			}
			out = append(out, c)
			break
		}
	}
	return string(out)
}

// distinct reports whether no placeholder occurs inside another, or
// equals one of another field, so each slot found in a frame is one
// field's.
func (p *probes) distinct() bool {
	type placeholder struct {
		field int
		s     string
	}
	var all []placeholder
	for f := range numFields {
		all = append(all, placeholder{f, p.short[f]})
		for t := range numTiers {
			all = append(all, placeholder{f, p.long[t][f]})
		}
	}
	for _, a := range all {
		for _, b := range all {
			if a.s == b.s && a.field == b.field {
				continue // the same probe, or one shared by two tiers
			}
			if strings.Contains(b.s, a.s) {
				return false
			}
		}
	}
	return true
}
