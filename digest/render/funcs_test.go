package render

import (
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // Asia/Seoul must resolve on CI machines without a zoneinfo database
	"unicode"
	"unicode/utf8"

	"golang.org/x/text/unicode/norm"
)

const (
	family = "👩\u200d👩\u200d👧" // woman ZWJ woman ZWJ girl: 5 runes, one character
	korea  = "🇰🇷"              // two regional indicators
)

func TestTruncate(t *testing.T) {
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"fits", "hello world", 11, "hello world"},
		{"fits with room", "hello world", 50, "hello world"},
		{"cut counts ellipsis", "hello world", 9, "hello wo…"},
		{"trailing space trimmed", "hello world", 7, "hello…"},
		{"space run trimmed", "a   b c d e", 4, "a…"},
		{"n is one", "hello", 1, "…"},
		{"n zero", "hello", 0, ""},
		{"n negative", "hello", -3, ""},
		{"empty", "", 5, ""},

		{"korean", "정부가 AI 기본법 시행령을 발표했다", 8, "정부가 AI…"},
		{"korean syllables", "인공지능기본법", 4, "인공지…"},
		{"decomposed hangul becomes syllables", "\u1112\u1161\u11ab\u1100\u1173\u11af", 2, "한글"},
		{"decomposed hangul cut", "\u1112\u1161\u11ab\u1100\u1173\u11af\u1109\u1161", 2, "한…"},
		{"old hangul jamo kept together", "가\u1112\u119e\u11ab나다", 4, "가…"},
		{"old hangul jamo whole", "가\u1112\u119e\u11ab나다", 5, "가\u1112\u119e\u11ab…"},

		{"japanese", "東京都は新しいAI指針を公表した", 6, "東京都は新…"},

		{"family emoji not split", "ab" + family + "cd", 5, "ab…"},
		{"family emoji not split inside", "ab" + family + "cd", 6, "ab…"},
		{"family emoji kept whole", "ab" + family + "cd", 8, "ab" + family + "…"},
		{"flag not split", korea + "🇺🇸🇯🇵", 4, korea + "…"},
		{"flag pair", korea + "🇺🇸🇯🇵", 3, korea + "…"},
		{"flag too big", korea + "🇺🇸", 2, "…"},
		{"skin tone kept", "👍🏽👍🏽", 3, "👍🏽…"},
		{"skin tone not orphaned", "👍🏽👍🏽", 2, "…"},
		{"variation selector kept", "❤️❤️", 3, "❤️…"},
		{"variation selector not orphaned", "❤️❤️", 2, "…"},

		{"e+acute composes", "e\u0301e\u0301e\u0301", 2, "é…"},
		{"e+acute fits after NFC", "e\u0301e\u0301e\u0301", 3, "ééé"},
		{"uncomposable mark kept with base", "q\u0301q\u0301q\u0301", 3, "q\u0301…"},
		{"uncomposable mark not orphaned", "q\u0301q\u0301q\u0301", 2, "…"},
		{"stacked marks", "q\u0323\u0307yz", 3, "…"},
		{"stacked marks whole", "q\u0323\u0307yz", 4, "q\u0323\u0307…"},

		{"invalid utf8 replaced", "ab\xffcd", 10, "ab\uFFFDcd"},
		{"invalid utf8 cut", "ab\xff\xfecd", 4, "ab\uFFFD…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Truncate(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Truncate(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if tt.n > 0 && utf8.RuneCountInString(got) > tt.n {
				t.Errorf("Truncate(%q, %d) = %q has %d runes", tt.in, tt.n, got, utf8.RuneCountInString(got))
			}
		})
	}
}

func TestTruncateNeverSplitsGraphemes(t *testing.T) {
	// Every limit across strings that mix the awkward cases: whatever n
	// is, the kept part must be a prefix cut at a grapheme boundary.
	inputs := []string{
		"ab" + family + "cd" + family,
		korea + korea + "x" + korea,
		"e\u0301te\u0301 q\u0301 café",
		"정부가 " + family + " 발표 🇰🇷🇯🇵 👍🏽 ❤️ 끝",
		"\u1112\u1161\u11ab\u1100\u1173\u11af 한글",
	}
	for _, in := range inputs {
		for n := 1; n <= utf8.RuneCountInString(in)+1; n++ {
			checkShortened(t, "Truncate", norm.NFC.String(in), Truncate(in, n), n)
		}
	}
}

func TestExcerpt(t *testing.T) {
	korean := "정부가 AI 기본법 시행령을 발표했다. 업계는 규제 부담을 우려했다. 시민단체는 환영했다."
	english := "The U.S. government published guidance for GPT-3.5 class models on Monday. Critics called it vague. Dr. Kim disagreed."
	tests := []struct {
		name string
		in   string
		n    int
		want string
	}{
		{"korean first sentence", korean, 30, "정부가 AI 기본법 시행령을 발표했다."},
		{"korean two sentences exactly", korean, 38, "정부가 AI 기본법 시행령을 발표했다. 업계는 규제 부담을 우려했다."},
		{"korean whole", korean, 200, korean},
		{"korean first sentence too long", korean, 12, "정부가 AI 기본법…"},

		{"english U.S. and 3.5 do not end", english, 80, "The U.S. government published guidance for GPT-3.5 class models on Monday."},
		{"english two sentences", english, 110, "The U.S. government published guidance for GPT-3.5 class models on Monday. Critics called it vague."},
		{"english whole", english, 500, english},
		{"title abbreviation", "Mr. Smith went to Washington. He stayed there.", 35, "Mr. Smith went to Washington."},
		{"initial", "Reported by J. Smith today. More later.", 30, "Reported by J. Smith today."},
		{"e.g. does not end", "Use tools, e.g. linters, often. Then rest.", 35, "Use tools, e.g. linters, often."},
		{"closing quote", `He said "stop." Then he left.`, 20, `He said "stop."`},
		{"question and exclamation", "Is it law? Yes! It is.", 19, "Is it law? Yes!"},
		{"ellipsis ends", "Wait… what happened next?", 10, "Wait…"},

		{"long first sentence cut at space", "Regulators in Brussels published an extraordinarily detailed implementation guide.", 40, "Regulators in Brussels published an…"},
		{"cut trims comma", "Notably, the regulation covers every general-purpose model.", 12, "Notably…"},
		{"long word no space", "https://example.com/very/long/path/that/never/ends", 10, "https://e…"},

		{"chinese without spaces", "人工智能基本法施行令今天正式公布并将于明年一月生效", 10, "人工智能基本法施行…"},
		{"chinese sentences without spaces", "政府发布了人工智能法。业界表示担忧。", 12, "政府发布了人工智能法。"},
		{"japanese sentences", "政府はAI基本法を公表した。業界は懸念を示した。", 20, "政府はAI基本法を公表した。"},
		{"japanese with closing bracket", "「規制は必要だ。」と述べた。", 9, "「規制は必要だ。」"},

		{"emoji not split", family + family + family, 7, family + "…"},
		{"flags not split", strings.Repeat(korea, 5), 4, korea + "…"},

		{"whitespace collapsed", "  Hello\n\n\tworld.   Bye.  ", 100, "Hello world. Bye."},
		{"whitespace collapsed when cut", "Hello\n\n world.   Bye now.", 13, "Hello world."},
		{"n zero", korean, 0, ""},
		{"empty", "  \n ", 10, ""},
		{"invalid utf8", "ab\xffcd. Next.", 6, "ab\uFFFDcd."},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Excerpt(tt.in, tt.n)
			if got != tt.want {
				t.Errorf("Excerpt(%q, %d) = %q, want %q", tt.in, tt.n, got, tt.want)
			}
			if tt.n > 0 && utf8.RuneCountInString(got) > tt.n {
				t.Errorf("Excerpt(%q, %d) = %q has %d runes", tt.in, tt.n, got, utf8.RuneCountInString(got))
			}
		})
	}
}

func TestReadingTime(t *testing.T) {
	tests := []struct {
		name string
		in   string
		want int
	}{
		{"empty", "", 0},
		{"whitespace only", " \n\t\u3000", 0},
		{"one word is at least a minute", "Hello", 1},
		{"emoji only", "👍", 1},
		{"1000 hangul syllables", strings.Repeat("가나다라마 ", 200), 2}, // 1000/500 = 2.0
		{"460 english words", strings.Repeat("policy ", 460), 2},    // 460/230 = 2.0
		{"1200 hangul rounds down", strings.Repeat("가", 1200), 2},   // 2.4
		{"1300 hangul rounds up", strings.Repeat("가", 1300), 3},     // 2.6
		{"800 japanese characters", strings.Repeat("政府はを", 200), 2}, // 800/400
		{"katakana length mark", strings.Repeat("データ", 400), 3},     // 1200/400
		{"mixed korean and english", strings.Repeat("인공지능 ", 125) + strings.Repeat("model ", 230), 2},
		{"apostrophes do not split words", strings.Repeat("don't ", 345), 2}, // 345/230 = 1.5 -> 2; split would be 3
		{"decimals do not split words", strings.Repeat("3.5 ", 345), 2},
		{"decomposed hangul counted as syllables", strings.Repeat("\u1112\u1161\u11ab", 1000), 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ReadingTime(tt.in); got != tt.want {
				t.Errorf("ReadingTime(%.40q…) = %d, want %d", tt.in, got, tt.want)
			}
		})
	}
}

func TestFormatDate(t *testing.T) {
	seoul, err := time.LoadLocation("Asia/Seoul")
	if err != nil {
		t.Fatal(err)
	}
	// 00:30 UTC on Tuesday 24 Nov 2026 is 09:30 the same day in Seoul.
	tue := time.Date(2026, 11, 24, 0, 30, 0, 0, time.UTC)
	// 20:00 UTC on Monday 23 Nov is already Tuesday 05:00 in Seoul.
	lateMon := time.Date(2026, 11, 23, 20, 0, 0, 0, time.UTC)

	tests := []struct {
		name  string
		t     time.Time
		lang  string
		loc   *time.Location
		style string
		want  string
	}{
		{"ko long", tue, "ko", seoul, "long", "2026년 11월 24일 (화)"},
		{"ko default style", tue, "ko", seoul, "", "2026년 11월 24일 (화)"},
		{"ko short", tue, "ko", seoul, "short", "11월 24일"},
		{"ko iso", tue, "ko", seoul, "iso", "2026-11-24"},
		{"ko time", tue, "ko", seoul, "time", "09:30"},
		{"en long", tue, "en", seoul, "long", "Tue 24 Nov 2026"},
		{"en default style", tue, "en", seoul, "", "Tue 24 Nov 2026"},
		{"en short", tue, "en", seoul, "short", "24 Nov"},
		{"en iso", tue, "en", seoul, "iso", "2026-11-24"},
		{"en time", tue, "en", seoul, "time", "09:30"},

		{"converted to seoul day ko", lateMon, "ko", seoul, "long", "2026년 11월 24일 (화)"},
		{"converted to seoul day en", lateMon, "en", seoul, "long", "Tue 24 Nov 2026"},
		{"nil location is utc", lateMon, "ko", nil, "long", "2026년 11월 23일 (월)"},
		{"nil location time", lateMon, "en", nil, "time", "20:00"},
		{"single digit month and day", time.Date(2027, 1, 3, 8, 0, 0, 0, seoul), "ko", seoul, "long", "2027년 1월 3일 (일)"},
		{"single digit en", time.Date(2027, 1, 3, 8, 0, 0, 0, seoul), "en", seoul, "long", "Sun 3 Jan 2027"},
		{"time keeps leading zero", time.Date(2027, 1, 3, 8, 0, 0, 0, seoul), "ko", seoul, "time", "08:00"},

		{"unknown lang is english", tue, "ja", seoul, "long", "Tue 24 Nov 2026"},
		{"empty lang is english", tue, "", seoul, "short", "24 Nov"},
		{"ko with region", tue, "ko-KR", seoul, "short", "11월 24일"},
		{"ko upper case", tue, "KO", seoul, "short", "11월 24일"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := FormatDate(tt.t, tt.lang, tt.loc, tt.style)
			if err != nil {
				t.Fatalf("FormatDate: %v", err)
			}
			if got != tt.want {
				t.Errorf("FormatDate(%v, %q, %v, %q) = %q, want %q", tt.t, tt.lang, tt.loc, tt.style, got, tt.want)
			}
		})
	}

	for _, style := range []string{"full", "LONG", "rfc3339"} {
		got, err := FormatDate(tue, "ko", seoul, style)
		if err == nil {
			t.Errorf("FormatDate style %q = %q, want an error", style, got)
			continue
		}
		for _, allowed := range []string{"long", "short", "iso", "time", style} {
			if !strings.Contains(err.Error(), `"`+allowed+`"`) {
				t.Errorf("FormatDate style %q error %q does not name %q", style, err, allowed)
			}
		}
	}
}

func TestPlural(t *testing.T) {
	tests := []struct {
		n    int
		want string
	}{
		{0, "stories"},
		{1, "story"},
		{2, "stories"},
		{-1, "stories"},
		{21, "stories"},
	}
	for _, tt := range tests {
		if got := Plural(tt.n, "story", "stories"); got != tt.want {
			t.Errorf("Plural(%d) = %q, want %q", tt.n, got, tt.want)
		}
	}
	if got := Plural(3, "기사", "기사"); got != "기사" {
		t.Errorf("Plural Korean = %q", got)
	}
}

// fuzzSeeds mixes the scripts and sequences the cutting functions must
// handle: Hangul (composed and decomposed), emoji sequences, flags,
// combining marks, CJK punctuation, abbreviations and invalid UTF-8.
var fuzzSeeds = []string{
	"",
	"정부가 AI 기본법 시행령을 발표했다. 업계는 규제 부담을 우려했다.",
	"\u1112\u1161\u11ab\u1100\u1173\u11af \u1112\u119e\u11ab",
	"ab" + family + "cd " + family + family,
	korea + "🇺🇸🇯🇵 " + korea,
	"👍🏽👍🏿 ❤️ ☺︎ 🏴\U000E0067\U000E0062\U000E0073\U000E0063\U000E0074\U000E007F",
	"e\u0301te\u0301 q\u0301\u0323 x\u20dd",
	"The U.S. released GPT-3.5 guidance. Mr. Kim, e.g. Dr. Lee, agreed!",
	"人工智能基本法施行令。今天正式公布！「規制は必要だ。」と述べた？",
	"ab\xff\xfecd. \xc3\x28 \xe2\x82 end.",
	"a\u200d b\u200d\u200d \u200d",
	"\r\n\r\n  \t spaced   out .  text ",
}

func FuzzTruncate(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, 1+i*7)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = fuzzLimit(n)
		src := norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))
		checkShortened(t, "Truncate", src, Truncate(s, n), n)
	})
}

func FuzzExcerpt(f *testing.F) {
	for i, s := range fuzzSeeds {
		f.Add(s, 3+i*5)
	}
	f.Fuzz(func(t *testing.T, s string, n int) {
		n = fuzzLimit(n)
		src := strings.Join(strings.Fields(norm.NFC.String(strings.ToValidUTF8(s, "\uFFFD"))), " ")
		out := Excerpt(s, n)
		checkShortened(t, "Excerpt", src, out, n)
		if out != src && strings.HasPrefix(src, out) && out != "" {
			// Nothing was added, so this must be whole sentences,
			// ending in a terminator or a closing mark.
			last, _ := utf8.DecodeLastRuneInString(out)
			if !strings.ContainsRune(".!?。！？…\"')]}’”»」』）》〉】〕］｝", last) {
				t.Errorf("Excerpt(%q, %d) = %q: not a sentence end", src, n, out)
			}
		}
	})
}

// fuzzLimit maps any fuzzed int into the [1, 300] limits templates use.
func fuzzLimit(n int) int {
	if n < 0 {
		n = -(n + 1)
	}
	return 1 + n%300
}

// checkShortened checks the contract shared by Truncate and Excerpt: out is
// valid UTF-8 of at most n runes, and it is either a prefix of src or a
// prefix of src plus "…" where the prefix ends at a grapheme boundary, not
// in a dangling ZWJ, mark, variation selector, half flag or jamo, and not in
// whitespace.
func checkShortened(t *testing.T, fn, src, out string, n int) {
	t.Helper()
	if !utf8.ValidString(out) {
		t.Fatalf("%s(%q, %d) = %q: invalid UTF-8", fn, src, n, out)
	}
	if c := utf8.RuneCountInString(out); c > n {
		t.Fatalf("%s(%q, %d) = %q: %d runes", fn, src, n, out, c)
	}
	if strings.HasPrefix(src, out) {
		return
	}
	kept, ok := strings.CutSuffix(out, "…")
	if !ok || !strings.HasPrefix(src, kept) {
		t.Fatalf("%s(%q, %d) = %q: neither a prefix nor a prefix plus …", fn, src, n, out)
	}
	if kept == "" {
		return
	}
	last, _ := utf8.DecodeLastRuneInString(kept)
	next, _ := utf8.DecodeRuneInString(src[len(kept):])
	switch {
	case last == '\u200d':
		t.Fatalf("%s(%q, %d) = %q: ends in ZWJ before …", fn, src, n, out)
	case unicode.IsSpace(last):
		t.Fatalf("%s(%q, %d) = %q: whitespace before …", fn, src, n, out)
	case unicode.In(next, unicode.Mn, unicode.Me) || next == '\u200d' ||
		(next >= 0xFE00 && next <= 0xFE0F) || (next >= 0xE0100 && next <= 0xE01EF) ||
		(next >= 0x1F3FB && next <= 0x1F3FF):
		// The mark/selector/modifier after the cut belonged to the
		// last kept character, which is now shown without it (or
		// it is dropped while its base was kept).
		t.Fatalf("%s(%q, %d) = %q: cut before attaching rune %U", fn, src, n, out, next)
	case (next >= 0x1160 && next <= 0x11FF) || (next >= 0xD7B0 && next <= 0xD7FF):
		t.Fatalf("%s(%q, %d) = %q: cut before Hangul jamo %U", fn, src, n, out, next)
	case isRI(last) && isRI(next):
		ri := 0
		for _, r := range []rune(kept) {
			if isRI(r) {
				ri++
			} else {
				ri = 0
			}
		}
		if ri%2 != 0 {
			t.Fatalf("%s(%q, %d) = %q: splits a regional indicator pair", fn, src, n, out)
		}
	}
}

func isRI(r rune) bool { return r >= 0x1F1E6 && r <= 0x1F1FF }

func TestFitWidth(t *testing.T) {
	for _, c := range []struct {
		name string
		in   string
		cols int
		want string
	}{
		{"fits", "hello world", 11, "hello world"},
		{"word end", "hello wide world", 13, "hello wide…"},
		{"no word end in reach", "supercalifragilistic", 8, "superca…"},
		{"Hangul counts two", "한국어 제목입니다", 11, "한국어…"},
		{"Hangul fits by columns", "한국어 제목", 11, "한국어 제목"},
		{"never half a syllable", "가나다라마바사", 6, "가나…"},
		{"clause mark trimmed", "규제, 그리고 산업", 9, "규제…"},
		{"separator trimmed", "Weekly · No. 3 · Lead title", 17, "Weekly · No. 3…"},
		{"flag kept whole", "go " + korea + korea + korea, 7, "go " + korea + "…"},
		{"decomposed Hangul composed", norm.NFD.String("한국 정책"), 5, "한국…"},
		{"invalid bytes", "ab\xffcd efgh", 6, "ab\uFFFDcd…"},
		{"no room", "hello", 0, ""},
	} {
		got := FitWidth(c.in, c.cols)
		if got != c.want {
			t.Errorf("%s: FitWidth(%q, %d) = %q, want %q", c.name, c.in, c.cols, got, c.want)
		}
		if DisplayWidth(got) > c.cols || !utf8.ValidString(got) {
			t.Errorf("%s: %q is %d columns wide (max %d) or invalid", c.name, got, DisplayWidth(got), c.cols)
		}
	}
}
