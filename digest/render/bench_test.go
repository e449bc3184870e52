package render

import (
	"fmt"
	"html/template"
	"slices"
	"strings"
	"testing"
	"time"

	"gull/digest"
)

// benchIssue is a full week: 60 articles over 8 themes, Korean and English,
// with summaries and (for a third) full text.
func benchIssue() (digest.Issue, []string) {
	var themes []digest.Theme
	var ids []string
	for i := range 8 {
		id := fmt.Sprintf("t%d", i)
		ids = append(ids, id)
		themes = append(themes, digest.Theme{ID: id, Name: fmt.Sprintf("Theme %d · 주제 %d", i, i), Keywords: []string{fmt.Sprintf("kw%d", i)}})
	}
	var arts []digest.Article
	for i := range 60 {
		pub := time.Date(2026, 11, 23+i%7, 9+i%10, 0, 0, 0, seoul)
		a := digest.Article{
			ID: fmt.Sprint(i), FeedURL: "https://f.example/", FeedName: "서울 정책 칼럼",
			Title:     fmt.Sprintf("kw%d 반도체 보조금의 경제학, 그리고 AI 정책 %d", i%8, i),
			Link:      fmt.Sprintf("https://columns.example.kr/2026/11/%d", i),
			Summary:   strings.Repeat("정부가 반도체 보조금을 늘렸다. The U.S. followed with export controls. ", 4) + fmt.Sprintf("kw%d", (i+3)%8),
			Published: &pub,
		}
		if i%3 == 0 {
			a.Content = template.HTML("<p>" + strings.Repeat("전력망과 인력이 뒤따라야 한다. ", 120) + "</p>")
		}
		arts = append(arts, a)
	}
	g := digest.NewGrouper(themes, digest.Theme{ID: "other", Name: "Other"}, nil)
	sections, _ := g.Group(arts, nil)
	p := digest.WeekEnding(time.Date(2026, 11, 30, 8, 0, 0, 0, seoul), 7*24*time.Hour, seoul)
	return digest.Issue{ID: digest.IssueID(p), Title: "AI Policy Weekly", Period: p, Sections: sections}, ids
}

// readers are 1,000 subscribers: a third take everything, the rest chose
// two or three themes; each has their own signed links.
func readers(ids []string) []Recipient {
	out := make([]Recipient, 1000)
	for i := range out {
		out[i] = Recipient{
			Email:          fmt.Sprintf("reader%d@example.org", i),
			UnsubscribeURL: fmt.Sprintf("https://gull.example.org/unsubscribe?t=%032x", i),
			PreferencesURL: fmt.Sprintf("https://gull.example.org/preferences?t=%032x", i),
		}
		if i%3 != 0 {
			out[i].Themes = []string{ids[i%8], ids[(i+3)%8]}
			if i%2 == 0 {
				out[i].Themes = append(out[i].Themes, ids[(i+5)%8])
			}
		}
	}
	return out
}

// BenchmarkRender1000 renders 1,000 personalized digests of a 60-article
// issue per iteration and reports the median time per digest, with CSS
// inlining (what is sent) and without (the template alone, the reference
// measured in the same run), and their ratio.
//
//	go test -run '^$' -bench Render1000 -benchtime 3x ./digest/render
func BenchmarkRender1000(b *testing.B) {
	is, ids := benchIssue()
	rs := readers(ids)
	r := newRenderer(b, "ko", "")
	var full, plain []time.Duration
	var bytesOut int
	for b.Loop() {
		for _, to := range rs {
			t0 := time.Now()
			m, err := r.render(is, to, true)
			full = append(full, time.Since(t0))
			if err != nil {
				b.Fatal(err)
			}
			bytesOut += len(m.HTML) + len(m.Text)
			t0 = time.Now()
			if _, err := r.render(is, to, false); err != nil {
				b.Fatal(err)
			}
			plain = append(plain, time.Since(t0))
		}
	}
	mf, mp := median(full), median(plain)
	b.ReportMetric(float64(mf.Microseconds())/1000, "ms/digest")
	b.ReportMetric(float64(mp.Microseconds())/1000, "ms/digest-no-inline")
	b.ReportMetric(float64(mf)/float64(mp), "x-inline-cost")
	b.ReportMetric(float64(bytesOut)/float64(len(full))/1024, "KiB/digest")
}

func median(d []time.Duration) time.Duration {
	s := slices.Clone(d)
	slices.Sort(s)
	return s[len(s)/2]
}
