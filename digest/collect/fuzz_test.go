package collect

import (
	"bytes"
	"compress/gzip"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"gull/digest"
)

func gzipBytes(s string) []byte {
	var b bytes.Buffer
	w := gzip.NewWriter(&b)
	w.Write([]byte(s))
	w.Close()
	return b.Bytes()
}

// FuzzParseAndNormalize feeds arbitrary documents through everything gull
// does to outside feed bytes: decoding, repair, parsing, normalizing and
// sanitizing. Whatever comes in, nothing panics, text comes out as valid
// UTF-8 and no active content survives in the HTML.
func FuzzParseAndNormalize(f *testing.F) {
	seeds := []string{
		rssDoc("제목", "<p>본문</p>"),
		`<?xml version="1.0" encoding="euc-kr"?><rss version="2.0"><channel><item><title>` + "\xc7\xd1\xb1\xdb" + `</title></item></channel></rss>`,
		`<feed xmlns="http://www.w3.org/2005/Atom"><entry><title type="html">&lt;b&gt;x&lt;/b&gt;</title><link href="/a"/><content type="html">&lt;script&gt;x&lt;/script&gt;</content></entry></feed>`,
		`{"version":"https://jsonfeed.org/version/1.1","items":[{"id":"1","content_html":"<img src=x onerror=alert(1)>"}]}`,
		`{"rss":{"channel":{"item":{"title":"one"}}}}`,
		"\xef\xbb\xbf<rss><channel><item><title>bom</title></item></channel></rss>",
		"<rss><channel><item><title>R&D & <![CDATA[cut",
		"\xff\xfe<\x00r\x00s\x00s\x00>\x00",
		`<rss version="2.0"><channel><language>ko-KR</language><item><title>OpenAI releases a model for public agencies</title></item></channel></rss>`,
		"",
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, doc []byte) {
		p, err := parseBody(doc, "", 1<<20)
		if err != nil {
			if strings.Contains(err.Error(), "\n") {
				t.Fatalf("error is not one line: %q", err)
			}
			return
		}
		for _, a := range Normalize(p.feed, digest.Feed{URL: "https://f.example/feed", Location: time.UTC}, nil) {
			for _, s := range []string{a.Title, a.Summary, a.Link, a.Author, a.FeedName, string(a.Content)} {
				if !utf8.ValidString(s) {
					t.Fatalf("invalid UTF-8 out: %q", s)
				}
			}
			if a.Lang != "" && a.Lang != "ko" && a.Lang != "en" {
				t.Fatalf("language %q; want ko, en or none", a.Lang)
			}
			if m := unsafeHTML.FindString(string(a.Content)); m != "" {
				t.Fatalf("unsafe %q survived sanitizing: %q", m, a.Content)
			}
		}
	})
}

func rssDoc(title, desc string) string {
	return `<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title><item><title>` +
		title + `</title><link>https://e.example/1</link><description><![CDATA[` + desc + `]]></description></item></channel></rss>`
}
