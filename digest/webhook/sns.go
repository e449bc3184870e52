package webhook

import (
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
)

// ErrTopic: a message of an SNS topic that is not configured
// (bounces.webhooks.ses.topic_arn). It is neither verified nor confirmed,
// so gull fetches nothing for it.
var ErrTopic = errors.New("webhook: SNS topic not configured")

// SNSMessage is an Amazon SNS HTTP(S) message: a subscription
// confirmation, a notification or an unsubscribe confirmation.
type SNSMessage struct {
	Type             string `json:"Type"`
	MessageID        string `json:"MessageId"`
	Token            string `json:"Token"`
	TopicARN         string `json:"TopicArn"`
	Subject          string `json:"Subject"`
	Message          string `json:"Message"`
	SubscribeURL     string `json:"SubscribeURL"`
	Timestamp        string `json:"Timestamp"`
	SignatureVersion string `json:"SignatureVersion"`
	Signature        string `json:"Signature"`
	SigningCertURL   string `json:"SigningCertURL"`
}

// SNS message types.
const (
	SNSSubscriptionConfirmation = "SubscriptionConfirmation"
	SNSNotification             = "Notification"
	SNSUnsubscribeConfirmation  = "UnsubscribeConfirmation"
)

const (
	maxCertSize = 64 << 10 // a certificate is ~2 KB
	maxCerts    = 32       // SNS rotates its certificate every few years
	snsTimeout  = 10 * time.Second
)

// ParseSNS reads an SNS message; ErrMalformed when it is not one.
func ParseSNS(body []byte) (SNSMessage, error) {
	var m SNSMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return SNSMessage{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	switch m.Type {
	case SNSSubscriptionConfirmation, SNSUnsubscribeConfirmation:
		if m.SubscribeURL == "" || m.Token == "" {
			return SNSMessage{}, fmt.Errorf("%w: SNS %s without SubscribeURL or Token", ErrMalformed, m.Type)
		}
	case SNSNotification:
	default:
		return SNSMessage{}, fmt.Errorf("%w: SNS message type %q", ErrMalformed, m.Type)
	}
	if m.MessageID == "" || m.TopicARN == "" || m.Timestamp == "" || m.Message == "" {
		return SNSMessage{}, fmt.Errorf("%w: SNS message without MessageId, TopicArn, Timestamp or Message", ErrMalformed)
	}
	return m, nil
}

// SNS checks the messages of the configured topics: their signatures
// against Amazon's signing certificates (fetched once each, only from an
// SNS host over https), and confirms their subscriptions.
type SNS struct {
	// TopicARNs are the topics whose messages are taken.
	TopicARNs []string
	// Client fetches certificates and confirms subscriptions; nil is a
	// client that waits 10 s at most and follows no redirect. Whatever
	// the client, only https URLs of an SNS host are asked for (snsHost).
	Client *http.Client

	mu     sync.Mutex
	certs  map[string]*x509.Certificate // by SigningCertURL
	failed map[string]time.Time         // SigningCertURL -> until when it is not fetched again
	// fetching lets one certificate fetch run at a time: posts that
	// name a configured topic but carry no valid signature (anyone can
	// write one) must not make gull fetch many URLs at once.
	fetching chan struct{}
}

// snsCertPathRE is the path of Amazon's SNS signing certificates
// (SimpleNotificationService-<hex>.pem): no other path of an SNS host is
// fetched as one.
var snsCertPathRE = regexp.MustCompile(`^/SimpleNotificationService-[0-9a-f]+\.pem$`)

// snsFailedFor is how long a certificate URL whose fetch failed is
// refused without being fetched again: a storm of posts naming it costs
// one fetch a minute, and a real rotation waits a minute at worst (SNS
// retries its posts).
const snsFailedFor = time.Minute

// snsHostRE is the host of Amazon SNS in a region (and in the China
// regions), the only one gull fetches a certificate from or confirms a
// subscription at: a forged message naming another host must not make
// gull fetch from it, or trust a key served there.
var snsHostRE = regexp.MustCompile(`^sns\.[a-z]{2}(-[a-z]+)+-\d+\.amazonaws\.com(\.cn)?$`)

// snsURL checks that raw is an https URL of an SNS host (no port, no
// user): what SigningCertURL and SubscribeURL must be.
//
// Its error names the host only: a SubscribeURL carries the
// subscription's Token, which a log must not keep.
func snsURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: not a URL", ErrSignature)
	}
	if u.Scheme != "https" || u.User != nil || u.Port() != "" || !snsHostRE.MatchString(u.Hostname()) {
		return nil, fmt.Errorf("%w: not an https URL of an SNS host (%s://%s)", ErrSignature, u.Scheme, u.Hostname())
	}
	return u, nil
}

// Topic checks that m is of a configured topic (ErrTopic otherwise).
// Call it before Verify: a message of another topic costs no fetch.
func (s *SNS) Topic(m SNSMessage) error {
	if !slices.Contains(s.TopicARNs, m.TopicARN) {
		return ErrTopic
	}
	return nil
}

// Verify checks m's signature (SignatureVersion 1: SHA1 with RSA, 2:
// SHA256 with RSA) with the certificate at its SigningCertURL, which must
// be an SNS host's and valid at now. Any failure is ErrSignature.
func (s *SNS) Verify(ctx context.Context, m SNSMessage, now time.Time) error {
	if err := s.Topic(m); err != nil {
		return err
	}
	var h crypto.Hash
	switch m.SignatureVersion {
	case "1":
		h = crypto.SHA1
	case "2":
		h = crypto.SHA256
	default:
		return fmt.Errorf("%w: SNS SignatureVersion %q", ErrSignature, m.SignatureVersion)
	}
	if err := snsFresh(m.Timestamp, now); err != nil {
		return err
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil || len(sig) == 0 {
		return fmt.Errorf("%w: SNS Signature is not base64", ErrSignature)
	}
	cert, err := s.cert(ctx, m.SigningCertURL, now)
	if err != nil {
		return err
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("%w: SNS signing certificate has no RSA key", ErrSignature)
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum([]byte(stringToSign(m)))
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(stringToSign(m)))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return fmt.Errorf("%w: SNS signature does not match", ErrSignature)
	}
	return nil
}

// SNSMaxAge is how old a message's Timestamp may be: SNS retries a post
// for an hour at most (its limit for HTTP/S delivery policies), so an
// older one is a capture replayed, refused before any fetch. (A replay
// within it changes nothing: the store keeps each event once.)
const SNSMaxAge = 2 * time.Hour

// snsMaxSkew is how far ahead of the daemon's clock a Timestamp may be.
const snsMaxSkew = 15 * time.Minute

// snsFresh checks a message's Timestamp against SNSMaxAge.
func snsFresh(timestamp string, now time.Time) error {
	ts, err := time.Parse(time.RFC3339Nano, timestamp)
	if err != nil {
		return fmt.Errorf("%w: SNS Timestamp %q", ErrSignature, timestamp)
	}
	if age := now.Sub(ts); age > SNSMaxAge || age < -snsMaxSkew {
		return fmt.Errorf("%w: SNS Timestamp %v away from now", ErrSignature, age.Round(time.Second))
	}
	return nil
}

// stringToSign is what SNS signs: the message's fields, each name and
// value on a line of its own, in this order; Subject only when there is
// one.
func stringToSign(m SNSMessage) string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == SNSNotification {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
	} else {
		add("SubscribeURL", m.SubscribeURL)
	}
	add("Timestamp", m.Timestamp)
	if m.Type != SNSNotification {
		add("Token", m.Token)
	}
	add("TopicArn", m.TopicARN)
	add("Type", m.Type)
	return b.String()
}

// cert is the signing certificate at raw, from memory or fetched: only
// from an SNS host's certificate path, one fetch at a time, and not
// again for snsFailedFor after a fetch of it failed.
func (s *SNS) cert(ctx context.Context, raw string, now time.Time) (*x509.Certificate, error) {
	u, err := snsURL(raw)
	if err != nil {
		return nil, err
	}
	if !snsCertPathRE.MatchString(u.Path) || u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%w: SigningCertURL is not an SNS certificate's path", ErrSignature)
	}
	c, err := s.cached(raw, now)
	if c == nil && err == nil {
		s.mu.Lock()
		if s.fetching == nil {
			s.fetching = make(chan struct{}, 1)
		}
		sem := s.fetching
		s.mu.Unlock()
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
			return nil, fmt.Errorf("%w: waiting to fetch the SNS signing certificate: %v", ErrSignature, ctx.Err())
		}
		// Another post may have fetched it, or failed to, meanwhile.
		if c, err = s.cached(raw, now); c == nil && err == nil {
			c, err = s.fetchCert(ctx, u)
			s.keep(raw, c, now)
		}
		<-sem
	}
	if err != nil {
		return nil, err
	}
	if now.Before(c.NotBefore) || now.After(c.NotAfter) {
		return nil, fmt.Errorf("%w: SNS signing certificate not valid now", ErrSignature)
	}
	return c, nil
}

// cached is the certificate kept for raw, or the error of a fetch of it
// that failed less than snsFailedFor ago; nil and nil when neither.
func (s *SNS) cached(raw string, now time.Time) (*x509.Certificate, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.certs[raw]; c != nil {
		return c, nil
	}
	if until, ok := s.failed[raw]; ok && now.Before(until) {
		return nil, fmt.Errorf("%w: the SNS signing certificate could not be fetched a moment ago", ErrSignature)
	}
	return nil, nil
}

// keep remembers the certificate fetched for raw, or (c nil) that its
// fetch failed; each memory holds maxCerts at most.
func (s *SNS) keep(raw string, c *x509.Certificate, now time.Time) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c == nil {
		if s.failed == nil || len(s.failed) >= maxCerts {
			s.failed = map[string]time.Time{}
		}
		s.failed[raw] = now.Add(snsFailedFor)
		return
	}
	delete(s.failed, raw)
	if s.certs == nil || len(s.certs) >= maxCerts {
		s.certs = map[string]*x509.Certificate{}
	}
	s.certs[raw] = c
}

func (s *SNS) fetchCert(ctx context.Context, u *url.URL) (*x509.Certificate, error) {
	body, err := s.get(ctx, u, maxCertSize)
	if err != nil {
		return nil, fmt.Errorf("%w: fetching the SNS signing certificate: %v", ErrSignature, err)
	}
	block, _ := pem.Decode(body)
	if block == nil || block.Type != "CERTIFICATE" {
		return nil, fmt.Errorf("%w: the SNS signing certificate is not a PEM certificate", ErrSignature)
	}
	c, err := x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("%w: the SNS signing certificate: %v", ErrSignature, err)
	}
	return c, nil
}

// Confirm confirms the subscription m asks for (a verified
// SubscriptionConfirmation of a configured topic): a GET of its
// SubscribeURL, which must be an SNS host's.
func (s *SNS) Confirm(ctx context.Context, m SNSMessage) error {
	if err := s.Topic(m); err != nil {
		return err
	}
	u, err := snsURL(m.SubscribeURL)
	if err != nil {
		return err
	}
	if _, err := s.get(ctx, u, maxCertSize); err != nil {
		return fmt.Errorf("confirming the SNS subscription of %s at %s: %w", m.TopicARN, u.Host, err)
	}
	return nil
}

// get fetches u (an SNS host's, checked) and reads at most limit bytes.
func (s *SNS) get(ctx context.Context, u *url.URL, limit int64) ([]byte, error) {
	c := s.Client
	if c == nil {
		c = &http.Client{Timeout: snsTimeout, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	}
	ctx, cancel := context.WithTimeout(ctx, snsTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	resp, err := c.Do(req)
	if err != nil {
		// Not the *url.Error itself: it quotes the whole URL, and a
		// SubscribeURL's Token must not reach a log.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("GET https://%s: %w", u.Host, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s answered %s", u.Host, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(body)) > limit {
		return nil, fmt.Errorf("%s answered more than %d bytes", u.Host, limit)
	}
	return body, nil
}
