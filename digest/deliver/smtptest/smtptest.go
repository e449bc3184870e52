// Package smtptest runs a real SMTP server in the process, for tests: it
// speaks the protocol through github.com/emersion/go-smtp, records every
// message it accepts, and lets a test answer RCPT TO or the end of DATA
// with any reply or cut a connection mid-DATA, the way a real server
// misbehaves. It can also speak TLS and require a login, so a client's
// setup errors meet the replies a real server gives. It is strict about
// the envelope, as mailpit and Gmail are: MAIL FROM and RCPT TO must
// carry <address> (RFC 5321 §4.1.2), and a non-ASCII address needs
// SMTPUTF8, which it offers (see strict.go).
package smtptest

import (
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"sync"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// Message is one message the server accepted.
type Message struct {
	From    string
	To      []string
	Data    []byte // nil with Options.Discard
	Session int    // which connection it came over, from 1
	TLS     bool   // it came over TLS, implicit or after STARTTLS
	User    string // the AUTH login it came under, "" for none
	UTF8    bool   // MAIL FROM carried SMTPUTF8
}

// RcptTry is one RCPT TO the server was given, whatever it answered.
type RcptTry struct {
	To      string
	Session int
}

// Options fix what kind of server StartWith runs; they cannot change
// while it runs. The zero value is a plain server without AUTH.
type Options struct {
	// TLS, when set, is offered through STARTTLS, or with ImplicitTLS
	// spoken from the first byte (as on port 465).
	TLS         *tls.Config
	ImplicitTLS bool
	// User and Pass, when set, must be given with AUTH PLAIN before MAIL
	// FROM; without them the server offers no AUTH at all.
	User, Pass string
	// Discard keeps no message bodies: a benchmark sends more than fits
	// in memory.
	Discard bool
}

// Server is a running server. Its hooks may be changed while it runs.
type Server struct {
	Addr string // host:port

	mu    sync.Mutex
	msgs  []Message
	rcpts []RcptTry
	conns int            // connections accepted so far
	open  map[int]*conn  // by number, until closed
	tries map[string]int // RCPT TOs per address
	// Rcpt answers RCPT TO for the try'th time this address is given
	// (from 1); nil accepts. Return an *smtp.SMTPError for a reply, e.g.
	// Reply(451, "4.3.0", "try later").
	Rcpt func(to string, try int) error
	// Data answers the end of DATA, once the whole message is read, for
	// the message to to (its first recipient) on that recipient's try'th
	// RCPT; nil accepts. It may block, to hold the reply back.
	Data func(to string, try int) error
	// DropData, when it returns true, makes the server close the
	// connection halfway through reading the message for to.
	DropData func(to string, try int) bool
	// Delay is how long each message takes to accept (a slow server).
	Delay time.Duration
	// Stall, when it returns true for a command's verb ("EHLO", "MAIL",
	// "RCPT", "DATA", "QUIT", upper case), makes the server read that
	// command and never answer: the connection stays open and silent
	// until the client hangs up or the server is closed, as a hung
	// server's does. Stall("EHLO") is a server that greets and then says
	// nothing more.
	Stall func(verb string) bool

	o   Options
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
func Start() (*Server, error) { return StartWith(Options{}) }

// StartWith is Start for a server with TLS, a login or no bodies kept.
func StartWith(o Options) (*Server, error) {
	s := &Server{o: o, open: map[int]*conn{}, tries: map[string]int{}}
	s.srv = smtp.NewServer(smtp.BackendFunc(func(c *smtp.Conn) (smtp.Session, error) {
		return &session{s: s, conn: c, n: c.Conn().(*conn).n}, nil
	}))
	s.srv.Domain = "smtptest.invalid"
	// Offered as real servers do, so a test sees when a client claims
	// it (conn refuses a non-ASCII address without it).
	s.srv.EnableSMTPUTF8 = true
	// A client that is killed mid-session is what some tests do on
	// purpose; the server's complaint about it is noise.
	s.srv.ErrorLog = log.New(io.Discard, "", 0)
	// Loopback only: whether a password may go out in plain text is the
	// client's decision, and the client is what is under test.
	s.srv.AllowInsecureAuth = true
	s.srv.ReadTimeout = time.Minute
	s.srv.WriteTimeout = time.Minute
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s.ln, s.Addr = ln, ln.Addr().String()
	// conn speaks the TLS, never go-smtp (strict.go says why): with
	// ImplicitTLS it reads the client through the TLS listener.
	var l net.Listener = listener{ln, s}
	if o.TLS != nil && o.ImplicitTLS {
		l = listener{tls.NewListener(ln, o.TLS), s}
	}
	go s.srv.Serve(l)
	return s, nil
}

// Set runs f, which may change the hooks, under the server's lock: a
// server already serving (a client in another process, say) then sees the
// change safely.
func (s *Server) Set(f func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f()
}

// Close stops the server.
func (s *Server) Close() error { return s.srv.Close() }

// Messages returns what the server accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.msgs)
}

// RcptTries returns every RCPT TO so far, in order, refused ones too
// (but not those refused for their syntax: they never reach go-smtp).
func (s *Server) RcptTries() []RcptTry {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.rcpts)
}

// Sessions is how many connections were opened so far.
func (s *Server) Sessions() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.conns
}

// Open lists the connections, numbered as Message.Session, that neither
// side has closed yet.
func (s *Server) Open() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	var ns []int
	for n := range s.open {
		ns = append(ns, n)
	}
	slices.Sort(ns)
	return ns
}

// Hangup closes every open connection without a word, as a server's idle
// timeout does.
func (s *Server) Hangup() {
	s.mu.Lock()
	var cs []*conn
	for _, c := range s.open {
		cs = append(cs, c)
	}
	s.mu.Unlock()
	for _, c := range cs {
		c.Close()
	}
}

// Host and Port split Addr for a config.
func (s *Server) Host() string { h, _, _ := net.SplitHostPort(s.Addr); return h }

// Port is the port of Addr.
func (s *Server) Port() int { return s.ln.Addr().(*net.TCPAddr).Port }

// listener numbers connections as they arrive, rather than sessions:
// go-smtp starts a new session after STARTTLS, but a test asks which
// connection a message used.
type listener struct {
	net.Listener
	s *Server
}

func (l listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	l.s.mu.Lock()
	defer l.s.mu.Unlock()
	l.s.conns++
	_, isTLS := c.(*tls.Conn)
	tc := newConn(c, l.s, l.s.conns, isTLS)
	l.s.open[tc.n] = tc
	return tc, nil
}

// A conn is open until either side closes it: go-smtp closes it on QUIT
// or when the client hangs up, so Open tells a test whether a client left.

type session struct {
	s    *Server
	conn *smtp.Conn
	n    int
	user string // logged in as
	from string
	utf8 bool
	to   []string
	try  int // the try of to[0]
}

func (x *session) Reset()        { x.from, x.to = "", nil }
func (x *session) Logout() error { return nil }

func (x *session) AuthMechanisms() []string {
	if x.s.o.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (x *session) Auth(mech string) (sasl.Server, error) {
	if mech != sasl.Plain {
		return nil, smtp.ErrAuthUnknownMechanism
	}
	return sasl.NewPlainServer(func(_, user, pass string) error {
		if user != x.s.o.User || pass != x.s.o.Pass {
			return smtp.ErrAuthFailed
		}
		x.user = user
		return nil
	}), nil
}

func (x *session) Mail(from string, o *smtp.MailOptions) error {
	if x.s.o.User != "" && x.user == "" {
		return smtp.ErrAuthRequired
	}
	x.from, x.utf8 = from, o.UTF8
	return nil
}

func (x *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	x.s.mu.Lock()
	x.s.tries[to]++
	try := x.s.tries[to]
	x.s.rcpts = append(x.s.rcpts, RcptTry{To: to, Session: x.n})
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
	drop, hook, delay := x.s.DropData, x.s.Data, x.s.Delay
	x.s.mu.Unlock()
	// go-smtp answers DATA itself until a RCPT TO was accepted.
	to := x.to[0]
	if drop != nil && drop(to, x.try) {
		io.CopyN(io.Discard, r, 512)
		x.conn.Conn().Close()
		io.Copy(io.Discard, r)
		return errors.New("smtptest: connection dropped")
	}
	var data []byte
	var err error
	if x.s.o.Discard {
		_, err = io.Copy(io.Discard, r)
	} else {
		data, err = io.ReadAll(r)
	}
	if err != nil {
		return err
	}
	time.Sleep(delay)
	if hook != nil {
		if err := hook(to, x.try); err != nil {
			return err
		}
	}
	isTLS := x.conn.Conn().(*conn).tls
	x.s.mu.Lock()
	x.s.msgs = append(x.s.msgs, Message{From: x.from, To: slices.Clone(x.to), Data: data, Session: x.n, TLS: isTLS, User: x.user, UTF8: x.utf8})
	x.s.mu.Unlock()
	return nil
}
