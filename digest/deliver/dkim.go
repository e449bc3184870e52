package deliver

import (
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"os"
	"regexp"
	"strings"
	"time"

	gomail "github.com/wneessen/go-mail"
)

// DKIMKey is a loaded mail.dkim signing key. It is immutable and safe to
// share: every message gets its own go-mail signer built from it, because
// go-mail's Signer fills in its algorithm lazily on first use, a data race
// if one Signer signed messages composed in several goroutines.
type DKIMKey struct {
	Domain   string
	Selector string
	key      crypto.Signer
	now      func() time.Time // the signatures' t=; nil is the clock (tests fix it)
}

// dkimHeaders are the fields the signature covers, bottom-most instance.
// From is what DMARC aligns on; List-Unsubscribe and List-Unsubscribe-Post
// must be signed for Gmail and Yahoo to honour one-click unsubscribe
// (RFC 8058 §4); the rest stop a relay from rewriting what the reader sees.
//
// The list is kept short on purpose: go-mail v0.8.1 folds the
// DKIM-Signature header at 76 columns and, for a tag longer than a line,
// breaks it mid-word. Relaxed canonicalization turns that fold into a
// space the signer did not hash, so a long h= tag makes every signature
// fail to verify. "h=" plus this list plus "; " must stay within 75 bytes
// (checked by TestDKIMHeaderListFits).
var dkimHeaders = []string{"From", "To", "Subject", "Date", "Message-ID", "List-Unsubscribe", "List-Unsubscribe-Post"}

var dnsLabelsRE = regexp.MustCompile(`^[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?(\.[A-Za-z0-9_]([A-Za-z0-9_-]*[A-Za-z0-9_])?)*$`)

// LoadDKIM reads the PEM private key of mail.dkim.key_file: RSA (PKCS#1
// "RSA PRIVATE KEY" or PKCS#8 "PRIVATE KEY", at least 1024 bits as RFC
// 8301 requires) or Ed25519 (PKCS#8, RFC 8463).
func LoadDKIM(domain, selector, keyFile string) (*DKIMKey, error) {
	domain = strings.TrimSuffix(strings.TrimSpace(domain), ".")
	selector = strings.TrimSpace(selector)
	if !dnsLabelsRE.MatchString(domain) || !strings.Contains(domain, ".") {
		return nil, fmt.Errorf("mail.dkim.domain: %q is not a domain name; use the domain of mail.from, e.g. example.org", domain)
	}
	if !dnsLabelsRE.MatchString(selector) {
		return nil, fmt.Errorf("mail.dkim.selector: %q is not a DNS label; use the name the key is published under (<selector>._domainkey.%s), e.g. gull2026", selector, domain)
	}
	data, err := os.ReadFile(keyFile)
	if err != nil {
		return nil, fmt.Errorf("mail.dkim.key_file: cannot read the private key: %w; point key_file at a PEM key, e.g. made with: openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out dkim.pem", err)
	}
	key, err := parseDKIMKey(data)
	if err != nil {
		return nil, fmt.Errorf("mail.dkim.key_file: %s: %w", keyFile, err)
	}
	return &DKIMKey{Domain: domain, Selector: selector, key: key}, nil
}

func parseDKIMKey(data []byte) (crypto.Signer, error) {
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("no PEM block found; the file must start with -----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----")
	}
	switch block.Type {
	case "PUBLIC KEY", "RSA PUBLIC KEY", "CERTIFICATE":
		return nil, fmt.Errorf("holds a %s; key_file must be the private key (the public one goes in DNS)", strings.ToLower(block.Type))
	}
	if block.Type == "ENCRYPTED PRIVATE KEY" || x509.IsEncryptedPEMBlock(block) { //nolint:staticcheck // only to give a clear message for legacy encrypted PEM
		return nil, errors.New("the key is encrypted; store it unencrypted (openssl pkey -in KEY -out dkim.pem) and protect the file with its permissions")
	}
	key, err := gomail.PrivKeyFromPEM(data)
	if err != nil {
		return nil, fmt.Errorf("not a usable private key (%v); use an RSA key (PKCS#1 or PKCS#8) or an Ed25519 key (PKCS#8)", err)
	}
	if k, ok := key.(*rsa.PrivateKey); ok && k.N.BitLen() < 1024 {
		return nil, fmt.Errorf("RSA key of %d bits is too short (receivers ignore DKIM keys under 1024 bits, RFC 8301); make a 2048-bit key", k.N.BitLen())
	}
	return key, nil
}

// Algorithm is the a= tag the signatures carry.
func (k *DKIMKey) Algorithm() string {
	if _, ok := k.key.(ed25519.PrivateKey); ok {
		return "ed25519-sha256"
	}
	return "rsa-sha256"
}

// TXTRecord is the DNS record to publish for this key, so `gull config
// check` (or a test) can show the operator exactly what to add.
func (k *DKIMKey) TXTRecord() (name, value string) {
	name = k.Selector + "._domainkey." + k.Domain
	switch pub := k.key.Public().(type) {
	case ed25519.PublicKey:
		return name, "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(pub)
	default:
		der, err := x509.MarshalPKIXPublicKey(pub)
		if err != nil {
			return name, ""
		}
		return name, "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
}

// signer makes a fresh go-mail signer for one message (see DKIMKey).
func (k *DKIMKey) signer() *gomail.DKIMSigner {
	s := gomail.NewDKIMSigner(k.Domain, k.Selector, k.key)
	s.SignHeaders(dkimHeaders...)
	s.NowFunc = k.now
	return s
}
