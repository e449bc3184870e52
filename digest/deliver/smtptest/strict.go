package smtptest

import (
	"bufio"
	"crypto/tls"
	"io"
	"net"
	"strconv"
	"strings"
	"unicode/utf8"
)

// go-smtp takes "MAIL FROM:a@b" as readily as "MAIL FROM:<a@b>", and so
// do postfix and smtp-sink, but mailpit, Gmail and other strict servers
// answer the bare form with 501: a client tested only against the lenient
// ones never reaches them. So every connection passes through conn, which
// reads the client's commands before go-smtp does and refuses a MAIL or
// RCPT argument that breaks RFC 5321 §4.1.2 (or RFC 6531 for non-ASCII
// addresses) itself, the way a strict server answers. It has to see the
// commands in plain text, so it also speaks the TLS (implicit, or after
// STARTTLS) rather than go-smtp.

// conn is one client connection: go-smtp reads and writes through it.
type conn struct {
	net.Conn // TCP, or TLS from the first byte with ImplicitTLS
	s        *Server
	n        int

	rw      io.ReadWriter // Conn, or the TLS over it after STARTTLS
	r       *bufio.Reader // the client's bytes, read a line at a time
	tls     bool          // the connection is encrypted
	pending []byte        // what go-smtp has yet to read of the line
	midLine bool          // pending is the head of an overlong line
	data    bool          // inside DATA: lines are the message, not commands
	chunk   int64         // BDAT bytes yet to pass through unread
	utf8    bool          // the transaction's MAIL carried SMTPUTF8
	reply   string        // the command whose reply go-smtp writes next
}

func newConn(c net.Conn, s *Server, n int, isTLS bool) *conn {
	return &conn{Conn: c, s: s, n: n, rw: c, r: bufio.NewReader(c), tls: isTLS}
}

func (c *conn) Close() error {
	c.s.mu.Lock()
	delete(c.s.open, c.n)
	c.s.mu.Unlock()
	return c.Conn.Close()
}

// Read hands go-smtp at most one line per call, so when it asks for the
// next one it has answered every command before it: a refusal written
// here then comes in its turn, pipelining or not.
func (c *conn) Read(p []byte) (int, error) {
	for len(c.pending) == 0 {
		if err := c.next(); err != nil {
			return 0, err
		}
	}
	n := copy(p, c.pending)
	c.pending = c.pending[n:]
	return n, nil
}

// next reads the client's next line (or BDAT bytes) into pending, or
// answers it itself.
func (c *conn) next() error {
	if c.chunk > 0 {
		buf := make([]byte, min(c.chunk, 32<<10))
		n, err := c.r.Read(buf)
		c.chunk -= int64(n)
		c.pending = buf[:n]
		if n > 0 {
			return nil // the error, if any, comes with the next read
		}
		return err
	}
	line, err := c.r.ReadSlice('\n')
	if err == bufio.ErrBufferFull {
		c.pending, c.midLine = line, true
		return nil
	}
	if err != nil {
		if len(line) > 0 {
			c.pending = line // go-smtp sees the unterminated line, then the error
			return nil
		}
		return err
	}
	tail := c.midLine
	c.midLine = false
	switch {
	case tail:
		c.pending = line
	case c.data:
		if s := string(line); s == ".\r\n" || s == ".\n" {
			c.data = false
		}
		c.pending = line
	default:
		forward, err := c.command(strings.TrimRight(string(line), "\r\n"))
		if err != nil {
			return err
		}
		if forward {
			c.pending = line
		}
	}
	return nil
}

// command looks at one command line and says whether go-smtp gets it.
func (c *conn) command(line string) (forward bool, err error) {
	verb, arg := line, ""
	if len(line) > 4 && line[4] == ' ' {
		verb, arg = line[:4], line[5:]
	}
	c.reply = strings.ToUpper(verb)
	c.s.mu.Lock()
	stall := c.s.Stall
	c.s.mu.Unlock()
	if stall != nil && stall(c.reply) {
		return false, c.silence()
	}
	switch c.reply {
	case "MAIL":
		path, ok := cutPrefixFold(arg, "FROM:")
		if !ok {
			return true, nil // go-smtp refuses it already
		}
		mbox, params, ok := parsePath(path, true)
		if !ok {
			return false, c.refuse("501 5.5.4 Syntax error in parameters or arguments: MAIL FROM takes <address>, or <> for no return path (RFC 5321 4.1.2)")
		}
		c.utf8 = hasParam(params, "SMTPUTF8")
		if !c.utf8 && !isASCII(mbox) {
			return false, c.refuse("553 5.6.7 Non-ASCII address without SMTPUTF8 (RFC 6531 3.7.4)")
		}
	case "RCPT":
		path, ok := cutPrefixFold(arg, "TO:")
		if !ok {
			return true, nil
		}
		mbox, _, ok := parsePath(path, false)
		if !ok {
			return false, c.refuse("501 5.5.4 Syntax error in parameters or arguments: RCPT TO takes <address> (RFC 5321 4.1.2)")
		}
		if !c.utf8 && !isASCII(mbox) {
			return false, c.refuse("553 5.6.7 Non-ASCII address without SMTPUTF8 on MAIL FROM (RFC 6531 3.7.4)")
		}
	case "BDAT":
		// The chunk that follows is the message's bytes, not commands.
		if f := strings.Fields(arg); len(f) > 0 {
			if size, err := strconv.ParseInt(f[0], 10, 64); err == nil && size > 0 {
				c.chunk = size
			}
		}
	case "STARTTLS":
		if c.s.o.TLS != nil && !c.tls {
			return false, c.startTLS()
		}
	}
	return true, nil
}

// silence reads whatever the client sends and answers nothing, until the
// connection closes.
func (c *conn) silence() error {
	c.reply = ""
	if _, err := io.Copy(io.Discard, c.r); err != nil {
		return err
	}
	return io.EOF
}

func (c *conn) refuse(reply string) error {
	c.reply = ""
	_, err := io.WriteString(c.rw, reply+"\r\n")
	return err
}

// startTLS answers STARTTLS and shakes hands (RFC 3207). The client says
// EHLO again over TLS, which resets go-smtp's session.
func (c *conn) startTLS() error {
	c.reply = ""
	if _, err := io.WriteString(c.rw, "220 2.0.0 Ready to start TLS\r\n"); err != nil {
		return err
	}
	tc := tls.Server(c.Conn, c.s.o.TLS)
	if err := tc.Handshake(); err != nil {
		c.Conn.Close() // the client gave up on us; nothing more to say
		return io.EOF
	}
	c.rw, c.r, c.tls = tc, bufio.NewReader(tc), true
	return nil
}

// Write carries go-smtp's replies (one line per call: textproto flushes
// each). It offers STARTTLS in the EHLO reply, since go-smtp does not
// know about the TLS here, and notes when DATA was accepted.
func (c *conn) Write(p []byte) (int, error) {
	n, err := c.rw.Write(p)
	if err != nil {
		return n, err
	}
	switch reply := c.reply; {
	case reply == "EHLO" && c.s.o.TLS != nil && !c.tls && strings.HasPrefix(string(p), "250-"):
		_, err = io.WriteString(c.rw, "250-STARTTLS\r\n")
	case reply == "DATA" && strings.HasPrefix(string(p), "354"):
		c.data = true
	}
	c.reply = ""
	return n, err
}

// parsePath parses `"<" [ A-d-l ":" ] Mailbox ">"` at the start of s
// (RFC 5321 §4.1.2; "<>" too where null is allowed), with UTF-8 allowed
// as RFC 6531 allows it, and then the parameters. It returns the mailbox
// and the parameters. (RCPT's "<Postmaster>" is refused here as go-smtp
// refuses it.)
func parsePath(s string, null bool) (mbox string, params []string, ok bool) {
	end := pathEnd(s)
	if end < 0 {
		return "", nil, false
	}
	path, rest := s[1:end], s[end+1:]
	if path != "" || !null {
		if strings.HasPrefix(path, "@") { // a source route, to be ignored
			i := strings.IndexByte(path, ':')
			if i < 0 {
				return "", nil, false
			}
			for _, hop := range strings.Split(path[:i], ",") {
				if !strings.HasPrefix(hop, "@") || !isDomain(hop[1:]) {
					return "", nil, false
				}
			}
			path = path[i+1:]
		}
		if !isMailbox(path) {
			return "", nil, false
		}
	}
	if rest != "" {
		if rest[0] != ' ' {
			return "", nil, false
		}
		params = strings.Split(rest[1:], " ")
		for _, p := range params {
			if !isParam(p) {
				return "", nil, false
			}
		}
	}
	return path, params, true
}

// pathEnd is the index of the '>' that closes the path s starts with,
// skipping a quoted local part; -1 if s does not start with '<' or the
// path is not closed.
func pathEnd(s string) int {
	if !strings.HasPrefix(s, "<") {
		return -1
	}
	quoted := false
	for i := 1; i < len(s); i++ {
		switch {
		case quoted && s[i] == '\\':
			i++
		case s[i] == '"':
			quoted = !quoted
		case !quoted && s[i] == '>':
			return i
		case !quoted && (s[i] == ' ' || s[i] == '<'):
			return -1
		}
	}
	return -1
}

// isMailbox: Local-part "@" ( Domain / address-literal ).
func isMailbox(s string) bool {
	at := strings.LastIndexByte(s, '@')
	if at < 1 || !utf8.ValidString(s) {
		return false
	}
	local, domain := s[:at], s[at+1:]
	if strings.HasPrefix(domain, "[") {
		return len(domain) > 2 && strings.HasSuffix(domain, "]") && !strings.ContainsAny(domain[1:len(domain)-1], "[]\\ ")
	}
	return isLocalPart(local) && isDomain(domain)
}

// isLocalPart: Dot-string (atoms joined by single dots) or Quoted-string.
func isLocalPart(s string) bool {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		q := s[1 : len(s)-1]
		for i := 0; i < len(q); i++ {
			switch b := q[i]; {
			case b == '\\':
				i++
				if i == len(q) || q[i] < 32 || q[i] > 126 {
					return false
				}
			case b == '"' || b < 32 || b == 127:
				return false
			}
		}
		return true
	}
	for _, atom := range strings.Split(s, ".") {
		if atom == "" {
			return false
		}
		for i := 0; i < len(atom); i++ {
			if b := atom[i]; b < 0x80 && !isAlnum(b) && !strings.ContainsRune("!#$%&'*+-/=?^_`{|}~", rune(b)) {
				return false
			}
		}
	}
	return true
}

// isDomain: sub-domains of letters, digits and inner hyphens (or
// U-labels), joined by single dots.
func isDomain(s string) bool {
	if s == "" {
		return false
	}
	for _, label := range strings.Split(s, ".") {
		if label == "" || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for i := 0; i < len(label); i++ {
			if b := label[i]; b < 0x80 && !isAlnum(b) && b != '-' {
				return false
			}
		}
	}
	return true
}

// isParam: esmtp-keyword ["=" esmtp-value].
func isParam(p string) bool {
	key, value, hasValue := strings.Cut(p, "=")
	if key == "" || !isAlnum(key[0]) {
		return false
	}
	for i := 0; i < len(key); i++ {
		if !isAlnum(key[i]) && key[i] != '-' {
			return false
		}
	}
	if hasValue {
		if value == "" {
			return false
		}
		for i := 0; i < len(value); i++ {
			if b := value[i]; b < 33 || b == '=' || b == 127 {
				return false
			}
		}
	}
	return true
}

func hasParam(params []string, key string) bool {
	for _, p := range params {
		if k, _, _ := strings.Cut(p, "="); strings.EqualFold(k, key) {
			return true
		}
	}
	return false
}

func cutPrefixFold(s, prefix string) (string, bool) {
	if len(s) < len(prefix) || !strings.EqualFold(s[:len(prefix)], prefix) {
		return "", false
	}
	return s[len(prefix):], true
}

func isAlnum(b byte) bool {
	return 'a' <= b && b <= 'z' || 'A' <= b && b <= 'Z' || '0' <= b && b <= '9'
}

func isASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			return false
		}
	}
	return true
}
