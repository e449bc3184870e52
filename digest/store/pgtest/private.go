package pgtest

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// Private is a PostgreSQL server of one test's own, for a test that must
// stop or restart the server (the shared one serves other tests). It
// runs from a temporary folder on a free loopback port, as a user other
// than root (initdb refuses root), and is stopped and removed when the
// test ends.
type Private struct {
	DSN  string // postgres://gull@127.0.0.1:PORT/postgres
	dir  string // the data folder
	log  string // the server's log
	bin  string // the folder of pg_ctl
	asPG []string
	opts string // the server's options (pg_ctl -o), for a start after a stop
	t    testing.TB
}

// StartPrivate initdb's and starts a server for t. Without PostgreSQL's
// programs t is skipped, or failed with CI=true.
func StartPrivate(t testing.TB) *Private {
	t.Helper()
	bins, _ := filepath.Glob("/usr/lib/postgresql/*/bin/pg_ctl")
	if len(bins) == 0 {
		if os.Getenv("CI") == "true" {
			t.Fatal("pgtest: no PostgreSQL server programs (/usr/lib/postgresql/*/bin/pg_ctl), and CI=true: apt-get install postgresql")
		}
		t.Skip("pgtest: no PostgreSQL server programs (/usr/lib/postgresql/*/bin/pg_ctl): apt-get install postgresql to run this test")
	}
	p := &Private{bin: filepath.Dir(bins[len(bins)-1]), t: t}
	root, err := os.MkdirTemp("", "gull-pgtest-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(root) })
	if os.Getuid() == 0 {
		u, err := user.Lookup("postgres")
		if err != nil {
			u, err = user.Lookup("nobody")
		}
		if err != nil {
			t.Fatalf("pgtest: running as root, and no postgres or nobody user to run PostgreSQL as: %v", err)
		}
		uid, _ := strconv.Atoi(u.Uid)
		if err := os.Chown(root, uid, -1); err != nil {
			t.Fatal(err)
		}
		os.Chmod(root, 0o755)
		p.asPG = []string{"runuser", "-u", u.Username, "--"}
	}
	p.dir, p.log = filepath.Join(root, "data"), filepath.Join(root, "server.log")
	p.run("initdb", "-D", p.dir, "-U", "gull", "--auth=trust", "-E", "UTF8", "--no-sync")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := l.Addr().(*net.TCPAddr).Port
	l.Close()
	p.opts = fmt.Sprintf("-h 127.0.0.1 -p %d -k %s -F -c max_connections=200", port, root)
	p.run("pg_ctl", "-D", p.dir, "-l", p.log, "-w", "-t", "60",
		"-o", p.opts, "start")
	t.Cleanup(func() { p.ctl("stop", "-m", "immediate") })
	p.DSN = fmt.Sprintf("postgres://gull@127.0.0.1:%d/postgres", port)
	return p
}

// Restart stops the server (cutting every connection, as a failover or an
// upgrade does) and starts it again, and returns once it accepts
// connections.
func (p *Private) Restart() {
	p.t.Helper()
	if out, err := p.ctl("restart", "-l", p.log, "-m", "fast", "-w", "-t", "60"); err != nil {
		p.t.Fatalf("pgtest: restart: %v\n%s", err, out)
	}
}

// Outage stops the server (cutting every connection), keeps it down for
// d, and starts it again: longer than the senders' lease, their claims
// lapse meanwhile.
func (p *Private) Outage(d time.Duration) {
	p.t.Helper()
	if out, err := p.ctl("stop", "-m", "fast", "-w", "-t", "60"); err != nil {
		p.t.Fatalf("pgtest: stop: %v\n%s", err, out)
	}
	time.Sleep(d)
	if out, err := p.ctl("start", "-l", p.log, "-w", "-t", "60", "-o", p.opts); err != nil {
		p.t.Fatalf("pgtest: start: %v\n%s", err, out)
	}
}

func (p *Private) ctl(args ...string) ([]byte, error) {
	return p.command("pg_ctl", append([]string{"-D", p.dir}, args...)...).CombinedOutput()
}

func (p *Private) run(prog string, args ...string) {
	p.t.Helper()
	if out, err := p.command(prog, args...).CombinedOutput(); err != nil {
		p.t.Fatalf("pgtest: %s: %v\n%s", prog, err, out)
	}
}

func (p *Private) command(prog string, args ...string) *exec.Cmd {
	argv := append(append(append([]string{}, p.asPG...), filepath.Join(p.bin, prog)), args...)
	return exec.Command(argv[0], argv[1:]...)
}
