package digest

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// An issue can be built as a draft before its send: editors hide, move and
// pin articles, write blurbs, an introduction (the note) and a subject, and
// approve it. The draft keeps the latest build (Draft.Base) and the edits
// in the order they were made; the issue editors and readers see is always
// the edits applied to the build (ApplyEdits), so a rebuild that brings new
// articles keeps every edit in force. Edits name articles by their stable
// ids (Article.ID), never by position.

// Where a draft stands (Issue.Status).
const (
	// DraftOpen: being edited.
	DraftOpen = "draft"
	// DraftApproved: frozen with its edits for the send; edits are refused
	// until it is reopened.
	DraftApproved = "approved"
	// DraftSent: its send has begun (or the issue was frozen for a send
	// without an approval): it can no longer change or be reopened.
	DraftSent = "sent"
)

// FirstDraftVersion is the version of a draft's first build. Articles a
// later build brings are new (Draft.New).
const FirstDraftVersion = 1

// EditKind is what an edit does.
type EditKind string

const (
	EditHide      EditKind = "hide"       // keep the article from readers (it stays listed for editors)
	EditShowAgain EditKind = "show-again" // undo a hide
	EditMove      EditKind = "move"       // put the article in another section (Edit.Theme)
	EditPin       EditKind = "pin"        // put the article at the top of its section; the latest pin leads
	EditUnpin     EditKind = "unpin"      // undo a pin: back to its ranked place
	EditBlurb     EditKind = "blurb"      // the editor's summary (Edit.Text); "" gives the feed's back
	EditNote      EditKind = "note"       // the editor's introduction (Edit.Text, Markdown subset)
	EditSubject   EditKind = "subject"    // the subject (Edit.Text); "" gives the default back
)

// Edit is one change an editor makes to a draft.
type Edit struct {
	Kind EditKind
	// Article is the id of the article it changes (every kind but note
	// and subject). The id of an article listed under another's "also"
	// names that entry: a rebuild may choose another outlet's article to
	// lead a story, and the edit follows the story.
	Article string
	// Theme is the id of the section a move goes to.
	Theme string
	// Text is the blurb, the note or the subject.
	Text string
}

// Limits on what an editor writes. The note is the mail's introduction,
// not its body; a subject over 200 characters is cut by every mail client
// anyway; a blurb is a summary (the feeds' are cut at 600).
const (
	MaxNoteBytes    = 64 << 10
	MaxSubjectRunes = 200
	MaxBlurbRunes   = 1000
	// minIDPrefix is how much of an article id a user must type: ids are
	// 24 hex digits, and 6 tell apart a week's articles many times over.
	minIDPrefix = 6
)

// Errors of the draft. The messages are for the editor: what happened and
// what to do.
var (
	// ErrBadEdit: the edit names something that does not exist or its text
	// is not acceptable; the draft is unchanged.
	ErrBadEdit = errors.New("bad edit")
	// ErrStaleDraft: the edit was made against an older version of the
	// draft (see StaleDraftError).
	ErrStaleDraft = errors.New("the draft changed since you loaded it")
	// ErrNoDraft: there is no draft of that issue.
	ErrNoDraft = errors.New("no draft")
	// ErrDraftClosed: the draft is approved or sent (see DraftClosedError).
	ErrDraftClosed = errors.New("the draft is closed")
)

// StaleDraftError refuses an edit made against version Loaded of a draft
// that is at version Now: applying it would overwrite what another editor
// (or a rebuild) did without its author having seen it.
type StaleDraftError struct{ Loaded, Now int }

func (e *StaleDraftError) Error() string {
	return fmt.Sprintf("the draft changed since you loaded it (version %d, now %d): reload and apply your change again", e.Loaded, e.Now)
}

func (e *StaleDraftError) Is(target error) bool { return target == ErrStaleDraft }

// DraftClosedError refuses a change to an approved or sent issue.
type DraftClosedError struct {
	IssueID string
	Status  string // DraftApproved or DraftSent
}

func (e *DraftClosedError) Error() string {
	if e.Status == DraftApproved {
		return fmt.Sprintf("issue %s is approved: reopen it to change it", e.IssueID)
	}
	return fmt.Sprintf("issue %s was sent: it can no longer change", e.IssueID)
}

func (e *DraftClosedError) Is(target error) bool { return target == ErrDraftClosed }

// editError is a bad edit, said in one line.
type editError struct{ msg string }

func (e *editError) Error() string        { return e.msg }
func (e *editError) Is(target error) bool { return target == ErrBadEdit }

// BadEdit makes an ErrBadEdit with its one-line message.
func BadEdit(format string, args ...any) error {
	return &editError{msg: fmt.Sprintf(format, args...)}
}

// Draft is an issue being edited: the latest build and the edits on it.
type Draft struct {
	// Base is the latest build, before any edit.
	Base Issue
	// Themes are the sections an article may be moved to, in the order of
	// the digest: the configured themes, then the catch-all section. Only
	// ID and Name are used.
	Themes []Theme
	// Edits are the editors' changes, oldest first.
	Edits []Edit
	// Added is, by article id, the version of the build that first had
	// the article.
	Added   map[string]int
	Version int
	Status  string
}

// Issue is the draft as editors see it: the edits applied, hidden articles
// listed and marked, with the draft's version and status.
func (d Draft) Issue() Issue {
	is := ApplyEdits(d.Base, d.Themes, d.Edits)
	is.Version, is.Status = d.Version, d.Status
	return is
}

// Readers is the draft as readers would get it now.
func (d Draft) Readers() Issue { return d.Issue().ForReaders() }

// New reports whether entry a came with a later build of the draft than
// the first: none of its story's articles was in the draft before. An
// editor looks at these again; their own edits stay in force.
func (d Draft) New(a Article) bool {
	for _, id := range entryIDs(a) {
		if d.Added[id] <= FirstDraftVersion {
			return false
		}
	}
	return true
}

// Check validates e against the draft as it stands and returns it in the
// form to store: the article's full id (a unique prefix of at least six
// characters may be given), the theme's id, the text cleaned (line ends
// made LF, surrounding spaces trimmed). Any problem is an ErrBadEdit or
// ErrDraftClosed naming the input and the fix.
func (d Draft) Check(e Edit) (Edit, error) {
	if d.Status == DraftApproved || d.Status == DraftSent {
		return e, &DraftClosedError{IssueID: d.Base.ID, Status: d.Status}
	}
	out := Edit{Kind: e.Kind}
	var err error
	switch e.Kind {
	case EditHide, EditShowAgain, EditPin, EditUnpin:
		out.Article, err = d.Issue().ArticleID(e.Article)
	case EditMove:
		if out.Article, err = d.Issue().ArticleID(e.Article); err == nil {
			out.Theme, err = d.theme(e.Theme)
		}
	case EditBlurb:
		if out.Article, err = d.Issue().ArticleID(e.Article); err == nil {
			out.Text, err = CheckBlurb(e.Text)
		}
	case EditNote:
		out.Text, err = CheckNote(e.Text)
	case EditSubject:
		out.Text, err = CheckSubject(e.Text)
	default:
		err = BadEdit("edit %q: not an edit; one of hide, show-again, move, pin, unpin, blurb, note, subject", e.Kind)
	}
	return out, err
}

// theme is the id of the draft's theme called id.
func (d Draft) theme(id string) (string, error) {
	var ids []string
	for _, t := range d.Themes {
		if t.ID == id {
			return id, nil
		}
		ids = append(ids, t.ID)
	}
	return "", BadEdit("theme %q: no such theme; one of %s", id, strings.Join(ids, ", "))
}

// ArticleID resolves ref, an article's id or a unique prefix of it of at
// least six characters, to the full id of an article of the issue (an
// entry, or one listed under an entry's "also").
func (is Issue) ArticleID(ref string) (string, error) {
	ref = strings.ToLower(strings.TrimSpace(ref))
	if ref == "" {
		return "", BadEdit("article: no id given; `issue show` lists the ids")
	}
	var found []string
	for _, s := range is.Sections {
		for _, a := range s.Articles {
			for _, id := range entryIDs(a) {
				if id == ref {
					return id, nil
				}
				if len(ref) >= minIDPrefix && strings.HasPrefix(id, ref) && !slices.Contains(found, id) {
					found = append(found, id)
				}
			}
		}
	}
	switch {
	case len(found) == 1:
		return found[0], nil
	case len(found) > 1:
		return "", BadEdit("article %q: the start of %d articles' ids; give more of the id", ref, len(found))
	case len(ref) < minIDPrefix:
		return "", BadEdit("article %q: too short; give at least %d characters of the id (`issue show` lists them)", ref, minIDPrefix)
	}
	return "", BadEdit("article %q: not in issue %s; `issue show` lists the ids", ref, is.ID)
}

// entryIDs are the ids of an entry and of the articles under its "also".
func entryIDs(a Article) []string {
	ids := []string{a.ID}
	for _, o := range a.Also {
		ids = append(ids, o.ID)
	}
	return ids
}

// entryEdit is what the edits made of one entry.
type entryEdit struct {
	hidden, pinned bool
	pinSeq         int // the index of the latest pin: the latest leads
	blurb          string
	theme          string // "" stays in its section
	moveSeq        int
}

// ApplyEdits applies the edits, in order, to base, an issue as built.
// Hidden articles stay in their sections, marked Hidden (ForReaders leaves
// them out). Pinned articles come first in their sections, the latest pin
// first; the others keep the build's ranking, and articles moved into a
// section follow its own, in the order they were moved. An edit that names
// an article the build no longer has, or a theme no longer configured, is
// passed over: a rebuild may drop an article, and the edit has nothing
// left to change. Note and subject are the latest ones written.
func ApplyEdits(base Issue, themes []Theme, edits []Edit) Issue {
	owner := map[string]string{} // any article id -> the id of its entry
	for _, s := range base.Sections {
		for _, a := range s.Articles {
			for _, id := range entryIDs(a) {
				owner[id] = a.ID
			}
		}
	}
	names := map[string]string{}
	for _, t := range themes {
		names[t.ID] = t.Name
	}
	out := base
	state := map[string]*entryEdit{}
	for i, e := range edits {
		switch e.Kind {
		case EditNote:
			out.Note = e.Text
			continue
		case EditSubject:
			out.Subject = e.Text
			continue
		}
		id, ok := owner[e.Article]
		if !ok {
			continue
		}
		st := state[id]
		if st == nil {
			st = &entryEdit{}
			state[id] = st
		}
		switch e.Kind {
		case EditHide:
			st.hidden = true
		case EditShowAgain:
			st.hidden = false
		case EditPin:
			st.pinned, st.pinSeq = true, i
		case EditUnpin:
			st.pinned = false
		case EditBlurb:
			st.blurb = e.Text
		case EditMove:
			if _, ok := names[e.Theme]; ok {
				st.theme, st.moveSeq = e.Theme, i
			}
		}
	}
	out.Sections = layOut(base.Sections, themes, state)
	return out
}

// layOut places the entries of sections by the edits in state: sections in
// the themes' order (a built section whose theme is gone from the config
// keeps its place after them), moved entries in their new sections, pinned
// entries first.
func layOut(sections []Section, themes []Theme, state map[string]*entryEdit) []Section {
	var order []Section
	index := map[string]int{}
	add := func(id, name string) {
		if _, ok := index[id]; !ok {
			index[id] = len(order)
			order = append(order, Section{ID: id, Name: name})
		}
	}
	for _, t := range themes {
		add(t.ID, t.Name)
	}
	for _, s := range sections {
		add(s.ID, s.Name)
	}
	type moved struct {
		a   Article
		to  string
		seq int
	}
	var moves []moved
	for _, s := range sections {
		if i := index[s.ID]; order[i].Name == "" {
			order[i].Name = s.Name
		}
		for _, a := range s.Articles {
			st := state[a.ID]
			if st == nil {
				st = &entryEdit{}
			}
			a.Hidden, a.Pinned, a.Blurb = st.hidden, st.pinned, st.blurb
			if st.theme != "" && st.theme != s.ID {
				moves = append(moves, moved{a, st.theme, st.moveSeq})
				continue
			}
			order[index[s.ID]].Articles = append(order[index[s.ID]].Articles, a)
		}
	}
	slices.SortStableFunc(moves, func(x, y moved) int { return x.seq - y.seq })
	for _, m := range moves {
		order[index[m.to]].Articles = append(order[index[m.to]].Articles, m.a)
	}
	var out []Section
	for _, s := range order {
		if len(s.Articles) == 0 {
			continue
		}
		slices.SortStableFunc(s.Articles, func(x, y Article) int {
			switch {
			case x.Pinned && y.Pinned:
				return state[y.ID].pinSeq - state[x.ID].pinSeq
			case x.Pinned:
				return -1
			case y.Pinned:
				return 1
			}
			return 0
		})
		out = append(out, s)
	}
	return out
}

// ForReaders is the issue as readers get it: hidden articles left out, and
// the sections they leave empty. Freezing an approved draft stores this,
// so no step of the send can mail a hidden article.
func (is Issue) ForReaders() Issue {
	out := is
	out.Sections = nil
	for _, s := range is.Sections {
		var arts []Article
		for _, a := range s.Articles {
			if !a.Hidden {
				arts = append(arts, a)
			}
		}
		if len(arts) > 0 {
			out.Sections = append(out.Sections, Section{ID: s.ID, Name: s.Name, Articles: arts})
		}
	}
	return out
}

// CheckNote cleans an introduction: line ends made LF and surrounding
// blank space trimmed. It refuses an empty one, one over MaxNoteBytes, and
// text that is not UTF-8 or holds control characters.
func CheckNote(s string) (string, error) {
	if len(s) > MaxNoteBytes {
		return "", BadEdit("note: %d bytes, over the limit of %d (64 KiB); shorten the introduction", len(s), MaxNoteBytes)
	}
	s, err := cleanText("note", s)
	if err != nil {
		return "", err
	}
	if s == "" {
		return "", BadEdit("note: empty; write the introduction (paragraphs, [links](https://...), *emphasis*)")
	}
	return s, nil
}

// CheckBlurb cleans a blurb as CheckNote does; "" (the feed's summary
// back) is allowed.
func CheckBlurb(s string) (string, error) {
	s, err := cleanText("blurb", s)
	if err != nil {
		return "", err
	}
	if n := utf8.RuneCountInString(s); n > MaxBlurbRunes {
		return "", BadEdit("blurb: %d characters, over the limit of %d; shorten it", n, MaxBlurbRunes)
	}
	return s, nil
}

// CheckSubject cleans a subject: one line, surrounding spaces trimmed, at
// most MaxSubjectRunes characters. "" is the default subject. A line break
// is refused, not replaced: the subject becomes a mail header, and what
// the editor sees must be what is sent.
func CheckSubject(s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", BadEdit("subject: not valid UTF-8 text; write it again")
	}
	for _, r := range s {
		switch {
		case r == '\r' || r == '\n' || r == '\u2028' || r == '\u2029':
			return "", BadEdit("subject: a line break is not allowed; write the subject on one line")
		case unicode.IsControl(r):
			return "", BadEdit("subject: control character U+%04X; remove it", r)
		}
	}
	s = strings.TrimSpace(s)
	if n := utf8.RuneCountInString(s); n > MaxSubjectRunes {
		return "", BadEdit("subject: %d characters, over the limit of %d; shorten it", n, MaxSubjectRunes)
	}
	return s, nil
}

// cleanText makes line ends LF and trims surrounding space; it refuses text
// that is not UTF-8 or holds control characters other than newline and
// tab (they would reach mail and pages unseen).
func cleanText(what, s string) (string, error) {
	if !utf8.ValidString(s) {
		return "", BadEdit("%s: not valid UTF-8 text; save it as UTF-8", what)
	}
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\t' {
			return "", BadEdit("%s: control character U+%04X; remove it", what, r)
		}
	}
	return strings.TrimSpace(s), nil
}

// DraftChanges is what a build changed in a draft: what the editors' review
// mail and the desk say changed since the last draft.
type DraftChanges struct {
	// Version is the draft's version after the build.
	Version int
	// First: the draft's first build; New and Dropped are empty.
	First bool
	// New are the entries none of whose articles the previous build had;
	// Dropped the previous build's entries none of whose articles this
	// one has (a feed took them down).
	New, Dropped []Article
}

// Changed reports whether the build changed the stories of the draft.
func (c DraftChanges) Changed() bool { return len(c.New) > 0 || len(c.Dropped) > 0 }

// CompareBuilds says which entries of next are new since prev and which of
// prev's are gone. An entry is known by every article of its story, so a
// story that another outlet now leads is neither new nor dropped.
func CompareBuilds(prev, next Issue) (added, dropped []Article) {
	had, has := storySet(prev), storySet(next)
	for _, a := range next.entries() {
		if !slices.ContainsFunc(entryIDs(a), func(id string) bool { return had[id] }) {
			added = append(added, a)
		}
	}
	for _, a := range prev.entries() {
		if !slices.ContainsFunc(entryIDs(a), func(id string) bool { return has[id] }) {
			dropped = append(dropped, a)
		}
	}
	return added, dropped
}

// entries are the issue's entries in order, without their "also".
func (is Issue) entries() []Article {
	var out []Article
	for _, s := range is.Sections {
		out = append(out, s.Articles...)
	}
	return out
}

// storySet is the ids of every article of the issue.
func storySet(is Issue) map[string]bool {
	out := map[string]bool{}
	for _, a := range is.Articles() {
		out[a.ID] = true
	}
	return out
}

// Actions of a draft's history besides the edits.
const (
	ActionBuild   = "build"   // the draft's first build
	ActionRebuild = "rebuild" // a later build: new articles in, gone ones out
	ActionApprove = "approve"
	ActionReopen  = "reopen"
)

// HistoryEntry is one change of a draft: who made it, when, and what.
type HistoryEntry struct {
	// Version is the draft's version the change made.
	Version int
	// Editor is the editor's address, or "gull" for a build.
	Editor string
	At     time.Time
	// Action is an EditKind or one of the Action constants.
	Action string
	// Edit is the edit, for an edit.
	Edit Edit
	// Title is the edited article's title when the edit was made.
	Title string
	// Detail says what a build brought ("12 articles", "2 new, 1 dropped").
	Detail string
}

// What says the change in a line, for `issue history` and the desk:
// `hide 3f2a9c1b0d4e "Title"`, `move ... to regulation`, `subject "..."`.
func (h HistoryEntry) What() string {
	e := h.Edit
	art := ""
	if e.Article != "" {
		art = " " + e.Article
		if h.Title != "" {
			art += fmt.Sprintf(" %q", oneLineText(h.Title, 60))
		}
	}
	switch EditKind(h.Action) {
	case EditMove:
		return "move" + art + " to " + e.Theme
	case EditBlurb:
		if e.Text == "" {
			return "blurb" + art + " removed"
		}
		return "blurb" + art + ": " + oneLineText(e.Text, 60)
	case EditNote:
		return "note: " + oneLineText(e.Text, 60)
	case EditSubject:
		if e.Text == "" {
			return "subject: the default"
		}
		return fmt.Sprintf("subject %q", e.Text)
	}
	if h.Detail != "" {
		return h.Action + ": " + h.Detail
	}
	return h.Action + art
}

// oneLineText is s on one line, cut to n characters (never inside a UTF-8
// sequence) with an ellipsis.
func oneLineText(s string, n int) string {
	s = strings.Join(strings.Fields(s), " ")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}
