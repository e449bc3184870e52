package deliver

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gull/digest/deliver/smtptest"
)

// startServer starts an in-process SMTP server that stops when the test
// ends: a real protocol peer, over TCP on 127.0.0.1.
func startServer(t testing.TB, o smtptest.Options) *smtptest.Server {
	t.Helper()
	srv, err := smtptest.StartWith(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Close() })
	return srv
}

// smtpOptions are SMTPOptions for srv with fast retries.
func smtpOptions(srv *smtptest.Server, tlsMode string) SMTPOptions {
	return SMTPOptions{
		Host: srv.Host(), Port: srv.Port(), TLS: tlsMode, Connections: 4,
		From: "digest@example.org", Timeout: 10 * time.Second,
		Backoff: func(int) time.Duration { return 5 * time.Millisecond },
	}
}

// selfSigned returns a server TLS config with a fresh certificate for
// 127.0.0.1, and a pool that trusts it.
func selfSigned(t testing.TB) (*tls.Config, *x509.CertPool) {
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
	cert := tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}
	return &tls.Config{Certificates: []tls.Certificate{cert}, MinVersion: tls.VersionTLS12}, pool
}

func addr(i int) string { return "reader" + strconv.Itoa(i) + "@example.net" }

// wireMessage is a CRLF message of about size bytes with the awkward
// bits DATA must survive: lines that start with a dot, a lone dot line,
// and a last line that is a dot.
func wireMessage(to string, size int) Outgoing {
	var b bytes.Buffer
	fmt.Fprintf(&b, "From: Digest <digest@example.org>\r\nTo: %s\r\nSubject: test\r\nMessage-ID: <%s.test@example.org>\r\n\r\n", to, to)
	b.WriteString(".leading dot\r\n.\r\n..two dots\r\n")
	line := strings.Repeat("x", 70) + "\r\n"
	for b.Len() < size {
		b.WriteString(line)
	}
	b.WriteString(".\r\n")
	return Outgoing{IssueID: "2026-W48", From: "digest@example.org", To: to, MessageID: "<" + to + ".test@example.org>", Body: b.Bytes()}
}

func newSMTP(t testing.TB, o SMTPOptions) *SMTP {
	t.Helper()
	s, err := NewSMTP(o)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// logRecorder keeps every log record, to check what Send reports.
type logRecorder struct {
	mu   sync.Mutex
	recs []slog.Record
}

func (h *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (h *logRecorder) Handle(_ context.Context, r slog.Record) error {
	h.mu.Lock()
	h.recs = append(h.recs, r.Clone())
	h.mu.Unlock()
	return nil
}
func (h *logRecorder) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *logRecorder) WithGroup(string) slog.Handler      { return h }

// attrs returns the attributes of the records with message msg whose
// "to" is to.
func (h *logRecorder) find(msg, to string) []map[string]slog.Value {
	h.mu.Lock()
	defer h.mu.Unlock()
	var out []map[string]slog.Value
	for _, r := range h.recs {
		if r.Message != msg {
			continue
		}
		m := map[string]slog.Value{}
		r.Attrs(func(a slog.Attr) bool { m[a.Key] = a.Value; return true })
		if m["to"].String() == to {
			out = append(out, m)
		}
	}
	return out
}

func (h *logRecorder) text() string {
	h.mu.Lock()
	defer h.mu.Unlock()
	var b strings.Builder
	for _, r := range h.recs {
		b.WriteString(r.Message)
		r.Attrs(func(a slog.Attr) bool { fmt.Fprintf(&b, " %s=%v", a.Key, a.Value); return true })
		b.WriteByte('\n')
	}
	return b.String()
}

func asError(t *testing.T, err error) *Error {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *deliver.Error", err, err)
	}
	return e
}

// sendAll sends msgs from 16 goroutines at once and returns each error.
func sendAll(t *testing.T, s Transport, msgs []Outgoing) []error {
	t.Helper()
	errs := make([]error, len(msgs))
	var wg sync.WaitGroup
	next := make(chan int)
	for range 16 {
		wg.Go(func() {
			for i := range next {
				errs[i] = s.Send(t.Context(), msgs[i])
			}
		})
	}
	for i := range msgs {
		next <- i
	}
	close(next)
	wg.Wait()
	return errs
}

func TestSMTPPoolReusesConnections(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	s := newSMTP(t, smtpOptions(srv, "none"))
	const n = 300
	msgs := make([]Outgoing, n)
	for i := range msgs {
		msgs[i] = wireMessage(addr(i), 30<<10)
	}
	for i, err := range sendAll(t, s, msgs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	got := srv.Messages()
	if len(got) != n {
		t.Fatalf("%d messages arrived, want %d", len(got), n)
	}
	byTo := map[string]smtptest.Message{}
	for _, r := range got {
		if len(r.To) != 1 {
			t.Fatalf("RCPT TO %v, want one recipient", r.To)
		}
		if _, dup := byTo[r.To[0]]; dup {
			t.Errorf("%s received twice", r.To[0])
		}
		byTo[r.To[0]] = r
	}
	for _, m := range msgs {
		r := byTo[m.To]
		if r.From != m.From {
			t.Errorf("MAIL FROM %q, want %q", r.From, m.From)
		}
		if !bytes.Equal(r.Data, m.Body) {
			t.Fatalf("%s: body differs (%d bytes arrived, %d sent)\nfirst diff at %d", m.To, len(r.Data), len(m.Body), firstDiff(r.Data, m.Body))
		}
	}
	// Without STARTTLS each connection is one SMTP session.
	if c := srv.Sessions(); c > 4 {
		t.Errorf("%d TCP connections for %d messages; want at most 4 (the pool size)", c, n)
	}
	if got, want := s.String(), fmt.Sprintf("%s:%d (none, 4 connections)", srv.Host(), srv.Port()); got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}

// TestSMTPEnvelope: MAIL FROM and RCPT TO carry <address> (RFC 5321
// §4.1.2), which the strict test server insists on as mailpit and Gmail
// do; the null sender goes out as <>; SMTPUTF8 is claimed only for a
// non-ASCII address, which the server refuses without it.
func TestSMTPEnvelope(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	s := newSMTP(t, smtpOptions(srv, "none"))
	bounce := wireMessage("reader@example.org", 1<<10)
	bounce.From = ""
	korean := wireMessage("독자@예시.한국", 1<<10)
	for _, m := range []Outgoing{wireMessage("reader@example.org", 1<<10), bounce, korean} {
		if err := s.Send(t.Context(), m); err != nil {
			t.Fatalf("MAIL FROM %q RCPT TO %q: %v", m.From, m.To, err)
		}
	}
	got := srv.Messages()
	if len(got) != 3 {
		t.Fatalf("%d arrived, want 3", len(got))
	}
	want := []struct {
		from, to string
		utf8     bool
	}{{"digest@example.org", "reader@example.org", false}, {"", "reader@example.org", false}, {"digest@example.org", "독자@예시.한국", true}}
	for i, w := range want {
		if r := got[i]; r.From != w.from || len(r.To) != 1 || r.To[0] != w.to || r.UTF8 != w.utf8 {
			t.Errorf("message %d: MAIL FROM %q RCPT TO %q SMTPUTF8 %v; want %q, %q, %v", i, r.From, r.To, r.UTF8, w.from, w.to, w.utf8)
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range min(len(a), len(b)) {
		if a[i] != b[i] {
			return i
		}
	}
	return min(len(a), len(b))
}

func TestSMTPRetriesTemporaryOnAnotherConnection(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.Rcpt = func(to string, try int) error {
		if try == 1 && strings.HasPrefix(to, "reader1") { // reader1, reader10..19
			return smtptest.Reply(451, "4.7.1", "Greylisted, try again later")
		}
		return nil
	}
	logs := &logRecorder{}
	o := smtpOptions(srv, "none")
	o.Logger = slog.New(logs)
	s := newSMTP(t, o)
	msgs := make([]Outgoing, 30)
	for i := range msgs {
		msgs[i] = wireMessage(addr(i), 2<<10)
	}
	for i, err := range sendAll(t, s, msgs) {
		if err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	if got := len(srv.Messages()); got != len(msgs) {
		t.Fatalf("%d arrived, want %d", got, len(msgs))
	}
	tries := map[string][]int{}
	for _, r := range srv.RcptTries() {
		tries[r.To] = append(tries[r.To], r.Session)
	}
	greylisted := 0
	for _, m := range msgs {
		conns := tries[m.To]
		want := 1
		if strings.HasPrefix(m.To, "reader1") {
			want = 2
			greylisted++
			if len(conns) == 2 && conns[0] == conns[1] {
				t.Errorf("%s: retried on connection %d, the one that failed", m.To, conns[1])
			}
			if w := logs.find("smtp: temporary failure, will retry", m.To); len(w) != 1 || w[0]["code"].Int64() != 451 {
				t.Errorf("%s: want one Warn with code 451, got %v", m.To, w)
			}
		}
		if len(conns) != want {
			t.Errorf("%s: %d RCPT tries, want %d", m.To, len(conns), want)
		}
		sent := logs.find("smtp: sent", m.To)
		if len(sent) != 1 || sent[0]["attempts"].Int64() != int64(want) {
			t.Errorf("%s: sent log %v, want attempts=%d", m.To, sent, want)
		}
	}
	if greylisted != 11 {
		t.Fatalf("test set-up: %d greylisted, want 11", greylisted)
	}
	if strings.Contains(logs.text(), "xxxxxxxxxx") {
		t.Error("a message body was logged")
	}
}

func TestSMTPBadAddressIsPermanent(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.Rcpt = func(to string, _ int) error {
		if to == addr(3) {
			return smtptest.Reply(550, "5.1.1", "No such user\r\nhere")
		}
		return nil
	}
	s := newSMTP(t, smtpOptions(srv, "none"))
	msgs := make([]Outgoing, 10)
	for i := range msgs {
		msgs[i] = wireMessage(addr(i), 2<<10)
	}
	errs := sendAll(t, s, msgs)
	for i, err := range errs {
		if i == 3 {
			continue
		}
		if err != nil {
			t.Errorf("message %d: %v", i, err)
		}
	}
	e := asError(t, errs[3])
	if !e.Permanent() || !e.BadAddress() || e.Temporary() {
		t.Errorf("550 5.1.1: Permanent %v BadAddress %v Temporary %v; want true true false", e.Permanent(), e.BadAddress(), e.Temporary())
	}
	if e.Attempts != 1 || e.Code != 550 || e.Enhanced != "5.1.1" || e.Stage != StageRcpt {
		t.Errorf("got %+v", e)
	}
	if strings.ContainsAny(e.Reply, "\r\n") || !strings.Contains(e.Reply, "No such user") {
		t.Errorf("Reply %q: want the server's text on one line", e.Reply)
	}
	if got := len(srv.Messages()); got != 9 {
		t.Errorf("%d arrived, want 9", got)
	}
	n := 0
	for _, r := range srv.RcptTries() {
		if r.To == addr(3) {
			n++
		}
	}
	if n != 1 {
		t.Errorf("the bad address was tried %d times, want 1 (5xx is never retried)", n)
	}
	// The refusal was RSET, not a reason to hang up.
	if c := srv.Sessions(); c > 4 {
		t.Errorf("%d connections; a 550 must not cost a connection", c)
	}
}

func TestSMTPPermanentNotBadAddress(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.Data = func(string, int) error {
		return smtptest.Reply(552, "5.3.4", "Message too big for system")
	}
	s := newSMTP(t, smtpOptions(srv, "none"))
	e := asError(t, s.Send(t.Context(), wireMessage(addr(1), 2<<10)))
	if !e.Permanent() || e.BadAddress() || e.Temporary() || e.Attempts != 1 || e.Stage != StageData || e.Code != 552 {
		t.Errorf("552 5.3.4 at DATA: %+v Permanent %v BadAddress %v", e, e.Permanent(), e.BadAddress())
	}
	if !strings.Contains(e.Error(), "552 5.3.4 Message too big") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestSMTPDroppedMidDataIsRetriedOnce(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.DropData = func(to string, try int) bool { return to == addr(2) && try == 1 }
	logs := &logRecorder{}
	o := smtpOptions(srv, "none")
	o.Connections = 1
	o.Logger = slog.New(logs)
	s := newSMTP(t, o)
	for i := range 4 {
		if err := s.Send(t.Context(), wireMessage(addr(i), 30<<10)); err != nil {
			t.Fatalf("message %d: %v", i, err)
		}
	}
	n := 0
	var conns []int
	for _, r := range srv.Messages() {
		if r.To[0] == addr(2) {
			n++
		}
		conns = append(conns, r.Session)
	}
	if n != 1 {
		t.Fatalf("%s arrived %d times, want once", addr(2), n)
	}
	if conns[0] != conns[1] || conns[2] == conns[1] || conns[3] != conns[2] {
		t.Errorf("connections per message %v; want the drop to cost exactly one new connection", conns)
	}
	if sent := logs.find("smtp: sent", addr(2)); len(sent) != 1 || sent[0]["attempts"].Int64() != 2 {
		t.Errorf("sent log %v, want attempts=2", sent)
	}
}

func TestSMTPGivesUpAfterMaxAttempts(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	srv.Rcpt = func(string, int) error {
		return smtptest.Reply(452, "4.2.2", "Mailbox full, try later")
	}
	o := smtpOptions(srv, "none")
	o.MaxAttempts = 3
	s := newSMTP(t, o)
	e := asError(t, s.Send(t.Context(), wireMessage(addr(1), 1<<10)))
	if !e.Temporary() || e.Permanent() || e.BadAddress() || e.Attempts != 3 || e.Code != 452 || e.Enhanced != "4.2.2" {
		t.Errorf("got %+v (Temporary %v)", e, e.Temporary())
	}
	if got := len(srv.RcptTries()); got != 3 {
		t.Errorf("%d RCPT tries, want 3", got)
	}
	if !strings.Contains(e.Error(), "after 3 attempts") {
		t.Errorf("Error() = %q", e.Error())
	}
}

func TestSMTPContextCancelledDuringBackoff(t *testing.T) {
	failed := make(chan struct{}, 1)
	srv := startServer(t, smtptest.Options{})
	srv.Rcpt = func(string, int) error {
		select {
		case failed <- struct{}{}:
		default:
		}
		return smtptest.Reply(421, "4.3.2", "Too busy, closing")
	}
	o := smtpOptions(srv, "none")
	o.Backoff = func(int) time.Duration { return time.Hour }
	s := newSMTP(t, o)
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-failed; cancel() }()
	start := time.Now()
	err := s.Send(ctx, wireMessage(addr(1), 1<<10))
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Send took %v after cancel; want prompt", d)
	}
	e := asError(t, err)
	if !e.Temporary() || e.Attempts != 1 || e.Code != 421 {
		t.Errorf("got %+v; want the temporary 421 after 1 attempt", e)
	}
	if len(srv.Messages()) != 0 {
		t.Error("message was sent")
	}
	// A cancelled context before anything started is a temporary,
	// not-sent error too.
	e = asError(t, s.Send(ctx, wireMessage(addr(2), 1<<10)))
	if !e.Temporary() || e.Attempts != 0 || !errors.Is(e, context.Canceled) {
		t.Errorf("Send with a done context: %+v", e)
	}
}

// An in-flight transaction is not cut by ctx: Ctrl-C lets it finish.
func TestSMTPContextDoesNotAbortTransaction(t *testing.T) {
	inData := make(chan struct{})
	srv := startServer(t, smtptest.Options{})
	srv.Data = func(string, int) error {
		close(inData)
		time.Sleep(200 * time.Millisecond) // the reply to the end of DATA
		return nil
	}
	s := newSMTP(t, smtpOptions(srv, "none"))
	ctx, cancel := context.WithCancel(t.Context())
	go func() { <-inData; cancel() }()
	if err := s.Send(ctx, wireMessage(addr(1), 1<<10)); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(srv.Messages()) != 1 {
		t.Error("message did not arrive")
	}
}

// A connection the server closed while it sat idle is redialed at once,
// without a backoff and without counting as a failed try.
func TestSMTPIdleConnectionClosedByServer(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	logs := &logRecorder{}
	o := smtpOptions(srv, "none")
	o.Connections = 1
	o.Backoff = func(int) time.Duration { return time.Hour }
	o.Logger = slog.New(logs)
	s := newSMTP(t, o)
	if err := s.Send(t.Context(), wireMessage(addr(1), 1<<10)); err != nil {
		t.Fatal(err)
	}
	srv.Hangup() // the server's idle timeout
	time.Sleep(20 * time.Millisecond)
	if err := s.Send(t.Context(), wireMessage(addr(2), 1<<10)); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if sent := logs.find("smtp: sent", addr(2)); len(sent) != 1 || sent[0]["attempts"].Int64() != 1 {
		t.Errorf("sent log %v; want attempts=1", sent)
	}
	if srv.Sessions() != 2 {
		t.Errorf("%d connections, want 2", srv.Sessions())
	}
}

func TestSMTPStartTLSAndAuth(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := startServer(t, smtptest.Options{TLS: cfg, User: "digest", Pass: "s3cret"})
	o := smtpOptions(srv, "starttls")
	o.Username, o.Password = "digest", "s3cret"
	o.TLSConfig = &tls.Config{RootCAs: pool}
	s := newSMTP(t, o)
	if err := s.Check(t.Context()); err != nil {
		t.Fatalf("Check: %v", err)
	}
	for i := range 5 {
		if err := s.Send(t.Context(), wireMessage(addr(i), 4<<10)); err != nil {
			t.Fatalf("Send: %v", err)
		}
	}
	got := srv.Messages()
	if len(got) != 5 {
		t.Fatalf("%d arrived", len(got))
	}
	for _, r := range got {
		if !r.TLS || r.User != "digest" {
			t.Errorf("message arrived with TLS=%v user=%q; want TLS and the login", r.TLS, r.User)
		}
	}

	// A wrong password: a clear error naming the keys, and the message
	// is neither retried nor marked as refused.
	o.Password = "wrong"
	bad := newSMTP(t, o)
	err := bad.Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "mail.smtp.username") || !strings.Contains(err.Error(), "535") || strings.Contains(err.Error(), "wrong") {
		t.Errorf("Check with a wrong password: %v", err)
	}
	e := asError(t, bad.Send(t.Context(), wireMessage(addr(9), 1<<10)))
	if e.Temporary() || e.Permanent() || e.Attempts != 1 || e.Stage != StageConnect {
		t.Errorf("auth failure: %+v Temporary %v Permanent %v; want neither, 1 attempt", e, e.Temporary(), e.Permanent())
	}

	// An untrusted certificate is a setup error too.
	o.Password = "s3cret"
	o.TLSConfig = nil
	untrusted := newSMTP(t, o)
	if err := untrusted.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "certificate") || !strings.Contains(err.Error(), "mail.smtp.tls") {
		t.Errorf("Check against a self-signed certificate without trusting it: %v", err)
	}
}

func TestSMTPImplicitTLS(t *testing.T) {
	cfg, pool := selfSigned(t)
	srv := startServer(t, smtptest.Options{TLS: cfg, ImplicitTLS: true})
	o := smtpOptions(srv, "tls")
	o.TLSConfig = &tls.Config{RootCAs: pool}
	s := newSMTP(t, o)
	if err := s.Send(t.Context(), wireMessage(addr(1), 4<<10)); err != nil {
		t.Fatal(err)
	}
	if got := srv.Messages(); len(got) != 1 || !got[0].TLS {
		t.Errorf("received %+v; want one message over TLS", got)
	}
	// starttls against a TLS-only port fails clearly.
	o.TLS = "none"
	o.Timeout = 2 * time.Second
	plain := newSMTP(t, o)
	if err := plain.Check(t.Context()); err == nil || !strings.Contains(err.Error(), "mail.smtp.tls") {
		t.Errorf("plain text to a TLS port: %v", err)
	}
}

func TestSMTPNoStartTLSOffered(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	s := newSMTP(t, smtpOptions(srv, "starttls"))
	err := s.Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "does not offer STARTTLS") || !strings.Contains(err.Error(), "mail.smtp.tls") {
		t.Fatalf("Check: %v", err)
	}
	e := asError(t, s.Send(t.Context(), wireMessage(addr(1), 1<<10)))
	if e.Temporary() || e.Permanent() || e.Attempts != 1 {
		t.Errorf("got %+v; a setup problem is not retried and not the message's fault", e)
	}
	if len(srv.Messages()) != 0 {
		t.Error("a message went out in plain text")
	}
}

func TestSMTPPlainAuthOverLoopback(t *testing.T) {
	srv := startServer(t, smtptest.Options{User: "u", Pass: "p"})
	o := smtpOptions(srv, "none")
	o.Username, o.Password = "u", "p"
	s := newSMTP(t, o)
	if err := s.Send(t.Context(), wireMessage(addr(1), 1<<10)); err != nil {
		t.Fatal(err)
	}
}

func TestNewSMTPOptionErrors(t *testing.T) {
	for _, c := range []struct {
		o    SMTPOptions
		want []string
	}{
		{SMTPOptions{Host: "smtp.example.org", Port: 25, TLS: "none", Username: "u", Password: "p"},
			[]string{"mail.smtp.tls", "unencrypted", "smtp.example.org"}},
		{SMTPOptions{Host: "smtp.example.org", Port: 587, TLS: "starttls", Username: "u"},
			[]string{"mail.smtp.password_env"}},
		{SMTPOptions{Host: "", Port: 0, TLS: "ssl", Connections: 100, Rate: -1},
			[]string{"mail.smtp.host", "mail.smtp.port", "mail.smtp.tls", "mail.smtp.connections", "mail.smtp.rate"}},
	} {
		_, err := NewSMTP(c.o)
		if err == nil {
			t.Errorf("%+v: no error", c.o)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%+v: error %q does not mention %q", c.o, err, w)
			}
		}
		if c.o.Password != "" && strings.Contains(err.Error(), c.o.Password+"\"") {
			t.Errorf("error shows the password: %v", err)
		}
	}
	for _, host := range []string{"127.0.0.1", "localhost", "::1", "127.0.0.2"} {
		if _, err := NewSMTP(SMTPOptions{Host: host, Port: 25, TLS: "none", Username: "u", Password: "p"}); err != nil {
			t.Errorf("loopback %s without TLS: %v", host, err)
		}
	}
}

func TestSMTPUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	o := SMTPOptions{Host: "127.0.0.1", Port: port, TLS: "none", MaxAttempts: 2, Backoff: func(int) time.Duration { return time.Millisecond }}
	s := newSMTP(t, o)
	err = s.Check(t.Context())
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:") || !strings.Contains(err.Error(), "mail.smtp.host") {
		t.Errorf("Check: %v", err)
	}
	e := asError(t, s.Send(t.Context(), wireMessage(addr(1), 100)))
	if !e.Temporary() || e.Attempts != 2 {
		t.Errorf("refused connection: %+v; want temporary after 2 attempts", e)
	}
}

func TestSMTPRate(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	o := smtpOptions(srv, "none")
	o.Rate = 50
	s := newSMTP(t, o)
	msgs := make([]Outgoing, 20)
	for i := range msgs {
		msgs[i] = wireMessage(addr(i), 1<<10)
	}
	start := time.Now()
	for _, err := range sendAll(t, s, msgs) {
		if err != nil {
			t.Fatal(err)
		}
	}
	// 20 messages at 50/s with burst 1: 19 gaps of 20 ms.
	if d := time.Since(start); d < 350*time.Millisecond {
		t.Errorf("20 messages at 50/s took %v; want >= 350ms", d)
	}
	// The limiter's wait gives way to ctx.
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Millisecond)
	defer cancel()
	slow := newSMTP(t, SMTPOptions{Host: srv.Host(), Port: srv.Port(), TLS: "none", Rate: 0.01})
	_ = slow.Send(ctx, wireMessage(addr(1), 100)) // takes the one token
	if err := slow.Send(ctx, wireMessage(addr(2), 100)); err == nil || !asError(t, err).Temporary() {
		t.Errorf("rate wait past the deadline: %v", err)
	}
}

func TestSMTPCloseQuits(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	s, err := NewSMTP(smtpOptions(srv, "none"))
	if err != nil {
		t.Fatal(err)
	}
	msgs := make([]Outgoing, 8)
	for i := range msgs {
		msgs[i] = wireMessage(addr(i), 1<<10)
	}
	sendAll(t, s, msgs)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal("second Close:", err)
	}
	deadline := time.Now().Add(2 * time.Second)
	for len(srv.Open()) > 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	for _, n := range srv.Open() {
		t.Errorf("session on connection %d still open after Close", n)
	}
	e := asError(t, s.Send(t.Context(), msgs[0]))
	if !errors.Is(e, ErrClosed) {
		t.Errorf("Send after Close: %v", e)
	}
}

func TestSMTPInvalidEnvelope(t *testing.T) {
	s := newSMTP(t, SMTPOptions{Host: "127.0.0.1", Port: 1, TLS: "none"})
	m := wireMessage("a@example.org\r\nRCPT TO:<b@example.org>", 100)
	e := asError(t, s.Send(t.Context(), m))
	if !e.Permanent() || e.BadAddress() || !errors.Is(e, ErrInvalidEnvelope) {
		t.Errorf("%+v", e)
	}
}

// TestSMTPNoAnswerAfterTheMessageIsNotRetried: a server that takes the
// whole message and then says nothing in time may have delivered it, so
// Send reports it in doubt after one try instead of sending it again
// (which is how a slow server got four copies).
func TestSMTPNoAnswerAfterTheMessageIsNotRetried(t *testing.T) {
	srv := startServer(t, smtptest.Options{})
	release := make(chan struct{})
	srv.Data = func(string, int) error {
		<-release
		return nil
	}
	o := smtpOptions(srv, "none")
	o.ReplyTimeout = 200 * time.Millisecond
	s := newSMTP(t, o)
	e := asError(t, s.Send(t.Context(), wireMessage(addr(1), 30<<10)))
	close(release)
	if !e.InDoubt() || !e.Temporary() || e.Permanent() || e.Attempts != 1 {
		t.Fatalf("%v: InDoubt %v Temporary %v Permanent %v after %d attempts; want in doubt after 1",
			e, e.InDoubt(), e.Temporary(), e.Permanent(), e.Attempts)
	}
	deadline := time.Now().Add(5 * time.Second)
	for len(srv.Messages()) == 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the server got %d copies, want 1", n)
	}
}

func TestErrorClassification(t *testing.T) {
	for _, c := range []struct {
		e               *Error
		temp, perm, bad bool
	}{
		{&Error{Code: 451, Stage: StageRcpt}, true, false, false},
		{&Error{Code: 421, Stage: StageConnect}, true, false, false},
		{&Error{Code: 550, Enhanced: "5.1.1", Stage: StageRcpt}, false, true, true},
		{&Error{Code: 550, Enhanced: "5.1.10", Stage: StageRcpt}, false, true, true},
		{&Error{Code: 553, Enhanced: "5.1.3", Stage: StageData}, false, true, true},
		{&Error{Code: 550, Enhanced: "5.7.1", Stage: StageRcpt}, false, true, false},
		{&Error{Code: 550, Enhanced: "5.1.7", Stage: StageRcpt}, false, true, false},
		// A refused MAIL FROM is about the sender, the same for every
		// reader: not this message's fault, so not Permanent (it stays
		// pending until the setup is fixed).
		{&Error{Code: 553, Enhanced: "5.1.8", Stage: StageMail}, false, false, false},
		{&Error{Code: 550, Enhanced: "5.1.1", Stage: StageMail}, false, false, false},
		{&Error{Code: 530, Enhanced: "5.7.0", Stage: StageMail}, false, false, false},
		{&Error{Code: 550, Stage: StageRcpt}, false, true, false},
		{&Error{Code: 535, Enhanced: "5.7.8", Stage: StageConnect}, false, false, false},
		{&Error{Stage: StageData, Err: io.EOF}, true, false, false},
		{&Error{Stage: StageData, Err: io.ErrUnexpectedEOF}, true, false, false},
		{&Error{Stage: StageMail, Err: &net.OpError{Op: "read", Err: errors.New("connection reset")}}, true, false, false},
		{&Error{Stage: StageData, Err: context.DeadlineExceeded}, true, false, false},
		{&Error{Stage: StageConnect, Err: fmt.Errorf("x: %w", errSetup)}, false, false, false},
		{&Error{Stage: StageConnect, Err: &tls.CertificateVerificationError{}}, false, false, false},
	} {
		if c.e.Temporary() != c.temp || c.e.Permanent() != c.perm || c.e.BadAddress() != c.bad {
			t.Errorf("%+v: Temporary %v Permanent %v BadAddress %v; want %v %v %v",
				c.e, c.e.Temporary(), c.e.Permanent(), c.e.BadAddress(), c.temp, c.perm, c.bad)
		}
	}
}

func TestDotStuff(t *testing.T) {
	for in, want := range map[string]string{
		"a\r\nb\r\n":         "a\r\nb",
		".a\r\n.\r\n":        "..a\r\n..",
		"a\n.b\nc":           "a\r\n..b\r\nc",
		"":                   "",
		"\r\n":               "",
		"x\r\n\r\n.\r\n\r\n": "x\r\n\r\n..\r\n",
	} {
		if got := string(dotStuff(nil, []byte(in))); got != want {
			t.Errorf("dotStuff(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzDotStuff: whatever the body, the server reads back exactly the body
// (bare LFs made CRLF, a final line end added), and our end marker is the
// first one it sees.
func FuzzDotStuff(f *testing.F) {
	f.Add([]byte(".\r\n"))
	f.Add([]byte("a\r\n.\r\nb"))
	f.Add([]byte("a\n.\n"))
	f.Add([]byte("a\r"))
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) == 0 {
			return // Send refuses an empty message
		}
		wire := append(dotStuff(nil, body), "\r\n.\r\n"...)
		// Unstuff as a server does (RFC 5321 §4.5.2).
		var got []byte
		rest := wire
		for {
			i := bytes.Index(rest, []byte("\r\n"))
			if i < 0 {
				t.Fatalf("no end marker in %q", wire)
			}
			line := rest[:i]
			rest = rest[i+2:]
			if string(line) == "." {
				break
			}
			line = bytes.TrimPrefix(line, []byte("."))
			got = append(append(got, line...), '\r', '\n')
		}
		if len(rest) != 0 {
			t.Fatalf("end marker before the end: %q left of %q", rest, wire)
		}
		want := normalizeLF(body)
		if string(got) != string(want) {
			t.Fatalf("body %q came back as %q", want, got)
		}
	})
}

// normalizeLF is the body as it should arrive: bare LFs made CRLF and a
// line end at the end.
func normalizeLF(b []byte) []byte {
	var out []byte
	for i, c := range b {
		if c == '\n' && (i == 0 || b[i-1] != '\r') {
			out = append(out, '\r')
		}
		out = append(out, c)
	}
	if len(out) > 0 && !bytes.HasSuffix(out, []byte("\r\n")) {
		out = append(out, '\r', '\n')
	}
	return out
}

// TestSMTPStopCutsAHungServer: when Send's context ends (SIGTERM), no
// network operation waits on a hung server past the grace: a server that
// greets and then says nothing, one that never answers RCPT, one that
// takes the whole message and never answers it, and one that never answers
// QUIT. The generous Timeout and ReplyTimeout are what Send waited before.
func TestSMTPStopCutsAHungServer(t *testing.T) {
	const grace = 200 * time.Millisecond
	const bound = 5 * time.Second // far below Timeout: only the cut can meet it
	silentAfter := func(cmd string) func(*smtptest.Server, chan<- struct{}, <-chan struct{}) {
		return func(srv *smtptest.Server, reached chan<- struct{}, _ <-chan struct{}) {
			srv.Stall = func(verb string) bool {
				if verb == cmd {
					reached <- struct{}{}
					return true
				}
				return false
			}
		}
	}
	serverTLS, roots := selfSigned(t)
	for _, c := range []struct {
		name    string
		hang    func(srv *smtptest.Server, reached chan<- struct{}, release <-chan struct{})
		inDoubt bool
		// secure: STARTTLS and AUTH are offered and used.
		secure bool
	}{
		{"silent after the greeting", silentAfter("EHLO"), false, false},
		{"silent after STARTTLS", silentAfter("STARTTLS"), false, true},
		{"silent after AUTH", silentAfter("AUTH"), false, true},
		{"silent after RCPT", silentAfter("RCPT"), false, false},
		{"never answers the message", func(srv *smtptest.Server, reached chan<- struct{}, release <-chan struct{}) {
			srv.Data = func(string, int) error {
				reached <- struct{}{}
				<-release
				return nil
			}
		}, true, false},
	} {
		t.Run(c.name, func(t *testing.T) {
			so, mode := smtptest.Options{}, "none"
			if c.secure {
				so, mode = smtptest.Options{TLS: serverTLS, User: "gull", Pass: "secret"}, "starttls"
			}
			srv := startServer(t, so)
			reached, release := make(chan struct{}, 1), make(chan struct{})
			defer close(release)
			c.hang(srv, reached, release)
			o := smtpOptions(srv, mode)
			if c.secure {
				o.TLSConfig = &tls.Config{RootCAs: roots}
				o.Username, o.Password = "gull", "secret"
			}
			o.Timeout, o.ReplyTimeout, o.Grace = time.Minute, 10*time.Minute, grace
			s := newSMTP(t, o)
			ctx, cancel := context.WithCancel(t.Context())
			sent := make(chan error, 1)
			go func() { sent <- s.Send(ctx, wireMessage(addr(1), 4<<10)) }()
			<-reached
			cancel()
			var err error
			select {
			case err = <-sent:
			case <-time.After(bound):
				t.Fatalf("Send still waits on the hung server %v after its context ended (grace %v)", bound, grace)
			}
			e := asError(t, err)
			if e.InDoubt() != c.inDoubt || !e.Temporary() || e.Permanent() || e.Attempts > 1 {
				t.Errorf("%v: InDoubt %v Temporary %v Permanent %v after %d attempts; want in doubt %v, temporary, one try",
					e, e.InDoubt(), e.Temporary(), e.Permanent(), e.Attempts, c.inDoubt)
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("the server has %d messages", n)
			}
		})
	}

	t.Run("a message in flight finishes within the grace", func(t *testing.T) {
		srv := startServer(t, smtptest.Options{})
		reached, release := make(chan struct{}, 1), make(chan struct{})
		srv.Data = func(string, int) error {
			reached <- struct{}{}
			<-release
			return nil
		}
		o := smtpOptions(srv, "none")
		o.Grace = time.Minute
		s := newSMTP(t, o)
		ctx, cancel := context.WithCancel(t.Context())
		sent := make(chan error, 1)
		go func() { sent <- s.Send(ctx, wireMessage(addr(1), 4<<10)) }()
		<-reached
		cancel()
		close(release) // the answer comes after the stop, within the grace
		if err := <-sent; err != nil {
			t.Errorf("a message answered within the grace: %v", err)
		}
	})

	t.Run("QUIT never answered", func(t *testing.T) {
		srv := startServer(t, smtptest.Options{})
		srv.Stall = func(verb string) bool { return verb == "QUIT" }
		o := smtpOptions(srv, "none")
		o.Timeout, o.Grace = time.Minute, grace
		s := newSMTP(t, o)
		if err := s.Send(t.Context(), wireMessage(addr(1), 4<<10)); err != nil {
			t.Fatal(err)
		}
		closed := make(chan struct{})
		go func() { s.Close(); close(closed) }()
		select {
		case <-closed:
		case <-time.After(bound):
			t.Fatalf("Close still waits for the QUIT answer after %v (grace %v)", bound, grace)
		}
	})
}
