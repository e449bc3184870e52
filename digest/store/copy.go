package store

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// `gull store copy` moves a whole store to the other engine (SQLite to
// PostgreSQL, or back): both hold the same tables and columns, times as
// the same text, so the copy is row for row. It all goes into the target
// in one transaction: a failure leaves the target as empty as it was.

// copyTables are the tables a copy moves, parents before the tables that
// refer to them, each with the order its rows are read in. Leases are
// left out (they belong to running processes), and schema_migrations is
// each store's own. TestCopyKnowsEveryTable fails when a migration adds a
// table that is not here.
var copyTables = []struct{ name, order string }{
	{"feeds", "url"},
	{"articles", "rowid"}, // the order FeedArticles keeps
	{"mailed", "key"},
	{"subscribers", "id"},
	{"meta", "key"},
	{"issues", "id"},
	{"deliveries", "issue_id, subscriber_id"},
	{"drafts", "issue_id"},
	{"draft_articles", "issue_id, article_id"},
	{"draft_log", "issue_id, version"},
	{"bounces", "source, event_id, subscriber_id"},
	{"review_mails", "issue_id, kind"},
}

// notCopied says which tables a copy leaves out on purpose.
// The archive's articles (and SQLite's search index over them) are
// rebuilt from the copied issues by the target, as at open: its ids are
// the target's own. The desk's used sign-in links (15 minutes) belong to
// the daemons at work, and a copy is made with them stopped. The
// confirmation mails owed are copied apart (copyOwedSignUps): until its
// mail goes, a sign-up is nothing but its row there.
var notCopied = []string{"leases", "desk_used_links", "signup_mails", "schema_migrations", "archive_articles", "archive_themes",
	"archive_fts", "archive_fts_config", "archive_fts_data", "archive_fts_docsize", "archive_fts_idx"}

// TableCount is how many rows a table holds.
type TableCount struct {
	Table string
	Rows  int64
}

// ErrTargetNotEmpty means a copy was refused: the target holds data.
var ErrTargetNotEmpty = errors.New("store copy: the target is not empty")

// copyHook lets a test fail a copy after a table (it returns the error).
var copyHook func(table string) error

// CopyTo copies every row of s into dst, an empty store of either engine,
// and returns the rows copied per table, checked against dst's counts
// before the commit. The file identity of a SQLite store (store_id) stays
// each store's own.
func (s *Store) CopyTo(ctx context.Context, dst *Store) ([]TableCount, error) {
	if s.pg == dst.pg && s.path == dst.path {
		return nil, fmt.Errorf("store copy: %s is the store being copied; name another", dst.path)
	}
	if err := dst.checkEmpty(ctx); err != nil {
		return nil, err
	}
	// The source is read in one transaction: a consistent copy even
	// while a daemon writes.
	src, err := s.db.BeginTx(ctx, s.snapshotOpts())
	if err != nil {
		return nil, fmt.Errorf("store copy: read %s: %w", s.path, err)
	}
	defer src.Rollback()
	tx, err := dst.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store copy: write %s: %w", dst.path, err)
	}
	defer tx.Rollback()
	var counts []TableCount
	for _, t := range copyTables {
		n, err := copyTable(ctx, src, tx, t.name, t.order, dst.pg)
		if err != nil {
			return nil, fmt.Errorf("store copy: %s: %w; nothing was copied", t.name, err)
		}
		if copyHook != nil {
			if err := copyHook(t.name); err != nil {
				return nil, fmt.Errorf("store copy: %s: %w; nothing was copied", t.name, err)
			}
		}
		var got int64
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t.name+skipOwnRows(t.name)).Scan(&got); err != nil {
			return nil, fmt.Errorf("store copy: count %s: %w", t.name, err)
		}
		if got != n {
			return nil, fmt.Errorf("store copy: %s: %d rows read but %d in the target; nothing was copied", t.name, n, got)
		}
		counts = append(counts, TableCount{t.name, n})
	}
	if err := s.copyIDCounter(ctx, src, tx, dst); err != nil {
		return nil, fmt.Errorf("store copy: subscriber ids: %w; nothing was copied", err)
	}
	owed, err := copyOwedSignUps(ctx, src, tx)
	if err != nil {
		return nil, fmt.Errorf("store copy: signup_mails: %w; nothing was copied", err)
	}
	counts = append(counts, TableCount{"signup_mails", owed})
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store copy: write %s: %w; nothing was copied", dst.path, err)
	}
	// The copy is whole; an archive left unbuilt is built at the target's
	// next open.
	if err := dst.backfillArchive(ctx); err != nil {
		return counts, fmt.Errorf("store copy: done, but the archive's search index was not built (it will be when gull next opens %s): %w", dst.path, err)
	}
	return counts, nil
}

// snapshotOpts reads PostgreSQL as of one moment; SQLite's transaction
// holds the write lock, which is as good.
func (s *Store) snapshotOpts() *sql.TxOptions {
	if s.pg {
		return &sql.TxOptions{Isolation: sql.LevelRepeatableRead, ReadOnly: true}
	}
	return nil
}

// skipOwnRows leaves out the rows a store makes for itself (SQLite's
// file identity), which are neither copied nor counted.
func skipOwnRows(table string) string {
	if table == "meta" {
		return ` WHERE key <> '` + storeIDKey + `'`
	}
	return ""
}

// checkEmpty refuses a target that holds any row a copy would write.
func (s *Store) checkEmpty(ctx context.Context) error {
	var full []string
	tables := []string{"signup_mails"}
	for _, t := range copyTables {
		tables = append(tables, t.name)
	}
	for _, t := range tables {
		var n int64
		if err := s.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM `+t+skipOwnRows(t)).Scan(&n); err != nil {
			return fmt.Errorf("store copy: %s: %w", s.path, err)
		}
		if n > 0 {
			full = append(full, fmt.Sprintf("%d %s", n, t))
		}
	}
	if len(full) > 0 {
		return fmt.Errorf("%w: %s holds %s; copy into a new, empty store", ErrTargetNotEmpty, s.path, strings.Join(full, ", "))
	}
	return nil
}

// copyTable copies table's rows from src to dst in order and returns how
// many it read. The columns are the source's (both stores are at the same
// schema version; a PostgreSQL articles.rowid goes into SQLite's rowid).
func copyTable(ctx context.Context, src, dst *sql.Tx, table, order string, toPG bool) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT * FROM `+table+skipOwnRows(table)+` ORDER BY `+order)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	cols, err := rows.Columns()
	if err != nil {
		return 0, err
	}
	marks := strings.TrimSuffix(strings.Repeat("?, ", len(cols)), ", ")
	ins, err := dst.PrepareContext(ctx, `INSERT INTO `+table+` (`+strings.Join(cols, ", ")+`) VALUES (`+marks+`)`)
	if err != nil {
		return 0, err
	}
	defer ins.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	var n int64
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		for i, v := range vals {
			vals[i] = convertValue(v, toPG)
		}
		if _, err := ins.ExecContext(ctx, vals...); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// convertValue keeps a value's kind across engines. meta.value is the one
// column whose kind differs: BYTEA on PostgreSQL, and on SQLite TEXT (a
// time, an id) or BLOB (the link key). Text must stay text in SQLite,
// whose comparisons order TEXT before any BLOB.
func convertValue(v any, toPG bool) any {
	b, ok := v.([]byte)
	switch {
	case !ok:
		return v
	case !toPG && utf8.Valid(b):
		return string(b)
	}
	return append([]byte(nil), b...) // the driver may reuse its buffer
}

// copyIDCounter carries over the highest subscriber id ever given, not
// just the highest left: an id is never given to a second person (signed
// links carry it), and the last one may have been removed. The identity
// of PostgreSQL's articles.rowid follows its rows too.
func (s *Store) copyIDCounter(ctx context.Context, src, dst *sql.Tx, to *Store) error {
	var last int64
	if s.pg {
		var seq string
		if err := src.QueryRowContext(ctx, `SELECT pg_get_serial_sequence('subscribers', 'id')`).Scan(&seq); err != nil {
			return err
		}
		var called bool
		if err := src.QueryRowContext(ctx, `SELECT last_value, is_called FROM `+seq).Scan(&last, &called); err != nil {
			return err
		}
		if !called {
			last-- // last_value is the next to give (setval(.., false), or none given yet)
		}
	} else {
		err := src.QueryRowContext(ctx, `SELECT seq FROM sqlite_sequence WHERE name = 'subscribers'`).Scan(&last)
		if err != nil && !errors.Is(err, sql.ErrNoRows) {
			return err
		}
	}
	if !to.pg {
		if last == 0 {
			return nil
		}
		if _, err := dst.ExecContext(ctx, `DELETE FROM sqlite_sequence WHERE name = 'subscribers'`); err != nil {
			return err
		}
		_, err := dst.ExecContext(ctx, `INSERT INTO sqlite_sequence (name, seq) VALUES ('subscribers', ?)`, last)
		return err
	}
	// setval(.., n, false): the next id given is n.
	if _, err := dst.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('subscribers', 'id'), ?, false)`, last+1); err != nil {
		return err
	}
	_, err := dst.ExecContext(ctx, `SELECT setval(pg_get_serial_sequence('articles', 'rowid'),
		(SELECT COALESCE(MAX(rowid), 0) + 1 FROM articles), false)`)
	return err
}

// copyOwedSignUps copies the sign-ups whose confirmation is still owed
// (a daemon stopped with them queued, or held back by the hourly budget):
// each is only its form until the mail goes, so leaving them out would
// lose readers who were told to check their mail. They get the target's
// ids and no holder, so the first daemon on the target mails them.
func copyOwedSignUps(ctx context.Context, src, dst *sql.Tx) (int64, error) {
	rows, err := src.QueryContext(ctx, `SELECT form, asked_at FROM signup_mails ORDER BY id`)
	if err != nil {
		return 0, err
	}
	defer rows.Close()
	var n int64
	for rows.Next() {
		var form, asked string
		if err := rows.Scan(&form, &asked); err != nil {
			return n, err
		}
		if _, err := dst.ExecContext(ctx, `INSERT INTO signup_mails (form, asked_at, holder, claimed_until) VALUES (?, ?, '', '')`,
			form, asked); err != nil {
			return n, err
		}
		n++
	}
	if err := rows.Err(); err != nil {
		return n, err
	}
	var got int64
	if err := dst.QueryRowContext(ctx, `SELECT COUNT(*) FROM signup_mails`).Scan(&got); err != nil || got != n {
		return n, fmt.Errorf("%d rows read but %d in the target (%v)", n, got, err)
	}
	return n, nil
}
