package deliver

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"math/rand/v2"
	"net"
	"net/textproto"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/wneessen/go-mail/smtp"
	"golang.org/x/time/rate"
)

// SMTPOptions configures NewSMTP; the fields mirror mail.smtp (DESIGN.md
// §4), plus knobs that tests and the CLI set.
type SMTPOptions struct {
	Host string
	Port int
	TLS  string // "starttls" | "tls" | "none"
	// Username turns on AUTH (PLAIN, else LOGIN). The password is only
	// ever sent encrypted, or to a relay on this machine.
	Username, Password string
	Connections        int     // pool size [4]; each connection carries many messages
	Rate               float64 // messages per second overall; 0 = unlimited
	// HelloName is the EHLO name. Default: the domain of From, else the
	// machine's host name.
	HelloName string
	// From is mail.from's bare address, for the default EHLO name.
	From    string
	Timeout time.Duration // dial and per-command deadline [60s]
	// ReplyTimeout is how long the server may take to answer the end of
	// the message [10m, RFC 5321 §4.5.3.2.6]: it may be scanning it.
	ReplyTimeout time.Duration
	// Grace is how long a transaction under way may go on once Send's
	// ctx has ended (the program is stopping): then its connection is
	// cut, and the message is left unsent, or in doubt if it went out in
	// full. Connecting (dial, greeting, EHLO, STARTTLS, AUTH) is cut as
	// soon as ctx ends, since no message is at stake yet, and a QUIT
	// waits no longer than Grace. [10s]
	Grace       time.Duration
	TLSConfig   *tls.Config // nil: system roots, ServerName = Host
	MaxAttempts int         // tries for a temporary failure [4]
	// Backoff is the wait after the attempt-th try failed [2s, 8s, 30s,
	// each ±25%].
	Backoff func(attempt int) time.Duration
	Logger  *slog.Logger
}

// SMTP is a pool of SMTP connections, dialed lazily and each reused for
// many messages. It is safe for concurrent use.
type SMTP struct {
	o       SMTPOptions
	addr    string
	hello   string
	limiter *rate.Limiter // nil = unlimited
	log     *slog.Logger

	// pool holds one slot per connection. Taking a slot is the right to
	// use its connection (or dial one into it); the channel is FIFO, so
	// consecutive messages rotate over the connections.
	pool      chan *slot
	done      chan struct{} // closed by Close
	closed    atomic.Bool
	closeOnce sync.Once
	dials     atomic.Uint64 // connection ids, for logs and retry placement
}

// slot is one pooled connection; only the goroutine holding the slot
// touches it.
type slot struct {
	id      uint64 // 0 while not connected
	c       *smtp.Client
	raw     net.Conn // the TCP connection under any TLS, for deadlines
	scratch []byte   // dot-stuffed body, reused between messages

	// What the server's EHLO offered (after STARTTLS), read once at dial:
	// with PIPELINING the envelope goes in one write (pipeline).
	pipelining, eightBit, smtpUTF8 bool
}

// NewSMTP checks the options and returns a pool that connects on first
// use (see Check to connect now). Errors name the mail.smtp key to fix.
func NewSMTP(o SMTPOptions) (*SMTP, error) {
	var errs []error
	o.Host = strings.TrimSpace(o.Host)
	if o.Host == "" || strings.ContainsAny(o.Host, " /\r\n") {
		errs = append(errs, fmt.Errorf("mail.smtp.host: %q is not a host name; give the SMTP server, e.g. smtp.example.org", o.Host))
	}
	if o.Port < 1 || o.Port > 65535 {
		errs = append(errs, fmt.Errorf("mail.smtp.port: %d is not a TCP port; use 587 for starttls or 465 for tls", o.Port))
	}
	switch o.TLS {
	case "starttls", "tls", "none":
	default:
		errs = append(errs, fmt.Errorf("mail.smtp.tls: must be starttls, tls or none, got %q", o.TLS))
	}
	if o.Username != "" {
		if o.Password == "" {
			errs = append(errs, errors.New("mail.smtp.username is set but the password is empty; export the variable named by mail.smtp.password_env"))
		}
		if o.TLS == "none" && !isLoopback(o.Host) {
			errs = append(errs, fmt.Errorf("mail.smtp.tls: refusing to send the password for %q unencrypted to %s; set mail.smtp.tls to starttls or tls (or relay through a server on this machine)", o.Username, o.Host))
		}
	}
	switch {
	case o.Connections == 0:
		o.Connections = 4
	case o.Connections < 0 || o.Connections > 64:
		errs = append(errs, fmt.Errorf("mail.smtp.connections: must be between 1 and 64, got %d", o.Connections))
	}
	if o.Rate < 0 || math.IsNaN(o.Rate) || math.IsInf(o.Rate, 0) {
		errs = append(errs, fmt.Errorf("mail.smtp.rate: must be 0 (unlimited) or a number of messages per second, got %v", o.Rate))
	}
	switch {
	case o.Timeout == 0:
		o.Timeout = 60 * time.Second
	case o.Timeout < 0:
		errs = append(errs, fmt.Errorf("deliver: SMTP timeout must be positive, got %v", o.Timeout))
	}
	switch {
	case o.ReplyTimeout == 0:
		o.ReplyTimeout = 10 * time.Minute
	case o.ReplyTimeout < 0:
		errs = append(errs, fmt.Errorf("deliver: SMTP reply timeout must be positive, got %v", o.ReplyTimeout))
	}
	switch {
	case o.Grace == 0:
		o.Grace = 10 * time.Second
	case o.Grace < 0:
		errs = append(errs, fmt.Errorf("deliver: SMTP grace must be positive, got %v", o.Grace))
	}
	switch {
	case o.MaxAttempts == 0:
		o.MaxAttempts = 4
	case o.MaxAttempts < 0:
		errs = append(errs, fmt.Errorf("deliver: SMTP MaxAttempts must be positive, got %d", o.MaxAttempts))
	}
	if strings.ContainsAny(o.HelloName, " \r\n") {
		errs = append(errs, fmt.Errorf("deliver: EHLO name %q must be one word", o.HelloName))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	if o.Backoff == nil {
		o.Backoff = defaultBackoff
	}
	s := &SMTP{
		o:     o,
		addr:  net.JoinHostPort(o.Host, strconv.Itoa(o.Port)),
		hello: o.HelloName,
		log:   o.Logger,
		pool:  make(chan *slot, o.Connections),
		done:  make(chan struct{}),
	}
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.hello == "" {
		s.hello = helloFor(o.From)
	}
	if o.Rate > 0 {
		// Burst 1 spaces messages evenly: a relay's limit ("10/s") is
		// usually enforced over short windows, so bunching would trip it.
		s.limiter = rate.NewLimiter(rate.Limit(o.Rate), 1)
	}
	for range o.Connections {
		s.pool <- &slot{}
	}
	return s, nil
}

func (s *SMTP) String() string {
	conns := "connections"
	if s.o.Connections == 1 {
		conns = "connection"
	}
	out := fmt.Sprintf("%s (%s, %d %s", s.addr, s.o.TLS, s.o.Connections, conns)
	if s.o.Rate > 0 {
		out += fmt.Sprintf(", %g msgs/s", s.o.Rate)
	}
	if s.o.Username != "" {
		out += ", as " + s.o.Username
	}
	return out + ")"
}

// Check connects one connection now (dial, EHLO, STARTTLS, AUTH), so a
// send can fail fast with a clear message before it touches anything. The
// connection stays in the pool for the first message.
func (s *SMTP) Check(ctx context.Context) error {
	sl, err := s.acquire(ctx)
	if err != nil {
		return err
	}
	defer s.release(sl)
	if sl.c != nil {
		return nil
	}
	if e := s.dial(ctx, sl); e != nil {
		return e
	}
	return nil
}

// Send delivers m, retrying temporary failures with backoff on another
// connection. When ctx ends, the waits (rate limit, a free connection,
// backoff) and a connection being made end at once; a transaction under
// way is given Grace to finish, so an interrupted run records the
// messages in flight, and then cut, so a hung server cannot hold the
// shutdown.
func (s *SMTP) Send(ctx context.Context, m Outgoing) error {
	err := s.TrySend(ctx, m)
	for {
		r, ok := err.(*Retry)
		if !ok {
			return err
		}
		t := time.NewTimer(r.Wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return r.Last // still pending: the caller retries on its next run
		case <-s.done:
			t.Stop()
			return r.Last
		}
		err = r.Again(ctx)
	}
}

// TrySend is Send without the waits between tries, for a caller that
// has other messages to send meanwhile (the week's send): a temporary
// failure with tries left comes back as a *Retry, which says how long to
// wait and makes the next try, instead of holding the caller through the
// backoff.
func (s *SMTP) TrySend(ctx context.Context, m Outgoing) error {
	if err := checkEnvelope(m); err != nil {
		return &Error{Err: err}
	}
	return s.try(ctx, m, nil)
}

// Retry is TrySend's error for a temporary failure that is worth another
// try (not in doubt, fewer than MaxAttempts tries): the message is not
// sent yet. Its classification is Last's (Temporary).
type Retry struct {
	Last *Error        // the failed try
	Wait time.Duration // the backoff before Again
	s    *SMTP
	m    Outgoing
}

func (r *Retry) Error() string { return r.Last.Error() }
func (r *Retry) Unwrap() error { return r.Last }

// RetryIn is the backoff before Again should be called.
func (r *Retry) RetryIn() time.Duration { return r.Wait }

// Again makes the next try of the message, on another connection than
// the one the last try failed on; it returns as TrySend does. When ctx
// has ended or the pool is closed, nothing is tried and Last comes back.
func (r *Retry) Again(ctx context.Context) error { return r.s.try(ctx, r.m, r.Last) }

// try makes one try of m, the one after last (nil for the first).
func (s *SMTP) try(ctx context.Context, m Outgoing, last *Error) error {
	attempt, avoid := 1, uint64(0) // avoid: the connection the last try failed on
	if last != nil {
		attempt, avoid = last.Attempts+1, last.conn
	}
	if err := ctx.Err(); err != nil {
		return notSent(last, attempt-1, err)
	}
	if s.limiter != nil {
		if err := s.limiter.Wait(ctx); err != nil {
			if ctx.Err() == nil {
				// The limiter refuses up front a wait that would
				// outlast the deadline; say so in ctx's terms.
				err = fmt.Errorf("%w: the wait for mail.smtp.rate would outlast it", context.DeadlineExceeded)
			}
			return notSent(last, attempt-1, err)
		}
	}
	sl, err := s.acquire(ctx)
	if err != nil {
		return notSent(last, attempt-1, err)
	}
	if avoid != 0 && sl.id == avoid {
		// The connection the last try failed on: another free one
		// saves replacing it (a dial costs several round trips).
		select {
		case other := <-s.pool:
			s.release(sl)
			sl = other
		default:
		}
	}
	// A try on the wire gets the grace once ctx ends, then its
	// connection is cut (graceAfter): a hung server cannot hold a stop.
	inFlight, cancel := graceAfter(ctx, s.o.Grace)
	defer cancel()
	start := time.Now()
	e := s.attempt(ctx, inFlight, sl, m, avoid)
	id := sl.id
	s.release(sl)
	if e == nil {
		if s.log.Enabled(ctx, slog.LevelDebug) {
			s.log.LogAttrs(ctx, slog.LevelDebug, "smtp: sent", slog.String("to", m.To),
				slog.String("message_id", m.MessageID), slog.Int("attempts", attempt),
				slog.Uint64("conn", id), slog.Duration("took", time.Since(start)))
		}
		return nil
	}
	e.Attempts = attempt
	if !e.Temporary() || e.InDoubt() || attempt >= s.o.MaxAttempts || ctx.Err() != nil {
		return e
	}
	wait := s.o.Backoff(attempt)
	s.log.LogAttrs(ctx, slog.LevelWarn, "smtp: temporary failure, will retry",
		slog.String("to", m.To), slog.String("message_id", m.MessageID),
		slog.Int("attempt", attempt), slog.Int("max_attempts", s.o.MaxAttempts),
		slog.String("stage", e.Stage), slog.Int("code", e.Code), slog.String("reply", e.Reply),
		slog.Any("error", e.Err), slog.Duration("wait", wait))
	return &Retry{Last: e, Wait: wait, s: s, m: m}
}

// notSent is the error when ctx or Close ended a Send between attempts.
func notSent(last *Error, attempts int, err error) error {
	if last != nil {
		return last
	}
	return &Error{Stage: StageConnect, Attempts: attempts, Err: fmt.Errorf("deliver: not sent: %w", err)}
}

func checkEnvelope(m Outgoing) error {
	switch {
	case m.To == "" || strings.ContainsAny(m.To, "\r\n<> "):
		return fmt.Errorf("%w: recipient %q is not a bare address", ErrInvalidEnvelope, m.To)
	case strings.ContainsAny(m.From, "\r\n<> "):
		return fmt.Errorf("%w: envelope sender %q is not a bare address (mail.from)", ErrInvalidEnvelope, m.From)
	case len(m.Body) == 0:
		return fmt.Errorf("%w: empty message to %s", ErrInvalidEnvelope, m.To)
	}
	return nil
}

// smtpPath is addr as MAIL FROM and RCPT TO carry it: in angle brackets,
// "<>" for the null sender (RFC 5321 §4.1.2). go-mail's Mail and Rcpt
// print their argument as given, and strict servers (mailpit, Gmail)
// answer a bare address with 501; checkEnvelope has made sure addr holds
// no brackets of its own.
func smtpPath(addr string) string { return "<" + addr + ">" }

// acquire takes a free connection slot, waiting for one.
func (s *SMTP) acquire(ctx context.Context) (*slot, error) {
	if s.closed.Load() {
		return nil, ErrClosed
	}
	select {
	case sl := <-s.pool:
		if s.closed.Load() {
			s.pool <- sl // Close is collecting the slots
			return nil, ErrClosed
		}
		return sl, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	case <-s.done:
		return nil, ErrClosed
	}
}

func (s *SMTP) release(sl *slot) { s.pool <- sl }

// attempt runs one try of m on sl: connecting under ctx, the
// transaction under inFlight (ctx plus the grace). A connection the
// previous try failed on is replaced first, so a retry never lands where
// the failure was.
func (s *SMTP) attempt(ctx, inFlight context.Context, sl *slot, m Outgoing, avoid uint64) *Error {
	if sl.c != nil && sl.id == avoid {
		s.quit(ctx, sl)
	}
	fresh := sl.c == nil
	if fresh {
		if e := s.dial(ctx, sl); e != nil {
			return e
		}
	}
	e := s.transact(inFlight, sl, m)
	if e != nil && !fresh && e.Stage == StageMail && networkLevel(e.Err) {
		// The first command on a reused connection found it dead: the
		// server dropped it while it sat idle. Nothing of m went out,
		// so this is not a failed try; redial once and go on.
		s.log.LogAttrs(ctx, slog.LevelDebug, "smtp: idle connection was closed by the server, redialing",
			slog.Uint64("conn", e.conn), slog.Any("error", e.Err))
		if e := s.dial(ctx, sl); e != nil {
			return e
		}
		e = s.transact(inFlight, sl, m)
	}
	return e
}

// transact sends one message: MAIL, RCPT, DATA, body. No NOOP before and
// no RSET after a success: the server resets itself after DATA, and each
// round trip costs as much as the message on a fast link. Every command
// and reply is cut off when ctx ends.
func (s *SMTP) transact(ctx context.Context, sl *slot, m Outgoing) *Error {
	defer cutWhenDone(ctx, sl.raw)()
	fail := func(stage string, err error, reset bool) *Error {
		if ctx.Err() != nil {
			// The send is stopping and the server did not answer
			// within the grace: say so, not just "i/o timeout".
			err = fmt.Errorf("%w (cut off: %w)", err, context.Cause(ctx))
		}
		return s.fail(sl, stage, err, reset)
	}
	if err := setDeadline(ctx, sl.raw, time.Now().Add(s.o.Timeout)); err != nil {
		return fail(StageMail, err, true)
	}
	if sl.pipelining {
		return s.pipeline(ctx, sl, m, fail)
	}
	c := sl.c
	// SMTPUTF8 is only needed (and only safe to claim) for non-ASCII
	// addresses; claiming it needlessly makes some relays bounce.
	c.SkipSMTPUTF8(isASCII(m.From) && isASCII(m.To))
	if err := c.Mail(smtpPath(m.From)); err != nil {
		return fail(StageMail, err, true)
	}
	if err := c.Rcpt(smtpPath(m.To)); err != nil {
		return fail(StageRcpt, err, true)
	}
	w, err := c.Data()
	if err != nil {
		return fail(StageData, err, true)
	}
	// The body goes straight into the connection's buffered writer,
	// dot-stuffed in bulk: go-mail's DataCloser runs textproto's
	// byte-at-a-time dot writer, which is most of the send path's CPU
	// for a 30 KB message (see BenchmarkSMTPSend). Close then ends the
	// data with "\r\n.\r\n", which supplies the final line end that
	// dotStuff leaves out.
	sl.scratch = dotStuff(sl.scratch[:0], m.Body)
	_, err = c.Text.W.Write(sl.scratch)
	if err == nil {
		err = c.Text.W.Flush()
	}
	if cap(sl.scratch) > 1<<20 {
		sl.scratch = nil // do not pin one huge message's buffer
	}
	if err != nil {
		// The end-of-data mark has not gone out, so the server cannot
		// have taken the message: safe to try again.
		return fail(StageData, err, false)
	}
	if err := setDeadline(ctx, sl.raw, time.Now().Add(s.o.ReplyTimeout)); err != nil {
		return fail(StageData, err, false)
	}
	if err := w.Close(); err != nil {
		// The transaction is over either way: no RSET needed.
		e := fail(StageData, err, false)
		// The whole message went out and no answer came in time: the
		// server may be slow to take it (scanning it) rather than gone,
		// and another try would deliver a second copy (RFC 1047). A
		// connection closed on us is different: a server that takes a
		// message answers before it hangs up, so that one is retried.
		e.inDoubt = errors.Is(err, os.ErrDeadlineExceeded)
		return e
	}
	return nil
}

// pipeline is transact with a server that offers PIPELINING (RFC 2920):
// MAIL, RCPT and DATA go in one write and their three replies are read
// after it, and the body goes with its end mark in one more. One command
// at a time (go-mail's Mail, Rcpt, Data and its DataCloser) costs two
// round trips and four writes a message more, on both ends of the wire:
// at 4 and 8 connections on loopback the send is bound by CPU, and
// smtp-sink shares the machine. The commands and parameters are those
// go-mail writes, and a refusal is reported at the stage of the first
// command refused, as one at a time reports it (TestPipelinedIsOneAtATime).
func (s *SMTP) pipeline(ctx context.Context, sl *slot, m Outgoing, fail func(string, error, bool) *Error) *Error {
	if strings.ContainsAny(m.From, "\r\n") || strings.ContainsAny(m.To, "\r\n") {
		return fail(StageMail, errors.New("smtp: A line must not contain CR or LF"), true)
	}
	b := append(sl.scratch[:0], "MAIL FROM:<"...)
	b = append(b, m.From...)
	b = append(b, '>')
	if sl.eightBit {
		b = append(b, " BODY=8BITMIME"...)
	}
	// SMTPUTF8 is only needed (and only safe to claim) for non-ASCII
	// addresses; claiming it needlessly makes some relays bounce.
	if sl.smtpUTF8 && !(isASCII(m.From) && isASCII(m.To)) {
		b = append(b, " SMTPUTF8"...)
	}
	b = append(b, "\r\nRCPT TO:<"...)
	b = append(b, m.To...)
	b = append(b, ">\r\nDATA\r\n"...)
	sl.scratch = b
	tw := sl.c.Text
	if _, err := tw.W.Write(b); err != nil {
		return fail(StageMail, err, false)
	}
	if err := tw.W.Flush(); err != nil {
		return fail(StageMail, err, false)
	}
	// Every reply is read, so the next transaction starts in step.
	var refused error
	stage := ""
	for _, r := range [...]struct {
		stage string
		code  int
	}{{StageMail, 250}, {StageRcpt, 25}, {StageData, 354}} {
		_, _, err := tw.ReadResponse(r.code)
		var tpe *textproto.Error
		switch {
		case err == nil && r.stage == StageData && refused != nil:
			// DATA taken after a refused MAIL or RCPT (RFC 2920 says
			// a server must not): end the empty data, then reset.
			if _, err := tw.W.WriteString(".\r\n"); err != nil {
				return fail(stage, err, false)
			}
			if err := tw.W.Flush(); err != nil {
				return fail(stage, err, false)
			}
			_, _, _ = tw.ReadResponse(250)
		case err == nil:
		case !errors.As(err, &tpe):
			// The connection failed: no more replies will come.
			if refused == nil {
				return fail(r.stage, err, false)
			}
			return fail(stage, refused, true)
		case refused == nil:
			refused, stage = err, r.stage
		}
	}
	if refused != nil {
		return fail(stage, refused, true)
	}
	// The body, dot-stuffed, and the end of the data, in one write: if
	// it fails, the end mark has not all gone out, so the server cannot
	// have taken the message: safe to try again.
	sl.scratch = append(dotStuff(sl.scratch[:0], m.Body), "\r\n.\r\n"...)
	_, err := tw.W.Write(sl.scratch)
	if err == nil {
		err = tw.W.Flush()
	}
	if cap(sl.scratch) > 1<<20 {
		sl.scratch = nil // do not pin one huge message's buffer
	}
	if err != nil {
		return fail(StageData, err, false)
	}
	if err := setDeadline(ctx, sl.raw, time.Now().Add(s.o.ReplyTimeout)); err != nil {
		return fail(StageData, err, false)
	}
	if _, _, err := tw.ReadResponse(250); err != nil {
		e := fail(StageData, err, false)
		// As in transact: no answer in time to a message sent in full
		// is in doubt (RFC 1047).
		e.inDoubt = errors.Is(err, os.ErrDeadlineExceeded)
		return e
	}
	return nil
}

// fail classifies err, and closes the connection when it is unusable or
// resets the transaction (RSET) when it is not.
func (s *SMTP) fail(sl *slot, stage string, err error, reset bool) *Error {
	e := smtpError(stage, err)
	e.conn = sl.id
	switch {
	case networkLevel(err):
		s.drop(sl)
	case reset:
		if rerr := sl.c.Reset(); rerr != nil {
			s.drop(sl)
		}
	}
	return e
}

// dial connects sl: TCP, TLS or STARTTLS, EHLO, AUTH, each cut off when
// ctx ends. Its errors say which mail.smtp key to check.
func (s *SMTP) dial(ctx context.Context, sl *slot) (e *Error) {
	s.drop(sl)
	defer func() {
		if e != nil && ctx.Err() != nil {
			// Cut short by ctx: say that, not the i/o timeout it caused.
			e = &Error{Stage: StageConnect, Err: fmt.Errorf("deliver: not sent: %w", ctx.Err())}
		}
	}()
	setup := func(format string, args ...any) *Error {
		return &Error{Stage: StageConnect, Err: fmt.Errorf(format, args...)}
	}
	d := net.Dialer{Timeout: s.o.Timeout}
	raw, err := d.DialContext(ctx, "tcp", s.addr)
	if err != nil {
		if ctx.Err() != nil {
			return &Error{Stage: StageConnect, Err: fmt.Errorf("deliver: not sent: %w", ctx.Err())}
		}
		return setup("mail.smtp: cannot reach %s: %w; check mail.smtp.host and mail.smtp.port", s.addr, err)
	}
	ok := false
	defer func() {
		if !ok {
			_ = raw.Close()
		}
	}()
	defer cutWhenDone(ctx, raw)()
	_ = setDeadline(ctx, raw, time.Now().Add(s.o.Timeout))
	conn := raw
	if s.o.TLS == "tls" {
		tc := tls.Client(raw, s.tlsConfig())
		if err := tc.HandshakeContext(ctx); err != nil {
			return setup("mail.smtp: TLS with %s failed: %w; check mail.smtp.tls (tls is implicit TLS, usually port 465; use starttls for port 587)", s.addr, err)
		}
		conn = tc
	}
	c, err := smtp.NewClient(conn, s.o.Host)
	if err != nil {
		e := smtpError(StageConnect, err)
		e.Err = fmt.Errorf("mail.smtp: %s did not greet: %w; check mail.smtp.host, mail.smtp.port and mail.smtp.tls", s.addr, err)
		return e
	}
	if err := c.Hello(s.hello); err != nil {
		e := smtpError(StageConnect, err)
		e.Err = fmt.Errorf("mail.smtp: %s refused EHLO %s: %w", s.addr, s.hello, err)
		return e
	}
	if s.o.TLS == "starttls" {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return setup("mail.smtp.tls: %s does not offer STARTTLS: %w; use tls if it listens for implicit TLS (usually port 465), or none only on a trusted network", s.addr, errSetup)
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			e := smtpError(StageConnect, err)
			e.Err = fmt.Errorf("mail.smtp: STARTTLS with %s failed: %w; check mail.smtp.tls and the server's certificate", s.addr, err)
			return e
		}
	}
	if s.o.Username != "" {
		if e := s.auth(c); e != nil {
			return e
		}
	}
	ok = true
	sl.c, sl.raw = c, raw
	sl.pipelining, _ = c.Extension("PIPELINING")
	sl.eightBit, _ = c.Extension("8BITMIME")
	sl.smtpUTF8, _ = c.Extension("SMTPUTF8")
	sl.id = s.dials.Add(1)
	s.log.LogAttrs(ctx, slog.LevelDebug, "smtp: connected", slog.String("server", s.addr), slog.Uint64("conn", sl.id))
	return nil
}

func (s *SMTP) auth(c *smtp.Client) *Error {
	ok, mechs := c.Extension("AUTH")
	if !ok {
		return &Error{Stage: StageConnect, Err: fmt.Errorf("mail.smtp.username is set but %s offers no AUTH on this connection: %w; check mail.smtp.tls (many servers offer AUTH only after STARTTLS) or leave username empty", s.addr, errSetup)}
	}
	// Our own check in NewSMTP already refused plaintext to anything but
	// loopback; go-mail's only knows "localhost" and 127.0.0.1.
	allowPlain := isLoopback(s.o.Host)
	var a smtp.Auth
	switch offered := " " + strings.ToUpper(mechs) + " "; {
	case strings.Contains(offered, " PLAIN "):
		a = smtp.PlainAuth("", s.o.Username, s.o.Password, s.o.Host, allowPlain)
	case strings.Contains(offered, " LOGIN "):
		a = smtp.LoginAuth(s.o.Username, s.o.Password, s.o.Host, allowPlain)
	default:
		return &Error{Stage: StageConnect, Err: fmt.Errorf("mail.smtp.username: %s offers AUTH %s, but gull speaks PLAIN and LOGIN only: %w", s.addr, mechs, errSetup)}
	}
	if err := c.Auth(a); err != nil {
		e := smtpError(StageConnect, err)
		if e.Code/100 == 5 {
			err = fmt.Errorf("%w: %w", errSetup, err)
		}
		e.Err = fmt.Errorf("mail.smtp: login as %q at %s failed: %w; check mail.smtp.username and the password in the variable named by mail.smtp.password_env", s.o.Username, s.addr, err)
		return e
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	var cfg *tls.Config
	if s.o.TLSConfig != nil {
		cfg = s.o.TLSConfig.Clone()
	} else {
		cfg = &tls.Config{}
	}
	if cfg.ServerName == "" {
		cfg.ServerName = s.o.Host
	}
	return cfg
}

// drop closes sl's connection without a word: it is broken or about to
// be replaced.
func (s *SMTP) drop(sl *slot) {
	if sl.c != nil {
		_ = sl.c.Close()
	}
	if sl.raw != nil {
		_ = sl.raw.Close()
	}
	sl.c, sl.raw, sl.id = nil, nil, 0
}

// quit ends sl's connection politely, unless ctx ends first. A QUIT is a
// courtesy: it waits no longer than the grace.
func (s *SMTP) quit(ctx context.Context, sl *slot) {
	if sl.c == nil {
		return
	}
	defer cutWhenDone(ctx, sl.raw)()
	_ = setDeadline(ctx, sl.raw, time.Now().Add(min(s.o.Timeout, s.o.Grace, 10*time.Second)))
	if err := sl.c.Quit(); err != nil {
		s.log.Debug("smtp: QUIT failed", "conn", sl.id, "error", err)
	}
	s.drop(sl)
}

// Close stops new sends, waits for the ones in flight (each bounded by
// Timeout), and QUITs every connection.
func (s *SMTP) Close() error {
	s.closeOnce.Do(func() {
		s.closed.Store(true)
		close(s.done)
		// In parallel: each QUIT may wait out its deadline on a dead
		// server, and there may be 64 connections.
		var wg sync.WaitGroup
		for range s.o.Connections {
			sl := <-s.pool
			wg.Go(func() { s.quit(context.Background(), sl) })
		}
		wg.Wait()
	})
	return nil
}

// aLongTimeAgo is a deadline long past: set on a connection, it makes
// every read and write on it, blocked or to come, fail at once with
// os.ErrDeadlineExceeded (net/http cuts its connections the same way).
var aLongTimeAgo = time.Unix(1, 0)

// cutWhenDone cuts conn's reads and writes the moment ctx ends: go-mail's
// client takes no context, and a blocked read returns only when its
// connection's deadline passes. The returned func ends the watch.
func cutWhenDone(ctx context.Context, conn net.Conn) (stop func() bool) {
	return context.AfterFunc(ctx, func() { _ = conn.SetDeadline(aLongTimeAgo) })
}

// setDeadline sets conn's deadline to d, unless ctx has ended: then the
// cut stays. ctx is checked after setting, so a cut made in between (by
// cutWhenDone) is never undone.
func setDeadline(ctx context.Context, conn net.Conn, d time.Time) error {
	err := conn.SetDeadline(d)
	if ctx.Err() != nil {
		_ = conn.SetDeadline(aLongTimeAgo)
	}
	return err
}

// graceAfter is a context that ends grace after ctx does, or when the
// returned func is called: how long a transaction under way may go on
// once the program is stopping.
func graceAfter(ctx context.Context, grace time.Duration) (context.Context, func()) {
	inFlight, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(fmt.Errorf("the send was stopped, and the %v grace for messages in flight is over", grace))
		case <-inFlight.Done():
		}
	})
	return inFlight, func() { stop(); cancel(nil) }
}

func defaultBackoff(attempt int) time.Duration {
	steps := [...]time.Duration{2 * time.Second, 8 * time.Second, 30 * time.Second}
	d := steps[min(max(attempt, 1), len(steps))-1]
	// ±25% jitter, so messages that failed together do not retry in lockstep.
	return time.Duration(float64(d) * (0.75 + rand.Float64()/2))
}

// helloFor is the EHLO name for mail from addr: its domain, which is at
// least a real, resolvable name, unlike many machines' host names; else
// the host name.
func helloFor(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && strings.Contains(addr[i+1:], ".") && !strings.ContainsAny(addr[i+1:], " \r\n") {
		return strings.ToLower(addr[i+1:])
	}
	if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
		return h
	}
	return "localhost"
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}

// dotStuff appends body to dst as DATA content (RFC 5321 §4.5.2): a dot
// that starts a line is doubled and a bare LF becomes CRLF, so the only
// end-of-data marker the server sees is ours. The final line end is left
// out; the closing "\r\n.\r\n" supplies it. It works a line at a time
// with IndexByte rather than a byte at a time.
func dotStuff(dst, body []byte) []byte {
	switch {
	case bytes.HasSuffix(body, []byte("\r\n")):
		body = body[:len(body)-2]
	case bytes.HasSuffix(body, []byte("\n")):
		body = body[:len(body)-1]
	}
	if cap(dst) < len(body)+len(body)/64+16 {
		dst = make([]byte, 0, len(body)+len(body)/64+16)
	}
	for len(body) > 0 {
		if body[0] == '.' {
			dst = append(dst, '.')
		}
		i := bytes.IndexByte(body, '\n')
		if i < 0 {
			return append(dst, body...)
		}
		if i > 0 && body[i-1] == '\r' {
			dst = append(dst, body[:i+1]...)
		} else {
			dst = append(dst, body[:i]...)
			dst = append(dst, '\r', '\n')
		}
		body = body[i+1:]
	}
	return dst
}
