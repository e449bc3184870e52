package deliver

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"io"
	"log"
	"math/big"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	gosmtp "github.com/emersion/go-smtp"
)

// testServer is an in-process go-smtp server that records what arrives
// per connection, with hooks to inject faults. It is a real protocol
// peer: the client under test talks to it over TCP on 127.0.0.1.
type testServer struct {
	Host string
	Port int
	srv  *gosmtp.Server

	// Hooks, set before the first message. n counts how often this
	// recipient has been seen by RCPT (1 on the first try).
	OnMail func(s *session, from string) error
	OnRcpt func(s *session, to string, n int) error
	// OnData may consume r itself (and return its verdict); handled
	// false lets the server record the message normally.
	OnData func(s *session, to string, r io.Reader) (handled bool, err error)
	// Discard drops message bodies instead of keeping them (benchmarks).
	Discard bool
	// User and Pass, when set, are required (AUTH PLAIN) before MAIL.
	User, Pass string

	conns atomic.Int64 // TCP connections accepted

	mu       sync.Mutex
	sessions []*session
	rcptSeen map[string]int
	rcpts    []rcptTry
	msgs     []received
	accepted atomic.Int64
}

type rcptTry struct {
	To   string
	Conn int64
}

type received struct {
	From, To string
	Data     []byte
	Conn     int64
	TLS      bool
	User     string
}

type session struct {
	srv       *testServer
	conn      *gosmtp.Conn
	ConnID    int64
	TLS       bool
	User      string
	from      string
	to        string
	loggedOut atomic.Bool
}

// countedConn numbers each accepted TCP connection, so tests can tell
// connections apart even across STARTTLS (which starts a new session).
type countedConn struct {
	net.Conn
	id int64
}

type countingListener struct {
	net.Listener
	n *atomic.Int64
}

func (l countingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return &countedConn{Conn: c, id: l.n.Add(1)}, nil
}

func connID(c net.Conn) int64 {
	if tc, ok := c.(*tls.Conn); ok {
		c = tc.NetConn()
	}
	if cc, ok := c.(*countedConn); ok {
		return cc.id
	}
	return -1
}

type serverMode int

const (
	plainServer       serverMode = iota
	startTLSServer               // offers STARTTLS
	implicitTLSServer            // TLS from the first byte
)

// newTestServer starts a server; it stops when the test ends. The
// returned certificate pool trusts its certificate.
func newTestServer(t testing.TB, mode serverMode, configure func(*testServer)) (*testServer, *x509.CertPool) {
	t.Helper()
	ts := &testServer{rcptSeen: map[string]int{}}
	if configure != nil {
		configure(ts)
	}
	s := gosmtp.NewServer(gosmtp.BackendFunc(func(c *gosmtp.Conn) (gosmtp.Session, error) {
		_, isTLS := c.TLSConnectionState()
		sess := &session{srv: ts, conn: c, ConnID: connID(c.Conn()), TLS: isTLS}
		ts.mu.Lock()
		ts.sessions = append(ts.sessions, sess)
		ts.mu.Unlock()
		return sess, nil
	}))
	s.Domain = "mx.test"
	s.ErrorLog = log.New(io.Discard, "", 0)
	s.AllowInsecureAuth = true // loopback; the client decides what it sends
	s.MaxMessageBytes = 10 << 20
	s.ReadTimeout = 30 * time.Second
	s.WriteTimeout = 30 * time.Second

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var l net.Listener = countingListener{Listener: ln, n: &ts.conns}
	var pool *x509.CertPool
	if mode != plainServer {
		cert, p := selfSigned(t)
		pool = p
		cfg := &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}
		if mode == startTLSServer {
			s.TLSConfig = cfg
		} else {
			l = tls.NewListener(l, cfg)
		}
	}
	ts.srv = s
	addr := ln.Addr().(*net.TCPAddr)
	ts.Host, ts.Port = addr.IP.String(), addr.Port
	go s.Serve(l)
	t.Cleanup(func() { s.Close() })
	return ts, pool
}

// options are SMTPOptions for this server with fast retries.
func (ts *testServer) options(tlsMode string) SMTPOptions {
	return SMTPOptions{
		Host: ts.Host, Port: ts.Port, TLS: tlsMode, Connections: 4,
		From: "digest@example.org", Timeout: 10 * time.Second,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond },
	}
}

func (ts *testServer) received() []received {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]received(nil), ts.msgs...)
}

func (ts *testServer) rcptTries() []rcptTry {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]rcptTry(nil), ts.rcpts...)
}

func (ts *testServer) allSessions() []*session {
	ts.mu.Lock()
	defer ts.mu.Unlock()
	return append([]*session(nil), ts.sessions...)
}

func (s *session) AuthMechanisms() []string {
	if s.srv.User == "" {
		return nil
	}
	return []string{sasl.Plain}
}

func (s *session) Auth(mech string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(identity, username, password string) error {
		if username != s.srv.User || password != s.srv.Pass {
			return gosmtp.ErrAuthFailed
		}
		s.User = username
		return nil
	}), nil
}

func (s *session) Mail(from string, _ *gosmtp.MailOptions) error {
	if s.srv.User != "" && s.User == "" {
		return gosmtp.ErrAuthRequired
	}
	if s.srv.OnMail != nil {
		if err := s.srv.OnMail(s, from); err != nil {
			return err
		}
	}
	s.from = from
	return nil
}

func (s *session) Rcpt(to string, _ *gosmtp.RcptOptions) error {
	s.srv.mu.Lock()
	s.srv.rcptSeen[to]++
	n := s.srv.rcptSeen[to]
	s.srv.rcpts = append(s.srv.rcpts, rcptTry{To: to, Conn: s.ConnID})
	s.srv.mu.Unlock()
	if s.srv.OnRcpt != nil {
		if err := s.srv.OnRcpt(s, to, n); err != nil {
			return err
		}
	}
	s.to = to
	return nil
}

func (s *session) Data(r io.Reader) error {
	if s.srv.OnData != nil {
		if handled, err := s.srv.OnData(s, s.to, r); handled {
			return err
		}
	}
	rec := received{From: s.from, To: s.to, Conn: s.ConnID, TLS: s.TLS, User: s.User}
	if s.srv.Discard {
		if _, err := io.Copy(io.Discard, r); err != nil {
			return err
		}
	} else {
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		rec.Data = b
	}
	s.srv.accepted.Add(1)
	if !s.srv.Discard {
		s.srv.mu.Lock()
		s.srv.msgs = append(s.srv.msgs, rec)
		s.srv.mu.Unlock()
	}
	return nil
}

func (s *session) Reset()        { s.from, s.to = "", "" }
func (s *session) Logout() error { s.loggedOut.Store(true); return nil }

// dropAfter reads n bytes of the message and then cuts the connection,
// as a crashing or overloaded server would.
func (s *session) dropAfter(r io.Reader, n int64) error {
	_, _ = io.CopyN(io.Discard, r, n)
	_ = s.conn.Conn().Close()
	return errors.New("connection dropped by test")
}

func selfSigned(t testing.TB) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "mx.test"},
		DNSNames:     []string{"localhost", "mx.test"},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// smtpErr is a reply the server sends.
func smtpErr(code int, enhanced [3]int, msg string) *gosmtp.SMTPError {
	return &gosmtp.SMTPError{Code: code, EnhancedCode: gosmtp.EnhancedCode(enhanced), Message: msg}
}

func addr(i int) string { return "reader" + strconv.Itoa(i) + "@example.net" }
