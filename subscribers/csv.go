package subscribers

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/korean"
	xunicode "golang.org/x/text/encoding/unicode"
)

// maxCSVRows bounds one import; a file past it is more likely the wrong
// file than a list, and every row is held in memory. A variable so the
// test need not write a million rows.
var maxCSVRows = 1_000_000

// maxCSVBytes bounds the file read into memory: its encoding is decided
// on the whole of it. A million rows of a real list are well under it.
var maxCSVBytes = 256 << 20

const maxName = 200

// The columns, in the order a file without a header has them.
const (
	colEmail = iota
	colName
	colThemes
	colStatus
	colLanguage
	colArticles
	colIgnored // an unnamed header cell: the column must stay empty
)

var columnNames = []string{"email", "name", "themes", "status", "language", "articles"}

const columnList = "email, name, themes, status, language and articles"

// ReadCSV reads a subscriber list as operators have it: exported from a
// spreadsheet or another newsletter tool, separated by commas, semicolons
// (as spreadsheets in many locales write) or tabs, with or without a
// header row. The file may be UTF-8 with or without a byte order mark,
// UTF-16 with one (Excel's "Unicode text"), or CP949, what Korean Excel
// saves as "CSV" (see ReadCSVEncoding). The columns are
// email, name, themes, status, language and articles; a header may name
// them in any order.
//
// Every bad row is rejected on its own with the physical line it starts
// on, so the operator can fix the file and import it again; the rest
// come back as Rows. The error is only for a file that cannot be read at
// all: an I/O error, a file in none of those encodings, a header naming
// an unknown column, or more than a million rows.
//
// The first row is a header when its first cell is "email", or when a
// cell is "email" and none holds an @; a header with a column other than
// email, name, themes, status, language and articles is an error.
//
// Lines may end in LF, CRLF or CR alone.
//
// A row is rejected for: an address NormalizeEmail refuses, an address
// already on an earlier line (compared by EmailKey; the earlier line
// counts even if it was then rejected for its name, themes or status,
// since the operator has to decide which one they meant), an unknown
// theme, status, language or article choice, a
// value in a column beyond the known ones, a name longer than 200
// characters or with control characters, or broken quoting. Empty trailing cells, as spreadsheets pad rows with, are not
// extra columns.
func ReadCSV(r io.Reader, validThemes []string) ([]Row, []Rejected, error) {
	rows, rejected, _, err := ReadCSVEncoding(r, validThemes)
	return rows, rejected, err
}

// Encoding is the character encoding a CSV file was read in, named as an
// operator knows it.
type Encoding string

const (
	UTF8  Encoding = "UTF-8"
	CP949 Encoding = "CP949 (Korean Windows)"
	// UTF16 is what Excel saves as "Unicode text" (little-endian, TABs).
	UTF16 Encoding = "UTF-16 (Excel's \"Unicode text\")"
)

// ReadCSVEncoding is ReadCSV, and says which encoding the file was read
// in, so the operator can tell a Korean file was not taken for another.
func ReadCSVEncoding(r io.Reader, validThemes []string) ([]Row, []Rejected, Encoding, error) {
	data, enc, err := decodeCSV(r)
	if err != nil {
		return nil, nil, "", err
	}
	rows, rejected, err := readCSV(bytes.NewReader(data), validThemes)
	if err != nil {
		return nil, nil, "", err
	}
	return rows, rejected, enc, nil
}

// saveAsUTF8 is the fix for a file in an encoding gull cannot read.
const saveAsUTF8 = "save it from the spreadsheet as \"CSV UTF-8\" and import that"

// decodeCSV reads the whole file and returns it as UTF-8. Spreadsheets
// save a list in their own encoding and nothing in a CSV file says which;
// Korean Excel's plain "CSV" is CP949. A file that is valid UTF-8 is taken
// as UTF-8 (CP949 Hangul is almost never valid UTF-8, and the reverse
// holds too); one that is not is taken as CP949 only if every byte of it
// decodes as CP949, so a Latin-1 or broken file is refused, not turned
// into wrong names. UTF-16 is recognized by its byte order mark.
func decodeCSV(r io.Reader) ([]byte, Encoding, error) {
	data, err := io.ReadAll(io.LimitReader(r, int64(maxCSVBytes)+1))
	if err != nil {
		return nil, "", fmt.Errorf("reading the CSV file: %w", err)
	}
	if len(data) > maxCSVBytes {
		return nil, "", fmt.Errorf("the file is larger than %d MiB; split it into smaller files", maxCSVBytes>>20)
	}
	switch {
	case bytes.HasPrefix(data, []byte{0xFF, 0xFE}):
		return decodeClean(data, xunicode.UTF16(xunicode.LittleEndian, xunicode.ExpectBOM), UTF16)
	case bytes.HasPrefix(data, []byte{0xFE, 0xFF}):
		return decodeClean(data, xunicode.UTF16(xunicode.BigEndian, xunicode.ExpectBOM), UTF16)
	case bytes.IndexByte(data, 0) >= 0:
		// Valid UTF-8 still, but no list has NUL bytes: UTF-16 without
		// its byte order mark, or not a text file at all.
		return nil, "", fmt.Errorf("line %d has NUL bytes: the file is UTF-16 without a byte order mark, or not text; %s", lineOf(data, bytes.IndexByte(data, 0)), saveAsUTF8)
	case utf8.Valid(data):
		return data, UTF8, nil
	}
	if out, _, err := decodeClean(data, korean.EUCKR, CP949); err == nil {
		return out, CP949, nil
	}
	return nil, "", fmt.Errorf("line %d is neither UTF-8 nor Korean Windows (CP949) text; %s", lineOf(data, firstInvalidUTF8(data)), saveAsUTF8)
}

// decodeClean decodes data from enc, and fails where x/text would put
// U+FFFD for bytes that are not enc (none of these encodings can encode
// U+FFFD itself, so its presence means a byte could not be read).
func decodeClean(data []byte, enc encoding.Encoding, name Encoding) ([]byte, Encoding, error) {
	out, err := enc.NewDecoder().Bytes(data)
	if err != nil {
		return nil, "", fmt.Errorf("reading the file as %s: %w; %s", name, err, saveAsUTF8)
	}
	if i := bytes.IndexRune(out, utf8.RuneError); i >= 0 {
		return nil, "", fmt.Errorf("line %d is not valid %s; %s", lineOf(out, i), name, saveAsUTF8)
	}
	return out, name, nil
}

// firstInvalidUTF8 is the offset of the first byte that is not part of
// a UTF-8 sequence.
func firstInvalidUTF8(data []byte) int {
	for i := 0; i < len(data); {
		r, n := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && n <= 1 {
			return i
		}
		i += n
	}
	return len(data)
}

// lineOf is the physical line of offset i, counting CR, LF and CRLF as
// line ends like lineEnds does.
func lineOf(data []byte, i int) int {
	head := data[:i]
	return 1 + bytes.Count(head, []byte{'\n'}) + bytes.Count(head, []byte{'\r'}) - bytes.Count(head, []byte("\r\n"))
}

func readCSV(r io.Reader, validThemes []string) ([]Row, []Rejected, error) {
	br := bufio.NewReaderSize(&lineEnds{r: r}, 64<<10)
	head, comma, err := sniff(br)
	if err != nil {
		return nil, nil, err
	}
	cr := csv.NewReader(io.MultiReader(bytes.NewReader(head), br))
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	// TrimLeadingSpace counts a TAB as space even when it separates the
	// cells, so it would shift a TAB file's columns; the cells are
	// trimmed anyway (cellValue).
	cr.TrimLeadingSpace = comma != '\t'
	cr.ReuseRecord = true

	var (
		rows     []Row
		rejected []Rejected
		// cols maps a cell's index to its column; beyond its end every
		// cell must be empty.
		cols  = []int{colEmail, colName, colThemes, colStatus, colLanguage, colArticles}
		first = true
		n     = 0
		seen  = make(map[string]int)
	)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return nil, nil, fmt.Errorf("reading the CSV file: %w", err)
		}
		var line int
		if pe != nil {
			line = pe.StartLine
		} else {
			if blank(rec) {
				continue
			}
			line, _ = cr.FieldPos(0)
		}
		if first {
			first = false
			if pe == nil && isHeader(rec) {
				if cols, err = headerColumns(rec, line); err != nil {
					return nil, nil, err
				}
				continue
			}
		}
		if n++; n > maxCSVRows {
			return nil, nil, fmt.Errorf("the file has more than %d rows; split it into smaller files", maxCSVRows)
		}
		value := unescapeCell(cellValue(rec, cols, colEmail))
		reject := func(reason string) {
			rejected = append(rejected, Rejected{Line: line, Value: strings.ToValidUTF8(value, "\uFFFD"), Reason: reason})
		}
		if pe != nil {
			reject(quoteReason(pe))
			continue
		}
		if reason := extraColumns(rec, cols); reason != "" {
			reject(reason)
			continue
		}
		email, err := NormalizeEmail(value)
		if err != nil {
			reject(err.Error())
			continue
		}
		key := EmailKey(email)
		if prev, ok := seen[key]; ok {
			reject(fmt.Sprintf("duplicate of line %d", prev))
			continue
		}
		seen[key] = line
		name := unescapeCell(cellValue(rec, cols, colName))
		if err := CheckName(name); err != nil {
			reject(err.Error())
			continue
		}
		var given Fields
		if name != "" {
			given |= FieldName
		}
		themes, gotThemes, err := ParseThemeCell(cellValue(rec, cols, colThemes), validThemes)
		if err != nil {
			reject(err.Error())
			continue
		}
		if gotThemes {
			given |= FieldThemes
		}
		statusCell := cellValue(rec, cols, colStatus)
		status, err := ParseStatus(statusCell)
		if err != nil {
			reject(err.Error())
			continue
		}
		if statusCell != "" {
			given |= FieldStatus
		}
		// An empty language or articles cell is not given: an old
		// spreadsheet keeps what the reader chose on the preferences page.
		lang, err := ParseLanguage(cellValue(rec, cols, colLanguage))
		if err != nil {
			reject("language: " + err.Error())
			continue
		}
		if lang != "" {
			given |= FieldLanguage
		}
		articles, err := ParseArticles(cellValue(rec, cols, colArticles))
		if err != nil {
			reject("articles: " + err.Error())
			continue
		}
		if articles != "" {
			given |= FieldArticles
		}
		rows = append(rows, Row{Line: line, Given: given, Subscriber: Subscriber{
			Email: email,
			// Cloned so a row does not pin the whole record's buffer.
			Name:     strings.Clone(name),
			Themes:   themes,
			Status:   status,
			Language: lang,
			Articles: articles,
		}})
	}
	return rows, rejected, nil
}

// sniff reads up to the first line with content, to choose the separator
// (the most frequent of comma, semicolon and TAB outside quotes; comma on
// a tie) before encoding/csv sees any of it, and returns what it read so
// the line count stays physical. It drops a UTF-8 byte order mark.
func sniff(br *bufio.Reader) (head []byte, comma rune, err error) {
	comma = ','
	for i := 0; ; i++ {
		line, err := br.ReadBytes('\n')
		if err != nil && err != io.EOF {
			return nil, 0, fmt.Errorf("reading the CSV file: %w", err)
		}
		if i == 0 {
			line = bytes.TrimPrefix(line, []byte("\uFEFF"))
		}
		if len(bytes.TrimSpace(line)) > 0 {
			head = append(head, line...)
			semi, commas, tabs, quoted := 0, 0, 0, false
			for _, c := range line {
				switch {
				case c == '"':
					quoted = !quoted
				case quoted:
				case c == ';':
					semi++
				case c == ',':
					commas++
				case c == '\t':
					tabs++
				}
			}
			switch {
			case tabs > commas && tabs > semi:
				comma = '\t'
			case semi > commas:
				comma = ';'
			}
			return head, comma, nil
		}
		// A blank line only counts; its white space could be megabytes.
		if bytes.HasSuffix(line, []byte("\n")) {
			head = append(head, '\n')
		}
		if err == io.EOF {
			return head, comma, nil
		}
	}
}

// lineEnds turns CR line ends, which Excel for Mac still writes as "CSV
// (Macintosh)", into LF; encoding/csv would take such a file for one
// long line. CRLF becomes LF as well, which encoding/csv does anyway.
type lineEnds struct {
	r  io.Reader
	cr bool // the last byte read was a CR, so an LF now is its pair
}

func (l *lineEnds) Read(p []byte) (int, error) {
	for {
		n, err := l.r.Read(p)
		out := 0
		for _, c := range p[:n] {
			if l.cr && c == '\n' {
				l.cr = false
				continue
			}
			l.cr = c == '\r'
			if l.cr {
				c = '\n'
			}
			p[out] = c
			out++
		}
		// A read of just the LF of a CRLF leaves nothing; returning 0, nil
		// would look like a stalled reader.
		if out > 0 || n == 0 || err != nil {
			return out, err
		}
	}
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}

// isHeader takes a first row whose first cell is "email" for a header,
// and also one that names "email" elsewhere and holds no address, so
// that a header may put the columns in any order. A list's first row
// without an @ would be rejected as an address anyway.
func isHeader(rec []string) bool {
	first, named := "", false
	for _, f := range rec {
		f = strings.TrimSpace(f)
		if first == "" {
			first = f
		}
		if strings.Contains(f, "@") {
			return columnOf(first) == colEmail
		}
		named = named || columnOf(f) == colEmail
	}
	return named
}

// headerAliases are other names spreadsheets and mailing tools give the
// columns ("Email Address", "E-mail", "Topics").
var headerAliases = map[string]int{
	"email": colEmail, "emailaddress": colEmail, "mail": colEmail, "address": colEmail, "이메일": colEmail,
	"name": colName, "fullname": colName, "이름": colName,
	"themes": colThemes, "theme": colThemes, "topics": colThemes, "주제": colThemes,
	"status": colStatus, "상태": colStatus,
	"language": colLanguage, "lang": colLanguage, "언어": colLanguage,
	"articles": colArticles, "articlelanguages": colArticles, "기사언어": colArticles,
}

// columnOf is the column a header cell names, or -1.
func columnOf(f string) int {
	key := strings.NewReplacer(" ", "", "-", "", "_", "").Replace(strings.ToLower(strings.TrimSpace(f)))
	if c, ok := headerAliases[key]; ok {
		return c
	}
	return -1
}

func headerColumns(rec []string, line int) ([]int, error) {
	cols := make([]int, len(rec))
	named := make(map[int]bool)
	for i, f := range rec {
		f = strings.TrimSpace(f)
		if f == "" {
			cols[i] = colIgnored
			continue
		}
		c := columnOf(f)
		if c < 0 {
			return nil, fmt.Errorf("line %d: unknown column %s in the header; the columns are %s", line, quoteInput(f), columnList)
		}
		if named[c] {
			return nil, fmt.Errorf("line %d: column %q appears twice in the header; keep one", line, columnNames[c])
		}
		named[c] = true
		cols[i] = c
	}
	return cols, nil
}

// cellValue is the trimmed cell of column c, "" when the row is short or
// the header has no such column.
func cellValue(rec []string, cols []int, c int) string {
	for i, col := range cols {
		if col == c && i < len(rec) {
			return strings.TrimSpace(rec[i])
		}
	}
	return ""
}

func extraColumns(rec []string, cols []int) string {
	for i, f := range rec {
		if (i >= len(cols) || cols[i] == colIgnored) && strings.TrimSpace(f) != "" {
			return fmt.Sprintf("too many columns: column %d has %s, but the columns are %s", i+1, quoteInput(strings.TrimSpace(f)), columnList)
		}
	}
	return ""
}

func quoteReason(pe *csv.ParseError) string {
	if errors.Is(pe.Err, csv.ErrBareQuote) {
		return fmt.Sprintf(`a " in a field without quotes (line %d); put the whole field in double quotes and write each " inside it twice`, pe.Line)
	}
	return fmt.Sprintf(`a quoted field is not closed properly (line %d); end it with " right before the separator, and write each " inside it twice`, pe.Line)
}

// CheckName keeps a name to one line of plain text: it goes into a
// greeting and a mail header, where a line break or a bidi override
// would change what the reader sees.
func CheckName(name string) error {
	if n := utf8.RuneCountInString(name); n > maxName {
		return fmt.Errorf("the name %s is %d characters long; shorten it to %d or fewer", quoteInput(name), n, maxName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' ||
			'\u202A' <= r && r <= '\u202E' || '\u2066' <= r && r <= '\u2069' {
			return fmt.Errorf("the name %s contains a control character (%U); make it one line of plain text", quoteInput(name), r)
		}
	}
	return nil
}

// WriteCSV writes subs in the format ReadCSV reads, header first, so an
// export can be edited and imported back; every subscriber ReadCSV can
// produce comes back with the same address, name, themes, status,
// language and articles (an empty language or articles cell, the list's
// default, stays empty).
//
// A cell that a spreadsheet would take for a formula (=, +, -, @ first;
// addresses may start so, and anyone can sign up on the web) is written
// with a leading ', as spreadsheets expect; ReadCSV takes it off again,
// so the round trip stays exact.
func WriteCSV(w io.Writer, subs []Subscriber) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(columnNames); err != nil {
		return err
	}
	for _, s := range subs {
		if err := cw.Write([]string{escapeCell(s.Email), escapeCell(s.Name), FormatThemes(s.Themes), string(s.Status), s.Language, s.Articles}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

// formulaStart are the first characters that make a spreadsheet read a
// cell as a formula, and the quote that escapes them.
const formulaStart = "=+-@\t\r'"

// escapeCell puts a ' before a cell a spreadsheet would evaluate (and
// before one that already starts with ', so unescapeCell is exact).
func escapeCell(s string) string {
	if s != "" && strings.IndexByte(formulaStart, s[0]) >= 0 {
		return "'" + s
	}
	return s
}

// unescapeCell undoes escapeCell: a ' followed by a formula character.
func unescapeCell(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.IndexByte(formulaStart, s[1]) >= 0 {
		return s[1:]
	}
	return s
}
