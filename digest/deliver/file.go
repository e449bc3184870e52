package deliver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// WriteFile writes data to path for a person to open (a preview, an
// export). A regular file (or a new one, made with perm) is replaced
// atomically, so a browser reloading it never sees half a digest;
// anything else (/dev/stdout, a pipe, a symlink's target) is written in
// place, never replaced. A file that is there keeps its mode, narrowed
// to perm when perm is for the owner only: a list of addresses written
// 0600 tightens an old 0644 export. The folder must exist.
func WriteFile(path string, data []byte, perm os.FileMode) error {
	mode := perm
	switch st, err := os.Lstat(path); {
	case err == nil && !st.Mode().IsRegular():
		return os.WriteFile(path, data, mode)
	case err == nil:
		mode = st.Mode().Perm()
		if perm&0o077 == 0 {
			mode &= perm // a private file stays private
		}
	case !errors.Is(err, fs.ErrNotExist):
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".gull-preview-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
