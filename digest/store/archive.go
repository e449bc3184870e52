package store

// The archive's queries: a page of the published issues, a theme's
// articles across them, and the search. archive_articles (migration 0007)
// holds the articles of every frozen issue; publishedSQL, applied at query
// time, keeps out the ones readers have not had (an approved issue whose
// send has not begun).

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"

	"gull/digest"
)

// IssuesPage lists the published issues, newest first: limit of them
// after skipping offset, and how many there are in all.
func (s *Store) IssuesPage(ctx context.Context, offset, limit int) ([]digest.IssueRecord, int, error) {
	var total int
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM issues WHERE `+publishedSQL).Scan(&total); err != nil {
		return nil, 0, fmt.Errorf("store: issues: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+issueColumns+`, `+numberSQL+` FROM issues
		WHERE `+publishedSQL+` ORDER BY period_end DESC, id DESC LIMIT ? OFFSET ?`, limit, max(offset, 0))
	if err != nil {
		return nil, 0, fmt.Errorf("store: issues: %w", err)
	}
	defer rows.Close()
	var out []digest.IssueRecord
	for rows.Next() {
		var n int
		rec, err := scanIssueRecord(rows, &n)
		if err != nil {
			return nil, 0, fmt.Errorf("store: issues: %w", err)
		}
		rec.Number = n
		out = append(out, rec)
	}
	return out, total, rows.Err()
}

// archiveColumns are what an ArchivedArticle is read from; the query
// joins archive_articles (unaliased) with issues.
const archiveColumns = `archive_articles.issue_id, ` + numberSQL + `, issues.period_start, issues.period_end,
	archive_articles.section, archive_articles.title, archive_articles.link, archive_articles.feed,
	archive_articles.summary, archive_articles.published, archive_articles.fold`

// archiveOrder is newest issue first, then the issue's own order.
const archiveOrder = ` ORDER BY issues.period_end DESC, issues.id DESC, archive_articles.pos`

// ThemeArticles is a page of the articles in the theme's section across
// the published issues, newest issue first (in each issue, in its own
// order), and how many there are in all.
func (s *Store) ThemeArticles(ctx context.Context, theme string, offset, limit int) (digest.ArchivePage, error) {
	var p digest.ArchivePage
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
		WHERE archive_articles.section = ? AND `+publishedSQL, theme).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+archiveColumns+` FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
		WHERE archive_articles.section = ? AND `+publishedSQL+archiveOrder+` LIMIT ? OFFSET ?`, theme, limit, max(offset, 0))
	if err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	p.Articles, err = scanArchived(rows, nil)
	if err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	return p, nil
}

// SearchArchive is a page of the published issues' articles whose title,
// summary or feed name holds every term of query (digest.SearchTerms:
// substrings, any case, Hangul inside compounds), newest issue first, and
// how many match in all. No query, or one of spaces, matches nothing.
//
// The match is decided here, in Go, the same for any engine. SQLite's
// trigram index (archive_fts) only narrows the rows to read when a term
// has three characters or more; a query of shorter terms ("AI", "반도")
// reads every published article's folded text. The query reaches the
// index as quoted phrases, never as FTS syntax.
func (s *Store) SearchArchive(ctx context.Context, query string, offset, limit int) (digest.ArchivePage, error) {
	var p digest.ArchivePage
	terms := digest.SearchTerms(query)
	if len(terms) == 0 {
		return p, nil
	}
	var phrases []string
	for _, t := range terms {
		if utf8.RuneCountInString(t) >= 3 {
			phrases = append(phrases, `"`+strings.ReplaceAll(t, `"`, `""`)+`"`)
		}
	}
	q := `SELECT ` + archiveColumns + ` FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
		WHERE ` + publishedSQL
	var args []any
	switch {
	case s.pg:
		// No FTS5 here (pg_trgm would need an extension the database
		// owner may not be allowed to make): each term narrows the rows
		// by a substring test, which is the match itself.
		for _, t := range terms {
			q += ` AND strpos(archive_articles.fold, ?) > 0`
			args = append(args, t)
		}
	case len(phrases) > 0:
		q += ` AND archive_articles.id IN (SELECT rowid FROM archive_fts WHERE archive_fts MATCH ?)`
		args = append(args, strings.Join(phrases, " AND "))
	}
	rows, err := s.db.QueryContext(ctx, q+archiveOrder, args...)
	if err != nil {
		return p, fmt.Errorf("store: search: %w", err)
	}
	all, err := scanArchived(rows, terms)
	if err != nil {
		return p, fmt.Errorf("store: search: %w", err)
	}
	p.Total = len(all)
	offset = min(max(offset, 0), len(all))
	p.Articles = all[offset:min(offset+max(limit, 0), len(all))]
	return p, nil
}

// scanArchived reads archiveColumns rows; with terms, only the rows whose
// folded text holds every term.
func scanArchived(rows *sql.Rows, terms []string) ([]digest.ArchivedArticle, error) {
	defer rows.Close()
	var out []digest.ArchivedArticle
	for rows.Next() {
		var a digest.ArchivedArticle
		var start, end, fold string
		var published sql.NullString
		if err := rows.Scan(&a.IssueID, &a.IssueNumber, &start, &end, &a.Section, &a.Title, &a.Link, &a.Feed,
			&a.Summary, &published, &fold); err != nil {
			return nil, err
		}
		if terms != nil && !digest.MatchesAll(fold, terms) {
			continue
		}
		var err error
		if a.Period.Start, err = parseTime(start); err != nil {
			return nil, fmt.Errorf("issue %s: bad time %q", a.IssueID, start)
		}
		if a.Period.End, err = parseTime(end); err != nil {
			return nil, fmt.Errorf("issue %s: bad time %q", a.IssueID, end)
		}
		if published.Valid {
			if t, err := parseTime(published.String); err == nil {
				a.Published = &t
			}
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// indexArchive puts the frozen issue's articles, as readers get them, in
// archive_articles, replacing any rows it had. An issue with no
// article indexes nothing.
func indexArchive(ctx context.Context, q querier, is digest.Issue) error {
	if _, err := q.ExecContext(ctx, `DELETE FROM archive_articles WHERE issue_id = ?`, is.ID); err != nil {
		return fmt.Errorf("store: archive of %s: %w", is.ID, err)
	}
	pos := 0
	for _, sec := range is.Sections {
		for _, a := range sec.Articles {
			if a.Hidden {
				continue
			}
			summary := a.Summary
			if a.Blurb != "" {
				summary = a.Blurb
			}
			var published any
			if a.Published != nil {
				published = fmtTime(*a.Published)
			}
			if _, err := q.ExecContext(ctx, `INSERT INTO archive_articles
				(issue_id, pos, article_id, section, title, link, feed, summary, published, fold)
				VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
				is.ID, pos, a.ID, sec.ID, a.Title, a.Link, a.FeedName, summary, published,
				digest.ArchiveFold(a.Title, summary, a.FeedName)); err != nil {
				return fmt.Errorf("store: archive of %s: %w", is.ID, err)
			}
			pos++
		}
	}
	return nil
}

// backfillArchive indexes the frozen issues that have no archive rows:
// the ones stored before migration 0007. It runs at every open; once
// they are indexed it costs one query.
func (s *Store) backfillArchive(ctx context.Context) error {
	rows, err := s.db.QueryContext(ctx, `SELECT id, body FROM issues WHERE `+frozenSQL+`
		AND articles > 0 AND NOT EXISTS (SELECT 1 FROM archive_articles WHERE archive_articles.issue_id = issues.id)`)
	if err != nil {
		return fmt.Errorf("store: archive backfill: %w", err)
	}
	var issues []digest.Issue
	for rows.Next() {
		var id, body string
		if err := rows.Scan(&id, &body); err != nil {
			rows.Close()
			return fmt.Errorf("store: archive backfill: %w", err)
		}
		var is issueBody
		if err := json.Unmarshal([]byte(body), &is); err != nil {
			continue // unreadable: the archive shows it as such, the search without it
		}
		is.ID = id
		issues = append(issues, digest.Issue(is))
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("store: archive backfill: %w", err)
	}
	if len(issues) == 0 {
		return nil
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: archive backfill: %w", err)
	}
	defer tx.Rollback()
	for _, is := range issues {
		if err := indexArchive(ctx, tx, is); err != nil {
			return err
		}
	}
	return tx.Commit()
}
