package bouncebox

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"

	"gull/digest/bounce"
)

// HandledKeyword is the IMAP keyword a handled message gets beside
// \Seen: \Seen alone is what any mail program sets when a person opens
// the folder, so it cannot say gull handled a message.
const HandledKeyword imap.Flag = "$GullHandled"

// HandledFolder is where handled mail is moved, under the bounce folder
// (INBOX/gull-handled, INBOX.gull-handled), on a server that does not
// keep the keyword (Exchange and Microsoft 365 keep only the system
// flags): a keyword it drops would leave every bounce to be handled
// again at each check. It is created when missing.
const HandledFolder = "gull-handled"

// IMAP is the bounce mailbox's IMAP account (bounces.imap).
type IMAP struct {
	Host string
	Port int
	// TLS is "tls" (implicit, port 993), "starttls" (143) or "none"
	// (plain text: for a server on loopback only; config refuses it
	// elsewhere).
	TLS                string
	Username, Password string
	Folder             string
	// TLSConfig is for tests (a server with its own certificate); nil
	// verifies against the system's roots (and $SSL_CERT_FILE).
	TLSConfig *tls.Config
	// Timeout bounds the dial and each command; 0 is a minute.
	Timeout time.Duration
}

type imapBox struct {
	c        *imapclient.Client
	validity uint32 // the folder's UIDVALIDITY
	// moveTo is the folder handled mail moves to when the server keeps
	// no HandledKeyword; "" when it does.
	moveTo  string
	stop    func() bool
	timeout time.Duration
	conn    net.Conn
}

// DialIMAP logs in to the account and selects its folder. The password
// never reaches an error or a log.
func DialIMAP(ctx context.Context, a IMAP) (Mailbox, error) {
	timeout := a.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	addr := net.JoinHostPort(a.Host, strconv.Itoa(a.Port))
	d := net.Dialer{Timeout: timeout}
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("bounces.imap: connect to %s: %w", addr, err)
	}
	tc := a.TLSConfig.Clone()
	if tc == nil {
		tc = &tls.Config{}
	}
	if tc.ServerName == "" {
		tc.ServerName = a.Host
	}
	conn.SetDeadline(time.Now().Add(timeout))
	var c *imapclient.Client
	switch a.TLS {
	case "tls", "":
		tlsConn := tls.Client(conn, tc)
		if err := tlsConn.HandshakeContext(ctx); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bounces.imap: TLS with %s: %w", addr, err)
		}
		conn = tlsConn
		c = imapclient.New(conn, nil)
	case "starttls":
		if c, err = imapclient.NewStartTLS(conn, &imapclient.Options{TLSConfig: tc}); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bounces.imap: STARTTLS with %s: %w", addr, err)
		}
	case "none":
		c = imapclient.New(conn, nil)
	default:
		conn.Close()
		return nil, fmt.Errorf("bounces.imap.tls: %q; use tls, starttls or none", a.TLS)
	}
	b := &imapBox{c: c, timeout: timeout, conn: conn}
	// A cancelled context ends the session: every command then fails.
	b.stop = context.AfterFunc(ctx, func() { c.Close() })
	if err := b.run(func() error { return c.Login(a.Username, a.Password).Wait() }); err != nil {
		b.Close()
		return nil, fmt.Errorf("bounces.imap: log in to %s as %s: %w (check bounces.imap.username and the password in bounces.imap.password_env)", addr, a.Username, err)
	}
	folder := a.Folder
	if folder == "" {
		folder = "INBOX"
	}
	var keeps bool
	if err := b.run(func() error {
		data, err := c.Select(folder, nil).Wait()
		if err == nil {
			b.validity = data.UIDValidity
			keeps = keepsKeyword(data.PermanentFlags)
		}
		return err
	}); err != nil {
		b.Close()
		return nil, fmt.Errorf("bounces.imap: open folder %q on %s: %w (check bounces.imap.folder)", folder, addr, err)
	}
	if !keeps {
		if err := b.handledFolder(folder); err != nil {
			b.Close()
			return nil, fmt.Errorf("bounces.imap: %s keeps no %s keyword in %q, so handled mail is moved to a folder: %w", addr, HandledKeyword, folder, err)
		}
	}
	return b, nil
}

// keepsKeyword says whether a folder's PERMANENTFLAGS let a message keep
// HandledKeyword: "\*" (any new keyword) or the keyword itself. A server
// that sends no PERMANENTFLAGS keeps every flag (RFC 3501 §7.1).
func keepsKeyword(permanent []imap.Flag) bool {
	if len(permanent) == 0 {
		return true
	}
	for _, f := range permanent {
		if f == imap.FlagWildcard || strings.EqualFold(string(f), string(HandledKeyword)) {
			return true
		}
	}
	return false
}

// handledFolder makes HandledFolder under folder the place handled mail
// moves to, creating it if missing. A server that can neither MOVE nor
// expunge by UID (UIDPLUS) is refused: its fallback, EXPUNGE, would
// also remove what a person marked deleted.
func (b *imapBox) handledFolder(folder string) error {
	var caps imap.CapSet
	b.run(func() error { caps = b.c.Caps(); return nil })
	if !caps.Has(imap.CapMove) && !caps.Has(imap.CapUIDPlus) {
		return errors.New("the server can neither MOVE nor UID EXPUNGE; use a server or folder that keeps keywords, or bounces.maildir")
	}
	var delim rune
	if err := b.run(func() error {
		list, err := b.c.List("", folder, nil).Collect()
		if err == nil && len(list) > 0 {
			delim = list[0].Delim
		}
		return err
	}); err != nil {
		return fmt.Errorf("list %q: %w", folder, err)
	}
	name := HandledFolder
	if delim != 0 {
		name = folder + string(delim) + HandledFolder
	}
	var exists bool
	if err := b.run(func() error {
		list, err := b.c.List("", name, nil).Collect()
		exists = len(list) > 0
		return err
	}); err != nil {
		return fmt.Errorf("list %q: %w", name, err)
	}
	if !exists {
		if err := b.run(func() error { return b.c.Create(name, nil).Wait() }); err != nil {
			return fmt.Errorf("create the folder %q: %w (create it by hand, or let the account create folders)", name, err)
		}
	}
	b.moveTo = name
	return nil
}

// run runs one command within the timeout.
func (b *imapBox) run(f func() error) error {
	b.conn.SetDeadline(time.Now().Add(b.timeout))
	return f()
}

func (b *imapBox) Unhandled(ctx context.Context) ([]Message, error) {
	var uids []imap.UID
	criteria := &imap.SearchCriteria{NotFlag: []imap.Flag{HandledKeyword}}
	if b.moveTo != "" {
		criteria = &imap.SearchCriteria{} // handled mail has left the folder
	}
	err := b.run(func() error {
		data, err := b.c.UIDSearch(criteria, nil).Wait()
		if err == nil {
			uids = data.AllUIDs()
		}
		return err
	})
	if err != nil || len(uids) == 0 {
		return nil, wrap("search", err)
	}
	var bufs []*imapclient.FetchMessageBuffer
	err = b.run(func() error {
		var err error
		bufs, err = b.c.Fetch(imap.UIDSetNum(uids...), &imap.FetchOptions{UID: true, RFC822Size: true}).Collect()
		return err
	})
	if err != nil {
		return nil, wrap("fetch sizes", err)
	}
	out := make([]Message, 0, len(bufs))
	for _, m := range bufs {
		out = append(out, Message{Name: fmt.Sprintf("uid %d", m.UID), Size: m.RFC822Size, uid: uint32(m.UID),
			key: fmt.Sprintf("%d/%d", b.validity, m.UID)})
	}
	return out, nil
}

// Read fetches the message with BODY.PEEK, so reading it sets no flag: a
// message gull does not understand stays unread for a person.
func (b *imapBox) Read(ctx context.Context, m Message) ([]byte, error) {
	if m.uid == 0 {
		return nil, errNotOurs
	}
	if m.Size > bounce.MaxSize {
		return make([]byte, bounce.MaxSize+1), nil // Parse says it is too large
	}
	section := &imap.FetchItemBodySection{Peek: true}
	var bufs []*imapclient.FetchMessageBuffer
	err := b.run(func() error {
		var err error
		bufs, err = b.c.Fetch(imap.UIDSetNum(imap.UID(m.uid)), &imap.FetchOptions{UID: true, BodySection: []*imap.FetchItemBodySection{section}}).Collect()
		return err
	})
	if err != nil {
		return nil, wrap("fetch "+m.Name, err)
	}
	if len(bufs) == 0 {
		return nil, fmt.Errorf("bounces.imap: %s is gone from the folder", m.Name)
	}
	return bufs[0].FindBodySection(section), nil
}

func (b *imapBox) MarkHandled(ctx context.Context, m Message) error {
	if m.uid == 0 {
		return errNotOurs
	}
	uid := imap.UIDSetNum(imap.UID(m.uid))
	flags := []imap.Flag{imap.FlagSeen, HandledKeyword}
	if b.moveTo != "" {
		flags = flags[:1]
	}
	err := b.run(func() error {
		return b.c.Store(uid, &imap.StoreFlags{Op: imap.StoreFlagsAdd, Silent: true, Flags: flags}, nil).Close()
	})
	if err != nil || b.moveTo == "" {
		return wrap("flag "+m.Name, err)
	}
	err = b.run(func() error {
		_, err := b.c.Move(uid, b.moveTo).Wait()
		return err
	})
	return wrap("move "+m.Name+" to "+b.moveTo, err)
}

func (b *imapBox) Close() error {
	b.stop()
	b.run(func() error { return b.c.Logout().Wait() })
	return b.c.Close()
}

func wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return fmt.Errorf("bounces.imap: %s: the server did not answer in time: %w", what, err)
	}
	return fmt.Errorf("bounces.imap: %s: %w", what, err)
}
