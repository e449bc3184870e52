// Package store keeps gull's state in one SQLite file (pure Go, no cgo) or
// in a PostgreSQL database shared by several gull processes (see
// postgres.go): feed state for conditional GET, the articles seen, and the
// stories mailed. Schema changes are numbered SQL files applied once each,
// in a transaction, so a database from any earlier version opens; each
// engine has its own set (migrations/ for SQLite, migrations/postgres/),
// with the same numbers.
//
// The SQL is kept to what SQLite and PostgreSQL share (TEXT times in
// RFC 3339 UTC, no SQLite-only functions in queries), so both engines run
// the same methods.
package store

import (
	"context"
	"database/sql"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" driver

	"gull/digest"
)

//go:embed migrations/*.sql migrations/postgres/*.sql
var migrations embed.FS

// ErrNewerSchema means the file was written by a newer gull.
var ErrNewerSchema = errors.New("store: the database was made by a newer gull")

// Store is the store, on SQLite or PostgreSQL. It is safe for concurrent
// use.
type Store struct {
	db   guardedDB
	path string      // the SQLite file, or the PostgreSQL DSN without its password
	file os.FileInfo // the SQLite file as opened; see CheckFile

	pg                   bool  // PostgreSQL, not SQLite
	writeKey, migrateKey int64 // PostgreSQL's advisory locks (postgres.go)

	stmtMu     sync.Mutex
	updateStmt *sql.Stmt // see deliveryUpdate

	processClock func() time.Time // nil: time.Now (see skew)
}

// timeFormat stores instants as fixed-width UTC text, which sorts and
// compares correctly as strings and reads well in the sqlite3 shell.
const timeFormat = "2006-01-02T15:04:05.000Z"

func fmtTime(t time.Time) string { return t.UTC().Format(timeFormat) }

func parseTime(s string) (time.Time, error) { return time.Parse(timeFormat, s) }

// Open opens the store at path and brings its schema up to date: a
// PostgreSQL database when path is a postgres:// or postgresql:// URL,
// else the SQLite file at path (created when missing).
func Open(ctx context.Context, path string) (*Store, error) {
	if IsPostgres(path) {
		return openPostgres(ctx, path)
	}
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return nil, fmt.Errorf("store: %w", err)
		}
	}
	if err := checkBeforeCreate(path); err != nil {
		return nil, err
	}
	// The file holds the subscribers' addresses and the key that signs
	// their links: only its owner may read it. SQLite gives the -wal and
	// -shm files the database's mode.
	if f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600); err == nil {
		f.Close()
	} else if !errors.Is(err, fs.ErrExist) {
		return nil, fmt.Errorf("store: %w", err)
	}
	file, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("store: %w", err)
	}
	// WAL lets readers work while a send writes; busy_timeout makes a
	// second writer wait instead of failing; _txlock=immediate takes the
	// write lock at BEGIN so two writers cannot deadlock upgrading.
	// mode=rw: the file was made above, so a connection the pool opens
	// later fails if it is gone, instead of making an empty one.
	dsn := "file:" + path + "?mode=rw&_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)" +
		"&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)&_txlock=immediate"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("store: open %s: %w", path, err)
	}
	limitPool(db)
	s := &Store{path: path, file: file}
	s.db = guardedDB{DB: db, check: s.CheckFile, begun: func(context.Context, *sql.Tx) error { return nil }}
	if err := s.checkID(ctx); err != nil {
		db.Close()
		return nil, err
	}
	// While another process is turning a new file into WAL mode, SQLite
	// answers BUSY at once instead of waiting out busy_timeout; that only
	// happens in the first moments of a file's life, so a short retry
	// covers it.
	for attempt := 0; ; attempt++ {
		err = s.migrate(ctx)
		if err == nil {
			err = s.backfillArchive(ctx)
		}
		if err == nil {
			if err := s.recordID(ctx); err != nil {
				db.Close()
				return nil, err
			}
			return s, nil
		}
		if !strings.Contains(err.Error(), "SQLITE_BUSY") || attempt == 50 || ctx.Err() != nil {
			db.Close()
			return nil, fmt.Errorf("store: %s: %w", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// The pool's bounds. SQLite in WAL mode reads in parallel but writes one
// at a time, so connections past a few per core only cost memory (each has
// its own page cache) and a file descriptor: without a bound, a thousand
// concurrent requests opened a thousand connections. Requests past the
// bound wait for a connection, which a read frees in microseconds.
const (
	maxOpenConns = 8
	// connIdleTime lets a quiet daemon give the connections' caches back.
	connIdleTime = 5 * time.Minute
)

func limitPool(db *sql.DB) {
	db.SetMaxOpenConns(maxOpenConns)
	db.SetMaxIdleConns(maxOpenConns) // a busy minute does not reopen them
	db.SetConnMaxIdleTime(connIdleTime)
}

// Stats is the connection pool's state (open connections, waits).
func (s *Store) Stats() sql.DBStats { return s.db.Stats() }

// Close closes the database. When its file was deleted or replaced, the
// WAL and shared-memory files at its path are this store's, for a file
// that is no longer there: SQLite leaves them, and the next open would
// read their pages into whatever is at the path now (a restored backup,
// another store), so they go.
func (s *Store) Close() error {
	var gone *FileGoneError
	lost := errors.As(s.CheckFile(), &gone)
	s.stmtMu.Lock()
	if s.updateStmt != nil {
		s.updateStmt.Close()
	}
	s.stmtMu.Unlock()
	err := s.db.Close()
	if lost && !s.pg {
		os.Remove(s.path + "-wal")
		os.Remove(s.path + "-shm")
	}
	return err
}

// Path is the database file, or the PostgreSQL DSN without its password:
// what logs may name.
func (s *Store) Path() string { return s.path }

// Postgres reports whether the store is on PostgreSQL, for the few
// statements that must differ by engine.
func (s *Store) Postgres() bool { return s.pg }

// migrationFiles are the engine's migrations, in order.
func (s *Store) migrationFiles() ([]string, error) {
	pattern := "migrations/*.sql"
	if s.pg {
		pattern = "migrations/postgres/*.sql"
	}
	files, err := fs.Glob(migrations, pattern)
	sort.Strings(files)
	return files, err
}

// migrate applies the pending migrations in one transaction. On SQLite,
// BEGIN takes the write lock at once (_txlock=immediate); on PostgreSQL the
// transaction takes the store's migration lock (pg_advisory_xact_lock) and
// the write lock. The schema version is read after, so processes opening a
// new store together (the daemon and a `feeds check`, or several daemons)
// apply each migration exactly once.
func (s *Store) migrate(ctx context.Context) error {
	files, err := s.migrationFiles()
	if err != nil {
		return err
	}
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if s.pg {
		if _, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, s.migrateKey); err != nil {
			return err
		}
	}
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_migrations (
		version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)`); err != nil {
		return err
	}
	// Each migration is applied once, by its number: every one not yet in
	// schema_migrations, in order (not only those above the highest
	// applied, so a number that came later in development is not missed).
	done := map[int]bool{}
	current := 0
	rows, err := tx.QueryContext(ctx, `SELECT version FROM schema_migrations`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var v int
		if err := rows.Scan(&v); err != nil {
			rows.Close()
			return err
		}
		done[v], current = true, max(current, v)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	latest, applied := 0, 0
	for _, f := range files {
		base := filepath.Base(f)
		if migrationsBefore != "" && base >= migrationsBefore {
			break
		}
		v, err := strconv.Atoi(strings.SplitN(base, "_", 2)[0])
		if err != nil {
			return fmt.Errorf("migration %s: name must start with its number", base)
		}
		latest = max(latest, v)
		if done[v] {
			continue
		}
		applied++
		body, err := migrations.ReadFile(f)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return fmt.Errorf("migration %s: %w", base, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`,
			v, base, fmtTime(time.Now())); err != nil {
			return err
		}
	}
	if current > latest {
		return fmt.Errorf("%w (schema %d, this gull knows %d): upgrade gull", ErrNewerSchema, current, latest)
	}
	// Only a migration marks articles for detection: with none applied
	// there are none to look for, and no open scans the articles.
	if applied > 0 {
		if err := detectLangs(ctx, tx); err != nil {
			return err
		}
	}
	return tx.Commit()
}

// migrationsBefore, when set (by a test), stops migrate before the
// migration of that file name: a store as an older gull left it.
var migrationsBefore string

// langUndetected marks an article whose language was never looked for
// (migration 0012_article_langs): one stored before gull knew languages.
const langUndetected = "?"

// detectLangs gives each article marked langUndetected the language of its
// title and summary, as collect does for a feed that declares none (the
// declaration was not kept), or none when none can be told. It runs in the
// migration's transaction, so no one reads the mark.
func detectLangs(ctx context.Context, tx *sql.Tx) error {
	rows, err := tx.QueryContext(ctx, `SELECT id, title, summary FROM articles WHERE lang = ?`, langUndetected)
	if err != nil {
		return fmt.Errorf("articles' languages: %w", err)
	}
	type found struct{ id, lang string }
	var langs []found
	for rows.Next() {
		var id, title, summary string
		if err := rows.Scan(&id, &title, &summary); err != nil {
			rows.Close()
			return fmt.Errorf("articles' languages: %w", err)
		}
		langs = append(langs, found{id, digest.DetectLang("", title, summary)})
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return fmt.Errorf("articles' languages: %w", err)
	}
	if len(langs) == 0 {
		return nil
	}
	update, err := tx.PrepareContext(ctx, `UPDATE articles SET lang = ? WHERE id = ?`)
	if err != nil {
		return fmt.Errorf("articles' languages: %w", err)
	}
	defer update.Close()
	for _, f := range langs {
		if _, err := update.ExecContext(ctx, f.lang, f.id); err != nil {
			return fmt.Errorf("articles' languages: article %s: %w", f.id, err)
		}
	}
	return nil
}

// FeedStates returns the conditional-GET validators of every feed.
func (s *Store) FeedStates(ctx context.Context) (map[string]digest.FeedState, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT url, etag, last_modified FROM feeds`)
	if err != nil {
		return nil, fmt.Errorf("store: feed states: %w", err)
	}
	defer rows.Close()
	out := map[string]digest.FeedState{}
	for rows.Next() {
		var url string
		var st digest.FeedState
		if err := rows.Scan(&url, &st.ETag, &st.LastModified); err != nil {
			return nil, err
		}
		out[url] = st
	}
	return out, rows.Err()
}

// SaveFeed records a successful fetch in one transaction: the feed's new
// validators, its items (new ones get first_seen = now; known ones keep
// theirs), and which items are in its latest copy. It returns the articles
// with FirstSeen filled in.
func (s *Store) SaveFeed(ctx context.Context, feedURL, title string, st digest.FeedState, arts []digest.Article, now time.Time) ([]digest.Article, error) {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, fmt.Errorf("store: save feed: %w", err)
	}
	defer tx.Rollback()
	nowS := fmtTime(now)
	if _, err := tx.ExecContext(ctx, `INSERT INTO feeds (url, title, etag, last_modified, checked_at, ok_at, last_error)
		VALUES (?, ?, ?, ?, ?, ?, '')
		ON CONFLICT (url) DO UPDATE SET title = excluded.title, etag = excluded.etag,
			last_modified = excluded.last_modified, checked_at = excluded.checked_at,
			ok_at = excluded.ok_at, last_error = ''`,
		feedURL, title, st.ETag, st.LastModified, nowS, nowS); err != nil {
		return nil, fmt.Errorf("store: save feed %s: %w", feedURL, err)
	}
	if _, err := tx.ExecContext(ctx, `UPDATE articles SET in_feed = 0 WHERE feed_url = ?`, feedURL); err != nil {
		return nil, fmt.Errorf("store: save feed %s: %w", feedURL, err)
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO articles
		(id, feed_url, guid, title, link, author, summary, content, categories, published, first_seen, last_seen, lang, in_feed)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 1)
		ON CONFLICT (id) DO UPDATE SET guid = excluded.guid, title = excluded.title, link = excluded.link,
			author = excluded.author, summary = excluded.summary, content = excluded.content,
			categories = excluded.categories, published = excluded.published,
			last_seen = excluded.last_seen, lang = excluded.lang, in_feed = 1
		RETURNING first_seen`)
	if err != nil {
		return nil, fmt.Errorf("store: save feed %s: %w", feedURL, err)
	}
	defer upsert.Close()
	out := make([]digest.Article, len(arts))
	for i, a := range arts {
		cats, _ := json.Marshal(nonNil(a.Categories))
		var firstSeen string
		if err := upsert.QueryRowContext(ctx, a.ID, feedURL, a.GUID, a.Title, a.Link, a.Author, a.Summary,
			string(a.Content), string(cats), nullTime(a.Published), nowS, nowS, a.Lang).Scan(&firstSeen); err != nil {
			return nil, fmt.Errorf("store: save article %s of %s: %w", a.ID, feedURL, err)
		}
		a.FirstSeen, err = parseTime(firstSeen)
		if err != nil {
			return nil, fmt.Errorf("store: article %s: bad first_seen %q", a.ID, firstSeen)
		}
		out[i] = a
	}
	if err := tx.Commit(); err != nil {
		return nil, fmt.Errorf("store: save feed %s: %w", feedURL, err)
	}
	return out, nil
}

// NoteFeedChecked records a fetch that did not change the items: a 304, or
// an error (kept as the feed's last error; its items stay as they were).
func (s *Store) NoteFeedChecked(ctx context.Context, feedURL string, fetchErr error, now time.Time) error {
	msg, okAt := "", any(fmtTime(now))
	if fetchErr != nil {
		msg, okAt = fetchErr.Error(), nil
	}
	_, err := s.db.ExecContext(ctx, `INSERT INTO feeds (url, checked_at, ok_at, last_error) VALUES (?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET checked_at = excluded.checked_at,
			ok_at = COALESCE(excluded.ok_at, feeds.ok_at), last_error = excluded.last_error`,
		feedURL, fmtTime(now), okAt, msg)
	if err != nil {
		return fmt.Errorf("store: note feed %s: %w", feedURL, err)
	}
	return nil
}

// FeedArticles returns the items of the feed's latest copy, as stored,
// with FeedName set to the feed's own title from its last good fetch.
func (s *Store) FeedArticles(ctx context.Context, feedURL string) ([]digest.Article, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT a.id, a.feed_url, COALESCE(f.title, ''), a.guid, a.title, a.link,
		a.author, a.summary, a.content, a.categories, a.published, a.first_seen, a.lang
		FROM articles a LEFT JOIN feeds f ON f.url = a.feed_url
		WHERE a.feed_url = ? AND a.in_feed = 1 ORDER BY a.rowid`, feedURL)
	if err != nil {
		return nil, fmt.Errorf("store: articles of %s: %w", feedURL, err)
	}
	defer rows.Close()
	var out []digest.Article
	for rows.Next() {
		var a digest.Article
		var content, cats, firstSeen string
		var published sql.NullString
		if err := rows.Scan(&a.ID, &a.FeedURL, &a.FeedName, &a.GUID, &a.Title, &a.Link, &a.Author, &a.Summary, &content,
			&cats, &published, &firstSeen, &a.Lang); err != nil {
			return nil, err
		}
		// The content was sanitized by collect before it was stored.
		a.Content = template.HTML(content)
		_ = json.Unmarshal([]byte(cats), &a.Categories)
		if published.Valid {
			t, err := parseTime(published.String)
			if err == nil {
				a.Published = &t
			}
		}
		if a.FirstSeen, err = parseTime(firstSeen); err != nil {
			return nil, fmt.Errorf("store: article %s: bad first_seen %q", a.ID, firstSeen)
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// mailedSet is the stories already mailed, loaded once for a run.
type mailedSet map[string]bool

func (m mailedSet) Mailed(key string) bool { return m[key] }

// Mailed loads the keys of every story mailed so far.
func (s *Store) Mailed(ctx context.Context) (digest.MailedSet, error) {
	rows, err := s.db.QueryContext(ctx, `SELECT key FROM mailed`)
	if err != nil {
		return nil, fmt.Errorf("store: mailed: %w", err)
	}
	defer rows.Close()
	out := mailedSet{}
	for rows.Next() {
		var k string
		if err := rows.Scan(&k); err != nil {
			return nil, err
		}
		out[k] = true
	}
	return out, rows.Err()
}

// MarkMailed remembers the articles of an issue as mailed, so no later
// issue carries them again. Marking twice is harmless.
func (s *Store) MarkMailed(ctx context.Context, issueID string, arts []digest.Article, now time.Time) error {
	tx, err := s.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("store: mark mailed: %w", err)
	}
	defer tx.Rollback()
	for _, a := range arts {
		for _, k := range digest.MailKeys(a) {
			if _, err := tx.ExecContext(ctx, `INSERT INTO mailed (key, issue_id, mailed_at) VALUES (?, ?, ?)
				ON CONFLICT (key) DO NOTHING`, k, issueID, fmtTime(now)); err != nil {
				return fmt.Errorf("store: mark mailed: %w", err)
			}
		}
	}
	return tx.Commit()
}

func nullTime(t *time.Time) any {
	if t == nil {
		return nil
	}
	return fmtTime(*t)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}
