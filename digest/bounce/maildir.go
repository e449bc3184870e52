package bounce

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
)

// Maildir is a mailbox a local MTA delivers the return path into
// (bounces.maildir): new/ holds what arrived, cur/ what a reader has
// seen. A message gull handled is moved to cur/ with the S (seen) flag;
// one it did not understand stays where it is, so a person finds it, and
// nothing is ever deleted. See https://cr.yp.to/proto/maildir.html.
type Maildir struct {
	dir string
}

// Entry is one message of a Maildir.
type Entry struct {
	// Name is the message's file under the Maildir ("new/1733...host"),
	// for logs; it changes when the message is marked.
	Name string
}

// OpenMaildir checks that dir is a Maildir (cur/, new/ and tmp/).
func OpenMaildir(dir string) (*Maildir, error) {
	for _, sub := range []string{"cur", "new", "tmp"} {
		fi, err := os.Stat(filepath.Join(dir, sub))
		if err != nil || !fi.IsDir() {
			return nil, fmt.Errorf("bounce: %s is not a Maildir (it needs the folders cur, new and tmp; the MTA makes them on its first delivery, or run mkdir -p %s/{cur,new,tmp})", dir, dir)
		}
	}
	return &Maildir{dir: dir}, nil
}

// Unhandled lists the messages not yet handled: all of new/ and those in
// cur/ without the S flag, oldest name first (Maildir names start with
// the delivery time).
func (m *Maildir) Unhandled() ([]Entry, error) {
	var out []Entry
	for _, sub := range []string{"new", "cur"} {
		des, err := os.ReadDir(filepath.Join(m.dir, sub))
		if err != nil {
			return nil, fmt.Errorf("bounce: reading %s: %w", filepath.Join(m.dir, sub), err)
		}
		for _, de := range des {
			name := de.Name()
			if strings.HasPrefix(name, ".") || !de.Type().IsRegular() {
				continue
			}
			if sub == "cur" && strings.ContainsRune(flagsOf(name), 'S') {
				continue
			}
			out = append(out, Entry{Name: sub + "/" + name})
		}
	}
	slices.SortFunc(out, func(a, b Entry) int { return strings.Compare(baseOf(a.Name), baseOf(b.Name)) })
	return out, nil
}

// Read returns the message, at most MaxSize+1 bytes of it (so Parse
// says ErrTooLarge rather than gull reading a huge file whole).
func (m *Maildir) Read(e Entry) ([]byte, error) {
	f, err := os.Open(m.path(e))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return io.ReadAll(io.LimitReader(f, MaxSize+1))
}

// MarkHandled moves the message to cur/ with the S flag, beside the
// flags it had. A message another reader moved meanwhile is an error
// matching fs.ErrNotExist.
func (m *Maildir) MarkHandled(e Entry) error {
	base := baseOf(e.Name)
	flags := flagsOf(e.Name)
	if !strings.ContainsRune(flags, 'S') {
		b := []byte(flags + "S")
		slices.Sort(b) // the spec wants the flags in ASCII order
		flags = string(b)
	}
	to := filepath.Join(m.dir, "cur", base+":2,"+flags)
	if err := os.Rename(m.path(e), to); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("bounce: %s is gone from the Maildir (another reader moved it): %w", e.Name, err)
		}
		return fmt.Errorf("bounce: marking %s handled: %w", e.Name, err)
	}
	return nil
}

// path is e's file; Name is sub/name with no separator in name, as
// Unhandled made it.
func (m *Maildir) path(e Entry) string {
	sub, name, _ := strings.Cut(e.Name, "/")
	if sub != "new" && sub != "cur" || name == "" || strings.ContainsAny(name, `/\`) {
		return filepath.Join(m.dir, "tmp", ".invalid") // not a message: Open fails
	}
	return filepath.Join(m.dir, sub, name)
}

// baseOf is a message's unique name without its folder and info.
func baseOf(name string) string {
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	base, _, _ := strings.Cut(name, ":")
	return base
}

// flagsOf is the flags of a name in cur/ ("...:2,RS" -> "RS").
func flagsOf(name string) string {
	_, info, ok := strings.Cut(name, ":2,")
	if !ok {
		return ""
	}
	return info
}
