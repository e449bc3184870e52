package store

import (
	"context"
	"io/fs"
	"path"
	"testing"
	"time"

	"gull/digest"
)

// A store kept by a gull from before the articles' languages has its
// articles' lang empty (migration 0006 added the column with no value).
// Opened by this gull, each gets the language of its text's script, so
// a feed that answers 304 (FeedArticles) serves them with it: a reader of
// Korean articles only gets the Korean ones, not the English too. One
// with no language to tell stays without one.
func TestArticlesOfAnOlderStoreGetTheirLanguageAtOpen(t *testing.T) {
	ctx := context.Background()
	backfill, err := fs.Glob(migrations, "migrations/*_article_langs.sql")
	if err != nil || len(backfill) != 1 {
		t.Fatalf("the migration that backfills the languages: %v %v", backfill, err)
	}
	// The store as the gull before this one left it.
	migrationsBefore = path.Base(backfill[0])
	where := freshWhere(t)
	old, err := Open(ctx, where)
	migrationsBefore = ""
	if err != nil {
		t.Fatal(err)
	}
	const feed = "https://f.example/feed"
	arts := []digest.Article{art("ko", "반도체 특별법, 국회 본회의 통과", nil), art("en", "The EU code of practice, one year on", nil), art("n", "12345", nil)}
	arts[1].Summary, arts[2].Summary = "A year of the code", ""
	if _, err := old.SaveFeed(ctx, feed, "칼럼", digest.FeedState{ETag: `"v1"`}, arts, time.Now()); err != nil {
		t.Fatal(err)
	}
	if got := langsOf(t, old, feed); got != "ko= en= n=" {
		t.Fatalf("the older store's articles: %s, want no languages", got)
	}
	old.Close()

	s, err := Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if got := langsOf(t, s, feed); got != "ko=ko en=en n=" {
		t.Errorf("after the upgrade, a 304 serves %s, want ko=ko en=en n=", got)
	}
	// An article stored with its language keeps it at the next open, and
	// one whose language could not be told is not guessed at again.
	if _, err := s.SaveFeed(ctx, feed, "칼럼", digest.FeedState{ETag: `"v2"`},
		[]digest.Article{{ID: "de", FeedURL: feed, Title: "Die Bundesregierung plant ein neues KI-Gesetz", Lang: ""}}, time.Now()); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(ctx, where)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if got := langsOf(t, s2, feed); got != "de=" {
		t.Errorf("reopened: %s, want de= (collect found no language for it)", got)
	}
}

// langsOf lists the feed's articles as a 304 serves them: id=lang each.
func langsOf(t *testing.T, s *Store, feed string) string {
	t.Helper()
	arts, err := s.FeedArticles(context.Background(), feed)
	if err != nil {
		t.Fatal(err)
	}
	out := ""
	for i, a := range arts {
		if i > 0 {
			out += " "
		}
		out += a.ID + "=" + a.Lang
	}
	return out
}
