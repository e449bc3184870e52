package store

// The archive's queries: a page of the published issues, a theme's
// articles across them, and the search. archive_articles (migrations 0007,
// 0011) holds the articles of every frozen issue, a story's coverage by
// other outlets among them, and archive_themes the themes each matched;
// publishedSQL, applied at query time, keeps out the ones readers have not
// had (an approved issue whose send has not begun).

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
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
	out, err := s.publishedIssues(ctx, offset, limit)
	return out, total, err
}

// archiveColumns are what an ArchivedArticle is read from; the query
// joins archive_articles (unaliased) with issues.
const archiveColumns = `archive_articles.issue_id, ` + numberSQL + `, issues.period_start, issues.period_end,
	archive_articles.section, archive_articles.title, archive_articles.link, archive_articles.feed,
	archive_articles.summary, archive_articles.published, archive_articles.story`

// archiveOrder is newest issue first, then the issue's own order.
const archiveOrder = ` ORDER BY issues.period_end DESC, issues.id DESC, archive_articles.pos`

// inThemeSQL selects the articles of a theme (the one argument): in its
// section, or matched to it though placed in another.
const inThemeSQL = `(archive_articles.section = ? OR archive_articles.id IN
	(SELECT archive_themes.article FROM archive_themes WHERE archive_themes.theme = ?))`

// ThemeArticles is a page of the theme's articles across the published
// issues (those in its section, and those that matched it but went to
// another), newest issue first (in each issue, in its own order), and how
// many there are in all.
func (s *Store) ThemeArticles(ctx context.Context, theme string, offset, limit int) (digest.ArchivePage, error) {
	var p digest.ArchivePage
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
		WHERE `+inThemeSQL+` AND `+publishedSQL, theme, theme).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+archiveColumns+` FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
		WHERE `+inThemeSQL+` AND `+publishedSQL+archiveOrder+` LIMIT ? OFFSET ?`, theme, theme, limit, max(offset, 0))
	if err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	p.Articles, err = scanArchived(rows)
	if err != nil {
		return p, fmt.Errorf("store: articles of theme %s: %w", theme, err)
	}
	return p, nil
}

// shortScanRows bounds what a search of short words only (one or two
// characters each: "AI", "반도") reads: no index narrows such a search, so
// it looks at the newest shortScanRows published articles, not at every
// one, and says so (ArchivePage.Scanned).
var shortScanRows = 5000

// SearchArchive is a page of the published issues' articles whose title,
// summary or feed name holds every term of query (digest.SearchTerms:
// substrings, any case, Hangul inside compounds, NFC), newest issue first,
// and how many match in all. No query, or one of spaces, matches nothing.
//
// The match is the same SQL on both engines: each term a LIKE on the
// folded text (its % and _ escaped; fold and terms are lower case, so
// SQLite's ASCII case-insensitive LIKE changes nothing), so the page is
// cut in SQL (LIMIT, OFFSET). On SQLite the trigram index (archive_fts)
// narrows the rows first when a term has three characters or more, the
// query reaching it as quoted phrases, never as FTS syntax. A query of
// short words only reads the newest shortScanRows articles.
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
	where := ` FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id WHERE ` + publishedSQL
	var args []any
	for _, t := range terms {
		where += ` AND archive_articles.fold LIKE ? ESCAPE '\'`
		args = append(args, "%"+likeEscaper.Replace(t)+"%")
	}
	switch {
	case len(phrases) == 0:
		// Nothing narrows the rows: the newest shortScanRows only.
		var published int
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM archive_articles JOIN issues ON issues.id = archive_articles.issue_id
			WHERE `+publishedSQL).Scan(&published); err != nil {
			return p, fmt.Errorf("store: search: %w", err)
		}
		if published > shortScanRows {
			p.Scanned = shortScanRows
			where += ` AND archive_articles.id IN (SELECT recent.id FROM archive_articles recent JOIN issues ON issues.id = recent.issue_id
				WHERE ` + publishedSQL + ` ORDER BY issues.period_end DESC, issues.id DESC, recent.pos LIMIT ?)`
			args = append(args, shortScanRows)
		}
	case !s.pg:
		where += ` AND archive_articles.id IN (SELECT rowid FROM archive_fts WHERE archive_fts MATCH ?)`
		args = append(args, strings.Join(phrases, " AND "))
	}
	if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*)`+where, args...).Scan(&p.Total); err != nil {
		return p, fmt.Errorf("store: search: %w", err)
	}
	rows, err := s.db.QueryContext(ctx, `SELECT `+archiveColumns+where+archiveOrder+` LIMIT ? OFFSET ?`,
		append(args, max(limit, 0), max(offset, 0))...)
	if err != nil {
		return p, fmt.Errorf("store: search: %w", err)
	}
	if p.Articles, err = scanArchived(rows); err != nil {
		return p, fmt.Errorf("store: search: %w", err)
	}
	return p, nil
}

// likeEscaper makes a term a literal inside a LIKE pattern (ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// scanArchived reads archiveColumns rows.
func scanArchived(rows *sql.Rows) ([]digest.ArchivedArticle, error) {
	defer rows.Close()
	var out []digest.ArchivedArticle
	for rows.Next() {
		var a digest.ArchivedArticle
		var start, end string
		var published sql.NullString
		if err := rows.Scan(&a.IssueID, &a.IssueNumber, &start, &end, &a.Section, &a.Title, &a.Link, &a.Feed,
			&a.Summary, &published, &a.Story); err != nil {
			return nil, err
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
// archive_articles, replacing any rows it had: each lead, then the other
// outlets' coverage of its story (often in the other language), which
// readers got under it; hidden ones left out. Each row's themes (the
// article's, else its lead's) go in archive_themes. An issue with no
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
			if err := archiveRow(ctx, q, is.ID, pos, sec.ID, a, "", a.Themes); err != nil {
				return err
			}
			pos++
			for _, o := range a.Also {
				if o.Hidden {
					continue
				}
				themes := o.Themes
				if len(themes) == 0 {
					themes = a.Themes // coverage is placed with its story
				}
				if err := archiveRow(ctx, q, is.ID, pos, sec.ID, o, a.Title, themes); err != nil {
					return err
				}
				pos++
			}
		}
	}
	return nil
}

// archiveRow writes one article of an issue's archive, and its themes;
// story is its lead's title when it is a story's coverage.
func archiveRow(ctx context.Context, q querier, issue string, pos int, section string, a digest.Article, story string, themes []string) error {
	summary := cmp.Or(a.Blurb, a.Summary)
	var published any
	if a.Published != nil {
		published = fmtTime(*a.Published)
	}
	var id int64
	if err := q.QueryRowContext(ctx, `INSERT INTO archive_articles
		(issue_id, pos, article_id, section, title, link, feed, summary, published, fold, story)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		issue, pos, a.ID, section, a.Title, a.Link, a.FeedName, summary, published,
		digest.ArchiveFold(a.Title, summary, a.FeedName), story).Scan(&id); err != nil {
		return fmt.Errorf("store: archive of %s: %w", issue, err)
	}
	for _, t := range slices.Compact(slices.Sorted(slices.Values(themes))) {
		if _, err := q.ExecContext(ctx, `INSERT INTO archive_themes (article, theme) VALUES (?, ?)`, id, t); err != nil {
			return fmt.Errorf("store: archive of %s: %w", issue, err)
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
