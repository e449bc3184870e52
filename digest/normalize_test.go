package digest

import (
	"net/url"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"
)

func TestCanonicalURL(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"https", "https://example.com/ai/policy", "example.com/ai/policy"},
		{"http equals https", "http://example.com/ai/policy", "example.com/ai/policy"},
		{"scheme and host case", "HTTPS://Example.COM/ai/policy", "example.com/ai/policy"},
		{"path case is kept", "https://example.com/AI/Policy", "example.com/AI/Policy"},
		{"www", "https://www.example.com/ai/policy", "example.com/ai/policy"},
		{"mobile", "https://m.example.com/ai/policy", "example.com/ai/policy"},
		{"other subdomain kept", "https://news.example.com/ai/policy", "news.example.com/ai/policy"},
		{"default https port", "https://example.com:443/ai/policy", "example.com/ai/policy"},
		{"default http port", "http://example.com:80/ai/policy", "example.com/ai/policy"},
		{"other port kept", "http://example.com:8080/ai/policy", "example.com:8080/ai/policy"},
		{"trailing slash", "https://example.com/ai/policy/", "example.com/ai/policy"},
		{"root", "https://example.com/", "example.com"},
		{"no path", "https://example.com", "example.com"},
		{"index.html", "https://example.com/ai/index.html", "example.com/ai"},
		{"index.php", "https://example.com/ai/index.php", "example.com/ai"},
		{"surrounding space", "  https://example.com/a \n", "example.com/a"},
		{"userinfo dropped", "https://user:pw@example.com/a", "example.com/a"},

		{"utm removed", "https://example.com/a?utm_source=rss&utm_medium=feed&utm_campaign=x", "example.com/a"},
		{"utm any case", "https://example.com/a?UTM_Source=rss", "example.com/a"},
		{"fbclid and gclid removed", "https://example.com/a?fbclid=IwAR0&gclid=Cj0", "example.com/a"},
		{"other params kept and sorted", "https://example.com/view?utm_source=x&page=2&id=17&fbclid=y", "example.com/view?id=17&page=2"},
		{"param order does not matter", "https://example.com/view?page=2&id=17", "example.com/view?id=17&page=2"},
		{"repeated values sorted", "https://example.com/s?t=b&t=a", "example.com/s?t=a&t=b"},
		{"korean query value", "https://example.com/search?q=인공지능", "example.com/search?q=%EC%9D%B8%EA%B3%B5%EC%A7%80%EB%8A%A5"},

		{"#comments dropped", "https://example.com/a#comments", "example.com/a"},
		{"#respond dropped", "https://example.com/a#respond", "example.com/a"},
		{"#more-123 dropped", "https://example.com/a#more-123", "example.com/a"},
		{"#xtor dropped", "https://example.com/a#xtor=RSS-1", "example.com/a"},
		{"empty fragment", "https://example.com/a#", "example.com/a"},
		{"entry anchor kept", "http://example.com/diary/2017/06/26.html#a080605", "example.com/diary/2017/06/26.html#a080605"},
		{"entry anchor kept after tracking", "http://example.com/diary/2017/06/26.html?utm_source=rss#a080605", "example.com/diary/2017/06/26.html#a080605"},

		{"korean path", "https://example.com/칼럼/인공지능", "example.com/%EC%B9%BC%EB%9F%BC/%EC%9D%B8%EA%B3%B5%EC%A7%80%EB%8A%A5"},
		{"korean path percent-encoded", "https://example.com/%EC%B9%BC%EB%9F%BC/%EC%9D%B8%EA%B3%B5%EC%A7%80%EB%8A%A5", "example.com/%EC%B9%BC%EB%9F%BC/%EC%9D%B8%EA%B3%B5%EC%A7%80%EB%8A%A5"},

		{"www and m in either order", "https://m.www.example.com/a", "example.com/a"},
		{"index after a double slash", "https://example.com/a//index.html", "example.com/a"},
		{"index twice", "https://example.com/a/index.html/index.htm", "example.com/a"},
		{"ipv6 keeps brackets", "http://[2001:db8::1]:8080/a", "[2001:db8::1]:8080/a"},
		{"ipv6 default port", "https://[2001:db8::1]:443/a", "[2001:db8::1]/a"},
		{"semicolon pair is kept", "http://example.com/read.cgi?id=12;cat=3", "example.com/read.cgi?id=12%3Bcat%3D3"},
		{"bad escape is kept", "https://example.com/a?q=%zz&p=1", "example.com/a?p=1&q=%25zz"},
		{"fragment stays escaped", "https://example.com/a#x%2520y", "example.com/a#x%2520y"},

		{"relative path", "/ai/policy", ""},
		{"no host name", "http://:80/a", ""},
		{"www. is no host", "https://www./a", ""},
		{"scheme-relative is not absolute http", "//example.com/ai", ""},
		{"no scheme", "example.com/ai", ""},
		{"mailto", "mailto:editor@example.com", ""},
		{"ftp", "ftp://example.com/file", ""},
		{"javascript", "javascript:alert(1)", ""},
		{"file", "file:///etc/passwd", ""},
		{"empty", "", ""},
		{"garbage", "http://[::1", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CanonicalURL(tt.in); got != tt.want {
				t.Errorf("CanonicalURL(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

// Old CGI sites put the article id in a pair url.ParseQuery rejects; two
// such articles must not share a canonical URL.
func TestCanonicalURLSemicolonQueries(t *testing.T) {
	a := CanonicalURL("http://example.com/read.cgi?id=12;cat=3")
	b := CanonicalURL("http://example.com/read.cgi?id=13;cat=3")
	if a == b {
		t.Errorf("two articles share canonical URL %q", a)
	}
}

// Two entries of one diary page differ only in the fragment; they must not
// collapse into one story, while two links to one entry's comments must.
func TestCanonicalURLFragmentsTellEntriesApart(t *testing.T) {
	a := CanonicalURL("http://example.com/diary/2017/06/26.html#a080605")
	b := CanonicalURL("http://example.com/diary/2017/06/26.html#a080617")
	if a == b {
		t.Errorf("two diary entries share canonical URL %q", a)
	}
	c := CanonicalURL("https://example.com/post/1#comments")
	d := CanonicalURL("http://www.example.com/post/1/?utm_source=feedburner")
	if c != d {
		t.Errorf("same post: %q != %q", c, d)
	}
}

func TestCleanLink(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"no query unchanged", "https://www.Example.com/a/", "https://www.Example.com/a/"},
		{"no tracking keeps order", "https://example.com/v?z=1&a=2", "https://example.com/v?z=1&a=2"},
		{"tracking removed, order kept", "https://example.com/v?z=1&utm_source=rss&a=2&fbclid=x", "https://example.com/v?z=1&a=2"},
		{"only tracking leaves no ?", "https://example.com/v?utm_source=rss&gclid=1", "https://example.com/v"},
		{"scheme and www kept", "http://www.example.com/v?utm_medium=email", "http://www.example.com/v"},
		{"fragment kept", "https://example.com/v?utm_source=rss#a080605", "https://example.com/v#a080605"},
		{"encoded tracking name", "https://example.com/v?utm%5Fsource=rss&id=1", "https://example.com/v?id=1"},
		{"spelling of kept params kept", "https://example.com/v?q=a+b&x=%2F&utm_term=t", "https://example.com/v?q=a+b&x=%2F"},
		{"space trimmed", "  https://example.com/v  ", "https://example.com/v"},
		{"unparsable returned as is", "http://[::1", "http://[::1"},
		{"relative link kept", "/a?utm_source=x&id=2", "/a?id=2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := CleanLink(tt.in); got != tt.want {
				t.Errorf("CleanLink(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestStripTracking(t *testing.T) {
	tests := []struct {
		in, wantQuery string
		changed       bool
	}{
		{"https://e.com/", "", false},
		{"https://e.com/?id=1&b=2", "id=1&b=2", false},
		{"https://e.com/?utm_source=a", "", true},
		{"https://e.com/?b=2&UTM_CONTENT=a&a=1&mc_cid=9", "b=2&a=1", true},
		{"https://e.com/?gclid", "", true},
		{"https://e.com/?utmost=1", "utmost=1", false}, // not a utm_ parameter
		{"https://e.com/?reference=1", "reference=1", false},
	}
	for _, tt := range tests {
		u, err := url.Parse(tt.in)
		if err != nil {
			t.Fatal(err)
		}
		changed := StripTracking(u)
		if u.RawQuery != tt.wantQuery || changed != tt.changed {
			t.Errorf("StripTracking(%q): query %q changed %v, want %q %v", tt.in, u.RawQuery, changed, tt.wantQuery, tt.changed)
		}
		if u.RawQuery == "" && strings.HasSuffix(u.String(), "?") {
			t.Errorf("StripTracking(%q) leaves a dangling ?: %s", tt.in, u)
		}
	}
}

func TestTitleKey(t *testing.T) {
	tests := []struct {
		name, a, b string
		same       bool
	}{
		{"full-width letters equal ASCII", "ＡＩ Ｐｏｌｉｃｙ Ｗｅｅｋｌｙ", "AI Policy Weekly", true},
		{"full-width digits", "AI 기본법 ２０２６", "AI 기본법 2026", true},
		{"case-insensitive", "THE EU AI ACT ARRIVES", "the eu ai act arrives", true},
		{"[칼럼]", "[칼럼] 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"[기고]", "[기고] 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"【사설】", "【사설】 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"<기고>", "<기고> 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"〈시론〉", "〈시론〉인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"two labels", "[칼럼][기고] 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"Opinion:", "Opinion: Why compute caps fail", "Why compute caps fail", true},
		{"OPINION:", "OPINION: Why compute caps fail", "why compute caps fail", true},
		{"칼럼:", "칼럼: 인공지능 기본법의 과제", "인공지능 기본법의 과제", true},
		{"punctuation ignored", "AI, chips — and “sovereignty”?!", "AI chips and sovereignty", true},
		{"spacing ignored", "인공지능 기본법의  과제", "인공지능기본법의 과제", true},
		{"different titles differ", "인공지능 기본법의 과제", "인공지능 기본법의 성과", false},
		{"numbers matter", "AI Act explained, part 1", "AI Act explained, part 2", false},
		{"label mid-title is kept", "정부의 [칼럼] 인공지능 정책", "정부의 인공지능 정책", false},
		{"opinion as a word is kept", "Opinion polls on AI regulation", "polls on AI regulation", false},
		{"leading number in parentheses is not a label", "(1) 인공지능 기본법의 과제", "(2) 인공지능 기본법의 과제", false},
		{"numbered series label is not dropped", "[연재 ①] 인공지능 기본법의 과제", "[연재 ②] 인공지능 기본법의 과제", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ka, kb := TitleKey(tt.a), TitleKey(tt.b)
			if ka == "" || kb == "" {
				t.Fatalf("empty key: TitleKey(%q) = %q, TitleKey(%q) = %q", tt.a, ka, tt.b, kb)
			}
			if (ka == kb) != tt.same {
				t.Errorf("TitleKey(%q) = %q, TitleKey(%q) = %q; same = %v, want %v", tt.a, ka, tt.b, kb, ka == kb, tt.same)
			}
		})
	}
}

func TestTitleKeyValues(t *testing.T) {
	tests := []struct{ in, want string }{
		{"[칼럼] AI 기본법, 시행 1년", "ai기본법시행1년"},
		{"Opinion: The EU AI Act", "theeuaiact"},
		{"ＡＢＣ－ＤＥＦ", "abcdef"},
		{"", ""},
		{"AI", ""},             // too short
		{"AI 정책", ""},          // 4 letters
		{"[칼럼] 짧다", ""},        // label removed, 2 left
		{"[칼럼]", ""},           // nothing but the label
		{"!!! ??? ...", ""},    // no letters
		{"AI 정책 단상", "ai정책단상"}, // 6 letters is enough
	}
	for _, tt := range tests {
		if got := TitleKey(tt.in); got != tt.want {
			t.Errorf("TitleKey(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func FuzzCanonicalURL(f *testing.F) {
	for _, s := range []string{
		"https://www.example.com/ai/policy/?utm_source=rss&id=3#comments",
		"http://m.example.co.kr:80/칼럼/인공지능/index.html?b=2&a=1",
		"https://example.com/%EC%B9%BC%EB%9F%BC?q=%ED%95%9C",
		"http://example.com/diary/2017/06/26.html#a080605",
		"https://[::1]:8080/a",
		"https://example.com/a b?c d=e f#g h",
		"mailto:x@example.com",
		"/relative",
		"",
		"https://",
		"https://example.com/?a=%zz",
		"http://example.com/read.cgi?id=12;cat=3",
		"https://m.www.example.com/a//index.html/",
		"https://[fe80::1%25en0]:8080/a#x%2520y",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		c := CanonicalURL(in)
		if utf8.ValidString(in) && !utf8.ValidString(c) {
			t.Fatalf("CanonicalURL(%q) = %q is not valid UTF-8", in, c)
		}
		if c == "" {
			return
		}
		if again := CanonicalURL("https://" + c); again != c {
			t.Fatalf("not idempotent: CanonicalURL(%q) = %q, but CanonicalURL(%q) = %q", in, c, "https://"+c, again)
		}
		if again := CanonicalURL("http://" + c); again != c {
			t.Fatalf("http and https differ: CanonicalURL(%q) = %q, but CanonicalURL(%q) = %q", in, c, "http://"+c, again)
		}
	})
}

func FuzzTitleKey(f *testing.F) {
	for _, s := range []string{
		"[칼럼] 인공지능 기본법의 과제",
		"【사설】 AI 규제, 속도보다 방향",
		"Opinion: Why compute caps fail",
		"ＡＩ Ｐｏｌｉｃｙ",
		"(1) 연재",
		"[",
		"<<<>>>",
		"İSTANBUL ǅ ﬃ",
		"\xff\xfe",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		k := TitleKey(in)
		if !utf8.ValidString(k) {
			t.Fatalf("TitleKey(%q) = %q is not valid UTF-8", in, k)
		}
		if k == "" {
			return
		}
		n := 0
		for _, r := range k {
			if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
				t.Fatalf("TitleKey(%q) = %q contains %q", in, k, r)
			}
			n++
		}
		if n < 6 {
			t.Fatalf("TitleKey(%q) = %q is shorter than 6 letters", in, k)
		}
	})
}
