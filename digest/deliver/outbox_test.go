package deliver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestOutboxNames(t *testing.T) {
	dir := t.TempDir()
	o, err := NewOutbox(filepath.Join(dir, "outbox"))
	if err != nil {
		t.Fatal(err)
	}
	o.now = func() time.Time { return time.Unix(0, 1764489600123456789) }
	m := Outgoing{IssueID: "2026-W48", From: "digest@example.org", To: "reader+ai@example.org", Body: []byte("Subject: x\r\n\r\nhi\r\n")}
	if err := o.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	want := filepath.Join(dir, "outbox", "2026-W48", "reader+ai@example.org.eml")
	if b, err := os.ReadFile(want); err != nil || string(b) != string(m.Body) {
		t.Fatalf("%s: %q %v", want, b, err)
	}
	test := m
	test.Test = true
	if err := o.Send(t.Context(), test); err != nil {
		t.Fatal(err)
	}
	wantTest := filepath.Join(dir, "outbox", "test", "2026-W48-reader+ai@example.org-1764489600123456789.eml")
	if _, err := os.Stat(wantTest); err != nil {
		t.Errorf("test send: %v", err)
	}
	if got := o.String(); got != "outbox folder "+filepath.ToSlash(filepath.Join(dir, "outbox"))+"/" {
		t.Errorf("String() = %q", got)
	}
}

func TestOutboxReplacesAtomically(t *testing.T) {
	o, err := NewOutbox(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	m := Outgoing{IssueID: "2026-W48", To: "a@example.org", Body: []byte("first\r\n")}
	if err := o.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	m.Body = []byte("second, longer than the first\r\n")
	if err := o.Send(t.Context(), m); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(o.dir, "2026-W48"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "a@example.org.eml" {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("files %v; want one file, no temporaries left", names)
	}
	if b, _ := os.ReadFile(filepath.Join(o.dir, "2026-W48", "a@example.org.eml")); string(b) != string(m.Body) {
		t.Errorf("content %q", b)
	}
}

func TestSafeNameNeverShares(t *testing.T) {
	pairs := [][2]string{
		{`a/b@example.org`, `a_b@example.org`},
		{`a b@example.org`, `a_b@example.org`},
		{`"a/b"@example.org`, `"a\b"@example.org`},
		{`Ann@example.org`, `ann@example.org`},
		{`.hidden@example.org`, `_hidden@example.org`},
	}
	for _, p := range pairs {
		a, b := safeName(p[0], true), safeName(p[1], true)
		if a == b || strings.EqualFold(a, b) {
			t.Errorf("%q and %q both become %q / %q", p[0], p[1], a, b)
		}
		for _, n := range []string{a, b} {
			if strings.ContainsAny(n, `/\ "`) || strings.HasPrefix(n, ".") {
				t.Errorf("unsafe file name %q", n)
			}
		}
	}
	if got := safeName("reader@example.org", true); got != "reader@example.org" {
		t.Errorf("a plain address changed: %q", got)
	}
	if got := safeName("../../etc/passwd", true); strings.Contains(got, "/") || strings.HasPrefix(got, ".") {
		t.Errorf("traversal survived: %q", got)
	}
	long := strings.Repeat("x", 300) + "@example.org"
	if got := safeName(long, true); len(got) > 200 || got == safeName(long+"x", true) {
		t.Errorf("long name %d bytes, or two long names share it", len(got))
	}
}

func TestOutboxErrors(t *testing.T) {
	if _, err := NewOutbox(""); err == nil || !strings.Contains(err.Error(), "mail.outbox") {
		t.Errorf("empty folder: %v", err)
	}
	file := filepath.Join(t.TempDir(), "file")
	os.WriteFile(file, nil, 0o600)
	if _, err := NewOutbox(filepath.Join(file, "sub")); err == nil || !strings.Contains(err.Error(), "mail.outbox") {
		t.Errorf("folder under a file: %v", err)
	}
	o, _ := NewOutbox(t.TempDir())
	e := asError(t, o.Send(t.Context(), Outgoing{IssueID: "x", To: "a\r\nb", Body: []byte("x")}))
	if !e.Permanent() {
		t.Errorf("bad address: %+v", e)
	}
}

// TestOutboxPrivate: the files hold each reader's signed links and are
// named by their address, so only the owner may list or read them; an
// issue folder an earlier version made 0755 is tightened on the next write.
func TestOutboxPrivate(t *testing.T) {
	top := filepath.Join(t.TempDir(), "outbox")
	o, err := NewOutbox(top)
	if err != nil {
		t.Fatal(err)
	}
	old := filepath.Join(top, "2026-W48")
	if err := os.Mkdir(old, 0o755); err != nil {
		t.Fatal(err)
	}
	os.Chmod(old, 0o755) // whatever the umask
	stale := filepath.Join(old, "b@example.org.eml")
	if err := os.WriteFile(stale, []byte("old\r\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	os.Chmod(stale, 0o644)
	for _, m := range []Outgoing{
		{IssueID: "2026-W48", To: "a@example.org", Body: []byte("x\r\n")},
		{IssueID: "2026-W48", To: "b@example.org", Body: []byte("y\r\n")},
		{IssueID: "2026-W49", To: "a@example.org", Body: []byte("x\r\n")},
		{IssueID: "2026-W49", To: "a@example.org", Test: true, Body: []byte("x\r\n")},
	} {
		if err := o.Send(t.Context(), m); err != nil {
			t.Fatal(err)
		}
	}
	want := map[string]os.FileMode{
		top: 0o700, old: 0o700, filepath.Join(top, "2026-W49"): 0o700, filepath.Join(top, "test"): 0o700,
		filepath.Join(old, "a@example.org.eml"): 0o600, stale: 0o600,
		filepath.Join(top, "2026-W49", "a@example.org.eml"): 0o600,
	}
	for path, mode := range want {
		st, err := os.Stat(path)
		if err != nil {
			t.Error(err)
			continue
		}
		if st.Mode().Perm() != mode {
			t.Errorf("%s: mode %04o, want %04o", path, st.Mode().Perm(), mode)
		}
	}
}
