package subscribers

import (
	"strings"
	"testing"
	"unicode/utf16"
)

// koreanExcelCSV is a list as Korean Excel saves "CSV": CP949, CRLF, no
// byte order mark, a Korean header. The bytes are written out (made with
// Python's cp949 codec, not the decoder under test). 똠 (0x8C 0x63) is
// outside EUC-KR's KS X 1001 set: only CP949 has it.
const koreanExcelCSV = "\xc0\xcc\xb8\xde\xc0\xcf,\xc0\xcc\xb8\xa7,\xc1\xd6\xc1\xa6\r\n" + // 이메일,이름,주제
	"kim@example.org,\xb1\xe8\xb9\xce\xc1\xd8,compute\r\n" + // 김민준
	"ddom@example.org,\x8cc\xb9\xe6\xb0\xa2\xc7\xcf,regulation safety\r\n" + // 똠방각하
	"bad-address,\xb1\xe8,\r\n" // 김, and no @

func TestReadCSVKoreanExcel(t *testing.T) {
	rows, rej, err := ReadCSV(strings.NewReader(koreanExcelCSV), testThemes)
	if err != nil {
		t.Fatalf("ReadCSV of a CP949 file: %v", err)
	}
	checkRows(t, rows, []wantRow{
		{2, "kim@example.org", "김민준", []string{"compute"}, Active},
		{3, "ddom@example.org", "똠방각하", []string{"regulation", "safety"}, Active},
	})
	checkRejected(t, rej, []wantRejected{{4, "bad-address", "has no @"}})
}

// utf16File is text as Excel saves "Unicode text": a byte order mark,
// UTF-16 code units, TABs between the cells, CRLF.
func utf16File(s string, bigEndian bool) string {
	var b strings.Builder
	for _, u := range utf16.Encode([]rune("\uFEFF" + s)) {
		hi, lo := byte(u>>8), byte(u)
		if bigEndian {
			b.WriteByte(hi)
			b.WriteByte(lo)
		} else {
			b.WriteByte(lo)
			b.WriteByte(hi)
		}
	}
	return b.String()
}

func TestReadCSVUnicodeText(t *testing.T) {
	// The empty name cell of the second row must not shift the themes
	// into the name column; the emoji is a surrogate pair.
	text := "email\tname\tthemes\tstatus\r\n" +
		"kim@example.org\t김민준 🐦\tcompute\t\r\n" +
		"lee@example.org\t\tsafety\tpending\r\n" +
		"han@example.org\tHan, Ji\t\t\r\n"
	want := []wantRow{
		{2, "kim@example.org", "김민준 🐦", []string{"compute"}, Active},
		{3, "lee@example.org", "", []string{"safety"}, Pending},
		{4, "han@example.org", "Han, Ji", nil, Active},
	}
	for _, order := range []struct {
		name string
		big  bool
	}{{"little-endian", false}, {"big-endian", true}} {
		t.Run(order.name, func(t *testing.T) {
			rows, rej, err := ReadCSV(strings.NewReader(utf16File(text, order.big)), testThemes)
			if err != nil {
				t.Fatalf("ReadCSV of UTF-16: %v", err)
			}
			checkRows(t, rows, want)
			checkRejected(t, rej, nil)
		})
	}
}

// A file in neither encoding is refused whole, naming the first line
// that cannot be read and what to do, rather than imported with wrong
// names.
func TestReadCSVUnknownEncoding(t *testing.T) {
	tests := []struct{ name, file, want string }{
		{"Latin-1", "email,name\r\nkim@example.org,Kim\r\njose@example.org,Jos\xe9\r\n",
			`line 3 is neither UTF-8 nor Korean Windows (CP949) text; save it from the spreadsheet as "CSV UTF-8" and import that`},
		{"stray byte after UTF-8 Hangul", "kim@example.org,김\nlee@example.org,\xff\n",
			"line 2 is neither UTF-8 nor Korean Windows (CP949) text"},
		{"UTF-16 with a lone surrogate", utf16File("email\r\nkim@example.org\r\n", false) + "\x00\xd8\n\x00",
			`line 3 is not valid UTF-16 (Excel's "Unicode text"); save it`},
		{"UTF-16 without a byte order mark", "kim@example.org\n" + utf16File("e", false)[2:] + "\x00",
			`line 2 has NUL bytes: the file is UTF-16 without a byte order mark, or not text; save it from the spreadsheet as "CSV UTF-8"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rej, err := ReadCSV(strings.NewReader(tt.file), testThemes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadCSV = %v, %v, %v; want an error containing %q", rows, rej, err, tt.want)
			}
			if rows != nil || rej != nil {
				t.Errorf("rows with the error: %v %v", rows, rej)
			}
		})
	}
}

// The operator is told which encoding was read, so a list taken for the
// wrong one would show at once.
func TestReadCSVEncodingNamed(t *testing.T) {
	for _, tt := range []struct {
		file string
		want Encoding
	}{
		{"\uFEFFemail\nkim@example.org\n", UTF8},
		{koreanExcelCSV, CP949},
		{utf16File("email\r\nkim@example.org\r\n", false), UTF16},
	} {
		rows, _, enc, err := ReadCSVEncoding(strings.NewReader(tt.file), testThemes)
		if err != nil || enc != tt.want || len(rows) == 0 || rows[0].Subscriber.Email != "kim@example.org" {
			t.Errorf("ReadCSVEncoding(%q) = %v rows, %q, %v; want kim@example.org first, read as %q", tt.file, rows, enc, err, tt.want)
		}
	}
}
