package store

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"gull/digest"
)

// The draft of an issue (digest.Draft): its latest build, the log of what
// editors did to it, and its version. Every change is one transaction that
// reads the draft, checks the version the change was made against, writes
// the log row and the new version, and commits; BEGIN takes the write lock
// (_txlock=immediate), so two changes made against one version are applied
// one after the other and the second is refused as stale. A change that
// fails, or a process that dies before the commit, leaves the draft as it
// was.

// BuildEditor is who the history names for a build of the draft.
const BuildEditor = "gull"

// themeRef is what a draft keeps of a theme: enough to move an article to
// it and name its section.
type themeRef struct {
	ID   string `json:"id"`
	Name string `json:"name"`
}

// SaveDraft stores a build of issue is as its draft. The first build makes
// the draft (version 1); a later one replaces the build, keeps every edit
// in force, records the articles it brings as new, and bumps the version
// when anything changed (an editor's page loaded before it is then stale:
// its author has not seen the new articles). themes are the sections an
// article may be moved to, in order (the configured themes, then the
// catch-all one). An approved or sent issue is not rebuilt
// (digest.ErrDraftClosed): its articles are decided.
func (s *Store) SaveDraft(ctx context.Context, is digest.Issue, themes []digest.Theme, now time.Time) (digest.DraftChanges, error) {
	body, err := json.Marshal(issueBody(is))
	if err != nil {
		return digest.DraftChanges{}, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	refs := make([]themeRef, len(themes))
	for i, t := range themes {
		refs[i] = themeRef{ID: t.ID, Name: t.Name}
	}
	themesJSON, err := json.Marshal(refs)
	if err != nil {
		return digest.DraftChanges{}, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return digest.DraftChanges{}, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	defer tx.Rollback()
	prev, err := loadDraft(ctx, tx, is.ID)
	var ch digest.DraftChanges
	switch {
	case errors.Is(err, digest.ErrNoDraft):
		if err = firstBuild(ctx, tx, is, string(body), string(themesJSON), now); err != nil {
			return ch, err
		}
		ch = digest.DraftChanges{Version: digest.FirstDraftVersion, First: true}
	case err != nil:
		return ch, err
	case prev.Status != digest.DraftOpen:
		return ch, &digest.DraftClosedError{IssueID: is.ID, Status: prev.Status}
	default:
		if ch, err = rebuild(ctx, tx, prev, is, string(body), string(themesJSON), now); err != nil || ch.Version == prev.Version {
			return ch, err
		}
	}
	if err := tx.Commit(); err != nil {
		return digest.DraftChanges{}, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	return ch, nil
}

// firstBuild makes the draft of is. An issue already frozen by a send
// (built without a draft) gets none: it has gone, or is going, out.
func firstBuild(ctx context.Context, tx *sql.Tx, is digest.Issue, body, themes string, now time.Time) error {
	if frozen, _, err := issueState(ctx, tx, is.ID); err != nil || frozen {
		if err == nil {
			err = &digest.DraftClosedError{IssueID: is.ID, Status: digest.DraftSent}
		}
		return err
	}
	v := digest.FirstDraftVersion
	if _, err := tx.ExecContext(ctx, `INSERT INTO drafts (issue_id, period_end, version, status, body, themes, created_at, updated_at)
		VALUES (?, ?, ?, 'draft', ?, ?, ?, ?)`, is.ID, fmtTime(is.Period.End), v, body, themes, fmtTime(now), fmtTime(now)); err != nil {
		return fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	if err := addArticles(ctx, tx, is, v); err != nil {
		return err
	}
	return writeLog(ctx, tx, is.ID, logRow{version: v, editor: BuildEditor, action: digest.ActionBuild,
		detail: fmt.Sprintf("%d articles", is.Count())}, now)
}

// rebuild replaces prev's build with is. A build the same as the stored
// one changes nothing, not even the version: the daemon rebuilds often.
func rebuild(ctx context.Context, tx *sql.Tx, prev digest.Draft, is digest.Issue, body, themes string, now time.Time) (digest.DraftChanges, error) {
	var oldBody, oldThemes string
	if err := tx.QueryRowContext(ctx, `SELECT body, themes FROM drafts WHERE issue_id = ?`, is.ID).Scan(&oldBody, &oldThemes); err != nil {
		return digest.DraftChanges{}, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	ch := digest.DraftChanges{Version: prev.Version}
	if oldBody == body && oldThemes == themes {
		return ch, nil
	}
	ch.New, ch.Dropped = digest.CompareBuilds(prev.Base, is)
	ch.Version++
	if _, err := tx.ExecContext(ctx, `UPDATE drafts SET body = ?, themes = ?, period_end = ?, version = ?, updated_at = ?
		WHERE issue_id = ?`, body, themes, fmtTime(is.Period.End), ch.Version, fmtTime(now), is.ID); err != nil {
		return ch, fmt.Errorf("store: draft %s: %w", is.ID, err)
	}
	if err := addArticles(ctx, tx, is, ch.Version); err != nil {
		return ch, err
	}
	detail := fmt.Sprintf("%d new, %d dropped", len(ch.New), len(ch.Dropped))
	if !ch.Changed() {
		detail = "the same articles, updated"
	}
	return ch, writeLog(ctx, tx, is.ID, logRow{version: ch.Version, editor: BuildEditor, action: digest.ActionRebuild, detail: detail}, now)
}

// addArticles records the articles of build v that the draft did not have.
func addArticles(ctx context.Context, tx *sql.Tx, is digest.Issue, v int) error {
	for _, a := range is.Articles() {
		if _, err := tx.ExecContext(ctx, `INSERT INTO draft_articles (issue_id, article_id, added_version) VALUES (?, ?, ?)
			ON CONFLICT (issue_id, article_id) DO NOTHING`, is.ID, a.ID, v); err != nil {
			return fmt.Errorf("store: draft %s: article %s: %w", is.ID, a.ID, err)
		}
	}
	return nil
}

// Draft returns the draft of issue id, or an error that is
// digest.ErrNoDraft.
func (s *Store) Draft(ctx context.Context, id string) (digest.Draft, error) {
	d, err := loadDraft(ctx, s.db, id)
	if err != nil {
		return d, err
	}
	d.Base.Number, err = s.IssueNumber(ctx, id)
	return d, err
}

// LatestDraft returns the draft of the latest period: the coming issue's,
// once the daemon has built it. digest.ErrNoDraft when there is none.
func (s *Store) LatestDraft(ctx context.Context) (digest.Draft, error) {
	var id string
	err := s.db.QueryRowContext(ctx, `SELECT issue_id FROM drafts ORDER BY period_end DESC, issue_id DESC LIMIT 1`).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return digest.Draft{}, fmt.Errorf("%w: no issue has been drafted yet", digest.ErrNoDraft)
	}
	if err != nil {
		return digest.Draft{}, fmt.Errorf("store: latest draft: %w", err)
	}
	return s.Draft(ctx, id)
}

// EditDraft applies an editor's edit to the draft of issue id, made
// against the draft's version (what the editor saw), and returns the new
// version. The edit is refused, the draft unchanged, when the version is
// not the draft's (*digest.StaleDraftError), when the draft is approved or
// sent (digest.ErrDraftClosed), or when the edit is bad (digest.ErrBadEdit:
// an unknown article or theme, a note or subject out of bounds).
func (s *Store) EditDraft(ctx context.Context, id string, version int, editor string, e digest.Edit, now time.Time) (int, error) {
	return s.changeDraft(ctx, id, version, editor, now, func(tx *sql.Tx, d digest.Draft) (logRow, error) {
		if d.Status != digest.DraftOpen {
			return logRow{}, &digest.DraftClosedError{IssueID: id, Status: d.Status}
		}
		if err := stale(d, version); err != nil {
			return logRow{}, err
		}
		e, err := d.Check(e)
		if err != nil {
			return logRow{}, err
		}
		row := logRow{action: string(e.Kind), article: e.Article, theme: e.Theme, text: e.Text}
		if e.Article != "" {
			row.title = articleTitle(d.Issue(), e.Article)
		}
		return row, nil
	})
}

// ApproveDraft freezes the draft of issue id with its edits, as readers
// get it (hidden articles left out), through the issues table that every
// send reads: from then on a send mails it, whatever the feeds say. It
// returns the draft's version. Approving an approved or sent issue does
// nothing; an approval made against an older version is refused
// (*digest.StaleDraftError), as is one that would send nothing (every
// article hidden).
func (s *Store) ApproveDraft(ctx context.Context, id string, version int, editor string, now time.Time) (int, error) {
	return s.changeDraft(ctx, id, version, editor, now, func(tx *sql.Tx, d digest.Draft) (logRow, error) {
		if d.Status != digest.DraftOpen {
			return logRow{}, errUnchanged
		}
		if err := stale(d, version); err != nil {
			return logRow{}, err
		}
		readers := d.Readers()
		if readers.Count() == 0 {
			return logRow{}, digest.BadEdit("issue %s: every article is hidden, so readers would get nothing: show one again before approving", id)
		}
		// What is frozen is the issue as sent, not a draft.
		readers.Version, readers.Status = 0, ""
		if err := saveIssue(ctx, tx, readers, digest.IssueOpen, now); err != nil {
			return logRow{}, err
		}
		if frozen, _, err := issueState(ctx, tx, id); err != nil {
			return logRow{}, err
		} else if !frozen {
			return logRow{}, fmt.Errorf("store: approve %s: the issue was not frozen", id)
		}
		if _, err := tx.ExecContext(ctx, `UPDATE drafts SET status = 'approved' WHERE issue_id = ?`, id); err != nil {
			return logRow{}, fmt.Errorf("store: approve %s: %w", id, err)
		}
		return logRow{action: digest.ActionApprove, detail: fmt.Sprintf("%d articles", readers.Count())}, nil
	})
}

// ReopenDraft takes an approved issue back to draft, so editors can change
// it, and returns the draft's version. The frozen issue is removed in the
// same transaction, and only while no delivery of it has been recorded: an
// issue whose send has begun is refused (digest.ErrDraftClosed), so an
// issue is never sent twice. Reopening a draft does nothing.
func (s *Store) ReopenDraft(ctx context.Context, id string, version int, editor string, now time.Time) (int, error) {
	return s.changeDraft(ctx, id, version, editor, now, func(tx *sql.Tx, d digest.Draft) (logRow, error) {
		switch d.Status {
		case digest.DraftOpen:
			return logRow{}, errUnchanged
		case digest.DraftSent:
			return logRow{}, &digest.DraftClosedError{IssueID: id, Status: d.Status}
		}
		if err := stale(d, version); err != nil {
			return logRow{}, err
		}
		// A send under way may hold the approved issue in memory before
		// its first delivery row: reopening then would let a changed
		// issue go out as the old one.
		var sending int
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM leases WHERE name = 'send' AND expires_at > ?`,
			fmtTime(now)).Scan(&sending); err != nil {
			return logRow{}, fmt.Errorf("store: reopen %s: %w", id, err)
		}
		if sending > 0 {
			return logRow{}, &digest.DraftClosedError{IssueID: id, Status: digest.DraftSent}
		}
		res, err := tx.ExecContext(ctx, `DELETE FROM issues WHERE id = ? AND status = 'open'
			AND NOT EXISTS (SELECT 1 FROM deliveries WHERE issue_id = ?)`, id, id)
		if err != nil {
			return logRow{}, fmt.Errorf("store: reopen %s: %w", id, err)
		}
		if n, _ := res.RowsAffected(); n != 1 {
			return logRow{}, &digest.DraftClosedError{IssueID: id, Status: digest.DraftSent}
		}
		if _, err := tx.ExecContext(ctx, `UPDATE drafts SET status = 'draft' WHERE issue_id = ?`, id); err != nil {
			return logRow{}, fmt.Errorf("store: reopen %s: %w", id, err)
		}
		return logRow{action: digest.ActionReopen}, nil
	})
}

// DraftHistory lists the changes of the draft of issue id, oldest first:
// builds, edits, approvals and reopenings, who and when.
func (s *Store) DraftHistory(ctx context.Context, id string) ([]digest.HistoryEntry, error) {
	if _, err := s.Draft(ctx, id); err != nil {
		return nil, err
	}
	return loadLog(ctx, s.db, id)
}

// errUnchanged says a change has nothing to do (approving an approved
// issue): changeDraft commits nothing and reports success.
var errUnchanged = errors.New("unchanged")

// changeDraft runs one change of a draft in a transaction: change checks
// the draft (status, version, input) and does its own writes, then the log
// row and the new version are written. Any error rolls everything back.
func (s *Store) changeDraft(ctx context.Context, id string, version int, editor string, now time.Time,
	change func(*sql.Tx, digest.Draft) (logRow, error)) (int, error) {
	editor = strings.TrimSpace(editor)
	if editor == "" || strings.ContainsAny(editor, "\r\n") {
		return 0, digest.BadEdit("editor: no address given; every change is recorded with who made it")
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, fmt.Errorf("store: draft %s: %w", id, err)
	}
	defer tx.Rollback()
	d, err := loadDraft(ctx, tx, id)
	if err != nil {
		return 0, err
	}
	row, err := change(tx, d)
	if errors.Is(err, errUnchanged) {
		return d.Version, nil
	}
	if err != nil {
		return 0, err
	}
	row.version, row.editor = d.Version+1, editor
	res, err := tx.ExecContext(ctx, `UPDATE drafts SET version = ?, updated_at = ? WHERE issue_id = ? AND version = ?`,
		row.version, fmtTime(now), id, d.Version)
	if err != nil {
		return 0, fmt.Errorf("store: draft %s: %w", id, err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		// The write lock taken at BEGIN makes this unreachable; the
		// check keeps an edit from ever going over another's.
		return 0, &digest.StaleDraftError{Loaded: version, Now: d.Version + 1}
	}
	if err := writeLog(ctx, tx, id, row, now); err != nil {
		return 0, err
	}
	if err := tx.Commit(); err != nil {
		return 0, fmt.Errorf("store: draft %s: %w", id, err)
	}
	return row.version, nil
}

// stale refuses a change made against another version than the draft's.
func stale(d digest.Draft, version int) error {
	if version != d.Version {
		return &digest.StaleDraftError{Loaded: version, Now: d.Version}
	}
	return nil
}

// logRow is one row of draft_log.
type logRow struct {
	version                                     int
	editor, action, article, theme, text, title string
	detail                                      string
}

func writeLog(ctx context.Context, tx *sql.Tx, id string, r logRow, now time.Time) error {
	if _, err := tx.ExecContext(ctx, `INSERT INTO draft_log (issue_id, version, editor, at, action, article, theme, text, title, detail)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, id, r.version, r.editor, fmtTime(now), r.action, r.article, r.theme, r.text, r.title, r.detail); err != nil {
		return fmt.Errorf("store: draft %s: history: %w", id, err)
	}
	return nil
}

// loadDraft reads the draft of id in q: its build, themes, edits, the
// versions its articles came with, and where it stands.
func loadDraft(ctx context.Context, q querier, id string) (digest.Draft, error) {
	var d digest.Draft
	var stored, body, themes string
	err := q.QueryRowContext(ctx, `SELECT version, status, body, themes FROM drafts WHERE issue_id = ?`, id).
		Scan(&d.Version, &stored, &body, &themes)
	if errors.Is(err, sql.ErrNoRows) {
		return d, fmt.Errorf("%w of issue %s: it has not been drafted", digest.ErrNoDraft, id)
	}
	if err != nil {
		return d, fmt.Errorf("store: draft %s: %w", id, err)
	}
	var base issueBody
	if err := json.Unmarshal([]byte(body), &base); err != nil {
		return d, fmt.Errorf("store: draft %s: unreadable build: %w", id, err)
	}
	d.Base = digest.Issue(base)
	var refs []themeRef
	if err := json.Unmarshal([]byte(themes), &refs); err != nil {
		return d, fmt.Errorf("store: draft %s: unreadable themes: %w", id, err)
	}
	for _, t := range refs {
		d.Themes = append(d.Themes, digest.Theme{ID: t.ID, Name: t.Name})
	}
	frozen, sending, err := issueState(ctx, q, id)
	if err != nil {
		return d, err
	}
	d.Status = draftStatus(stored, frozen, sending)
	if d.Added, err = loadAdded(ctx, q, id); err != nil {
		return d, err
	}
	log, err := loadLog(ctx, q, id)
	if err != nil {
		return d, err
	}
	for _, h := range log {
		if h.Edit.Kind != "" {
			d.Edits = append(d.Edits, h.Edit)
		}
	}
	return d, nil
}

// draftStatus is where a draft stands. The send knows nothing of drafts:
// it freezes the issue (or finds it frozen by an approval) and records a
// delivery per reader. So an issue frozen without an approval, or with a
// delivery recorded, or done, is sent: nothing may change it any more.
func draftStatus(stored string, frozen, sending bool) string {
	switch {
	case frozen && (stored != digest.DraftApproved || sending):
		return digest.DraftSent
	case frozen:
		return digest.DraftApproved
	}
	return digest.DraftOpen
}

// issueState says whether issue id is frozen (open or done) and whether
// its send has begun (a delivery recorded, or done).
func issueState(ctx context.Context, q querier, id string) (frozen, sending bool, err error) {
	var status string
	var deliveries int
	err = q.QueryRowContext(ctx, `SELECT status, (SELECT COUNT(*) FROM deliveries WHERE issue_id = issues.id)
		FROM issues WHERE id = ?`, id).Scan(&status, &deliveries)
	if errors.Is(err, sql.ErrNoRows) {
		return false, false, nil
	}
	if err != nil {
		return false, false, fmt.Errorf("store: issue %s: %w", id, err)
	}
	frozen = status == string(digest.IssueOpen) || status == string(digest.IssueDone)
	return frozen, deliveries > 0 || status == string(digest.IssueDone), nil
}

func loadAdded(ctx context.Context, q querier, id string) (map[string]int, error) {
	rows, err := q.QueryContext(ctx, `SELECT article_id, added_version FROM draft_articles WHERE issue_id = ?`, id)
	if err != nil {
		return nil, fmt.Errorf("store: draft %s: %w", id, err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var a string
		var v int
		if err := rows.Scan(&a, &v); err != nil {
			return nil, err
		}
		out[a] = v
	}
	return out, rows.Err()
}

func loadLog(ctx context.Context, q querier, id string) ([]digest.HistoryEntry, error) {
	rows, err := q.QueryContext(ctx, `SELECT version, editor, at, action, article, theme, text, title, detail
		FROM draft_log WHERE issue_id = ? ORDER BY version`, id)
	if err != nil {
		return nil, fmt.Errorf("store: draft %s: history: %w", id, err)
	}
	defer rows.Close()
	var out []digest.HistoryEntry
	for rows.Next() {
		var h digest.HistoryEntry
		var at string
		if err := rows.Scan(&h.Version, &h.Editor, &at, &h.Action, &h.Edit.Article, &h.Edit.Theme, &h.Edit.Text, &h.Title, &h.Detail); err != nil {
			return nil, err
		}
		if h.At, err = parseTime(at); err != nil {
			return nil, fmt.Errorf("store: draft %s: bad time %q", id, at)
		}
		switch h.Action {
		case digest.ActionBuild, digest.ActionRebuild, digest.ActionApprove, digest.ActionReopen:
			h.Edit = digest.Edit{}
		default:
			h.Edit.Kind = digest.EditKind(h.Action)
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// articleTitle is the title of the article called id in is, for the
// history.
func articleTitle(is digest.Issue, id string) string {
	for _, a := range is.Articles() {
		if a.ID == id {
			return a.Title
		}
	}
	return ""
}
