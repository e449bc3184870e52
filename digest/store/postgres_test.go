package store

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// The placeholders become PostgreSQL's, in order; a ? in a literal, a
// quoted name or a comment is text, not a placeholder.
func TestPgSQL(t *testing.T) {
	for in, want := range map[string]string{
		`SELECT 1`: `SELECT 1`,
		`UPDATE t SET a = ?, b = 'it''s ?' WHERE c = ? -- why?
		AND d = "odd?name" AND e = ?`: `UPDATE t SET a = $1, b = 'it''s ?' WHERE c = $2 -- why?
		AND d = "odd?name" AND e = $3`,
		`INSERT INTO x VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`: `INSERT INTO x VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		`SELECT '?`: `SELECT '?`,
	} {
		if got := pgSQL(in); got != want {
			t.Errorf("pgSQL(%q)\n got %q\nwant %q", in, got, want)
		}
		if again := pgSQL(in); again != want {
			t.Errorf("second call (cached): %q", again)
		}
	}
}

// Each engine has the same migrations, by number: a migration added for
// one engine alone would leave the other's schema behind, and `store
// copy` between them broken.
func TestMigrationsMatchAcrossEngines(t *testing.T) {
	numbers := func(pg bool) []string {
		files, err := (&Store{pg: pg}).migrationFiles()
		if err != nil || len(files) == 0 {
			t.Fatalf("migrations (postgres %v): %v", pg, err)
		}
		var out []string
		for _, f := range files {
			out = append(out, strings.SplitN(filepath.Base(f), "_", 2)[0])
		}
		return out
	}
	sqlite, pg := numbers(false), numbers(true)
	if !slices.Equal(sqlite, pg) {
		t.Errorf("SQLite's migrations are %v, PostgreSQL's %v: write each migration for both (migrations/ and migrations/postgres/)", sqlite, pg)
	}
}

// The DSN's password never reaches an error or a log.
func TestRedactDSN(t *testing.T) {
	for in, want := range map[string]string{
		"postgres://gull:hunter2@db.example.org:5432/gull":             "postgres://gull:xxxxx@db.example.org:5432/gull",
		"postgres://gull@db.example.org/gull?password=hunter2&x=1":     "postgres://gull@db.example.org/gull?password=xxxxx&x=1",
		"postgresql://gull@db.example.org/gull?search_path=gull_store": "postgresql://gull@db.example.org/gull?search_path=gull_store",
		"postgres://gull:hun%zz@db/gull":                               "postgres://(unparseable DSN)",
	} {
		if got := RedactDSN(in); got != want {
			t.Errorf("RedactDSN(%q) = %q, want %q", in, got, want)
		}
	}
	if err := pgError(errorString("auth failed for gull:hunter2"), "postgres://gull:hunter2@db/gull"); strings.Contains(err.Error(), "hunter2") {
		t.Errorf("password in %v", err)
	}
}

type errorString string

func (e errorString) Error() string { return string(e) }
