package collect

import (
	"bytes"
	"cmp"
	"fmt"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/saintfish/chardet"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/htmlindex"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/encoding/unicode/utf32"
)

// decoded is a feed body turned into UTF-8, with how that was decided.
type decoded struct {
	body    []byte
	charset string   // the encoding the bytes were read as
	repairs []string // what was wrong and fixed, for the feed's report
}

var xmlDeclEncodingRE = regexp.MustCompile(`(?i)^(\s*<\?xml[^>]*?\sencoding\s*=\s*["'])([^"']*)(["'])`)

// lookupEncoding finds an encoding by label. cp949, ms949 and
// x-windows-949 are Microsoft's names for the EUC-KR superset that
// golang.org/x/text's EUC-KR decoder already reads (it decodes the UHC
// extension), but the WHATWG label list it uses lacks them.
func lookupEncoding(label string) (encoding.Encoding, string) {
	l := strings.ToLower(strings.TrimSpace(label))
	switch l {
	case "":
		return nil, ""
	case "cp949", "ms949", "x-windows-949", "windows-949", "uhc", "ks_c_5601-1987", "euc-kr", "euckr":
		return korean.EUCKR, "euc-kr"
	case "utf-32", "utf-32be", "utf32":
		return utf32.UTF32(utf32.BigEndian, utf32.UseBOM), "utf-32be"
	case "utf-32le":
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le"
	}
	enc, err := htmlindex.Get(l)
	if err != nil {
		return nil, ""
	}
	name, _ := htmlindex.Name(enc)
	return enc, name
}

// declaredEncoding reads the encoding named in the XML declaration. The
// declaration is ASCII in every encoding a feed uses but UTF-16/32, which
// are recognized by their bytes before this is asked.
func declaredEncoding(body []byte) string {
	head := body[:min(len(body), 512)]
	if m := xmlDeclEncodingRE.FindSubmatch(head); m != nil {
		return string(m[2])
	}
	return ""
}

// toUTF8 decides how a feed's bytes are encoded and returns them as UTF-8
// with the XML declaration saying so. The evidence, strongest first: a byte
// order mark or the zero-byte pattern of UTF-16/32; bytes that are valid
// UTF-8 (legacy Korean or Japanese text practically never is, so this beats
// a wrong declaration); the HTTP charset and the XML declaration, when
// decoding with them is clean; and last, statistical detection.
func toUTF8(body []byte, httpCharset string) (decoded, error) {
	var d decoded
	if enc, name, skip := sniffUnicode(body); enc != nil {
		out, err := enc.NewDecoder().Bytes(body[skip:])
		if err != nil {
			return d, fmt.Errorf("body starts as %s but does not decode: %w", name, err)
		}
		d.charset = name
		if name != "utf-8" {
			out = rewriteDecl(out)
			d.body = out
			return d, nil
		}
		body = out // UTF-8 after a BOM: continue with the usual checks
	}
	declared := declaredEncoding(body)
	if utf8.Valid(body) {
		d.body, d.charset = body, "utf-8"
		_, declName := lookupEncoding(declared)
		if declared != "" && declName != "utf-8" && hasHighBytes(body) {
			d.repairs = append(d.repairs, fmt.Sprintf("declared %s but the bytes are UTF-8; read as UTF-8", declared))
		}
		d.body = demoronize(d.body, &d.repairs)
		d.body = rewriteDecl(d.body)
		return d, nil
	}

	// Mostly UTF-8 with a few stray bytes: keep the text, drop the bytes.
	// This comes before the declarations because a single-byte charset
	// such as ISO-8859-1 "decodes" anything, and would turn every Korean
	// or curly-quoted character of a UTF-8 feed into mojibake. Legacy CJK
	// text is not mistaken for this: its byte pairs form valid UTF-8
	// sequences only by rare accident.
	if good, bad := utf8Stats(body); good >= 4*bad && good > 0 {
		d.body = rewriteDecl(dropInvalidUTF8(body))
		d.charset = "utf-8"
		d.repairs = append(d.repairs, fmt.Sprintf("dropped %d bytes that were not valid UTF-8", bad))
		if _, declName := lookupEncoding(cmp.Or(httpCharset, declared)); declName != "" && declName != "utf-8" {
			d.repairs = append(d.repairs, fmt.Sprintf("declared %s but the bytes are UTF-8; read as UTF-8", cmp.Or(httpCharset, declared)))
		}
		return d, nil
	}

	for _, label := range []string{httpCharset, declared} {
		enc, name := lookupEncoding(label)
		if enc == nil || name == "utf-8" {
			continue
		}
		if out, ok := decodeClean(enc, body); ok {
			d.body, d.charset = rewriteDecl(out), name
			return d, nil
		}
	}

	name, out := detect(body)
	d.body, d.charset = rewriteDecl(out), name
	switch {
	case declared != "" || httpCharset != "":
		d.repairs = append(d.repairs, fmt.Sprintf("declared %s but the bytes do not decode as that; detected %s", cmp.Or(httpCharset, declared), name))
	default:
		d.repairs = append(d.repairs, fmt.Sprintf("no encoding declared; detected %s", name))
	}
	return d, nil
}

// sniffUnicode recognizes UTF-8/16/32 by a byte order mark, or UTF-16/32 by
// the zero bytes around the first '<'. It returns the decoder and how many
// bytes of BOM to skip.
func sniffUnicode(b []byte) (encoding.Encoding, string, int) {
	switch {
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0xFE, 0xFF}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 4
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 4
	case bytes.HasPrefix(b, []byte{0xEF, 0xBB, 0xBF}):
		return unicode.UTF8, "utf-8", 3
	case bytes.HasPrefix(b, []byte{0xFE, 0xFF}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 2
	case bytes.HasPrefix(b, []byte{0xFF, 0xFE}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 2
	case bytes.HasPrefix(b, []byte{0x00, 0x00, 0x00, '<'}):
		return utf32.UTF32(utf32.BigEndian, utf32.IgnoreBOM), "utf-32be", 0
	case bytes.HasPrefix(b, []byte{'<', 0x00, 0x00, 0x00}):
		return utf32.UTF32(utf32.LittleEndian, utf32.IgnoreBOM), "utf-32le", 0
	case bytes.HasPrefix(b, []byte{0x00, '<', 0x00}):
		return unicode.UTF16(unicode.BigEndian, unicode.IgnoreBOM), "utf-16be", 0
	case bytes.HasPrefix(b, []byte{'<', 0x00, '?', 0x00}), bytes.HasPrefix(b, []byte{'<', 0x00, 'r', 0x00}), bytes.HasPrefix(b, []byte{'<', 0x00, 'f', 0x00}):
		return unicode.UTF16(unicode.LittleEndian, unicode.IgnoreBOM), "utf-16le", 0
	}
	return nil, "", 0
}

// decodeClean decodes with enc and reports whether every byte was valid in
// it: no replacement characters came out that were not in the input.
func decodeClean(enc encoding.Encoding, b []byte) ([]byte, bool) {
	out, err := enc.NewDecoder().Bytes(b)
	if err != nil {
		return nil, false
	}
	if bytes.Contains(out, []byte("\uFFFD")) {
		return out, false
	}
	return out, true
}

// detectCandidates are the encodings a feed without a usable declaration is
// tried in when the detector is unsure, most likely first for gull's readers.
var detectCandidates = []string{"euc-kr", "shift_jis", "euc-jp", "gb18030", "big5", "windows-1252"}

// detect picks the encoding by byte statistics (ICU's detector) among those
// that decode the body cleanly; windows-1252 is the last resort, as it
// decodes anything.
func detect(b []byte) (string, []byte) {
	// Korean first: a short Korean feed gives the statistical detector too
	// little to go on, and it then prefers a single-byte guess that always
	// decodes. Byte pairs in the KS X 1001 Hangul block are evidence no
	// Latin text produces.
	if looksLikeEUCKR(b) {
		if out, ok := decodeClean(korean.EUCKR, b); ok {
			return "euc-kr", out
		}
	}
	var tried []string
	if results, err := chardet.NewTextDetector().DetectAll(b); err == nil {
		for _, r := range results {
			tried = append(tried, r.Charset)
		}
	}
	tried = append(tried, detectCandidates...)
	for _, label := range tried {
		enc, name := lookupEncoding(label)
		if enc == nil || name == "utf-8" || strings.HasPrefix(name, "utf-16") || strings.HasPrefix(name, "utf-32") {
			continue
		}
		if out, ok := decodeClean(enc, b); ok {
			return name, out
		}
	}
	out, _ := charmap.Windows1252.NewDecoder().Bytes(b)
	return "windows-1252", out
}

// looksLikeEUCKR reports whether most bytes above 0x7F pair up as Hangul
// syllables of KS X 1001 (lead 0xB0–0xC8, trail 0xA1–0xFE), as Korean text
// in EUC-KR or CP949 does.
func looksLikeEUCKR(b []byte) bool {
	high, hangul := 0, 0
	for i := 0; i < len(b); i++ {
		c := b[i]
		if c < 0x80 {
			continue
		}
		if i+1 < len(b) && c >= 0xB0 && c <= 0xC8 && b[i+1] >= 0xA1 && b[i+1] <= 0xFE {
			high += 2
			hangul += 2
			i++
			continue
		}
		high++
	}
	return high >= 4 && hangul*10 >= high*7
}

func hasHighBytes(b []byte) bool {
	for _, c := range b {
		if c >= 0x80 {
			return true
		}
	}
	return false
}

// utf8Stats counts valid multi-byte sequences and invalid bytes.
func utf8Stats(b []byte) (good, bad int) {
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		switch {
		case r == utf8.RuneError && n == 1:
			bad++
		case n > 1:
			good++
		}
		b = b[n:]
	}
	return good, bad
}

func dropInvalidUTF8(b []byte) []byte {
	out := make([]byte, 0, len(b))
	for len(b) > 0 {
		r, n := utf8.DecodeRune(b)
		if !(r == utf8.RuneError && n == 1) {
			out = append(out, b[:n]...)
		}
		b = b[n:]
	}
	return out
}

// demoronize maps C1 control characters, which are never text, to the
// windows-1252 characters (curly quotes, dashes) their byte values meant
// when a cp1252 document was converted to UTF-8 as if it were Latin-1.
func demoronize(b []byte, repairs *[]string) []byte {
	if !bytes.ContainsFunc(b, func(r rune) bool { return r >= 0x80 && r <= 0x9F }) {
		return b
	}
	n := 0
	out := bytes.Map(func(r rune) rune {
		if r >= 0x80 && r <= 0x9F {
			if m := charmap.Windows1252.DecodeByte(byte(r)); m != utf8.RuneError && (m < 0x80 || m > 0x9F) {
				n++
				return m
			}
			return -1
		}
		return r
	}, b)
	*repairs = append(*repairs, fmt.Sprintf("replaced %d control characters with the windows-1252 punctuation they stood for", n))
	return out
}

// rewriteDecl makes the XML declaration say UTF-8, so the parser does not
// decode the already-decoded text a second time.
func rewriteDecl(b []byte) []byte {
	if m := xmlDeclEncodingRE.FindSubmatchIndex(b[:min(len(b), 512)]); m != nil {
		out := make([]byte, 0, len(b))
		out = append(out, b[:m[4]]...)
		out = append(out, "UTF-8"...)
		out = append(out, b[m[5]:]...)
		return out
	}
	return b
}
