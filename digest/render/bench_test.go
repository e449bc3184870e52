package render

import (
	"fmt"
	"html/template"
	"runtime"
	"slices"
	"strings"
	"sync"
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

// themeSets returns the first n subsets of ids, smallest first: every
// single theme, then every pair, and so on.
func themeSets(ids []string, n int) [][]string {
	var out [][]string
	var grow func(set []string, from, size int)
	grow = func(set []string, from, size int) {
		if len(out) == n {
			return
		}
		if len(set) == size {
			out = append(out, slices.Clone(set))
			return
		}
		for i := from; i < len(ids); i++ {
			grow(append(set, ids[i]), i+1, size)
		}
	}
	for size := 1; size <= len(ids) && len(out) < n; size++ {
		grow(nil, 0, size)
	}
	return out
}

// batchReaders are n subscribers over about 100 theme sets (a tenth take
// everything), each set spelt in one order as cmd/gull passes them (config
// order), with signed-looking links, some with a name or a '+' address.
func batchReaders(ids []string, n int) []Recipient {
	sets := themeSets(ids, 99)
	out := make([]Recipient, n)
	for i := range out {
		to := Recipient{
			Email:          fmt.Sprintf("reader%d@example.org", i),
			UnsubscribeURL: fmt.Sprintf("https://gull.example.org/unsubscribe?t=eyJwIjoxLCJzIjo%06d.%022x", i, i),
			PreferencesURL: fmt.Sprintf("https://gull.example.org/preferences?t=eyJwIjoyLCJzIjo%06d.%022x", i, i),
		}
		if i%4 == 0 {
			to.Name = fmt.Sprintf("독자 %d", i)
		}
		if i%20 == 0 {
			to.Email = fmt.Sprintf("reader+news%d@example.org", i)
		}
		if i%10 != 0 {
			to.Themes = slices.Clone(sets[i%len(sets)])
		}
		out[i] = to
	}
	return out
}

// BenchmarkBatch10000 sends a 60-article issue to 10,000 readers through a
// Batch (about 100 theme sets, each with and without a name: 200 frames)
// and reports the time per reader, frames included, beside a full Render
// per reader measured in the same run, and their ratio. It also reports
// the time per reader once the frames exist (a second pass over the same
// Batch), and messages per second with one goroutine per core (-cpu 2 for
// two cores) on a fresh Batch.
//
//	go test -run '^$' -bench Batch10000 -benchtime 3x ./digest/render
func BenchmarkBatch10000(b *testing.B) {
	is, ids := benchIssue()
	rs := batchReaders(ids, 10000)
	r := newRenderer(b, "ko", "")
	send := func(bt *Batch, rs []Recipient) int {
		n := 0
		for _, to := range rs {
			m, err := bt.Render(to)
			if err != nil {
				b.Error(err)
				return n
			}
			n += len(m.HTML) + len(m.Text)
		}
		return n
	}
	var cold, warm time.Duration
	var st BatchStats
	var bytesOut int
	for b.Loop() {
		t0 := time.Now()
		bt := r.Batch(is)
		bytesOut += send(bt, rs)
		cold += time.Since(t0)
		st = bt.Stats()
		if st.FullRenders > 0 {
			// Every reader here is one the frames must take.
			b.Fatalf("%d full renders: the fast path regressed (%+v)", st.FullRenders, st)
		}
		t0 = time.Now()
		send(bt, rs)
		warm += time.Since(t0)
	}
	n := float64(b.N * len(rs))

	// The reference: a full Render of every 50th reader.
	var full time.Duration
	ref := 0
	for i := 0; i < len(rs); i += 50 {
		t0 := time.Now()
		if _, err := r.Render(is, rs[i]); err != nil {
			b.Fatal(err)
		}
		full += time.Since(t0)
		ref++
	}

	// All cores on one fresh Batch, as a sender's workers would.
	workers := runtime.GOMAXPROCS(0)
	bt := r.Batch(is)
	t0 := time.Now()
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			var mine []Recipient
			for i := w; i < len(rs); i += workers {
				mine = append(mine, rs[i])
			}
			send(bt, mine)
		})
	}
	wg.Wait()
	parallel := time.Since(t0)

	perReader := float64(cold.Nanoseconds()) / n
	perFull := float64(full.Nanoseconds()) / float64(ref)
	b.ReportMetric(perReader, "ns/reader")
	b.ReportMetric(perFull, "ns/reader-full")
	b.ReportMetric(perFull/perReader, "x-speedup")
	b.ReportMetric(float64(warm.Nanoseconds())/n, "ns/reader-warm")
	b.ReportMetric(float64(len(rs))/parallel.Seconds(), "msgs/s-all-cores")
	b.ReportMetric(float64(st.Frames), "frames")
	b.ReportMetric(float64(st.FullRenders), "full-renders")
	b.ReportMetric(float64(bytesOut)/n/1024, "KiB/digest")
}
