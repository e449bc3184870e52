// Package pgtest gives each test a fresh, empty PostgreSQL store: a new
// schema on the server that $GULL_TEST_POSTGRES names (a DSN), dropped
// when the test ends. Without a server the test is skipped with a
// message, except with CI=true, where it fails: CI (.ci/run) starts one.
package pgtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// Env names the server the tests use.
const Env = "GULL_TEST_POSTGRES"

// Server is $GULL_TEST_POSTGRES; it skips or fails t when unset.
func Server(t testing.TB) string {
	t.Helper()
	dsn := os.Getenv(Env)
	if dsn == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s names no PostgreSQL server, and CI=true: the PostgreSQL runs must not be skipped (.ci/run starts a server)", Env)
		}
		t.Skipf("no PostgreSQL server: set %s to a DSN (e.g. postgres://gull@127.0.0.1:5432/postgres) to run this on PostgreSQL; .ci/run starts one", Env)
	}
	return dsn
}

// DSN makes an empty schema on the test server for t alone and returns a
// DSN whose connections use it (search_path); it is dropped with
// everything in it when t ends.
func DSN(t testing.TB) string {
	t.Helper()
	dsn, drop, err := NewSchema(Server(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := drop(); err != nil {
			t.Error(err)
		}
	})
	return dsn
}

// NewSchema makes an empty schema on server and returns a DSN whose
// connections use it, and the function that drops it.
func NewSchema(server string) (dsn string, drop func() error, err error) {
	u, err := url.Parse(server)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %s is not a URL: %v", Env, err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "gull_test_" + hex.EncodeToString(b[:])
	admin, err := sql.Open("pgx", server)
	if err != nil {
		return "", nil, fmt.Errorf("pgtest: %v", err)
	}
	if _, err := admin.Exec(`CREATE SCHEMA ` + schema); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("pgtest: make a schema on the server of %s: %v", Env, err)
	}
	drop = func() error {
		defer admin.Close()
		if _, err := admin.Exec(`DROP SCHEMA ` + schema + ` CASCADE`); err != nil {
			return fmt.Errorf("pgtest: drop schema %s: %v", schema, err)
		}
		return nil
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String(), drop, nil
}
