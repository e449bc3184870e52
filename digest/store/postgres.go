package store

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"hash/fnv"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/stdlib"

	"gull/digest"
)

// PostgreSQL is the shared store: several gull processes, on one machine
// or many, over one database. Every query is written once, in the SQL the
// two engines share, with SQLite's ? placeholders; the PostgreSQL
// connections rewrite them to $1, $2... (once per statement text, cached).
// What SQLite does by itself is done here by hand:
//   - one writer at a time: SQLite's BEGIN IMMEDIATE takes the file's write
//     lock, and the store's read-check-write transactions (a draft's
//     version, a lease, a pending sign-up) rely on it. On PostgreSQL every
//     transaction begins with pg_advisory_xact_lock on the store's write
//     key, in READ COMMITTED, so each statement after it sees what the
//     previous writer committed.
//   - the migrations run under another advisory lock, in their
//     transaction, by whichever process gets there first.
// The file guard (FileGoneError, the id file beside it) and the leases
// that check a local pid are SQLite's alone.

// IsPostgres reports whether where names a PostgreSQL database (a
// postgres:// or postgresql:// URL) rather than a SQLite file.
func IsPostgres(where string) bool {
	return strings.HasPrefix(where, "postgres://") || strings.HasPrefix(where, "postgresql://")
}

// RedactDSN is dsn with its password replaced, for logs and errors.
func RedactDSN(dsn string) string {
	if _, err := url.Parse(dsn); err != nil {
		// Unparseable: say which kind of thing it was, nothing of it.
		return "postgres://(unparseable DSN)"
	}
	return digest.RedactURL(dsn)
}

// dsnPassword is the password in dsn, to scrub it from a driver's errors.
func dsnPassword(dsn string) string {
	u, err := url.Parse(dsn)
	if err != nil {
		return ""
	}
	if p, has := u.User.Password(); has {
		return p
	}
	return u.Query().Get("password")
}

// pgError is err with the password taken out, whatever the driver put in it.
func pgError(err error, dsn string) error {
	if err == nil {
		return nil
	}
	if p := dsnPassword(dsn); p != "" && strings.Contains(err.Error(), p) {
		return errors.New(strings.ReplaceAll(err.Error(), p, "xxxxx"))
	}
	return err
}

func openPostgres(ctx context.Context, dsn string) (*Store, error) {
	shown := RedactDSN(dsn)
	cfg, err := pgx.ParseConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("store: %s: %w", shown, pgError(err, dsn))
	}
	db := sql.OpenDB(pgConnector{stdlib.GetConnector(*cfg)})
	limitPool(db)
	s := &Store{path: shown, pg: true}
	var schema string
	if err := db.QueryRowContext(ctx, `SELECT current_schema()`).Scan(&schema); err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", shown, pgError(err, dsn))
	}
	s.writeKey, s.migrateKey = lockKey("write", cfg.Database, schema), lockKey("migrate", cfg.Database, schema)
	s.db = guardedDB{DB: db, check: func() error { return nil }, begun: s.takeWriteLock}
	err = s.migrate(ctx)
	if err == nil {
		err = s.backfillArchive(ctx)
	}
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("store: %s: %w", shown, pgError(err, dsn))
	}
	return s, nil
}

// lockKey is the advisory lock key of one kind of work on the store in
// schema: several stores may share a database, one schema each.
func lockKey(kind, database, schema string) int64 {
	h := fnv.New64a()
	h.Write([]byte("gull\x00" + kind + "\x00" + database + "\x00" + schema))
	return int64(h.Sum64())
}

// takeWriteLock makes tx the store's only writer until it ends (see the
// comment at the top).
func (s *Store) takeWriteLock(ctx context.Context, tx *sql.Tx) error {
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock(?)`, s.writeKey)
	return err
}

// pgConnector hands database/sql connections that take SQLite's ?
// placeholders.
type pgConnector struct{ driver.Connector }

func (c pgConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return pgConn{conn.(*stdlib.Conn)}, nil
}

// pgConn is pgx's connection with the statement text rewritten; the rest
// (transactions, ping, session reset, argument checks) is pgx's own.
type pgConn struct{ *stdlib.Conn }

func (c pgConn) Prepare(query string) (driver.Stmt, error) { return c.Conn.Prepare(pgSQL(query)) }

func (c pgConn) PrepareContext(ctx context.Context, query string) (driver.Stmt, error) {
	return c.Conn.PrepareContext(ctx, pgSQL(query))
}

func (c pgConn) ExecContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Result, error) {
	return c.Conn.ExecContext(ctx, pgSQL(query), args)
}

func (c pgConn) QueryContext(ctx context.Context, query string, args []driver.NamedValue) (driver.Rows, error) {
	return c.Conn.QueryContext(ctx, pgSQL(query), args)
}

// rewritten caches pgSQL's answers: the store's statements are a fixed
// set of texts, so each is rewritten once.
var rewritten sync.Map

// pgSQL turns the ? placeholders of query into PostgreSQL's $1, $2...,
// leaving alone a ? inside a string literal, a quoted name or a comment.
func pgSQL(query string) string {
	if !strings.Contains(query, "?") {
		return query
	}
	if r, ok := rewritten.Load(query); ok {
		return r.(string)
	}
	var b strings.Builder
	b.Grow(len(query) + 16)
	n := 0
	for i := 0; i < len(query); i++ {
		c := query[i]
		switch {
		case c == '\'' || c == '"':
			end := strings.IndexByte(query[i+1:], c)
			if end < 0 {
				b.WriteString(query[i:])
				i = len(query)
				continue
			}
			b.WriteString(query[i : i+end+2])
			i += end + 1
		case c == '-' && i+1 < len(query) && query[i+1] == '-':
			end := strings.IndexByte(query[i:], '\n')
			if end < 0 {
				end = len(query) - i
			}
			b.WriteString(query[i : i+end])
			i += end - 1
		case c == '?':
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
		default:
			b.WriteByte(c)
		}
	}
	r := b.String()
	rewritten.Store(query, r)
	return r
}
