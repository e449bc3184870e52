// Package webhooktest signs webhook posts as the mail providers do, for
// tests: Amazon SNS (an RSA key and a self-signed certificate for
// sns.<region>.amazonaws.com, served over TLS on loopback), Mailgun
// (HMAC-SHA256) and SendGrid (ECDSA P-256). It writes the providers'
// signing rules out again from their documentation rather than calling
// digest/webhook's, so a test checks one against the other.
package webhooktest

import (
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"time"
)

// SNS is a stand-in for Amazon SNS in one region: it signs messages
// with its own key and serves the key's certificate, and the
// subscription confirmations, on a loopback TLS server that answers for
// sns.<region>.amazonaws.com. Client reaches it whatever host a URL
// names (so a URL of another host reaches it too, and a test sees that
// it was asked), and trusts its certificate alone.
type SNS struct {
	Region  string
	Client  *http.Client
	CertURL string // https://sns.<region>.amazonaws.com/SimpleNotificationService-<hex>.pem, as Amazon names them

	key *rsa.PrivateKey
	srv *httptest.Server

	mu        sync.Mutex
	inFlight  int      // requests being answered now
	maxFlight int      // the most answered at once
	gets      []string // the request URIs asked for, by any host
	dials     []string // the addresses Client connected for
	confirmed []string // the Tokens of confirmed subscriptions
	slow      time.Duration
}

// NewSNS starts an SNS of region; Close stops it.
func NewSNS(region string) (*SNS, error) {
	key, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		return nil, err
	}
	host := "sns." + region + ".amazonaws.com"
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: host},
		DNSNames:     []string{host},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(24 * time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature | x509.KeyUsageKeyEncipherment | x509.KeyUsageCertSign,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		// Its own root, so the client trusts it for TLS.
		IsCA: true, BasicConstraintsValid: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		return nil, err
	}
	s := &SNS{Region: region, key: key, CertURL: "https://" + host + certPath}
	certPEM := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	s.srv = httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.gets = append(s.gets, r.Host+r.RequestURI)
		s.inFlight++
		s.maxFlight = max(s.maxFlight, s.inFlight)
		slow := s.slow
		s.mu.Unlock()
		defer func() {
			s.mu.Lock()
			s.inFlight--
			s.mu.Unlock()
		}()
		time.Sleep(slow)
		switch {
		case r.URL.Path == certPath:
			w.Write(certPEM)
		case r.URL.Path == "/" && r.URL.Query().Get("Action") == "ConfirmSubscription":
			s.mu.Lock()
			s.confirmed = append(s.confirmed, r.URL.Query().Get("Token"))
			s.mu.Unlock()
			fmt.Fprint(w, `<ConfirmSubscriptionResponse><ConfirmSubscriptionResult><SubscriptionArn>x</SubscriptionArn></ConfirmSubscriptionResult></ConfirmSubscriptionResponse>`)
		default:
			http.NotFound(w, r)
		}
	}))
	s.srv.Config.ErrorLog = log.New(io.Discard, "", 0) // a refused handshake is what some tests want
	s.srv.TLS = &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key, Leaf: cert}}}
	s.srv.StartTLS()
	roots := x509.NewCertPool()
	roots.AddCert(cert)
	addr := s.srv.Listener.Addr().String()
	s.Client = &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, to string) (net.Conn, error) {
			s.mu.Lock()
			s.dials = append(s.dials, to)
			s.mu.Unlock()
			return (&net.Dialer{}).DialContext(ctx, "tcp", addr)
		},
	}}
	return s, nil
}

// certPath is where the server keeps its signing certificate.
const certPath = "/SimpleNotificationService-0123456789abcdef0123456789abcdef.pem"

// Slow makes each answer wait d first, so a test can see requests
// overlap (MaxInFlight).
func (s *SNS) Slow(d time.Duration) {
	s.mu.Lock()
	s.slow = d
	s.mu.Unlock()
}

// MaxInFlight is the most requests the server answered at once.
func (s *SNS) MaxInFlight() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.maxFlight
}

// Now is the time as SNS writes a message's Timestamp: its messages are
// stamped now, as the certificate is valid around now.
func Now() string { return time.Now().UTC().Format("2006-01-02T15:04:05.000Z") }

// Close stops the server.
func (s *SNS) Close() { s.srv.Close() }

// Gets are the URLs (host and request URI) the server was asked for.
func (s *SNS) Gets() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.gets...)
}

// Dials are the host:port Client connected for, whatever came of it.
func (s *SNS) Dials() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.dials...)
}

// Confirmed are the Tokens of the subscriptions confirmed.
func (s *SNS) Confirmed() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.confirmed...)
}

// Message is an SNS message; Sign fills Signature.
type Message map[string]string

// Notification is a signed SNS Notification of topic carrying message,
// with signature version ("1" SHA1, "2" SHA256), as JSON.
func (s *SNS) Notification(topic, id, message, version string) []byte {
	return s.Sign(Message{"Type": "Notification", "MessageId": id, "TopicArn": topic, "Message": message,
		"Timestamp": Now(), "SignatureVersion": version, "SigningCertURL": s.CertURL,
		"UnsubscribeURL": "https://sns." + s.Region + ".amazonaws.com/?Action=Unsubscribe&SubscriptionArn=x"})
}

// SubscriptionConfirmation is a signed SNS SubscriptionConfirmation of
// topic with token, as JSON.
func (s *SNS) SubscriptionConfirmation(topic, token string) []byte {
	return s.Sign(Message{"Type": "SubscriptionConfirmation", "MessageId": "confirm-" + token, "TopicArn": topic,
		"Token": token, "Message": "You have chosen to subscribe to the topic " + topic,
		"SubscribeURL":     "https://sns." + s.Region + ".amazonaws.com/?Action=ConfirmSubscription&TopicArn=" + topic + "&Token=" + token,
		"Timestamp":        Now(),
		"SignatureVersion": "2", "SigningCertURL": s.CertURL})
}

// Sign signs m as SNS does (its SignatureVersion, "1" when unset) and
// returns it as JSON.
func (s *SNS) Sign(m Message) []byte {
	if m["SignatureVersion"] == "" {
		m["SignatureVersion"] = "1"
	}
	// The fields SNS signs, in this order, name and value each on a line;
	// those a message lacks are left out.
	keys := []string{"Message", "MessageId", "Subject", "Timestamp", "TopicArn", "Type"}
	if m["Type"] != "Notification" {
		keys = []string{"Message", "MessageId", "SubscribeURL", "Timestamp", "Token", "TopicArn", "Type"}
	}
	var text string
	for _, k := range keys {
		if v, ok := m[k]; ok {
			text += k + "\n" + v + "\n"
		}
	}
	var sig []byte
	var err error
	if m["SignatureVersion"] == "2" {
		d := sha256.Sum256([]byte(text))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, d[:])
	} else {
		d := sha1.Sum([]byte(text))
		sig, err = rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA1, d[:])
	}
	if err != nil {
		panic(err)
	}
	m["Signature"] = base64.StdEncoding.EncodeToString(sig)
	b, _ := json.Marshal(m)
	return b
}

// MailgunPost is a Mailgun webhook post of eventData signed with key at
// ts with token.
func MailgunPost(key []byte, ts time.Time, token string, eventData any) []byte {
	stamp := strconv.FormatInt(ts.Unix(), 10)
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(stamp + token))
	b, err := json.Marshal(map[string]any{
		"signature":  map[string]string{"timestamp": stamp, "token": token, "signature": hex.EncodeToString(mac.Sum(nil))},
		"event-data": eventData,
	})
	if err != nil {
		panic(err)
	}
	return b
}

// SendGrid signs event webhook posts with an ECDSA P-256 key.
type SendGrid struct{ key *ecdsa.PrivateKey }

// NewSendGrid makes a signing key.
func NewSendGrid() (*SendGrid, error) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	return &SendGrid{key: k}, err
}

// PublicKey is the verification key as SendGrid shows it: base64 of the
// PKIX DER.
func (g *SendGrid) PublicKey() string {
	der, err := x509.MarshalPKIXPublicKey(&g.key.PublicKey)
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(der)
}

// Sign is the signature header's value for body posted at timestamp.
func (g *SendGrid) Sign(timestamp string, body []byte) string {
	d := sha256.Sum256(append([]byte(timestamp), body...))
	sig, err := ecdsa.SignASN1(rand.Reader, g.key, d[:])
	if err != nil {
		panic(err)
	}
	return base64.StdEncoding.EncodeToString(sig)
}
