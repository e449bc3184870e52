package deliver

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"gull/digest/deliver/smtptest"
)

var composeDate = time.Date(2026, 11, 30, 8, 0, 0, 0, time.UTC)

func TestComposerOutgoing(t *testing.T) {
	c := Composer{Envelope: env}
	m := message()
	out, err := c.Compose(m, composeDate)
	if err != nil {
		t.Fatal(err)
	}
	if out.IssueID != m.IssueID || out.To != m.To || out.From != "digest@example.org" || out.Test {
		t.Errorf("envelope: %+v", out)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(out.Body))
	if err != nil {
		t.Fatalf("Body does not parse: %v", err)
	}
	if got := msg.Header.Get("Message-Id"); got == "" || got != out.MessageID {
		t.Errorf("Message-ID header %q, Outgoing.MessageID %q", got, out.MessageID)
	}
	if want := "<" + MessageID(m.IssueID, m.To, "example.org") + ">"; out.MessageID != want {
		t.Errorf("MessageID %q, want %q", out.MessageID, want)
	}
	if i := bytes.IndexByte(bytes.ReplaceAll(out.Body, []byte("\r\n"), nil), '\n'); i >= 0 {
		t.Errorf("bare LF in Body at %d", i)
	}
	if msg.Header.Get("DKIM-Signature") != "" {
		t.Error("signed without a key")
	}
	test := m
	test.Test = true
	if out, _ := c.Compose(test, composeDate); !out.Test || !strings.Contains(out.MessageID, "gull.test.") {
		t.Errorf("test send: %+v", out)
	}
	if _, err := (Composer{Envelope: Envelope{From: "not an address"}}).Compose(m, composeDate); err == nil || !strings.Contains(err.Error(), "mail.from") {
		t.Errorf("bad mail.from: %v", err)
	}
}

func writeKey(t *testing.T, typ string, der []byte) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(p, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func rsaKeyFile(t *testing.T, bits int, pkcs8 bool) string {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, bits)
	if err != nil {
		t.Fatal(err)
	}
	if pkcs8 {
		der, err := x509.MarshalPKCS8PrivateKey(k)
		if err != nil {
			t.Fatal(err)
		}
		return writeKey(t, "PRIVATE KEY", der)
	}
	return writeKey(t, "RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(k))
}

func ed25519KeyFile(t *testing.T) string {
	t.Helper()
	_, k, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	return writeKey(t, "PRIVATE KEY", der)
}

// verifyDKIM checks body's signatures against key's published record.
func verifyDKIM(t *testing.T, key *DKIMKey, body []byte) []*dkim.Verification {
	t.Helper()
	name, record := key.TXTRecord()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(body), &dkim.VerifyOptions{
		LookupTXT: func(domain string) ([]string, error) {
			if domain != name {
				return nil, fmt.Errorf("no TXT record for %s", domain)
			}
			return []string{record}, nil
		},
	})
	if err != nil {
		t.Fatalf("verify: %v", err)
	}
	return vs
}

func TestDKIMSignsAndVerifies(t *testing.T) {
	for _, c := range []struct {
		name, file, algo string
	}{
		{"rsa-pkcs1", rsaKeyFile(t, 2048, false), "rsa-sha256"},
		{"rsa-pkcs8", rsaKeyFile(t, 2048, true), "rsa-sha256"},
		{"ed25519", ed25519KeyFile(t), "ed25519-sha256"},
	} {
		t.Run(c.name, func(t *testing.T) {
			key, err := LoadDKIM("example.org", "gull2026", c.file)
			if err != nil {
				t.Fatal(err)
			}
			if key.Algorithm() != c.algo {
				t.Errorf("Algorithm %q, want %q", key.Algorithm(), c.algo)
			}
			comp := Composer{Envelope: Envelope{From: "AI Policy Weekly <digest@example.org>", ListName: "AI Policy Weekly", UnsubscribeMailto: "unsubscribe@example.org"}, DKIM: key}
			// Several goroutines share the key, as the pipeline does.
			outs := make([]Outgoing, 8)
			var wg sync.WaitGroup
			for i := range outs {
				wg.Go(func() {
					m := message()
					m.To = addr(i)
					var err error
					if outs[i], err = comp.Compose(m, composeDate); err != nil {
						t.Error(err)
					}
				})
			}
			wg.Wait()
			for _, out := range outs {
				if !bytes.HasPrefix(out.Body, []byte("DKIM-Signature: ")) {
					t.Fatalf("no signature on top:\n%.300s", out.Body)
				}
				vs := verifyDKIM(t, key, out.Body)
				if len(vs) != 1 || vs[0].Err != nil {
					t.Fatalf("verification %+v: %v\n%.800s", vs, vs[0].Err, out.Body)
				}
				v := vs[0]
				if v.Domain != "example.org" {
					t.Errorf("d=%s", v.Domain)
				}
				signed := strings.ToLower(strings.Join(v.HeaderKeys, ":"))
				for _, h := range []string{"from", "to", "subject", "date", "message-id", "list-unsubscribe", "list-unsubscribe-post"} {
					if !strings.Contains(":"+signed+":", ":"+h+":") {
						t.Errorf("%s is not signed (h=%s)", h, signed)
					}
				}
				if _, err := mail.ReadMessage(bytes.NewReader(out.Body)); err != nil {
					t.Errorf("signed message does not parse: %v", err)
				}
			}

			// Tampering with the body or a signed header breaks it.
			body := outs[0].Body
			i := bytes.Index(body, []byte("\r\n\r\n"))
			tampered := append(append([]byte{}, body[:len(body)-40]...), bytes.ToUpper(body[len(body)-40:])...)
			if vs := verifyDKIM(t, key, tampered); vs[0].Err == nil {
				t.Error("a changed body still verifies")
			}
			hdr := bytes.Replace(body[:i], []byte("\r\nSubject:"), []byte("\r\nSubject: FREE"), 1)
			if vs := verifyDKIM(t, key, append(hdr, body[i:]...)); vs[0].Err == nil {
				t.Error("a changed subject still verifies")
			}
		})
	}
}

func TestDKIMHeaderListFits(t *testing.T) {
	// See dkimHeaders: go-mail breaks a longer h= tag mid-word and the
	// signature no longer verifies.
	if n := len("h=" + strings.Join(dkimHeaders, ":") + "; "); n > 75 {
		t.Errorf("h= tag is %d bytes; keep it within 75", n)
	}
}

func TestLoadDKIMErrors(t *testing.T) {
	dir := t.TempDir()
	pub := filepath.Join(dir, "pub.pem")
	k, _ := rsa.GenerateKey(rand.Reader, 1024)
	der, _ := x509.MarshalPKIXPublicKey(&k.PublicKey)
	os.WriteFile(pub, pem.EncodeToMemory(&pem.Block{Type: "PUBLIC KEY", Bytes: der}), 0o600)
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)
	t.Setenv("GODEBUG", "rsa1024min=0") // Go refuses to make a 512-bit key otherwise
	short := rsaKeyFile(t, 512, false)
	for _, c := range []struct {
		domain, selector, file string
		want                   []string
	}{
		{"example.org", "s1", filepath.Join(dir, "missing.pem"), []string{"mail.dkim.key_file", "missing.pem", "openssl"}},
		{"example.org", "s1", pub, []string{"mail.dkim.key_file", "pub.pem", "private key"}},
		{"example.org", "s1", garbage, []string{"mail.dkim.key_file", "garbage.pem", "no PEM block"}},
		{"example.org", "s1", short, []string{"512 bits", "2048"}},
		{"example org", "s1", garbage, []string{"mail.dkim.domain"}},
		{"example.org", "a b", garbage, []string{"mail.dkim.selector"}},
	} {
		_, err := LoadDKIM(c.domain, c.selector, c.file)
		if err == nil {
			t.Errorf("%+v: no error", c)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("LoadDKIM(%q, %q, %s): %q does not mention %q", c.domain, c.selector, filepath.Base(c.file), err, w)
			}
		}
	}
}

// The composed, signed message goes through SMTP byte for byte and still
// verifies on arrival.
func TestDKIMSurvivesSMTP(t *testing.T) {
	key, err := LoadDKIM("example.org", "gull2026", ed25519KeyFile(t))
	if err != nil {
		t.Fatal(err)
	}
	out, err := Composer{Envelope: env, DKIM: key}.Compose(message(), composeDate)
	if err != nil {
		t.Fatal(err)
	}
	srv := startServer(t, smtptest.Options{})
	s := newSMTP(t, smtpOptions(srv, "none"))
	if err := s.Send(t.Context(), out); err != nil {
		t.Fatal(err)
	}
	got := srv.Messages()
	if len(got) != 1 || !bytes.Equal(got[0].Data, out.Body) {
		t.Fatal("message changed in transit")
	}
	if vs := verifyDKIM(t, key, got[0].Data); vs[0].Err != nil {
		t.Errorf("arrived message does not verify: %v", vs[0].Err)
	}
}
