package digest

import (
	"strings"
	"testing"
)

func TestRedactURL(t *testing.T) {
	cases := map[string]string{
		"https://user:s3cr3t@news.example/feed?token=abc&page=2": "https://user:xxxxx@news.example/feed?token=xxxxx&page=2",
		"https://news.example/rss?API_KEY=k1&section=ai":         "https://news.example/rss?API_KEY=xxxxx&section=ai",
		"https://news.example/rss?keyword=ai":                    "https://news.example/rss?keyword=ai",
		"https://news.example/feed.xml":                          "https://news.example/feed.xml",
		"feeds/local.xml":                                        "feeds/local.xml",
		"https://reader@news.example/feed":                       "https://reader@news.example/feed",
	}
	for in, want := range cases {
		got := RedactURL(in)
		if got != want {
			t.Errorf("RedactURL(%q) = %q, want %q", in, got, want)
		}
		for _, secret := range []string{"s3cr3t", "abc", "k1"} {
			if strings.Contains(got, "="+secret) || strings.Contains(got, ":"+secret+"@") {
				t.Errorf("RedactURL(%q) leaks %q", in, secret)
			}
		}
	}
}
