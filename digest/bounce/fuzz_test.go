package bounce

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: on any bytes Parse returns a report that holds checkReport
// or one of its errors, and never panics. It is seeded with the corpus.
// The limits (MaxSize, the MIME depth and part count) bound its memory.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob("testdata/*/*.eml")
	for _, name := range files {
		raw, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(raw)
	}
	f.Add([]byte("Content-Type: multipart/report; boundary=x; report-type=delivery-status\r\n\r\n--x\r\nContent-Type: multipart/mixed; boundary=x\r\n\r\n--x\r\n"))
	f.Fuzz(func(t *testing.T, raw []byte) {
		r, err := Parse(raw)
		switch {
		case err == nil:
			checkReport(t, r)
		case errors.Is(err, ErrNotBounce), errors.Is(err, ErrUnreadable), errors.Is(err, ErrTooLarge):
			if r.Kind != "" || len(r.Recipients) != 0 {
				t.Fatalf("Parse failed with %v but returned %+v", err, r)
			}
		default:
			t.Fatalf("Parse: unexpected error %v", err)
		}
	})
}
