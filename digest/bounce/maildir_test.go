package bounce

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

func newMaildir(t *testing.T) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "Maildir")
	for _, sub := range []string{"cur", "new", "tmp"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func deliver(t *testing.T, dir, name, corpusFile string) []byte {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("testdata", corpusFile))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), raw, 0o600); err != nil {
		t.Fatal(err)
	}
	return raw
}

// check is what `gull bounces check` does with a Maildir: parse each
// unhandled message and mark the bounces handled.
func check(t *testing.T, md *Maildir) (handled, left []string) {
	t.Helper()
	entries, err := md.Unhandled()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		raw, err := md.Read(e)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := Parse(raw); err != nil {
			left = append(left, e.Name)
			continue
		}
		if err := md.MarkHandled(e); err != nil {
			t.Fatal(err)
		}
		handled = append(handled, e.Name)
	}
	return handled, left
}

func files(t *testing.T, dir string) []string {
	t.Helper()
	var out []string
	for _, sub := range []string{"cur", "new", "tmp"} {
		des, _ := os.ReadDir(filepath.Join(dir, sub))
		for _, de := range des {
			out = append(out, sub+"/"+de.Name())
		}
	}
	slices.Sort(out)
	return out
}

// Bounces are moved to cur/ with the S flag; the rest stays where it
// was, byte for byte; nothing is deleted; a second check changes nothing.
func TestMaildirCheck(t *testing.T) {
	dir := newMaildir(t)
	deliver(t, dir, "new/1796598016.M1P100.mx", "corpus/postfix-user-unknown.eml")
	deliver(t, dir, "new/1796598017.M2P100.mx", "corpus/naver-mailbox-full-euckr.eml")
	ooo := deliver(t, dir, "new/1796598018.M3P100.mx", "notbounce/out-of-office.eml")
	// A complaint a person already opened (R: replied, F: flagged) but
	// gull never handled, and a bounce gull handled before.
	deliver(t, dir, "cur/1796598019.M4P100.mx:2,FR", "corpus/ses-complaint-arf.eml")
	deliver(t, dir, "cur/1796500000.M0P100.mx:2,S", "corpus/gmail-no-such-user.eml")
	// An MTA's delivery in progress.
	deliver(t, dir, "tmp/1796598020.M5P100.mx", "corpus/exim-user-unknown.eml")

	md, err := OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	handled, left := check(t, md)
	if want := []string{"new/1796598016.M1P100.mx", "new/1796598017.M2P100.mx", "cur/1796598019.M4P100.mx:2,FR"}; !slices.Equal(handled, want) {
		t.Errorf("handled %v, want %v", handled, want)
	}
	if want := []string{"new/1796598018.M3P100.mx"}; !slices.Equal(left, want) {
		t.Errorf("left %v, want %v", left, want)
	}
	want := []string{
		"cur/1796500000.M0P100.mx:2,S",
		"cur/1796598016.M1P100.mx:2,S",
		"cur/1796598017.M2P100.mx:2,S",
		"cur/1796598019.M4P100.mx:2,FRS",
		"new/1796598018.M3P100.mx",
		"tmp/1796598020.M5P100.mx",
	}
	if got := files(t, dir); !slices.Equal(got, want) {
		t.Errorf("after a check the Maildir holds\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	if got, _ := os.ReadFile(filepath.Join(dir, "new/1796598018.M3P100.mx")); !bytes.Equal(got, ooo) {
		t.Error("the auto-reply was changed")
	}
	handled, left = check(t, md)
	if len(handled) != 0 || len(left) != 1 || !slices.Equal(files(t, dir), want) {
		t.Errorf("a second check handled %v, left %v, and the Maildir is %v", handled, left, files(t, dir))
	}
}

func TestMaildirErrors(t *testing.T) {
	notMaildir := t.TempDir()
	if _, err := OpenMaildir(notMaildir); err == nil || !strings.Contains(err.Error(), notMaildir+" is not a Maildir") {
		t.Errorf("OpenMaildir of a plain folder: %v", err)
	}
	dir := newMaildir(t)
	deliver(t, dir, "new/1.M1.mx", "corpus/postfix-user-unknown.eml")
	md, _ := OpenMaildir(dir)
	entries, _ := md.Unhandled()
	if len(entries) != 1 {
		t.Fatalf("entries %v", entries)
	}
	// Another reader took it meanwhile.
	os.Rename(filepath.Join(dir, "new/1.M1.mx"), filepath.Join(dir, "cur/1.M1.mx:2,S"))
	if err := md.MarkHandled(entries[0]); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("MarkHandled of a moved message: %v", err)
	}
	if _, err := md.Read(Entry{Name: "new/../../etc/passwd"}); err == nil {
		t.Error("Read went outside the Maildir")
	}
	// A huge file is read only up to MaxSize+1 bytes, which Parse refuses.
	big := filepath.Join(dir, "new/2.M2.mx")
	if err := os.WriteFile(big, make([]byte, MaxSize+4096), 0o600); err != nil {
		t.Fatal(err)
	}
	raw, err := md.Read(Entry{Name: "new/2.M2.mx"})
	if err != nil || len(raw) != MaxSize+1 {
		t.Fatalf("Read of a huge message: %d bytes, %v", len(raw), err)
	}
	if _, err := Parse(raw); !errors.Is(err, ErrTooLarge) {
		t.Errorf("Parse of a huge message: %v", err)
	}
}
