package pipeline

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/deliver"
	"gull/digest/deliver/smtptest"
	"gull/digest/store"
	"gull/subscribers"
)

var benchReaders = flag.Int("readers", 20000, "BenchmarkSendRetries: readers per send")

// BenchmarkSendRetries sends the week's issue to -readers readers twice
// in each iteration, in the same process and the same run: once to a
// server that takes everything, once to one that answers 451 to the first
// RCPT TO of 14% of them (chosen by a seeded draw, as greylisting does).
// Both go through the real ledger (claim before, mark after), 4 SMTP
// connections to the in-process server and 8 workers, as gull send
// --all does, with 30 KB messages. The backoff is a real one, 1-2 s: the
// point is that the other readers go on while a retry waits. It reports
// both rates (messages delivered per second of the whole send, the wait
// for the last retries included, over all iterations) and the median of
// the iterations' ratios, which should stay >= 0.8. The last retries add
// up to 2 s to the faulty send whatever the list's length, so the list
// must be long enough for a send to take well over that (the default,
// 20,000, takes about 10 s here):
//
//	go test -run '^$' -bench SendRetries -benchtime 4x ./digest/pipeline
//	go test -run '^$' -bench SendRetries ./digest/pipeline -readers 5000
func BenchmarkSendRetries(b *testing.B) {
	n := *benchReaders
	faulty := map[string]bool{}
	draw := rand.New(rand.NewPCG(13, 14))
	for i := range n {
		if draw.Float64() < 0.14 {
			faulty[benchAddr(i)] = true
		}
	}
	var clean, faults time.Duration
	var ratios []float64
	for i := range b.N {
		b.StopTimer()
		// Turn about, so a load that comes and goes on the machine
		// favours neither.
		var c, f time.Duration
		if i%2 == 0 {
			c = benchSend(b, n, nil)
			f = benchSend(b, n, faulty)
		} else {
			f = benchSend(b, n, faulty)
			c = benchSend(b, n, nil)
		}
		clean, faults = clean+c, faults+f
		ratios = append(ratios, c.Seconds()/f.Seconds())
	}
	cleanRate := float64(b.N*n) / clean.Seconds()
	faultRate := float64(b.N*n) / faults.Seconds()
	b.ReportMetric(cleanRate, "msgs/s-clean")
	b.ReportMetric(faultRate, "msgs/s-14%4xx")
	// The median of the pairs' ratios: a burst of load on a shared
	// machine spoils one pair, not the figure.
	slices.Sort(ratios)
	b.ReportMetric((ratios[(len(ratios)-1)/2]+ratios[len(ratios)/2])/2, "ratio")
	b.ReportMetric(float64(len(faulty))/float64(n)*100, "%deferred")
}

func benchAddr(i int) string { return fmt.Sprintf("reader%06d@example.org", i) }

// benchSend makes a store with n active readers and sends them the issue
// through a fresh server that defers the first try of each faulty
// address; it returns how long the send took, and fails unless everyone
// got exactly one copy.
func benchSend(b *testing.B, n int, faulty map[string]bool) time.Duration {
	ctx := context.Background()
	st, err := store.Open(ctx, filepath.Join(b.TempDir(), "gull.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer st.Close()
	rows := make([]subscribers.Row, n)
	for i := range rows {
		rows[i] = subscribers.Row{Line: i + 1, Subscriber: subscribers.Subscriber{Email: benchAddr(i), Status: subscribers.Active}, Given: subscribers.AllFields}
	}
	if _, err := st.ImportSubscribers(ctx, rows, sendNow); err != nil {
		b.Fatal(err)
	}
	pub := sendNow.Add(-48 * time.Hour)
	is := digest.Issue{ID: "2026-W48", Title: "AI Policy Weekly", Period: digest.WeekEnding(sendNow, 0, time.UTC),
		Sections: []digest.Section{{ID: "compute", Name: "Compute", Articles: []digest.Article{
			{ID: "a1", FeedURL: "https://f.example/feed", Title: "Chips act", Link: "https://f.example/1", Published: &pub},
		}}}}
	if _, err := st.SaveIssue(ctx, is, digest.IssueOpen, sendNow); err != nil {
		b.Fatal(err)
	}

	srv, err := smtptest.StartWith(smtptest.Options{Discard: true})
	if err != nil {
		b.Fatal(err)
	}
	defer srv.Close()
	srv.Rcpt = func(to string, try int) error {
		if try == 1 && faulty[to] {
			return smtptest.Reply(451, "4.7.1", "greylisted, try again later")
		}
		return nil
	}
	smtp, err := deliver.NewSMTP(deliver.SMTPOptions{
		Host: srv.Host(), Port: srv.Port(), TLS: "none", Connections: 4, From: "digest@example.net",
		Backoff: func(int) time.Duration { return time.Second + rand.N(time.Second) },
	})
	if err != nil {
		b.Fatal(err)
	}
	defer smtp.Close()
	var body bytes.Buffer
	body.WriteString("From: digest@example.net\r\nSubject: AI Policy Weekly\r\n\r\n")
	for body.Len() < 30<<10 {
		body.WriteString(strings.Repeat("x", 70) + "\r\n")
	}
	s := &Sender{
		Ledger: st,
		Render: func(d digest.Delivery) (digest.Message, error) {
			return digest.Message{IssueID: is.ID, To: d.Email, Subject: is.Title}, nil
		},
		Deliver: func(ctx context.Context, m digest.Message) (string, error) {
			id := "<" + m.To + "." + m.IssueID + "@example.net>"
			return id, smtp.TrySend(ctx, deliver.Outgoing{IssueID: m.IssueID, From: "digest@example.net", To: m.To, MessageID: id, Body: body.Bytes()})
		},
		Workers: 8,
		Now:     time.Now,
	}

	b.StartTimer()
	rep, err := s.Send(ctx, is)
	b.StopTimer()
	if err != nil {
		b.Fatal(err)
	}
	if rep.Sent != n || !rep.Done || len(srv.Messages()) != n {
		b.Fatalf("sent %d of %d, the server took %d: %+v", rep.Sent, n, len(srv.Messages()), rep.Totals)
	}
	return rep.Duration
}
