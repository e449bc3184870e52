package deliver

import (
	"bufio"
	"bytes"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// scriptServer is a raw SMTP server on loopback that writes down every
// byte a client sends after EHLO. With pipelining it offers PIPELINING
// (RFC 2920) and answers MAIL and RCPT only once DATA has come too, as a
// pipelining client sends them: a client that waits for MAIL's reply
// before RCPT waits in vain. Without it, it answers each command at once.
// An address in refuse gets that RCPT reply; a DATA after a refusal gets
// 554, as RFC 2920 asks.
type scriptServer struct {
	addr       string
	pipelining bool
	refuse     map[string]string
	// lax answers DATA with 354 after a refused RCPT, as RFC 2920 says a
	// server must not, and refuses the (empty) message at its end.
	lax bool

	mu  sync.Mutex
	log bytes.Buffer
}

func startScript(t *testing.T, pipelining bool, refuse map[string]string) *scriptServer {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	s := &scriptServer{addr: ln.Addr().String(), pipelining: pipelining, refuse: refuse}
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go s.serve(c)
		}
	}()
	return s
}

func (s *scriptServer) transcript() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

func (s *scriptServer) serve(c net.Conn) {
	defer c.Close()
	r := bufio.NewReader(c)
	c.Write([]byte("220 script.test ESMTP\r\n"))
	var held []string // replies held back until DATA
	refused := false
	for {
		line, err := r.ReadString('\n')
		if err != nil {
			return
		}
		verb := strings.ToUpper(strings.Fields(line + " x")[0])
		if verb == "EHLO" {
			caps := "250-script.test\r\n"
			if s.pipelining {
				caps += "250-PIPELINING\r\n"
			}
			c.Write([]byte(caps + "250-8BITMIME\r\n250 SMTPUTF8\r\n"))
			continue
		}
		s.mu.Lock()
		s.log.WriteString(line)
		s.mu.Unlock()
		reply := "250 2.0.0 ok\r\n"
		switch verb {
		case "MAIL":
			refused = false
		case "RCPT":
			to := strings.TrimSuffix(strings.SplitN(line, "<", 2)[1], ">\r\n")
			if rep, ok := s.refuse[to]; ok {
				reply, refused = rep+"\r\n", true
			}
		case "DATA":
			reply = "354 go ahead\r\n"
			if refused && !s.lax {
				reply = "554 5.5.1 no valid recipients\r\n"
			}
		case "QUIT":
			c.Write([]byte("221 bye\r\n"))
			return
		}
		if s.pipelining && (verb == "MAIL" || verb == "RCPT") {
			held = append(held, reply)
			continue
		}
		c.Write([]byte(strings.Join(held, "") + reply))
		held = nil
		if reply != "354 go ahead\r\n" {
			continue
		}
		for { // the data, up to its end mark
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			s.mu.Lock()
			s.log.WriteString(line)
			s.mu.Unlock()
			if line == ".\r\n" {
				break
			}
		}
		if refused {
			c.Write([]byte("554 5.5.1 no valid recipients\r\n"))
			continue
		}
		c.Write([]byte("250 2.0.0 queued\r\n"))
	}
}

// TestPipelinedIsOneAtATime sends the same messages to a server that
// offers PIPELINING and to one that does not: the first must get MAIL,
// RCPT and DATA in one go (it answers none before it has all three), both
// must get the same bytes, and a refused recipient must give the same
// error, at the same stage, with the connection kept for the next message.
func TestPipelinedIsOneAtATime(t *testing.T) {
	const bad = "nobody@example.net"
	refuse := map[string]string{bad: "550 5.1.1 no such user"}
	run := func(pipelining bool) (string, *Error, string) {
		srv := startScript(t, pipelining, refuse)
		host, port, _ := net.SplitHostPort(srv.addr)
		o := SMTPOptions{Host: host, TLS: "none", Connections: 1, From: "digest@example.org",
			Timeout: 3 * time.Second, ReplyTimeout: 3 * time.Second, MaxAttempts: 1,
			Backoff: func(int) time.Duration { return time.Millisecond }}
		o.Port, _ = strconv.Atoi(port)
		s := newSMTP(t, o)
		bounce := wireMessage(addr(2), 3<<10)
		bounce.From = ""
		for _, m := range []Outgoing{wireMessage(addr(1), 5<<10), bounce, wireMessage("독자@예시.한국", 1<<10)} {
			if err := s.Send(t.Context(), m); err != nil {
				t.Fatalf("pipelining %v: MAIL FROM %q RCPT TO %q: %v", pipelining, m.From, m.To, err)
			}
		}
		accepted := srv.transcript()
		e := asError(t, s.Send(t.Context(), wireMessage(bad, 1<<10)))
		if err := s.Send(t.Context(), wireMessage(addr(4), 2<<10)); err != nil {
			t.Fatalf("pipelining %v: the message after a refusal: %v", pipelining, err)
		}
		return accepted, e, strings.TrimPrefix(srv.transcript(), accepted)
	}
	oneAccepted, oneErr, oneAfter := run(false)
	pipeAccepted, pipeErr, pipeAfter := run(true)
	if pipeAccepted != oneAccepted {
		i := firstDiff([]byte(pipeAccepted), []byte(oneAccepted))
		t.Errorf("the server got different bytes when pipelined, from byte %d:\n%.200q\nwant\n%.200q", i, pipeAccepted[i:], oneAccepted[i:])
	}
	for _, w := range []string{"MAIL FROM:<digest@example.org> BODY=8BITMIME\r\nRCPT TO:<" + addr(1) + ">\r\nDATA\r\n",
		"MAIL FROM:<> BODY=8BITMIME\r\n", "MAIL FROM:<digest@example.org> BODY=8BITMIME SMTPUTF8\r\nRCPT TO:<독자@예시.한국>\r\n",
		"\r\n..leading dot\r\n..\r\n...two dots\r\n"} {
		if !strings.Contains(pipeAccepted, w) {
			t.Errorf("transcript lacks %q", w)
		}
	}
	if pipeErr.Stage != StageRcpt || pipeErr.Code != 550 || pipeErr.Enhanced != "5.1.1" || !pipeErr.BadAddress() ||
		pipeErr.Stage != oneErr.Stage || pipeErr.Code != oneErr.Code || pipeErr.Reply != oneErr.Reply {
		t.Errorf("refused RCPT, pipelined: %+v; one at a time: %+v", pipeErr, oneErr)
	}
	// After the refusal: RSET, then the next message whole, on the same
	// connection (pipelined, the refused transaction's DATA went too).
	next := "MAIL FROM:<digest@example.org> BODY=8BITMIME\r\nRCPT TO:<" + addr(4) + ">\r\nDATA\r\n"
	for _, after := range []string{oneAfter, pipeAfter} {
		if !strings.Contains(after, "RSET\r\n"+next) || !strings.HasSuffix(after, "\r\n.\r\n") {
			t.Errorf("after the refusal the server got:\n%q", after)
		}
	}
	if want := "RCPT TO:<" + bad + ">\r\nDATA\r\nRSET\r\n"; !strings.Contains(pipeAfter, want) {
		t.Errorf("pipelined, after the refusal the server got:\n%q\nwant %q", pipeAfter, want)
	}
}

// TestPipelinedDataTakenAfterARefusal: a server that takes DATA after
// refusing the only recipient waits for a message; the client ends it
// empty, reports the refusal, and the connection serves the next message.
func TestPipelinedDataTakenAfterARefusal(t *testing.T) {
	const bad = "nobody@example.net"
	srv := startScript(t, true, map[string]string{bad: "550 5.1.1 no such user"})
	srv.lax = true
	host, port, _ := net.SplitHostPort(srv.addr)
	o := SMTPOptions{Host: host, TLS: "none", Connections: 1, From: "digest@example.org",
		Timeout: 3 * time.Second, ReplyTimeout: 3 * time.Second, MaxAttempts: 1,
		Backoff: func(int) time.Duration { return time.Millisecond }}
	o.Port, _ = strconv.Atoi(port)
	s := newSMTP(t, o)
	e := asError(t, s.Send(t.Context(), wireMessage(bad, 1<<10)))
	if e.Stage != StageRcpt || e.Code != 550 || !e.BadAddress() {
		t.Errorf("refused RCPT: %+v", e)
	}
	if err := s.Send(t.Context(), wireMessage(addr(1), 1<<10)); err != nil {
		t.Fatalf("the message after: %v", err)
	}
	want := "RCPT TO:<" + bad + ">\r\nDATA\r\n.\r\nRSET\r\nMAIL FROM:<digest@example.org> BODY=8BITMIME\r\nRCPT TO:<" + addr(1) + ">\r\nDATA\r\n"
	if got := srv.transcript(); !strings.Contains(got, want) || !strings.HasSuffix(got, "\r\n.\r\n") {
		t.Errorf("the server got:\n%q\nwant within it %q", got, want)
	}
}
