package main

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/subscribers"
)

// TestSendSurvivesKill kills a real `gull send --all` process with
// SIGKILL at random moments, several times, restarts it, and checks the
// promise to the operator: everyone gets the issue, and a reader gets a
// second copy only if their message was in flight (claimed, not yet
// marked) at a kill.
func TestSendSurvivesKill(t *testing.T) {
	s := newSendSetup(t)
	const n = 600
	var csv strings.Builder
	csv.WriteString("email,themes\n")
	themes := []string{"", "compute", "regulation", "compute,regulation"}
	for i := range n {
		fmt.Fprintf(&csv, "reader%04d@example.org,\"%s\"\n", i, themes[i%len(themes)])
	}
	list := filepath.Join(s.dir, "many.csv")
	os.WriteFile(list, []byte(csv.String()), 0o644)
	s.gull(t, 0, "subscribers", "import", list)
	want := n + len(readers) - 1 // the strategy reader has nothing this week
	// Each message takes the server a moment, so the kills land mid-send.
	s.smtp.Delay = 4 * time.Millisecond

	seed := uint64(time.Now().UnixNano())
	rng := rand.New(rand.NewPCG(seed, 1))
	t.Logf("seed %d", seed)
	inDoubt := map[string]int{} // times each address was in flight at a kill
	kills, inFlight := 0, 0
	for kills < 5 {
		before := len(s.smtp.Messages())
		cmd := exec.Command(os.Args[0], "--config", s.cfg, "send", "--all", "--yes", "--now", sendNow)
		cmd.Env = append(os.Environ(), "GULL_TEST_AS_GULL=1")
		cmd.Dir = s.dir
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		exited := make(chan error, 1)
		go func() { exited <- cmd.Wait() }()
		// Wait for the send to be under way, then kill it at a random moment.
		deadline := time.Now().Add(20 * time.Second)
		for len(s.smtp.Messages()) == before && time.Now().Before(deadline) {
			time.Sleep(time.Millisecond)
		}
		time.Sleep(time.Duration(rng.IntN(120)) * time.Millisecond)
		select {
		case err := <-exited:
			t.Logf("round ended by itself (%v) before the kill", err)
			goto finish
		default:
		}
		cmd.Process.Kill()
		<-exited
		kills++
		st := s.store(t)
		rows, err := st.Deliveries(context.Background(), "2026-W48", digest.DeliverySending, 1000)
		if err != nil {
			t.Fatal(err)
		}
		st.Close()
		for _, d := range rows {
			inDoubt[d.Email]++
		}
		inFlight += len(rows)
		t.Logf("kill %d: %d messages arrived so far, %d in flight", kills, len(s.smtp.Messages()), len(rows))
	}
finish:
	out, _ := s.gull(t, 0, "send", "--all", "--yes", "--now", sendNow)
	t.Logf("final run: %s", strings.TrimSpace(strings.Split(out, "\n")[0]))

	copies := map[string]int{}
	for _, m := range s.smtp.Messages() {
		copies[m.To[0]]++
	}
	dups := 0
	for addr, c := range copies {
		if c-1 > inDoubt[addr] {
			t.Errorf("%s got %d copies but was in flight at only %d kills", addr, c, inDoubt[addr])
		}
		dups += c - 1
	}
	if len(copies) != want {
		t.Errorf("%d readers got the issue, want %d", len(copies), want)
	}
	st := s.store(t)
	counts, _ := st.DeliveryCounts(context.Background(), "2026-W48")
	if counts[digest.DeliverySent] != want || counts.Left() != 0 {
		t.Errorf("ledger after the final run: %v", counts)
	}
	active, _ := st.ListSubscribers(context.Background(), subscribers.Active)
	if len(active) != n+len(readers) {
		t.Errorf("%d active subscribers after the kills, want %d: none may be lost", len(active), n+len(readers))
	}
	t.Logf("%d kills; %d readers, each got the issue; %d duplicates, against %d messages in flight at the kills (bound)",
		kills, len(copies), dups, inFlight)
	if dups > inFlight {
		t.Errorf("%d duplicates > %d in flight", dups, inFlight)
	}
}
