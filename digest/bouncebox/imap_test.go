package bouncebox_test

import (
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"log"
	"net"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"gull/digest/bouncebox"
)

// exchangeLike is go-imap's in-process server as Exchange and Microsoft
// 365 behave: PERMANENTFLAGS lists the system flags only (no "\*"), and
// a keyword set on a message is not kept.
type exchangeLike struct{ *imapmemserver.UserSession }

func systemOnly(fs []imap.Flag) []imap.Flag {
	var out []imap.Flag
	for _, f := range fs {
		if strings.HasPrefix(string(f), `\`) && f != imap.FlagWildcard {
			out = append(out, f)
		}
	}
	return out
}

func (s exchangeLike) Select(name string, o *imap.SelectOptions) (*imap.SelectData, error) {
	d, err := s.UserSession.Select(name, o)
	if d != nil {
		d.PermanentFlags = systemOnly(append(d.PermanentFlags, imap.FlagSeen, imap.FlagDeleted))
	}
	return d, err
}

func (s exchangeLike) Store(w *imapserver.FetchWriter, n imap.NumSet, f *imap.StoreFlags, o *imap.StoreOptions) error {
	kept := *f
	kept.Flags = systemOnly(f.Flags)
	return s.UserSession.Store(w, n, &kept, o)
}

// keywordlessServer serves one account over TLS on loopback whose INBOX
// holds msgs and keeps no keyword; caps are its capabilities.
func keywordlessServer(t *testing.T, msgs [][]byte, caps imap.CapSet) bouncebox.IMAP {
	t.Helper()
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	user := imapmemserver.NewUser("bounces", "s3cret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	for i, m := range msgs {
		m = []byte(strings.ReplaceAll(strings.ReplaceAll(string(m), "\r\n", "\n"), "\n", "\r\n"))
		if _, err := user.Append("INBOX", literal{strings.NewReader(string(m)), int64(len(m))}, &imap.AppendOptions{}); err != nil {
			t.Fatalf("append message %d: %v", i, err)
		}
	}
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return exchangeLike{imapmemserver.NewUserSession(user)}, nil, nil
		},
		Caps:      caps,
		Logger:    log.New(io.Discard, "", 0),
		TLSConfig: serverTLS,
	})
	ln, err := tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return bouncebox.IMAP{Host: "127.0.0.1", Port: ln.Addr().(*net.TCPAddr).Port, TLS: "tls", Username: "bounces",
		Password: "s3cret", Folder: "INBOX", TLSConfig: &tls.Config{RootCAs: pool}}
}

type literal struct {
	*strings.Reader
	n int64
}

func (l literal) Size() int64 { return l.n }

// folderFlags is each message's flags in folder, in order, as a person's
// mail program shows them.
func folderFlags(t *testing.T, a bouncebox.IMAP, folder string) []string {
	t.Helper()
	c := client(t, a)
	defer func() { c.Logout().Wait() }()
	data, err := c.Select(folder, nil).Wait()
	if err != nil {
		t.Fatalf("select %s: %v", folder, err)
	}
	if data.NumMessages == 0 {
		return nil
	}
	msgs, err := c.Fetch(imap.SeqSet{{Start: 1, Stop: 0}}, &imap.FetchOptions{Flags: true, Envelope: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		var fs []string
		for _, f := range m.Flags {
			fs = append(fs, string(f))
		}
		slices.Sort(fs)
		out = append(out, fmt.Sprintf("%s [%s]", m.Envelope.Subject, strings.Join(fs, " ")))
	}
	return out
}

// A server that keeps no $GullHandled (Exchange, Microsoft 365): handled
// mail moves, seen, to INBOX/gull-handled, created on the first check;
// what gull did not understand stays in INBOX as it was; a second check
// handles nothing again.
func TestCheckIMAPWithoutKeywords(t *testing.T) {
	names := []string{"postfix-user-unknown.eml", "yahoo-arf-complaint.eml", "reader-reply.eml"}
	var msgs [][]byte
	for _, n := range names {
		msgs = append(msgs, corpus(t, n))
	}
	acct := keywordlessServer(t, msgs, imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}})
	inbox := folderFlags(t, acct, "INBOX")
	st := listOf115(t)
	o := options(t, st, true)

	for i := range 2 {
		box, err := bouncebox.DialIMAP(context.Background(), acct)
		if err != nil {
			t.Fatal(err)
		}
		res := check(t, box, o)
		box.Close()
		if want := []int{2, 0}[i]; res.Messages != want || res.LeftTotal() != 1 {
			t.Errorf("check %d: handled %d (want %d), left %v", i+1, res.Messages, want, res.Left)
		}
	}
	want := map[string]string{
		"r101@example.org": "bounced: hard bounce (5.1.1 <jdoe@recipient.example>: Recipient address rejected: User unknown in virtual mailbox table)",
		"r103@example.org": "unsubscribed: complaint (marked as spam (abuse) via Yahoo!-Mail-Feedback/2.0)",
	}
	if got := statuses(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("readers:\n got %v\nwant %v", got, want)
	}
	if got := folderFlags(t, acct, "INBOX"); len(got) != 1 || got[0] != inbox[2] {
		t.Errorf("INBOX holds %q, want only the reader's reply as it was (%q)", got, inbox[2])
	}
	moved := folderFlags(t, acct, "INBOX/gull-handled")
	if len(moved) != 2 || !strings.HasSuffix(moved[0], `[\Seen]`) || !strings.HasSuffix(moved[1], `[\Seen]`) {
		t.Errorf("INBOX/gull-handled holds %q, want the two reports, seen", moved)
	}
}

// A server that keeps no keyword and can neither MOVE nor UID EXPUNGE:
// refused at the start with what to do, rather than handling the same
// mail at every check or expunging what a person deleted.
func TestIMAPWithoutKeywordsNorMove(t *testing.T) {
	acct := keywordlessServer(t, nil, imap.CapSet{imap.CapIMAP4rev1: {}})
	_, err := bouncebox.DialIMAP(context.Background(), acct)
	if err == nil || !strings.Contains(err.Error(), "$GullHandled") || !strings.Contains(err.Error(), "bounces.maildir") {
		t.Errorf("DialIMAP = %v, want a refusal naming the keyword and the way out", err)
	}
}
