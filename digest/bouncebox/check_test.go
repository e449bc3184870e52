package bouncebox_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-imap/v2"
	"github.com/emersion/go-imap/v2/imapclient"
	"github.com/emersion/go-imap/v2/imapserver"
	"github.com/emersion/go-imap/v2/imapserver/imapmemserver"

	"gull/digest"
	"gull/digest/bouncebox"
	"gull/digest/store"
	"gull/subscribers"
)

// digest/bounce's corpus was signed with this key, for readers 101-115
// and issue 2026-W49, with this return path.
var corpusKey = []byte("corpus key: sixteen bytes or more")

const returnPath = "bounces+{token}@example.org"

func corpus(t *testing.T, name string) []byte {
	t.Helper()
	for _, dir := range []string{"corpus", "notbounce"} {
		if b, err := os.ReadFile(filepath.Join("..", "bounce", "testdata", dir, name)); err == nil {
			return b
		}
	}
	t.Fatalf("no %s in digest/bounce/testdata", name)
	return nil
}

// The mailbox of the test: bounces of every kind, and the mail that
// reaches a return path and is none (a reader's reply, auto-replies, a
// phishing mail dressed as a bounce).
var (
	bounces = []string{"postfix-user-unknown.eml", "gmail-over-quota.eml", "yahoo-arf-complaint.eml",
		"postfix-delayed.eml", "naver-user-unknown-html.eml"}
	unrelated = []string{"out-of-office.eml", "reader-reply.eml", "korean-auto-reply-euckr.eml", "phishing-fake-bounce.eml"}
)

// listOf115 is a store whose readers 1-115 are active, as the corpus's
// tokens need (they name 101-115): r1@example.org and on.
func listOf115(t *testing.T) *store.Store {
	t.Helper()
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	rows := make([]subscribers.Row, 115)
	for i := range rows {
		rows[i] = subscribers.Row{Line: i + 1, Subscriber: subscribers.Subscriber{Email: fmt.Sprintf("r%d@example.org", i+1),
			Status: subscribers.Active}, Given: subscribers.AllFields}
	}
	if _, err := st.ImportSubscribers(context.Background(), rows, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	sendW49(t, st)
	return st
}

// sendW49 records issue 2026-W49 sent to every active reader on
// 2026-12-01, as the corpus's bounces say: only a copy gull sent can
// bounce. mids gives some readers (by address) the Message-ID the
// corpus quotes.
func sendW49(t *testing.T, st *store.Store, mids ...string) {
	t.Helper()
	ctx := context.Background()
	at := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	if _, err := st.SaveIssue(ctx, digest.Issue{ID: "2026-W49", Title: "Test Weekly"}, digest.IssueOpen, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PrepareDeliveries(ctx, "2026-W49", at); err != nil {
		t.Fatal(err)
	}
	ds, err := st.PendingDeliveries(ctx, "2026-W49", 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ups []digest.DeliveryUpdate
	for _, d := range ds {
		mid := fmt.Sprintf("gull.issue.2026-W49.%d@example.org", d.SubscriberID)
		if i := slices.Index(mids, d.Email); i >= 0 && i%2 == 0 {
			mid = mids[i+1]
		}
		ups = append(ups, digest.DeliveryUpdate{IssueID: "2026-W49", SubscriberID: d.SubscriberID, Status: digest.DeliverySent,
			MessageID: mid, At: at})
	}
	if err := st.UpdateDeliveries(ctx, ups); err != nil {
		t.Fatal(err)
	}
}

func statuses(t *testing.T, st *store.Store) map[string]string {
	t.Helper()
	subs, err := st.ListSubscribers(context.Background(), "")
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, s := range subs {
		if s.Status != subscribers.Active {
			out[s.Email] = string(s.Status) + ": " + s.Reason
		}
	}
	return out
}

func options(t *testing.T, st *store.Store, withToken bool) bouncebox.Options {
	o := bouncebox.Options{Recorder: st, Now: time.Date(2026, 12, 8, 9, 0, 0, 0, time.UTC)}
	if withToken {
		s, err := subscribers.NewSigner(corpusKey)
		if err != nil {
			t.Fatal(err)
		}
		rp, err := subscribers.ParseReturnPath(returnPath)
		if err != nil {
			t.Fatal(err)
		}
		o.Signer, o.ReturnPath = s, rp
	}
	return o
}

// selfSigned is a certificate for 127.0.0.1 and the pool that trusts it.
func selfSigned(t *testing.T) (tls.Certificate, *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "imap.test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	leaf, _ := x509.ParseCertificate(der)
	pool := x509.NewCertPool()
	pool.AddCert(leaf)
	return tls.Certificate{Certificate: [][]byte{der}, PrivateKey: key, Leaf: leaf}, pool
}

// imapServer is go-imap's in-process server over TLS on loopback, with
// one account whose INBOX holds msgs.
func imapServer(t *testing.T, msgs [][]byte) (bouncebox.IMAP, *x509.CertPool) {
	return imapServerTLS(t, msgs, "tls")
}

// imapServerTLS is imapServer with implicit TLS ("tls") or STARTTLS on a
// plain connection ("starttls").
func imapServerTLS(t *testing.T, msgs [][]byte, mode string) (bouncebox.IMAP, *x509.CertPool) {
	t.Helper()
	cert, pool := selfSigned(t)
	serverTLS := &tls.Config{Certificates: []tls.Certificate{cert}}
	mem := imapmemserver.New()
	user := imapmemserver.NewUser("bounces", "s3cret")
	if err := user.Create("INBOX", nil); err != nil {
		t.Fatal(err)
	}
	mem.AddUser(user)
	srv := imapserver.New(&imapserver.Options{
		NewSession: func(*imapserver.Conn) (imapserver.Session, *imapserver.GreetingData, error) {
			return mem.NewSession(), nil, nil
		},
		Caps:      imap.CapSet{imap.CapIMAP4rev1: {}, imap.CapIMAP4rev2: {}},
		Logger:    log.New(io.Discard, "", 0), // the refused certificate's test: no noise
		TLSConfig: serverTLS,
	})
	var ln net.Listener
	var err error
	if mode == "starttls" {
		ln, err = net.Listen("tcp", "127.0.0.1:0")
	} else {
		ln, err = tls.Listen("tcp", "127.0.0.1:0", serverTLS)
	}
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	port := ln.Addr().(*net.TCPAddr).Port
	acct := bouncebox.IMAP{Host: "127.0.0.1", Port: port, TLS: mode, Username: "bounces", Password: "s3cret", Folder: "INBOX",
		TLSConfig: &tls.Config{RootCAs: pool}}
	c := client(t, acct)
	for i, m := range msgs {
		// An IMAP server keeps mail with CRLF line ends, as SMTP carries it.
		m = []byte(strings.ReplaceAll(strings.ReplaceAll(string(m), "\r\n", "\n"), "\n", "\r\n"))
		cmd := c.Append("INBOX", int64(len(m)), nil)
		if _, err := cmd.Write(m); err != nil {
			t.Fatal(err)
		}
		if err := cmd.Close(); err != nil {
			t.Fatal(err)
		}
		if _, err := cmd.Wait(); err != nil {
			t.Fatalf("append message %d: %v", i, err)
		}
	}
	c.Logout().Wait()
	return acct, pool
}

func client(t *testing.T, a bouncebox.IMAP) *imapclient.Client {
	t.Helper()
	dial := imapclient.DialTLS
	if a.TLS == "starttls" {
		dial = imapclient.DialStartTLS
	}
	c, err := dial(fmt.Sprintf("%s:%d", a.Host, a.Port), &imapclient.Options{TLSConfig: a.TLSConfig})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Login(a.Username, a.Password).Wait(); err != nil {
		t.Fatal(err)
	}
	return c
}

// flags is every message's flags by its UID (the order they were
// appended in, from 1), as a person's mail program would show them.
func flags(t *testing.T, a bouncebox.IMAP) map[string]string {
	t.Helper()
	c := client(t, a)
	defer func() { c.Logout().Wait() }()
	if _, err := c.Select("INBOX", nil).Wait(); err != nil {
		t.Fatal(err)
	}
	msgs, err := c.Fetch(imap.SeqSetNum(1, 2, 3, 4, 5, 6, 7, 8, 9), &imap.FetchOptions{Flags: true, UID: true}).Collect()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, m := range msgs {
		var fs []string
		for _, f := range m.Flags {
			fs = append(fs, string(f))
		}
		slices.Sort(fs)
		out[fmt.Sprint(m.UID)] = strings.Join(fs, " ")
	}
	return out
}

func check(t *testing.T, box bouncebox.Mailbox, o bouncebox.Options) bouncebox.Result {
	t.Helper()
	res, err := bouncebox.Check(context.Background(), box, o)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Errs) > 0 {
		t.Fatalf("errors: %v", res.Errs)
	}
	return res
}

// The IMAP mailbox, over TLS: a check marks the right readers (by the
// return path's token), flags what it handled, leaves the rest as it
// was; a second check changes nothing.
func TestCheckIMAP(t *testing.T) {
	var msgs [][]byte
	for _, n := range append(slices.Clone(bounces), unrelated...) {
		msgs = append(msgs, corpus(t, n))
	}
	acct, _ := imapServer(t, msgs)
	before := flags(t, acct)
	if len(before) != len(msgs) {
		t.Fatalf("the folder holds %d messages: %v", len(before), before)
	}
	st := listOf115(t)
	o := options(t, st, true)

	// A dry run says what it would do and changes nothing.
	box, err := bouncebox.DialIMAP(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	o.DryRun = true
	dry := check(t, box, o)
	box.Close()
	if dry.Messages != 5 || len(statuses(t, st)) != 0 || fmt.Sprint(flags(t, acct)) != fmt.Sprint(before) {
		t.Fatalf("dry run: %d handled, %v, flags %v", dry.Messages, statuses(t, st), flags(t, acct))
	}

	o.DryRun = false
	box, err = bouncebox.DialIMAP(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	res := check(t, box, o)
	box.Close()
	want := map[string]string{
		"r101@example.org": "bounced: hard bounce (5.1.1 <jdoe@recipient.example>: Recipient address rejected: User unknown in virtual mailbox table)",
		"r103@example.org": "unsubscribed: complaint (marked as spam (abuse) via Yahoo!-Mail-Feedback/2.0)",
		"r107@example.org": "bounced: hard bounce (5.1.1 받는 사람의 메일 주소가 존재하지 않습니다. (Recipient address rejected))",
	}
	if got := statuses(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a check:\n got %v\nwant %v", got, want)
	}
	if res.Messages != 5 || res.LeftTotal() != 4 || res.Left["not a bounce"] != 4 {
		t.Errorf("handled %d, left %v", res.Messages, res.Left)
	}
	var lines []string
	for _, l := range res.Handled {
		lines = append(lines, l.String())
	}
	for _, w := range []string{"r115@example.org: soft bounce (4.2.2 ", "soft bounce 1 of 3 in a row; still active",
		"r104@example.org: delayed bounce (4.4.1 ", "r103@example.org: complaint (", "unsubscribed (complaint)"} {
		if !strings.Contains(strings.Join(lines, "\n"), w) {
			t.Errorf("no %q in\n%s", w, strings.Join(lines, "\n"))
		}
	}
	after := flags(t, acct)
	for subj, f := range after {
		// Keywords are case-insensitive; servers may keep either case.
		handled := strings.EqualFold(f, `$GullHandled \Seen`)
		if wasUnrelated := before[subj] == f; handled == wasUnrelated {
			t.Errorf("%q: flags %q (before %q)", subj, f, before[subj])
		}
	}
	if n := strings.Count(strings.ToLower(fmt.Sprint(after)), "$gullhandled"); n != 5 {
		t.Errorf("%d messages flagged handled, want 5: %v", n, after)
	}

	// Again: nothing to handle, the same four left alone, nothing changed.
	box, err = bouncebox.DialIMAP(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	again := check(t, box, o)
	box.Close()
	if again.Messages != 0 || again.LeftTotal() != 4 || fmt.Sprint(statuses(t, st)) != fmt.Sprint(want) || fmt.Sprint(flags(t, acct)) != fmt.Sprint(after) {
		t.Errorf("second check: handled %d, left %v, %v", again.Messages, again.Left, statuses(t, st))
	}
}

// A wrong password or certificate is one clear error, naming the key to
// fix and never the password.
func TestIMAPRefusals(t *testing.T) {
	acct, _ := imapServer(t, nil)
	bad := acct
	bad.Password = "wrong-password"
	if _, err := bouncebox.DialIMAP(context.Background(), bad); err == nil || !strings.Contains(err.Error(), "bounces.imap.password_env") ||
		strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password: %v", err)
	}
	untrusted := acct
	untrusted.TLSConfig = nil
	if _, err := bouncebox.DialIMAP(context.Background(), untrusted); err == nil || !strings.Contains(err.Error(), "TLS") {
		t.Errorf("an untrusted certificate: %v", err)
	}
	folder := acct
	folder.Folder = "Bounces"
	if _, err := bouncebox.DialIMAP(context.Background(), folder); err == nil || !strings.Contains(err.Error(), "bounces.imap.folder") {
		t.Errorf("a missing folder: %v", err)
	}
}

// The Maildir, with no return path configured: readers are found by the
// failed address. Handled messages go to cur/ seen; the rest stay in
// new/ as they were; a second check changes nothing.
func TestCheckMaildir(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	for i, n := range append(slices.Clone(bounces), unrelated...) {
		os.WriteFile(filepath.Join(dir, "new", fmt.Sprintf("17335%05d.M%dP1.host", i, i)), corpus(t, n), 0o600)
	}
	st, err := store.Open(context.Background(), filepath.Join(t.TempDir(), "gull.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	for _, e := range []string{"jdoe@recipient.example", "complainer@yahoo.com", "reader.kim@naver.com", "full.inbox@gmail.com", "bystander@example.org"} {
		st.SaveSubscriber(context.Background(), subscribers.Subscriber{Email: e, Status: subscribers.Active}, subscribers.AllFields,
			time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC))
	}
	// The complaint is matched by the Message-ID it quotes, never by the
	// address alone (anyone can mail the bounce mailbox one).
	sendW49(t, st, "complainer@yahoo.com", "gull.issue.2026-W49.c0c0c0c0c0c0c0c0c0c0@example.org")
	box, err := bouncebox.OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	o := options(t, st, false)
	res := check(t, box, o)
	want := map[string]string{
		"jdoe@recipient.example": "bounced: hard bounce (5.1.1 <jdoe@recipient.example>: Recipient address rejected: User unknown in virtual mailbox table)",
		"complainer@yahoo.com":   "unsubscribed: complaint (marked as spam (abuse) via Yahoo!-Mail-Feedback/2.0)",
		"reader.kim@naver.com":   "bounced: hard bounce (5.1.1 받는 사람의 메일 주소가 존재하지 않습니다. (Recipient address rejected))",
	}
	if got := statuses(t, st); fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("after a check:\n got %v\nwant %v", got, want)
	}
	// The delay warning of slow@overloaded.example names nobody on the
	// list: left unread, for a person.
	if res.Messages != 4 || res.Left["not a bounce"] != 4 || res.Left[bouncebox.Unmatched] != 1 {
		t.Errorf("handled %d, left %v", res.Messages, res.Left)
	}
	newer, _ := os.ReadDir(filepath.Join(dir, "new"))
	cur, _ := os.ReadDir(filepath.Join(dir, "cur"))
	if len(newer) != 5 || len(cur) != 4 {
		t.Errorf("new/ holds %d, cur/ %d; want the 4 unrelated and the unmatched left in new/, the 4 handled in cur/", len(newer), len(cur))
	}
	leftAlone := append(slices.Clone(unrelated), "postfix-delayed.eml")
	for _, e := range newer {
		b, _ := os.ReadFile(filepath.Join(dir, "new", e.Name()))
		if !slices.ContainsFunc(leftAlone, func(n string) bool { return string(corpus(t, n)) == string(b) }) {
			t.Errorf("new/%s is not one of the messages left alone, or was changed", e.Name())
		}
	}
	for _, e := range cur {
		if !strings.HasSuffix(e.Name(), ":2,S") {
			t.Errorf("cur/%s is not marked seen", e.Name())
		}
	}
	again := check(t, box, o)
	if again.Messages != 0 || again.LeftTotal() != 5 || fmt.Sprint(statuses(t, st)) != fmt.Sprint(want) {
		t.Errorf("second check: handled %d, left %v", again.Messages, again.Left)
	}
}

// STARTTLS (bounces.imap.tls: starttls, port 143): the same check.
func TestCheckIMAPStartTLS(t *testing.T) {
	acct, _ := imapServerTLS(t, [][]byte{corpus(t, "postfix-user-unknown.eml"), corpus(t, "reader-reply.eml")}, "starttls")
	st := listOf115(t)
	box, err := bouncebox.DialIMAP(context.Background(), acct)
	if err != nil {
		t.Fatal(err)
	}
	defer box.Close()
	res := check(t, box, options(t, st, true))
	if res.Messages != 1 || res.LeftTotal() != 1 || !strings.HasPrefix(statuses(t, st)["r101@example.org"], "bounced: hard bounce") {
		t.Errorf("handled %d, left %v, %v", res.Messages, res.Left, statuses(t, st))
	}
}

// countingBox counts the messages a check reads.
type countingBox struct {
	bouncebox.Mailbox
	reads int
}

func (c *countingBox) Read(ctx context.Context, m bouncebox.Message) ([]byte, error) {
	c.reads++
	return c.Mailbox.Read(ctx, m)
}

// The daemon's checks, every few minutes, read a message left alone once
// (it is never marked, so the memory is the daemon's); a new one is read.
func TestRememberedLeftAlone(t *testing.T) {
	dir := t.TempDir()
	for _, sub := range []string{"cur", "new", "tmp"} {
		os.MkdirAll(filepath.Join(dir, sub), 0o700)
	}
	for i, n := range unrelated {
		os.WriteFile(filepath.Join(dir, "new", fmt.Sprintf("17335%05d.M%dP1.host", i, i)), corpus(t, n), 0o600)
	}
	md, err := bouncebox.OpenMaildir(dir)
	if err != nil {
		t.Fatal(err)
	}
	box := &countingBox{Mailbox: md}
	st := listOf115(t)
	o := options(t, st, true)
	o.Remember = bouncebox.NewRemembered()
	if res := check(t, box, o); box.reads != 4 || res.Left["not a bounce"] != 4 {
		t.Fatalf("first check: %d reads, left %v", box.reads, res.Left)
	}
	os.WriteFile(filepath.Join(dir, "new", "1733599999.M9P1.host"), corpus(t, "postfix-user-unknown.eml"), 0o600)
	box.reads = 0
	res := check(t, box, o)
	if box.reads != 1 || res.Messages != 1 || res.Left["not a bounce"] != 4 {
		t.Fatalf("second check: %d reads, %d handled, left %v", box.reads, res.Messages, res.Left)
	}
	if newer, _ := os.ReadDir(filepath.Join(dir, "new")); len(newer) != 4 {
		t.Errorf("new/ holds %d messages, want the 4 left alone", len(newer))
	}
}
