package web

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"gull/digest/web/browsertest"

	"gull/digest"
	"gull/digest/render"
)

// serveArchive serves a site fixture over real HTTP on loopback, with the
// real renderer's web copy and stylesheet, and three published issues of
// Korean and English articles.
func serveArchive(t *testing.T) (*siteFixture, string) {
	t.Helper()
	srv := httptest.NewUnstartedServer(nil)
	base := "http://" + srv.Listener.Addr().String()
	r, err := render.New(render.Options{Lang: "ko", Location: seoul, BaseURL: base,
		ThemeNames: map[string]string{"compute": "반도체와 컴퓨팅", "regulation": "규제", "other": "기타"}})
	if err != nil {
		t.Fatal(err)
	}
	styles, err := r.Styles()
	if err != nil {
		t.Fatal(err)
	}
	sf := newSiteFixture(t, func(s *Site) {
		s.BaseURL, s.Styles, s.IssuePage, s.Title = base, styles, r.WebPageIn, "AI 정책 주간"
		s.Themes = []ThemeChoice{
			{ID: "regulation", Name: "규제", Names: digest.Text{Ko: "규제", En: "Regulation"}},
			{ID: "compute", Name: "반도체와 컴퓨팅", Names: digest.Text{Ko: "반도체와 컴퓨팅", En: "Compute & Chips"}},
		}
	})
	srv.Config.Handler = sf.sh
	srv.Start()
	t.Cleanup(srv.Close)

	pub := func(y int, m time.Month, d int) *time.Time { t := time.Date(y, m, d, 9, 0, 0, 0, seoul); return &t }
	week := func(n int, id string, end time.Time, arts ...digest.Article) {
		var reg, comp []digest.Article
		for _, a := range arts {
			if a.Themes[0] == "compute" {
				comp = append(comp, a)
			} else {
				reg = append(reg, a)
			}
		}
		is := digest.Issue{ID: id, Title: "AI 정책 주간", Period: digest.WeekEnding(end, 7*24*time.Hour, seoul),
			Sections: []digest.Section{{ID: "regulation", Name: "규제", Articles: reg}, {ID: "compute", Name: "반도체와 컴퓨팅", Articles: comp}}}
		if _, err := sf.store.SaveIssue(context.Background(), is, digest.IssueDone, end.Add(time.Duration(n)*time.Minute)); err != nil {
			t.Fatal(err)
		}
	}
	art := func(id, feed, title, summary, theme string, p *time.Time) digest.Article {
		return digest.Article{ID: id, FeedName: feed, Title: title, Summary: summary, Link: "https://example.org/" + id,
			Published: p, Themes: []string{theme}}
	}
	week(1, "2026-W47", monday8(2026, 11, 23),
		art("a1", "정책 브리핑", "인공지능법 시행령 입법예고, 고영향 AI 기준 구체화", "과기정통부가 인공지능기본법 시행령안을 입법예고했다. 고영향 인공지능의 판단 기준과 사업자의 투명성 의무가 담겼다.", "regulation", pub(2026, 11, 18)),
		art("a2", "Policy Wire", "EU AI Act: the first codes of practice take effect", "Providers of general-purpose models must now publish training-data summaries.", "regulation", pub(2026, 11, 19)),
		art("a3", "반도체 리포트", "HBM4 양산 경쟁, 수율이 관건", "메모리 3사가 HBM4 양산에 들어갔다. 데이터센터 수요가 가격을 떠받친다.", "compute", pub(2026, 11, 20)))
	week(2, "2026-W48", monday8(2026, 11, 30),
		art("b1", "정책 브리핑", "AI 기본법 하위법령 공청회… 업계 \"규제 유예\" 요구", "공청회에서 스타트업들은 인공지능 사업자 의무의 유예를 요청했다.", "regulation", pub(2026, 11, 25)),
		art("b2", "Chip Letter", "Export controls on AI accelerators tighten again", "New rules cover HBM and advanced packaging; Korean suppliers seek licences.", "compute", pub(2026, 11, 26)),
		art("b3", "반도체 리포트", "반도체 보조금 확대, 용인 클러스터 전력망 먼저", "정부가 반도체 보조금을 늘리고 전력망 투자를 앞당긴다.", "compute", pub(2026, 11, 27)))
	week(3, "2026-W49", monday8(2026, 12, 7),
		art("c1", "Policy Wire", "Seoul hosts the AI safety institutes' network", "Regulators from twelve countries compared evaluation methods for frontier models.", "regulation", pub(2026, 12, 2)),
		art("c2", "정책 브리핑", "공공 데이터센터 GPU 1만 장 확보 계획", "국가 AI 컴퓨팅 센터에 GPU를 단계적으로 들인다. 인공지능 연구자 지원이 목표다.", "compute", pub(2026, 12, 3)))
	return sf, base
}

// fitsWidth fails t when the page scrolls sideways at the viewport's width.
func fitsWidth(t *testing.T, browser context.Context, what string) {
	t.Helper()
	fit, err := chromedp.Run(browser, chromedp.Evaluate[[]int64](`[document.documentElement.scrollWidth, window.innerWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if fit[0] > fit[1] {
		t.Errorf("%s is %d px wide in a %d px window: it scrolls sideways", what, fit[0], fit[1])
	}
}

// A reader, in a real browser, opens the archive, a theme's page and a
// search in Korean whose match is highlighted; every page fits a 390 px
// phone, and dark mode darkens it. Screenshots go to
// $GULL_ARCHIVE_SCREENSHOTS when set.
func TestArchiveInBrowser(t *testing.T) {
	browser := browsertest.New(t)
	_, base := serveArchive(t)
	dir := os.Getenv("GULL_ARCHIVE_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	shot := func(name string) {
		t.Helper()
		png, err := browsertest.Screenshot(browser, "body")
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	text := func() string {
		t.Helper()
		s, err := bodyText(browser)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}

	for _, width := range []int64{1280, 390} {
		// The index: newest first, by number, dates and lead headlines.
		if err := chromedp.Do(browser,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(base+"/"),
			chromedp.WaitVisible(chromedp.CSS(`.issue-list`)),
		); err != nil {
			t.Fatalf("the index at %d px: %v", width, err)
		}
		got := text()
		i3, i2, i1 := strings.Index(got, "제3호"), strings.Index(got, "제2호"), strings.Index(got, "제1호")
		if i3 < 0 || i2 < i3 || i1 < i2 || !strings.Contains(got, "공공 데이터센터 GPU 1만 장 확보 계획") || !strings.Contains(got, "2026년 11월 23일–29일") {
			t.Errorf("the index at %d px:\n%s", width, got)
		}
		fitsWidth(t, browser, fmt.Sprintf("the index at %d px", width))
		shot(fmt.Sprintf("archive-index-%d", width))

		// A theme's page, from its link on the index.
		if err := chromedp.Do(browser,
			chromedp.Click(chromedp.CSS(`a.chip[href$="/themes/compute"]`)),
			chromedp.WaitVisible(chromedp.CSS(`.article`)),
		); err != nil {
			t.Fatalf("the theme page at %d px: %v", width, err)
		}
		got = text()
		if !strings.Contains(got, "반도체와 컴퓨팅") || strings.Index(got, "공공 데이터센터") > strings.Index(got, "HBM4 양산") || strings.Contains(got, "EU AI Act") {
			t.Errorf("the compute page at %d px:\n%s", width, got)
		}
		fitsWidth(t, browser, fmt.Sprintf("the theme page at %d px", width))
		shot(fmt.Sprintf("archive-theme-%d", width))

		// A search in Korean, typed into the form: "인공지능" inside
		// "인공지능법" and "인공지능기본법", highlighted.
		if err := chromedp.Do(browser,
			chromedp.SetValue(chromedp.CSS(`input[name=q]`), "인공지능"),
			chromedp.Submit(chromedp.CSS(`.search-form`)),
			chromedp.WaitVisible(chromedp.CSS(`mark`)),
		); err != nil {
			t.Fatalf("the search at %d px: %v", width, err)
		}
		marks, err := chromedp.Run(browser, chromedp.Evaluate[[]string](`[...document.querySelectorAll("mark")].map(m => m.textContent)`))
		if err != nil {
			t.Fatal(err)
		}
		if len(marks) < 4 || marks[0] != "인공지능" {
			t.Errorf("highlighted at %d px: %q", width, marks)
		}
		got = text()
		if !strings.Contains(got, "인공지능법 시행령 입법예고") || !strings.Contains(got, "기사 3건") || strings.Contains(got, "HBM4") {
			t.Errorf("the search at %d px:\n%s", width, got)
		}
		loc, _ := chromedp.Run(browser, chromedp.Evaluate[string](`location.search`))
		if q, _ := url.ParseQuery(strings.TrimPrefix(loc, "?")); q.Get("q") != "인공지능" {
			t.Errorf("the search's address %q", loc)
		}
		fitsWidth(t, browser, fmt.Sprintf("the search at %d px", width))
		shot(fmt.Sprintf("archive-search-%d", width))

		// An issue's page, from the result's issue link.
		if err := chromedp.Do(browser,
			chromedp.Click(chromedp.CSS(`.article .meta a`)),
			chromedp.WaitVisible(chromedp.CSS(`.masthead`)),
		); err != nil {
			t.Fatalf("the issue page at %d px: %v", width, err)
		}
		if got := text(); !strings.Contains(got, "AI 기본법 하위법령 공청회") && !strings.Contains(got, "공공 데이터센터") {
			t.Errorf("the issue page at %d px:\n%s", width, got)
		}
		fitsWidth(t, browser, fmt.Sprintf("the issue page at %d px", width))
		shot(fmt.Sprintf("archive-issue-%d", width))
	}

	// Dark mode, as a phone set to it shows the search.
	if err := chromedp.Do(browser,
		chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
			_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
				Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}})
			return err
		}),
		chromedp.EmulateViewport(390, 900),
		chromedp.Navigate(base+"/search?q="+url.QueryEscape("반도체")),
		chromedp.WaitVisible(chromedp.CSS(`mark`)),
	); err != nil {
		t.Fatalf("dark mode: %v", err)
	}
	bg, err := chromedp.Run(browser, chromedp.Evaluate[string](`getComputedStyle(document.querySelector(".column")).backgroundColor`))
	if err != nil || bg != "rgb(27, 33, 39)" {
		t.Errorf("the column in dark mode: %q %v, want the mail's dark rgb(27, 33, 39)", bg, err)
	}
	fitsWidth(t, browser, "the dark search at 390 px")
	shot("archive-search-390-dark")
}
