package deliver

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// Outbox writes messages as .eml files instead of sending them (mail.outbox,
// used when mail.smtp.host is empty and for `gull send --dry-run`):
//
//	<dir>/<issue>/<address>.eml                   a delivery; a rerun replaces it
//	<dir>/test/<issue>-<address>-<unix nanos>.eml  a test send; each one kept
type Outbox struct {
	dir string
	now func() time.Time // test sends' names; tests fix it
}

// NewOutbox makes the outbox folder if needed and checks it is writable,
// so a dry run fails before it renders anything.
func NewOutbox(dir string) (*Outbox, error) {
	if strings.TrimSpace(dir) == "" {
		return nil, fmt.Errorf("mail.outbox: empty; name a folder for .eml files, e.g. outbox")
	}
	// Owner only: the folders below hold files named by address. A
	// folder that is there already stays as its owner set it.
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("mail.outbox: cannot create the folder: %w; choose a writable folder", err)
	}
	f, err := os.CreateTemp(dir, ".gull-check-*")
	if err != nil {
		return nil, fmt.Errorf("mail.outbox: folder %s is not writable: %w; fix its permissions or choose another folder", dir, err)
	}
	f.Close()
	os.Remove(f.Name())
	return &Outbox{dir: dir, now: time.Now}, nil
}

func (o *Outbox) String() string {
	return "outbox folder " + filepath.ToSlash(filepath.Clean(o.dir)) + "/"
}

// Close has nothing to release; it is there for Transport.
func (o *Outbox) Close() error { return nil }

// path is where Send puts m (for a test send, as of now).
func (o *Outbox) path(m Outgoing, now time.Time) string {
	// Issue ids are ours ("2026-W48"): their capitals need no hash.
	issue := safeName(m.IssueID, false)
	if m.Test {
		return filepath.Join(o.dir, "test", issue+"-"+safeName(m.To, true)+"-"+strconv.FormatInt(now.UnixNano(), 10)+".eml")
	}
	return filepath.Join(o.dir, issue, safeName(m.To, true)+".eml")
}

// Send writes m's file atomically: a reader (or a crash) sees the old
// file or the whole new one, never half a message, and writing the same
// delivery again replaces the file rather than adding a second.
func (o *Outbox) Send(ctx context.Context, m Outgoing) error {
	if err := ctx.Err(); err != nil {
		return &Error{Stage: StageWrite, Err: fmt.Errorf("deliver: not written: %w", err)}
	}
	if err := checkEnvelope(m); err != nil {
		return &Error{Stage: StageWrite, Err: err}
	}
	if m.IssueID == "" {
		return &Error{Stage: StageWrite, Err: fmt.Errorf("%w: no issue id for the outbox file of %s", ErrInvalidEnvelope, m.To)}
	}
	path := o.path(m, o.now())
	if err := writeFileAtomic(path, m.Body); err != nil {
		return &Error{Stage: StageWrite, Err: fmt.Errorf("mail.outbox: writing %s: %w; check the folder's permissions and free space", path, err)}
	}
	return nil
}

func writeFileAtomic(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	if err := privateDir(dir); err != nil {
		return err
	}
	// The temporary name does not end in .eml, so nothing that picks up
	// *.eml sees a file still being written.
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	// CreateTemp's 0600 stays: the files hold each reader's signed
	// unsubscribe link.
	if _, err = f.Write(data); err != nil {
		return err
	}
	if err = f.Sync(); err != nil {
		return err
	}
	if err = f.Close(); err != nil {
		return err
	}
	if err = os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename itself durable; not all systems can sync a folder.
	if d, derr := os.Open(dir); derr == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}

// privateDir makes dir (an issue's folder, or test/) for its owner only,
// and tightens one an earlier version made 0755: the names of the files
// in it are readers' addresses.
func privateDir(dir string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	st, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if st.Mode().Perm()&0o077 != 0 {
		return os.Chmod(dir, st.Mode().Perm()&0o700)
	}
	return nil
}

// safeName turns an address (or issue id) into a file name: it keeps
// [A-Za-z0-9._@+-], replaces everything else (and a leading dot) with _,
// and adds a short hash of the original whenever it replaced anything, so
// two addresses never share a file. With caseMatters, a capital letter
// also earns the hash: on a file system that ignores case (macOS,
// Windows) Ann@x and ann@x would otherwise be one file.
func safeName(s string, caseMatters bool) string {
	const maxLen = 180 // leaves room for the hash, a test send's parts and ".eml" under 255
	var b strings.Builder
	changed := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 'a' && c <= 'z', c >= '0' && c <= '9', c == '_', c == '@', c == '+', c == '-':
			b.WriteByte(c)
		case c == '.' && i > 0:
			b.WriteByte(c)
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c)
			changed = changed || caseMatters
		default: // also a leading dot: no hidden files, no ".."
			b.WriteByte('_')
			changed = true
		}
	}
	out := b.String()
	if len(out) > maxLen {
		out = out[:maxLen]
		changed = true
	}
	if out == "" {
		out, changed = "_", true
	}
	if changed {
		sum := sha256.Sum256([]byte(s))
		out += "-" + hex.EncodeToString(sum[:4])
	}
	return out
}
