package subscribers

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"
	"testing"
	"testing/iotest"
)

// mixedCSV is a list as an operator might really have it, one problem
// per row. The comment after each line is its physical line number.
var mixedCSV = strings.Join([]string{
	"\uFEFFemail,name,themes,status",                // 1
	"kim@example.org,Kim Min-jun,compute,",          // 2 good
	"",                                              // 3 blank
	"not-an-address,Bad,,",                          // 4 bad address
	"lee@example.org,Lee,chips,",                    // 5 unknown theme
	"park@example.org,Park,,sleeping",               // 6 unknown status
	"KIM@Example.ORG,Kim again,,",                   // 7 duplicate of 2
	`"choi@example.org","Choi, Seo-yeon","compute,`, // 8 good, spans 8-9
	`regulation",pending`,                           // 9
	`"jung@example.org","Jung`,                      // 10 name with a line break, spans 10-11
	`Line",,`,                                       // 11
	"han@한국.kr,한지민,safety,unsubscribed",             // 12 good, IDN
	"   ,  ,",                                       // 13 blank: only separators
	"yoon@example.org,Yoon,,active,extra",           // 14 too many columns
	"  song@example.org  ,  Song  ,,",               // 15 good, trimmed
	`kang@example.org,Kang "KK" Lee,,`,              // 16 bare quote
	"lim@example.org,Lim,,,,",                       // 17 good: empty padding cells
	"oh@example.org," + strings.Repeat("오", 201),    // 18 name too long
	"bae@example.org,배,,휴면",                         // 19 unknown status, in Korean
	"ahn@example.org,Ahn\u202Eevil,,",               // 20 bidi override in the name
	"yang@example.org,Yang,Compute;SAFETY,Bounced",  // 21 good, no final newline
}, "\n")

type wantRow struct {
	line   int
	email  string
	name   string
	themes []string
	status Status
}

type wantRejected struct {
	line   int
	value  string
	reason string // a part of the reason
}

var mixedRows = []wantRow{
	{2, "kim@example.org", "Kim Min-jun", []string{"compute"}, Active},
	{8, "choi@example.org", "Choi, Seo-yeon", []string{"compute", "regulation"}, Pending},
	{12, "han@xn--3e0b707e.kr", "한지민", []string{"safety"}, Unsubscribed},
	{15, "song@example.org", "Song", nil, Active},
	{17, "lim@example.org", "Lim", nil, Active},
	{21, "yang@example.org", "Yang", []string{"compute", "safety"}, Bounced},
}

var mixedRejected = []wantRejected{
	{4, "not-an-address", `"not-an-address" has no @`},
	{5, "lee@example.org", `unknown theme "chips"; use one of agents, compute, regulation, safety, strategy`},
	{6, "park@example.org", `unknown status "sleeping"`},
	{7, "KIM@Example.ORG", "duplicate of line 2"},
	{10, "jung@example.org", "control character"},
	{14, "yoon@example.org", `too many columns: column 5 has "extra"`},
	{16, "kang@example.org", `a " in a field without quotes (line 16)`},
	{18, "oh@example.org", "is 201 characters long; shorten it to 200"},
	{19, "bae@example.org", `unknown status "휴면"`},
	{20, "ahn@example.org", "control character (U+202E)"},
}

func TestReadCSVMixed(t *testing.T) {
	variants := map[string]string{
		"LF":                      mixedCSV,
		"CRLF":                    strings.ReplaceAll(mixedCSV, "\n", "\r\n"),
		"CR":                      strings.ReplaceAll(mixedCSV, "\n", "\r"),
		"no BOM":                  strings.TrimPrefix(mixedCSV, "\uFEFF"),
		"semicolon":               toSemicolons(mixedCSV),
		"one byte at a time":      mixedCSV,
		"CRLF one byte at a time": strings.ReplaceAll(mixedCSV, "\n", "\r\n"),
	}
	for name, file := range variants {
		t.Run(name, func(t *testing.T) {
			var r io.Reader = strings.NewReader(file)
			if strings.HasSuffix(name, "one byte at a time") {
				r = iotest.OneByteReader(r)
			}
			rows, rej, err := ReadCSV(r, testThemes)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, rows, mixedRows)
			checkRejected(t, rej, mixedRejected)
		})
	}
}

// toSemicolons rewrites mixedCSV the way a spreadsheet in a European or
// Korean locale saves it: the separator becomes ;, and commas inside
// cells stay.
func toSemicolons(s string) string {
	b := []byte(s)
	quoted := false
	for i, c := range b {
		switch {
		case c == '"':
			quoted = !quoted
		case c == ',' && !quoted:
			b[i] = ';'
		}
	}
	// "Compute;SAFETY" on the last line was one cell; quote it.
	return strings.Replace(string(b), "Compute;SAFETY", `"Compute;SAFETY"`, 1)
}

func checkRows(t *testing.T, got []Row, want []wantRow) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rows, want %d:", len(got), len(want))
		for _, r := range got {
			t.Errorf("  line %d: %+v", r.Line, r.Subscriber)
		}
		return
	}
	for i, w := range want {
		g := got[i]
		s := g.Subscriber
		if g.Line != w.line || s.Email != w.email || s.Name != w.name || !slices.Equal(s.Themes, w.themes) || s.Status != w.status {
			t.Errorf("row %d = line %d %q %q %q %q; want line %d %q %q %q %q", i,
				g.Line, s.Email, s.Name, s.Themes, s.Status, w.line, w.email, w.name, w.themes, w.status)
		}
	}
}

func checkRejected(t *testing.T, got []Rejected, want []wantRejected) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("got %d rejected rows, want %d:", len(got), len(want))
		for _, r := range got {
			t.Errorf("  %+v", r)
		}
		return
	}
	for i, w := range want {
		g := got[i]
		if g.Line != w.line || g.Value != w.value || !strings.Contains(g.Reason, w.reason) {
			t.Errorf("rejected %d = line %d %q %q; want line %d %q with %q", i, g.Line, g.Value, g.Reason, w.line, w.value, w.reason)
		}
		if strings.ContainsAny(g.Reason, "\r\n") {
			t.Errorf("line %d: reason %q is more than one line", g.Line, g.Reason)
		}
	}
}

func TestReadCSVLayouts(t *testing.T) {
	tests := []struct {
		name, file string
		rows       []wantRow
		rejected   []wantRejected
	}{
		{
			name: "addresses only, no header",
			file: "kim@example.org\nlee@example.org\n",
			rows: []wantRow{{1, "kim@example.org", "", nil, Active}, {2, "lee@example.org", "", nil, Active}},
		},
		{
			name: "all columns, no header",
			file: "kim@example.org,Kim,compute regulation,pending\n",
			rows: []wantRow{{1, "kim@example.org", "Kim", []string{"compute", "regulation"}, Pending}},
		},
		{
			name: "reordered header",
			file: "Name,Status,EMAIL,Themes\nKim,bounced,kim@example.org,safety\nLee,,lee@example.org,\n",
			rows: []wantRow{{2, "kim@example.org", "Kim", []string{"safety"}, Bounced}, {3, "lee@example.org", "Lee", nil, Active}},
		},
		{
			name: "header with fewer columns",
			file: "email\nkim@example.org\nlee@example.org,Lee\n",
			rows: []wantRow{{2, "kim@example.org", "", nil, Active}},
			rejected: []wantRejected{
				{3, "lee@example.org", `too many columns: column 2 has "Lee"`},
			},
		},
		{
			name: "unnamed header column must stay empty",
			file: "email,,name\nkim@example.org,,Kim\nlee@example.org,x,Lee\n",
			rows: []wantRow{{2, "kim@example.org", "Kim", nil, Active}},
			rejected: []wantRejected{
				{3, "lee@example.org", `too many columns: column 2 has "x"`},
			},
		},
		{
			name: "header after blank lines",
			file: "\n  \n\r\nemail,name\nkim@example.org,Kim\n",
			rows: []wantRow{{5, "kim@example.org", "Kim", nil, Active}},
		},
		{
			name: "header and BOM only",
			file: "\uFEFFemail,name,themes,status\r\n",
		},
		{
			name: "empty file",
			file: "",
		},
		{
			name: "semicolons, commas inside names",
			file: "email;name;themes\nkim@example.org;Kim, Min-jun;compute,regulation\nlee@example.org;\"Lee; Ji\";safety\n",
			rows: []wantRow{
				{2, "kim@example.org", "Kim, Min-jun", []string{"compute", "regulation"}, Active},
				{3, "lee@example.org", "Lee; Ji", []string{"safety"}, Active},
			},
		},
		{
			name: "semicolon inside quotes does not decide",
			file: "\"a;b;c\",kim@example.org\n",
			rejected: []wantRejected{
				{1, "a;b;c", "has no @"},
			},
		},
		{
			name: "unclosed quote runs to the end",
			file: "kim@example.org,Kim\n\"lee@example.org,Lee\nhan@example.org,Han\n",
			rows: []wantRow{{1, "kim@example.org", "Kim", nil, Active}},
			rejected: []wantRejected{
				{2, "", "not closed properly"},
			},
		},
		{
			name: "duplicate of a rejected line",
			file: "kim@example.org,Kim,chips\nKim@example.org,Kim\n",
			rejected: []wantRejected{
				{1, "kim@example.org", "unknown theme"},
				{2, "Kim@example.org", "duplicate of line 1"},
			},
		},
		{
			name: "name in the address cell",
			file: "Kim <kim@example.org>,Kim\n",
			rejected: []wantRejected{
				{1, "Kim <kim@example.org>", "put the name in the name column"},
			},
		},
		{
			name: "a row with an address is not a header",
			file: "kim@example.org,email\n",
			rows: []wantRow{{1, "kim@example.org", "email", nil, Active}},
		},
		{
			name: "second header is a bad row",
			file: "email\nkim@example.org\nemail\n",
			rows: []wantRow{{2, "kim@example.org", "", nil, Active}},
			rejected: []wantRejected{
				{3, "email", "has no @"},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rej, err := ReadCSV(strings.NewReader(tt.file), testThemes)
			if err != nil {
				t.Fatal(err)
			}
			checkRows(t, rows, tt.rows)
			checkRejected(t, rej, tt.rejected)
		})
	}
}

func TestReadCSVFileErrors(t *testing.T) {
	tests := []struct {
		name string
		r    io.Reader
		want string
	}{
		{"unknown column", strings.NewReader("email,phone\nkim@example.org,010\n"),
			`line 1: unknown column "phone" in the header; the columns are email, name, themes, status, language and articles`},
		{"unknown column after blank line", strings.NewReader("\nEmail,Name,Topic\n"),
			`line 2: unknown column "Topic"`},
		{"unknown column in a reordered header", strings.NewReader("Name,Phone,Email\nKim,010,kim@example.org\n"),
			`line 1: unknown column "Phone"`},
		{"repeated column", strings.NewReader("email,name,Name\n"),
			`column "name" appears twice`},
		{"UTF-16 cut in half", strings.NewReader("\xff\xfee\x00m"), "not valid UTF-16"},
		{"I/O error", io.MultiReader(strings.NewReader("kim@example.org\n"), errReader{}), "disk on fire"},
		{"I/O error in the first line", errReader{}, "disk on fire"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rows, rej, err := ReadCSV(tt.r, testThemes)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("ReadCSV = %v, %v, %v; want an error containing %q", rows, rej, err, tt.want)
			}
			if rows != nil || rej != nil {
				t.Errorf("ReadCSV returned rows with its error: %v %v", rows, rej)
			}
		})
	}
}

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestReadCSVTooManyRows(t *testing.T) {
	defer func(n int) { maxCSVRows = n }(maxCSVRows)
	maxCSVRows = 3
	// Blank lines and the header are not rows.
	ok := "email\n\na@example.org\nb@example.org\n\nbad\n"
	if _, _, err := ReadCSV(strings.NewReader(ok), nil); err != nil {
		t.Fatalf("3 rows: %v", err)
	}
	_, _, err := ReadCSV(strings.NewReader(ok+"d@example.org\n"), nil)
	if err == nil || !strings.Contains(err.Error(), "more than 3 rows") {
		t.Fatalf("4 rows: err = %v, want more than 3 rows", err)
	}
}

// A real list is 100k rows; reading must stay linear, duplicates included.
func TestReadCSVLarge(t *testing.T) {
	if testing.Short() {
		t.Skip("large file")
	}
	const n = 100_000
	var b bytes.Buffer
	b.WriteString("email,name,themes,status\n")
	for i := range n {
		// Every tenth row repeats an earlier address in capitals.
		if i%10 == 9 {
			fmt.Fprintf(&b, "READER%d@EXAMPLE.ORG,Reader %d,,\n", i-1, i)
			continue
		}
		fmt.Fprintf(&b, "reader%d@example.org,\"Reader, %d\",compute safety,active\n", i, i)
	}
	rows, rej, err := ReadCSV(&b, testThemes)
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != n-n/10 || len(rej) != n/10 {
		t.Fatalf("got %d rows and %d rejected, want %d and %d", len(rows), len(rej), n-n/10, n/10)
	}
	if r := rej[len(rej)-1]; r.Line != n+1 || r.Reason != fmt.Sprintf("duplicate of line %d", n) {
		t.Errorf("last rejected = %+v", r)
	}
	if r := rows[len(rows)-1]; r.Line != n || r.Subscriber.Email != fmt.Sprintf("reader%d@example.org", n-2) {
		t.Errorf("last row = %+v", r)
	}
}

func TestWriteCSVRoundTrip(t *testing.T) {
	subs := []Subscriber{
		{Email: "kim@example.org", Name: "Kim Min-jun", Status: Active, Themes: []string{"compute", "regulation"}, Language: "en", Articles: "ko"},
		{Email: "Choi.Seo@example.org", Name: "Choi, Seo-yeon", Status: Pending, Language: "ko", Articles: "both"},
		{Email: "han@xn--3e0b707e.kr", Name: "한지민 (韓志旼)", Status: Unsubscribed, Themes: []string{"safety"}},
		{Email: "독자@xn--3e0b707e.kr", Name: "독자", Status: Bounced},
		{Email: "quote@example.org", Name: `Say "hi", 'Jay'`, Status: Active},
		{Email: "semi@example.org", Name: "a;b|c", Status: Active, Themes: []string{"agents"}},
		// Spreadsheet formula starts: escaped with ' on export, and the
		// ' taken off again on import.
		{Email: "eq@example.org", Name: `=HYPERLINK("http://evil.example","x")`, Status: Active},
		{Email: "plus@example.org", Name: "+82 10 1234 5678", Status: Active},
		{Email: "minus@example.org", Name: "-1", Status: Active},
		{Email: "at@example.org", Name: "@kim", Status: Active},
		{Email: "=cmd@example.org", Name: "", Status: Active},
		{Email: "+tag@example.org", Name: "email", Status: Active},
		{Email: "blank@example.org", Status: Active, Themes: []string{}},
		{Email: "quoted@example.org", Name: "'=already quoted", Status: Active},
		{Email: "apostrophe@example.org", Name: "'Kim", Status: Active},
		{Email: "long@example.org", Name: strings.Repeat("가", maxName), Status: Active},
	}
	var b bytes.Buffer
	if err := WriteCSV(&b, subs); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	if !strings.HasPrefix(out, "email,name,themes,status,language,articles\n") {
		t.Errorf("export starts %q, want the header", out[:min(len(out), 40)])
	}
	for _, cell := range []string{"\neq@example.org,\"'=HYPERLINK(", "\n'=cmd@example.org,", ",'+82 10", ",'@kim,", ",''=already quoted,", ",''Kim,"} {
		if !strings.Contains(out, cell) {
			t.Errorf("export lacks %q (a spreadsheet would run a formula):\n%s", cell, out)
		}
	}
	rows, rej, err := ReadCSV(strings.NewReader(out), testThemes)
	if err != nil || len(rej) != 0 {
		t.Fatalf("ReadCSV of the export: %v %+v", err, rej)
	}
	if len(rows) != len(subs) {
		t.Fatalf("got %d rows back, want %d", len(rows), len(subs))
	}
	for i, s := range subs {
		g := rows[i].Subscriber
		if g.Email != s.Email || g.Name != s.Name || !slices.Equal(g.Themes, s.Themes) || g.Status != s.Status {
			t.Errorf("row %d came back as %q %q %q %q, want %q %q %q %q", i,
				g.Email, g.Name, g.Themes, g.Status, s.Email, s.Name, s.Themes, s.Status)
		}
		// The list's default (empty) is not given, so it keeps what is stored.
		if g.Language != s.Language || g.Articles != s.Articles || (rows[i].Given&FieldLanguage != 0) != (s.Language != "") {
			t.Errorf("row %d came back with language %q, articles %q (given %b), want %q, %q", i, g.Language, g.Articles, rows[i].Given, s.Language, s.Articles)
		}
		if rows[i].Line != i+2 {
			t.Errorf("row %d is on line %d, want %d", i, rows[i].Line, i+2)
		}
	}
}

func TestWriteCSVEmpty(t *testing.T) {
	var b bytes.Buffer
	if err := WriteCSV(&b, nil); err != nil {
		t.Fatal(err)
	}
	if b.String() != "email,name,themes,status,language,articles\n" {
		t.Errorf("WriteCSV(nil) = %q", b.String())
	}
}

func TestWriteCSVError(t *testing.T) {
	if err := WriteCSV(failWriter{}, []Subscriber{{Email: "a@example.org"}}); err == nil {
		t.Error("WriteCSV to a failing writer returned nil")
	}
}

type failWriter struct{}

func (failWriter) Write([]byte) (int, error) { return 0, errors.New("disk full") }

// Headers as mailing tools and spreadsheets write them.
func TestHeaderAliases(t *testing.T) {
	rows, rej, err := ReadCSV(strings.NewReader("Name,E-mail Address,Topics\nKim,kim@example.org,compute\n"), testThemes)
	if err != nil || len(rej) > 0 || len(rows) != 1 || rows[0].Subscriber.Email != "kim@example.org" || rows[0].Subscriber.Name != "Kim" {
		t.Fatalf("%+v %+v %v", rows, rej, err)
	}
	rows, _, err = ReadCSV(strings.NewReader("이메일,이름\nkim@example.org,김\n"), testThemes)
	if err != nil || len(rows) != 1 || rows[0].Subscriber.Name != "김" {
		t.Fatalf("Korean header: %+v %v", rows, err)
	}
}
