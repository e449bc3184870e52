package render

import (
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"gull/digest"
)

// listRenderer is a renderer of a list in lang whose config names the
// themes and the title in both languages.
func listRenderer(t testing.TB, lang string) *Renderer {
	t.Helper()
	r, err := New(Options{
		Lang: lang, Location: seoul, BaseURL: "https://gull.example.org/", ThemeNames: themeNames(),
		Title: digest.Text{Ko: "AI 정책 주간", En: "AI Policy Weekly"},
		Names: map[string]digest.Text{
			"compute":    {Ko: "반도체와 컴퓨팅", En: "Compute & Chips"},
			"regulation": {Ko: "규제와 법", En: "Regulation & Law"},
			"strategy":   {Ko: "국가 전략", En: "National Strategy"},
			"other":      {Ko: "더 읽을거리", En: "More this week"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// The list's issue, built in its language: the title and names as frozen.
func listIssue(lang string) digest.Issue {
	is := fixtureIssue()
	names := map[string]digest.Text{"compute": {Ko: "반도체와 컴퓨팅", En: "Compute & Chips"}, "regulation": {Ko: "규제와 법", En: "Regulation & Law"},
		"strategy": {Ko: "국가 전략", En: "National Strategy"}, "other": {Ko: "더 읽을거리", En: "More this week"}}
	is.Title = digest.Text{Ko: "AI 정책 주간", En: "AI Policy Weekly"}.In(lang)
	for i := range is.Sections {
		is.Sections[i].Name = names[is.Sections[i].ID].In(lang)
	}
	return is
}

// A Korean reader of an English list gets a Korean mail: the wording,
// dates, counts, subject, lang attribute, title and theme names; and the
// other way round.
func TestReaderLanguage(t *testing.T) {
	ko := reader
	ko.Lang = "ko"
	m, err := listRenderer(t, "en").Render(listIssue("en"), ko)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "en-list.ko-reader.subject.txt", []byte(m.Subject+"\n"))
	golden(t, "en-list.ko-reader.txt", []byte(m.Text))
	golden(t, "en-list.ko-reader.html", []byte(m.HTML))
	for part, got := range map[string]string{"subject": m.Subject, "text": m.Text, "html": m.HTML} {
		for _, want := range []string{"AI 정책 주간", "제12호"} {
			if !strings.Contains(got, want) {
				t.Errorf("Korean reader's %s lacks %q", part, want)
			}
		}
	}
	for part, got := range map[string]string{"text": m.Text, "html": m.HTML} {
		for _, want := range []string{"반도체와 컴퓨팅", "규제와 법", "이번 호 목차", "2026년 11월 23일–29일", "6편", "구독 해지"} {
			if !strings.Contains(got, want) {
				t.Errorf("Korean reader's %s lacks %q", part, want)
			}
		}
		for _, not := range []string{"Compute & Chips", "In this issue", "Unsubscribe", "No. 12", "6 columns"} {
			if strings.Contains(got, not) {
				t.Errorf("Korean reader's %s has the English %q", part, not)
			}
		}
	}
	if !strings.Contains(m.HTML, `<html lang="ko"`) {
		t.Errorf("Korean reader's HTML is not lang=ko")
	}

	en := reader
	en.Lang = "en"
	m, err = listRenderer(t, "ko").Render(listIssue("ko"), en)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`<html lang="en"`, "AI Policy Weekly", "No. 12", "Compute &amp; Chips", "In this issue", "23–29 Nov 2026", "6 columns", "Unsubscribe"} {
		if !strings.Contains(m.HTML, want) {
			t.Errorf("English reader of a Korean list: HTML lacks %q", want)
		}
	}
	if strings.Contains(m.HTML, "이번 호 목차") || strings.Contains(m.Text, "반도체와 컴퓨팅") || !strings.HasPrefix(m.Subject, "AI Policy Weekly · No. 12") {
		t.Errorf("English reader of a Korean list got Korean wording; subject %q", m.Subject)
	}

	// A reader of the list's language (or none) gets the list's mail as before.
	same, err := listRenderer(t, "en").Render(listIssue("en"), reader)
	if err != nil {
		t.Fatal(err)
	}
	en.Lang = "en"
	mine, _ := listRenderer(t, "en").Render(listIssue("en"), en)
	if same.HTML != mine.HTML || !strings.Contains(same.HTML, "Compute &amp; Chips") {
		t.Errorf(`a reader of "" and of the list's language get different mails`)
	}
}

// articles: ko keeps the Korean columns (and those of unknown language).
func TestReaderArticles(t *testing.T) {
	r := listRenderer(t, "en")
	to := reader
	to.Articles = "ko"
	m, err := r.Render(listIssue("en"), to)
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "en-list.articles-ko.subject.txt", []byte(m.Subject+"\n"))
	golden(t, "en-list.articles-ko.txt", []byte(m.Text))
	golden(t, "en-list.articles-ko.html", []byte(m.HTML))
	for _, want := range []string{"엔비디아 GPU 26만 장", "AI기본법 시행령", "인공지능 교과서", "3 columns", "In this issue"} {
		if !strings.Contains(m.Text, want) {
			t.Errorf("articles=ko reader's text lacks %q", want)
		}
	}
	for _, not := range []string{"The EU code of practice", "Newsletter #48", "HBM supply"} {
		if strings.Contains(m.Text, not) {
			t.Errorf("articles=ko reader got the English column %q", not)
		}
	}
	// A reader whose themes hold only English columns gets nothing.
	to.Themes = []string{"regulation"}
	to.Articles = "en"
	if _, err := r.Render(listIssue("en"), to); err != nil {
		t.Fatalf("English reader of regulation: %v", err)
	}
	to.Articles = "ko"
	is := listIssue("en")
	is.Sections = slices.DeleteFunc(is.Sections, func(s digest.Section) bool { return s.ID != "regulation" })
	for i := range is.Sections {
		is.Sections[i].Articles = slices.DeleteFunc(is.Sections[i].Articles, func(a digest.Article) bool { return a.Lang != "en" })
	}
	if _, err := r.Render(is, to); !errors.Is(err, ErrNothingToSend) {
		t.Errorf("a Korean-only reader of an English-only week: %v, want ErrNothingToSend", err)
	}
}

// A story's lead is in the reader's language when its coverage has one.
func TestReaderStoryLead(t *testing.T) {
	is := listIssue("en")
	i := slices.IndexFunc(is.Sections[0].Articles, func(a digest.Article) bool { return a.ID == "k1" })
	lead := &is.Sections[0].Articles[i]
	lead.Also = []digest.Article{{ID: "cov-en", Title: "Nvidia's 260,000 GPUs and Korea", Link: "https://policy.example.org/gpu", FeedName: "Global AI Policy Notes", Lang: "en"}}
	r := listRenderer(t, "en")
	m, err := r.Render(is, reader)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(m.Text, "[2] Nvidia's 260,000 GPUs and Korea") || !strings.Contains(m.HTML, `title="엔비디아 GPU 26만 장, 한국에 무엇을 남기나"`) {
		t.Errorf("English reader's story is not led by the English article:\n%s", m.Text)
	}
	ko := reader
	ko.Lang = "ko"
	m, _ = r.Render(is, ko)
	if !strings.Contains(m.Text, "[2] 엔비디아 GPU 26만 장") || !strings.Contains(m.HTML, `title="Nvidia&#39;s 260,000 GPUs and Korea"`) {
		t.Errorf("Korean reader's story is not led by the Korean article:\n%s", m.Text)
	}
	ko.Articles = "ko"
	m, _ = r.Render(is, ko)
	if strings.Contains(m.HTML, "Nvidia") {
		t.Errorf("articles=ko reader sees the English coverage")
	}
}

// Every fixed word exists, non-empty, in both languages.
func TestEveryLabelInBothLanguages(t *testing.T) {
	en, ko := slices.Sorted(maps.Keys(labels["en"])), slices.Sorted(maps.Keys(labels["ko"]))
	if !slices.Equal(en, ko) {
		t.Errorf("labels differ:\n en %v\n ko %v", en, ko)
	}
	for lang, l := range labels {
		for k, v := range l {
			if strings.TrimSpace(v) == "" {
				t.Errorf("label %s is empty in %s", k, lang)
			}
		}
	}
	if len(labels) != 2 {
		t.Errorf("labels has %d languages, want ko and en", len(labels))
	}
}

// The Batch keeps a frame per language and article choice and gives each
// reader Render's message.
func TestBatchReaderLanguages(t *testing.T) {
	is := listIssue("en")
	r := listRenderer(t, "en")
	b := r.Batch(is)
	for i := range 24 {
		to := plainReader(i)
		to.Lang = []string{"", "en", "ko"}[i%3]
		to.Articles = []string{"", "both", "ko", "en"}[i%4]
		if path := sameAsRender(t, r, b, is, to); path != viaFrame {
			t.Errorf("reader %d: %s", i, path)
		}
	}
	// "" and "en" share; "" and "both" share: 2 languages x 3 choices.
	if st := b.Stats(); st.Frames != 6 {
		t.Errorf("frames %d, want 6", st.Frames)
	}
}
