package send

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"gull/digest"
)

// The send starts with no draft (the plain build). While it fetches the
// feeds, an editor builds the draft (gull issue show), hides an article,
// and approves or not. What goes out is what the store froze, with the
// hide: the approval's freeze, or the open draft with its edits, never
// the send's own build (it mailed the hidden article).
func TestEditDuringSendFetch(t *testing.T) {
	for _, approve := range []bool{true, false} {
		t.Run(fmt.Sprint("approve=", approve), func(t *testing.T) { editDuringSend(t, approve) })
	}
}

func editDuringSend(t *testing.T, approve bool) {
	s, srv := newTestSender(t, map[string]string{"all@example.org": ""})
	s.Config.Review.Editors = []string{"ed@example.org"}
	ctx := context.Background()
	var first atomic.Bool
	var mu sync.Mutex
	var hidden string
	var hookErr error
	rss := `<rss version="2.0"><channel><title>Columns</title><link>https://columns.example/</link>
<item><title>반도체 수출과 GPU 공급망</title><link>https://columns.example/1</link><pubDate>Sat, 28 Nov 2026 10:00:00 +0900</pubDate></item>
<item><title>AI기본법 시행령의 쟁점</title><link>https://columns.example/2</link><pubDate>Sun, 29 Nov 2026 10:00:00 +0900</pubDate></item>
</channel></rss>`
	feed := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if first.CompareAndSwap(false, true) {
			mu.Lock()
			defer mu.Unlock()
			func() {
				ed := &Sender{Env: s.Env, Config: s.Config, Store: s.Store, Now: s.Now}
				d, err := ed.ComingDraft(ctx)
				if err != nil {
					hookErr = err
					return
				}
				hidden = titled(t, d.Base, "AI기본법")
				v, err := s.Store.EditDraft(ctx, d.Base.ID, d.Version, "ed@example.org", digest.Edit{Kind: digest.EditHide, Article: hidden}, time.Now())
				if err == nil && approve {
					_, err = s.Store.ApproveDraft(ctx, d.Base.ID, v, "ed@example.org", time.Now())
				}
				hookErr = err
			}()
		}
		fmt.Fprint(w, rss)
	}))
	defer feed.Close()
	s.Config.Feeds[0].URL = feed.URL + "/columns.xml"

	if err := s.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	res, err := s.SendIssue(ctx, s.IssueID())
	mu.Lock()
	defer mu.Unlock()
	if err != nil || hookErr != nil {
		t.Fatal(err, hookErr)
	}
	stored, _, _ := s.Store.Issue(ctx, s.IssueID())
	t.Logf("sent %d messages; issue mailed has %d articles, the approved (stored) one %d", len(srv.Messages()), res.Issue.Count(), stored.Count())
	d, _ := s.Store.Draft(ctx, s.IssueID())
	t.Logf("draft status after the send: %s; history: %d entries", d.Status, len(d.Edits))
	for _, a := range res.Issue.Articles() {
		if a.ID == hidden {
			t.Errorf("the article hidden before the approval was mailed to readers (%q)", a.Title)
		}
	}
}
