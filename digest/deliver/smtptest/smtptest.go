// Package smtptest runs a real SMTP server in the process, for tests: it
// speaks the protocol through github.com/emersion/go-smtp, records every
// message it accepts, and lets a test answer RCPT TO with any reply or cut
// a connection mid-DATA, the way a real server misbehaves.
package smtptest

import (
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"sync"
	"time"

	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From    string
	To      []string
	Data    []byte
	Session int // which connection it came over, from 1
}

// Server is a running server. Its hooks may be changed while it runs.
type Server struct {
	Addr string // host:port

	mu       sync.Mutex
	msgs     []Message
	sessions int
	tries    map[string]int
	// Rcpt answers RCPT TO for the try'th time this address is given
	// (from 1); nil accepts. Return an *smtp.SMTPError for a reply, e.g.
	// Reply(451, "4.3.0", "try later").
	Rcpt func(to string, try int) error
	// DropData, when it returns true, makes the server close the
	// connection halfway through reading the message for to.
	DropData func(to string, try int) bool
	// Delay is how long each message takes to accept (a slow server).
	Delay time.Duration

	srv *smtp.Server
	ln  net.Listener
}

// Reply is an SMTP reply with an enhanced status code "x.y.z" ("" for none).
func Reply(code int, enhanced, text string) error {
	e := &smtp.SMTPError{Code: code, Message: text, EnhancedCode: smtp.NoEnhancedCode}
	var a, b, c int
	if n, _ := fmt.Sscanf(enhanced, "%d.%d.%d", &a, &b, &c); n == 3 {
		e.EnhancedCode = smtp.EnhancedCode{a, b, c}
	}
	return e
}

// Start listens on a free loopback port and serves until Close.
func Start() (*Server, error) {
	s := &Server{tries: map[string]int{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		s.mu.Lock()
		s.sessions++
		n := s.sessions
		s.mu.Unlock()
		return &session{s: s, conn: c, n: n}, nil
	}))
	s.srv.Domain = "smtptest.invalid"
	// A client that is killed mid-session is what some tests do on
	// purpose; the server's complaint about it is noise.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	go s.srv.Serve(ln)
	return s, nil
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Sessions is how many connections were opened so far.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sessions
}

// Host and Port split Addr for a config.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the port of Addr.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

type session struct {
	s    *Server
	conn *smtp.Conn
	n    int
	from string
	to   []string
	try  int // the try of to[0]
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) Mail(from string, _ *smtp.MailOptions) error {
	x.from = from
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	x.s.tries[to]++
	try := x.s.tries[to]
	hook := x.s.Rcpt
	x.s.mu.Unlock()
	if hook != nil {
		if err := hook(to, try); err != nil {
			return err
		}
	}
	if len(x.to) == 0 {
		x.try = try
	}
	x.to = append(x.to, to)
	return nil
}

func (x *session) Data(r io.Reader) error {
	x.s.mu.Lock()
	drop, delay := x.s.DropData, x.s.Delay
	x.s.mu.Unlock()
	if drop != nil && len(x.to) > 0 && drop(x.to[0], x.try) {
		io.CopyN(io.Discard, r, 512)
		x.conn.Conn().Close()
		io.Copy(io.Discard, r)
		return errors.New("smtptest: connection dropped")
	}
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	if delay > 0 {
		time.Sleep(delay)
	}
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: append([]string(nil), x.to...), Data: data, Session: x.n})
	x.s.mu.Unlock()
	return nil
}
