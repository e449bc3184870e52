package render

// Rendering one issue for thousands of readers.
//
// A full Render costs milliseconds (html/template, sprig, and the CSS
// inlining, which parses and re-serializes the whole HTML), but readers
// differ in little: the articles follow from the theme set, the test
// marker from Test, and the rest is four strings (address, name, two
// signed links). So a Batch renders each distinct content once, with
// made-up placeholder strings in those four fields, and makes each
// reader's copy by putting the reader's strings where the placeholders
// landed.
//
// That is only right when a reader's string comes out of the templates,
// escapers and CSS inliner exactly as it went in, and when nothing else in
// the output depends on it. Both are checked per frame rather than assumed:
// the frame is rendered twice, with a short placeholder set and a long one
// made of every character a reader's value may contain, and the frame is
// used only if swapping the placeholders in the first output gives the
// second output byte for byte. Readers whose values hold characters the
// check did not cover get a full Render; so does every reader of a frame
// that fails the check (a custom template that upper-cases the name).

import (
	crand "crypto/rand"
	"encoding/binary"
	"errors"
	"math/rand/v2"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"

	"gull/digest"
)

// Batch renders one issue for many readers, exactly as Renderer.Render
// would, but renders each distinct content (theme set, test flag, which
// per-reader fields are empty) only once. It keeps one frame per such key,
// never anything per reader. Safe for concurrent use.
type Batch struct {
	r     *Renderer
	is    digest.Issue
	probe probes

	mu     sync.RWMutex
	frames map[string]*frame

	nFrames, nFallbacks, nProbes, nSubstituted, nFull atomic.Int64
}

// BatchStats says how a Batch made its messages, for logs and tests.
type BatchStats struct {
	// Frames is the number of distinct keys seen; each was prepared once.
	Frames int
	// Fallbacks is how many of those frames failed the check, so that
	// every reader of theirs is rendered in full.
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
	return &Batch{r: r, is: is, probe: newProbes(), frames: map[string]*frame{}}
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
	f := b.frameFor(to)
	f.once.Do(func() { b.build(f) })
	if f.err != nil {
		return digest.Message{}, f.err
	}
	vals := readerValues(to)
	if f.full || !f.accepts(to, &vals, &b.probe) {
		b.nFull.Add(1)
		return b.r.Render(b.is, to)
	}
	b.nSubstituted.Add(1)
	return digest.Message{
		IssueID:        b.is.ID,
		To:             to.Email,
		ToName:         to.Name,
		Subject:        f.subject.fill(&vals),
		HTML:           f.html.fill(&vals),
		Text:           f.text.fill(&vals),
		UnsubscribeURL: f.unsubscribe.fill(&vals),
		ArchiveURL:     f.archive.fill(&vals),
		Test:           to.Test,
	}, nil
}

// The per-reader strings a frame has slots for.
const (
	fieldEmail = iota
	fieldName
	fieldUnsubscribe
	fieldPreferences
	numFields
)

func readerValues(to Recipient) [numFields]string {
	return [numFields]string{to.Email, to.Name, to.UnsubscribeURL, to.PreferencesURL}
}

func isURLField(f int) bool { return f == fieldUnsubscribe || f == fieldPreferences }

// A frame is one rendered content with the places of the per-reader
// strings marked.
type frame struct {
	once sync.Once

	// The key: the sorted theme set, the test flag, and which fields are
	// empty. Emptiness is part of the key because templates branch on it
	// ({{ with .To.Name }}) and an empty link is replaced by the generic
	// one (Data.Links), so a placeholder could not stand for "".
	canon []string
	test  bool
	empty [numFields]bool

	// Set once by build.
	err  error // ErrNothingToSend: the theme set has no article
	full bool  // no usable frame: render every reader in full
	// orderFree: the check also varied the order (and repeats) of the
	// themes, so the frame serves any spelling of the set; otherwise only
	// readers whose Themes are exactly canon.
	orderFree            bool
	tier                 tier            // the character classes the check proved
	used                 [numFields]bool // fields with at least one slot
	subject              layout          // Message.Subject
	html                 layout          // Message.HTML
	text                 layout          // Message.Text
	unsubscribe, archive layout          // Message.UnsubscribeURL, ArchiveURL
}

// frameFor finds or makes the frame of to's key.
func (b *Batch) frameFor(to Recipient) *frame {
	canon := canonicalThemes(to.Themes)
	var buf [128]byte
	key := frameKey(buf[:0], to, canon)
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
		f = &frame{canon: slices.Clone(canon), test: to.Test, full: true}
		for i, v := range readerValues(to) {
			f.empty[i] = v == ""
		}
		b.frames[string(key)] = f
	}
	return f
}

// canonicalThemes is the theme set in one spelling: sorted, no repeats,
// nil when empty (which means every theme). It returns themes itself when
// that is already the case, the usual one, to spare an allocation.
func canonicalThemes(themes []string) []string {
	if len(themes) == 0 {
		return nil
	}
	sorted := true
	for i := 1; i < len(themes); i++ {
		if themes[i-1] >= themes[i] {
			sorted = false
			break
		}
	}
	if sorted {
		return themes
	}
	c := slices.Clone(themes)
	slices.Sort(c)
	return slices.Compact(c)
}

// frameKey appends to's key. Theme ids are length-prefixed, so no id can
// pass for two.
func frameKey(buf []byte, to Recipient, canon []string) []byte {
	var flags byte
	if to.Test {
		flags |= 1
	}
	for i, v := range readerValues(to) {
		if v == "" {
			flags |= 2 << i
		}
	}
	buf = append(buf, flags)
	for _, t := range canon {
		buf = binary.AppendUvarint(buf, uint64(len(t)))
		buf = append(buf, t...)
	}
	return buf
}

// checks are the ways build tries to prove a frame, widest first: each
// later one needs one more render and serves fewer readers without a full
// render. perm varies the themes' order between the two renders.
var checks = []struct {
	tier tier
	perm bool
}{
	{tierWide, true},
	{tierPlus, true},
	{tierNarrow, true},
	// A template that shows .To.Themes as given: frames for the exact
	// spelling only.
	{tierNarrow, false},
}

// build renders f's short probe and then long probes until one proves the
// frame, or gives up and leaves f.full set.
func (b *Batch) build(f *frame) {
	b.nFrames.Add(1)
	short := b.probeFor(f, &b.probe.short, f.canon)
	m1, err := b.render(short)
	if err != nil {
		if errors.Is(err, ErrNothingToSend) {
			// Depends on the theme set alone, which is the key.
			f.err = ErrNothingToSend
			return
		}
		// Template errors may depend on the reader's values: let
		// Render report each reader's own.
		b.nFallbacks.Add(1)
		return
	}
	var placeholders [numFields]string
	for i := range placeholders {
		if !f.empty[i] {
			placeholders[i] = b.probe.short[i]
		}
	}
	var tried []Recipient
	for _, c := range checks {
		themes := f.canon
		if c.perm {
			themes = permuted(f.canon)
		}
		long := b.probeFor(f, &b.probe.long[c.tier], themes)
		// With empty fields two tiers can make the same probe.
		if slices.ContainsFunc(tried, func(p Recipient) bool { return sameProbe(p, long) }) {
			continue
		}
		tried = append(tried, long)
		m2, err := b.render(long)
		if err != nil || !swapsTo(m1, m2, short, long) {
			continue
		}
		f.subject = split(m1.Subject, &placeholders)
		f.html = split(m1.HTML, &placeholders)
		f.text = split(m1.Text, &placeholders)
		f.unsubscribe = split(m1.UnsubscribeURL, &placeholders)
		f.archive = split(m1.ArchiveURL, &placeholders)
		for _, l := range []*layout{&f.subject, &f.html, &f.text, &f.unsubscribe, &f.archive} {
			for _, s := range l.slots {
				f.used[s] = true
			}
		}
		f.tier, f.orderFree, f.full = c.tier, c.perm, false
		return
	}
	b.nFallbacks.Add(1)
}

func (b *Batch) render(to Recipient) (digest.Message, error) {
	b.nProbes.Add(1)
	return b.r.render(b.is, to, true)
}

// probeFor is a reader of f's key whose fields are the placeholders ph
// ("" where the key's field is empty).
func (b *Batch) probeFor(f *frame, ph *[numFields]string, themes []string) Recipient {
	var v [numFields]string
	for i := range v {
		if !f.empty[i] {
			v[i] = ph[i]
		}
	}
	return Recipient{
		Email: v[fieldEmail], Name: v[fieldName],
		UnsubscribeURL: v[fieldUnsubscribe], PreferencesURL: v[fieldPreferences],
		Themes: themes, Test: f.test,
	}
}

// permuted spells the set canon differently: rotated by one, so every
// position holds another id, with a repeat, and non-nil when empty. A
// template that prints or indexes .To.Themes then renders differently.
func permuted(canon []string) []string {
	if len(canon) == 0 {
		return []string{}
	}
	out := make([]string, 0, len(canon)+1)
	out = append(out, canon[1:]...)
	out = append(out, canon[0])
	return append(out, out[0])
}

func sameProbe(a, b Recipient) bool {
	return a.Email == b.Email && a.Name == b.Name && a.UnsubscribeURL == b.UnsubscribeURL &&
		a.PreferencesURL == b.PreferencesURL && a.Test == b.Test &&
		slices.Equal(a.Themes, b.Themes) && (a.Themes == nil) == (b.Themes == nil)
}

// swapsTo reports whether replacing short's placeholders by long's in m1
// gives m2 exactly, in every field of the message.
func swapsTo(m1, m2 digest.Message, short, long Recipient) bool {
	sv, lv := readerValues(short), readerValues(long)
	var pairs []string
	for i := range sv {
		if sv[i] != "" {
			pairs = append(pairs, sv[i], lv[i])
		}
	}
	if len(pairs) > 0 {
		rep := strings.NewReplacer(pairs...)
		for _, s := range []*string{&m1.IssueID, &m1.To, &m1.ToName, &m1.Subject, &m1.HTML, &m1.Text, &m1.UnsubscribeURL, &m1.ArchiveURL} {
			*s = rep.Replace(*s)
		}
	}
	return m1 == m2
}

// accepts reports whether the frame's check covers to: the themes spelt
// as checked, and every field that has a slot within the proven character
// class and no longer than the long probe (a template may cut long values,
// and the check only shows that it did not cut the probe).
func (f *frame) accepts(to Recipient, vals *[numFields]string, p *probes) bool {
	if !f.orderFree {
		if len(to.Themes) == 0 {
			if to.Themes != nil {
				return false
			}
		} else if !slices.Equal(to.Themes, f.canon) {
			return false
		}
	}
	for i, v := range vals {
		if !f.used[i] {
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

// A tier is a set of character classes a frame's check may prove: the long
// probe of the tier holds every character of its classes. Wider tiers
// serve more readers without a full render but fail on more templates
// (Hangul is percent-encoded in an href, '+' escaped in a query string).
type tier uint8

const (
	// tierWide adds to tierPlus, for addresses and names, letters beyond
	// ASCII (Hangul, accented Latin, kana, Han) and, for names, single
	// spaces between words.
	tierWide tier = iota
	// tierPlus adds '+' (reader+news@example.org).
	tierPlus
	// tierNarrow: addresses and names [A-Za-z0-9._@_-], links
	// [A-Za-z0-9._~:/?=@_-]: none of these is changed by html/template's
	// escapers for HTML text, attributes or URLs, nor by the plain part.
	tierNarrow
	numTiers
)

const (
	alnum     = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"
	textPunct = "._@-_"
	urlPunct  = "._~:/?=@-_"
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
		case c == '+' && t <= tierPlus:
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
// and long much longer (templates that cut or measure a value then render
// the two differently), and past the fixed scheme of links the two differ
// at every position counted from either end (so a prefix or suffix of the
// value cannot look the same in both).
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
		for t := range numTiers {
			for f := range numFields {
				if t == tierWide && isURLField(f) {
					continue // as tierPlus: links gain nothing from tierWide
				}
				p.long[t][f] = longProbe(rng, t, f)
				p.maxBytes[t][f] = len(p.long[t][f])
				p.maxRunes[t][f] = utf8.RuneCountInString(p.long[t][f])
			}
		}
		for f := range numFields {
			if isURLField(f) {
				p.long[tierWide][f] = p.long[tierPlus][f]
				p.maxBytes[tierWide][f], p.maxRunes[tierWide][f] = p.maxBytes[tierPlus][f], p.maxRunes[tierPlus][f]
			}
		}
		for f := range numFields {
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
	if t <= tierPlus {
		chars += "+"
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

// distinct reports whether no placeholder occurs inside another, so each
// slot found in a frame is one field's.
func (p *probes) distinct() bool {
	all := slices.Clone(p.short[:])
	for t := range p.long {
		all = append(all, p.long[t][:]...)
	}
	slices.Sort(all)
	all = slices.Compact(all) // links share their long probe between two tiers
	for i, a := range all {
		for j, b := range all {
			if i != j && strings.Contains(b, a) {
				return false
			}
		}
	}
	return len(all) == numFields+int(numTiers)*numFields-2
}
