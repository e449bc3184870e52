package web

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"gull/digest/bounce"
	"gull/digest/webhook"
	"gull/digest/webhook/webhooktest"
)

// policy stands for the store's bounce policy: what each address came to
// (its last kind) and how many events changed it, once per event key as
// the store does.
type policy struct {
	mu      sync.Mutex
	keys    map[string]bool
	marks   map[string][]bounce.Kind // by address
	reasons map[string]string
	ids     map[string]string // the Message-ID each address's event named
	fail    error             // the store is down
	calls   int               // RecordBounce calls, recorded or not
}

func (p *policy) RecordBounce(_ context.Context, e webhook.Event) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.calls++
	if p.fail != nil {
		return p.fail
	}
	if p.keys == nil {
		p.keys, p.marks, p.reasons, p.ids = map[string]bool{}, map[string][]bounce.Kind{}, map[string]string{}, map[string]string{}
	}
	if p.keys[e.Key()] {
		return nil
	}
	p.keys[e.Key()] = true
	for _, rc := range e.Report.Recipients {
		p.marks[rc.Address] = append(p.marks[rc.Address], rc.Kind)
		p.reasons[rc.Address] = rc.Reason
		p.ids[rc.Address] = e.Report.MessageID
	}
	return nil
}

// got is every address's kinds, in order.
func (p *policy) got() map[string][]bounce.Kind {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string][]bounce.Kind{}
	for a, k := range p.marks {
		out[a] = slices.Clone(k)
	}
	return out
}

func (p *policy) want(t *testing.T, want map[string][]bounce.Kind) {
	t.Helper()
	got := p.got()
	if fmt.Sprint(got) != fmt.Sprint(want) && !(len(got) == 0 && len(want) == 0) {
		t.Fatalf("the policy was told %v, want %v", got, want)
	}
}

func post(t *testing.T, h http.Handler, path string, body []byte, header ...string) *httptest.ResponseRecorder {
	t.Helper()
	req := httptest.NewRequest("POST", path, bytes.NewReader(body))
	req.RemoteAddr = "203.0.113.9:4000"
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func wantCode(t *testing.T, w *httptest.ResponseRecorder, code int, what string) {
	t.Helper()
	if w.Code != code {
		t.Fatalf("%s: answered %d %q, want %d", what, w.Code, w.Body.String(), code)
	}
}

const testTopic = "arn:aws:sns:us-east-1:123456789012:gull-bounces"

func newSNS(t *testing.T) *webhooktest.SNS {
	t.Helper()
	s, err := webhooktest.NewSNS("us-east-1")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

func sesBounce(feedbackID, bounceType, addr, status, diag string) string {
	return fmt.Sprintf(`{"notificationType":"Bounce","bounce":{"bounceType":%q,"bounceSubType":"General","feedbackId":%q,
"timestamp":"2026-12-07T07:59:00.000Z","bouncedRecipients":[{"emailAddress":%q,"action":"failed","status":%q,"diagnosticCode":%q}]},
"mail":{"source":"bounces+a1b2c3@example.org","messageId":"0100018c-ses","commonHeaders":{"messageId":"<gull.2026-W49.7@example.org>"}}}`,
		bounceType, feedbackID, addr, status, diag)
}

// TestSESWebhook: SNS messages signed with a certificate served (over TLS,
// on loopback) as sns.us-east-1.amazonaws.com: the subscription of the
// configured topic is confirmed and no other; a Permanent bounce marks the
// address hard, a Transient one soft, a complaint a complaint; a replay
// changes nothing; a forged or altered message, or one whose certificate
// is elsewhere, is refused with 401 and nothing is fetched from elsewhere.
func TestSESWebhook(t *testing.T) {
	sns := newSNS(t)
	p := &policy{}
	var logs bytes.Buffer
	h := (&Webhooks{Recorder: p, SES: &webhook.SNS{TopicARNs: []string{testTopic}, Client: sns.Client},
		Log: slog.New(slog.NewTextHandler(&logs, nil))}).Handler()

	// The subscription: another topic's is refused before any fetch.
	w := post(t, h, "/webhooks/ses", sns.SubscriptionConfirmation("arn:aws:sns:us-east-1:999999999999:theirs", "tok-other"))
	wantCode(t, w, 403, "another topic's subscription")
	if d := sns.Dials(); len(d) != 0 {
		t.Fatalf("another topic's message made gull connect to %v", d)
	}
	w = post(t, h, "/webhooks/ses", sns.SubscriptionConfirmation(testTopic, "tok-ours"))
	wantCode(t, w, 200, "the topic's subscription")
	if c := sns.Confirmed(); !slices.Equal(c, []string{"tok-ours"}) {
		t.Fatalf("confirmed %v, want the topic's token", c)
	}

	// A hard bounce (SignatureVersion 1), a soft one (2), a complaint.
	w = post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-1",
		sesBounce("fb-1", "Permanent", "Dead.Reader@Example.org", "5.1.1", "smtp; 550 5.1.1 <dead.reader@example.org>: Recipient address rejected: User unknown"), "1"))
	wantCode(t, w, 200, "a Permanent bounce")
	w = post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-2",
		sesBounce("fb-2", "Transient", "full@example.org", "4.2.2", "smtp; 452 4.2.2 사서함이 가득 찼습니다"), "2"))
	wantCode(t, w, 200, "a Transient bounce")
	complaint := `{"notificationType":"Complaint","complaint":{"feedbackId":"fb-3","complaintFeedbackType":"abuse",
"complainedRecipients":[{"emailAddress":"angry@example.org"}]},"mail":{"source":"bounces+x@example.org","commonHeaders":{"messageId":"<gull.2026-W49.9@example.org>"}}}`
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-3", complaint, "2")), 200, "a complaint")
	// A delivery is no bounce.
	delivery := `{"notificationType":"Delivery","delivery":{"recipients":["ok@example.org"]},"mail":{"source":"b@example.org"}}`
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-4", delivery, "1")), 200, "a delivery")
	want := map[string][]bounce.Kind{"Dead.Reader@example.org": {bounce.Hard}, "full@example.org": {bounce.Soft}, "angry@example.org": {bounce.Complaint}}
	p.want(t, want)
	if r := p.reasons["Dead.Reader@example.org"]; !strings.Contains(r, "User unknown") {
		t.Errorf("the reason is %q, want the server's words", r)
	}
	if id := p.ids["full@example.org"]; id != "<gull.2026-W49.7@example.org>" {
		t.Errorf("the event names Message-ID %q, want deliver's", id)
	}

	// Replays: SNS sending the message again, and the same SES event in
	// another SNS message; both accepted, nothing changes.
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-1",
		sesBounce("fb-1", "Permanent", "dead.reader@example.org", "5.1.1", "550 user unknown"), "1")), 200, "a replay")
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-1-again",
		sesBounce("fb-2", "Transient", "full@example.org", "4.2.2", "452 full"), "2")), 200, "the same event again")
	p.want(t, want)

	// Forgeries: an altered message, a signature by another key, a
	// certificate at another host, over http, a version SNS never used.
	signed := sns.Notification(testTopic, "sns-5", sesBounce("fb-5", "Permanent", "victim@example.org", "5.1.1", "550"), "2")
	altered := bytes.Replace(signed, []byte("victim@"), []byte("target@"), 1)
	other := newSNS(t)
	cases := map[string][]byte{
		"altered":           altered,
		"another key":       other.Notification(testTopic, "sns-6", sesBounce("fb-6", "Permanent", "victim@example.org", "5.1.1", "550"), "1"),
		"unsigned":          bytes.Replace(signed, []byte(`"Signature":"`), []byte(`"Signature":"AAAA`), 1),
		"SignatureVersion3": bytes.Replace(signed, []byte(`"SignatureVersion":"2"`), []byte(`"SignatureVersion":"3"`), 1),
	}
	for name, certURL := range map[string]string{
		"cert elsewhere":     "https://sns.us-east-1.amazonaws.com.evil.example/SimpleNotificationService-test.pem",
		"cert over http":     "http://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
		"cert on a port":     "https://sns.us-east-1.amazonaws.com:8443/SimpleNotificationService-test.pem",
		"cert at amazonaws":  "https://s3.amazonaws.com/SimpleNotificationService-test.pem",
		"cert not a .pem":    "https://sns.us-east-1.amazonaws.com/?Action=ConfirmSubscription&Token=x",
		"cert with userinfo": "https://x@sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
		// SNS's host, but not a path Amazon keeps its certificates at.
		"cert path elsewhere": "https://sns.us-east-1.amazonaws.com/uploads/SimpleNotificationService-0abc.pem",
		"cert name not hex":   "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-test.pem",
		"cert with a query":   sns.CertURL + "?Action=Other",
	} {
		cases[name] = sns.Sign(webhooktest.Message{"Type": "Notification", "MessageId": "sns-7", "TopicArn": testTopic,
			"Message":   sesBounce("fb-7", "Permanent", "victim@example.org", "5.1.1", "550"),
			"Timestamp": webhooktest.Now(), "SignatureVersion": "2", "SigningCertURL": certURL})
	}
	// Signed by SNS, but older than its hour of retries (a capture
	// replayed), or from tomorrow.
	for name, at := range map[string]time.Time{"three hours old": time.Now().Add(-3 * time.Hour), "from tomorrow": time.Now().Add(24 * time.Hour)} {
		cases[name] = sns.Sign(webhooktest.Message{"Type": "Notification", "MessageId": "sns-9", "TopicArn": testTopic,
			"Message":   sesBounce("fb-9", "Permanent", "victim@example.org", "5.1.1", "550"),
			"Timestamp": at.UTC().Format("2006-01-02T15:04:05.000Z"), "SignatureVersion": "2", "SigningCertURL": sns.CertURL})
	}
	dialed := len(sns.Dials())
	for name, body := range cases {
		w := post(t, h, "/webhooks/ses", body)
		wantCode(t, w, 401, name)
		if strings.Contains(w.Body.String(), "SNS") || strings.Contains(w.Body.String(), "certificate") {
			t.Errorf("%s: the answer tells why: %q", name, w.Body.String())
		}
	}
	// Nothing from elsewhere, and the certificate fetched once.
	for _, d := range sns.Dials() {
		if d != "sns.us-east-1.amazonaws.com:443" {
			t.Errorf("gull connected to %s", d)
		}
	}
	if d := sns.Dials(); len(d) != dialed {
		t.Errorf("forged messages made gull connect to %v", d[dialed:])
	}
	pems := 0
	for _, g := range sns.Gets() {
		if strings.HasSuffix(g, ".pem") {
			pems++
		}
	}
	if pems != 1 {
		t.Errorf("the signing certificate was fetched %d times, want once (kept)", pems)
	}
	// A signed confirmation whose SubscribeURL is not SNS's is not followed.
	evil := sns.Sign(webhooktest.Message{"Type": "SubscriptionConfirmation", "MessageId": "c2", "TopicArn": testTopic, "Token": "t2",
		"Message": "subscribe", "SubscribeURL": "https://evil.example/?Action=ConfirmSubscription&Token=t2",
		"Timestamp": webhooktest.Now(), "SignatureVersion": "2", "SigningCertURL": sns.CertURL})
	wantCode(t, post(t, h, "/webhooks/ses", evil), 401, "a SubscribeURL elsewhere")
	if c := sns.Confirmed(); len(c) != 1 {
		t.Errorf("confirmed %v: a SubscribeURL elsewhere was followed", c)
	}
	p.want(t, want)

	// Malformed: 400.
	for _, body := range []string{`not json`, `{"Type":"Notification"}`, `{"Type":"Weird","MessageId":"1"}`} {
		wantCode(t, post(t, h, "/webhooks/ses", []byte(body)), 400, body)
	}
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "sns-8", `{"notificationType":"Bounce"}`, "1")), 400, "a bounce without recipients")

	if l := logs.String(); strings.Contains(strings.ToLower(l), "dead.reader@example.org") || strings.Contains(l, "full@example.org") {
		t.Errorf("the log holds whole addresses:\n%s", l)
	}
}

// TestMailgunWebhook: HMAC-SHA256 of timestamp and token with the signing
// key; a wrong signature or key is refused with 401, as is a timestamp past
// Mailgun's 8 hours of retries; a retry 8 hours on after the store was down
// is taken; the same post again is accepted and changes nothing; a
// temporary failure (Mailgun still trying) marks nobody.
func TestMailgunWebhook(t *testing.T) {
	key := []byte("key-3ax6xnjp29jd6fds4gc373sgvjxteol0")
	now := time.Date(2026, 12, 7, 8, 0, 0, 0, time.UTC)
	p := &policy{}
	var logs bytes.Buffer
	wh := &Webhooks{Recorder: p, MailgunKey: key, Log: slog.New(slog.NewTextHandler(&logs, nil))}
	wh.now = func() time.Time { return now }
	h := wh.Handler()
	failed := func(id, severity, reason, to string, code int, msg string) map[string]any {
		return map[string]any{"event": "failed", "id": id, "timestamp": float64(now.Unix()) + 0.25, "severity": severity,
			"reason": reason, "recipient": to, "message": map[string]any{"headers": map[string]string{"message-id": "gull.2026-W49.3@example.org"}},
			"delivery-status": map[string]any{"code": code, "message": msg, "description": ""},
			"envelope":        map[string]string{"sender": "bounces+q1w2e3@example.org"}}
	}
	hard := webhooktest.MailgunPost(key, now.Add(-time.Minute), "tok-1", failed("ev-1", "permanent", "bounce", "gone@example.org", 550, "5.1.1 The email account that you tried to reach does not exist."))
	wantCode(t, post(t, h, "/webhooks/mailgun", hard), 200, "a permanent failure")
	complained := webhooktest.MailgunPost(key, now, "tok-2", map[string]any{"event": "complained", "id": "ev-2", "recipient": "spam@example.org"})
	wantCode(t, post(t, h, "/webhooks/mailgun", complained), 200, "a complaint")
	temporary := webhooktest.MailgunPost(key, now, "tok-3", failed("ev-3", "temporary", "generic", "later@example.org", 452, "4.2.2 over quota"))
	wantCode(t, post(t, h, "/webhooks/mailgun", temporary), 200, "a temporary failure")
	want := map[string][]bounce.Kind{"gone@example.org": {bounce.Hard}, "spam@example.org": {bounce.Complaint}}
	p.want(t, want)
	if id := p.ids["gone@example.org"]; id != "<gull.2026-W49.3@example.org>" {
		t.Errorf("Message-ID %q, want deliver's in angle brackets", id)
	}

	// The same post again: taken, and its used token keeps it from the
	// store. The same event under a new token (Mailgun's retry): the
	// store's idempotency.
	calls := p.calls
	wantCode(t, post(t, h, "/webhooks/mailgun", hard), 200, "a replayed post")
	if p.calls != calls {
		t.Errorf("a replayed token reached the store")
	}
	wantCode(t, post(t, h, "/webhooks/mailgun", webhooktest.MailgunPost(key, now, "tok-9", failed("ev-1", "permanent", "bounce", "gone@example.org", 550, "5.1.1 gone"))), 200, "the event again")
	p.want(t, want)

	// Refused: a token the signature is not of, another key, a stale or
	// future timestamp. (Mailgun signs the timestamp and token alone, not
	// the event: a token is good once, within MailgunMaxAge.)
	cases := map[string][]byte{
		"altered token": bytes.Replace(webhooktest.MailgunPost(key, now, "tok-5", failed("ev-5", "permanent", "bounce", "victim@example.org", 550, "")), []byte(`"tok-5"`), []byte(`"tok-6"`), 1),
		"another key":   webhooktest.MailgunPost([]byte("key-not-ours"), now, "tok-7", failed("ev-7", "permanent", "bounce", "victim@example.org", 550, "")),
		"ten hours old": webhooktest.MailgunPost(key, now.Add(-10*time.Hour), "tok-8", failed("ev-8", "permanent", "bounce", "victim@example.org", 550, "")),
		"from tomorrow": webhooktest.MailgunPost(key, now.Add(24*time.Hour), "tok-10", failed("ev-10", "permanent", "bounce", "victim@example.org", 550, "")),
	}
	for name, body := range cases {
		wantCode(t, post(t, h, "/webhooks/mailgun", body), 401, name)
	}
	p.want(t, want)

	// A store that is down: 500, and Mailgun's retry of the same post is
	// taken once it is back.
	p.fail = errors.New("store down")
	later := webhooktest.MailgunPost(key, now, "tok-11", failed("ev-11", "permanent", "bounce", "late@example.org", 550, "5.1.1 unknown"))
	wantCode(t, post(t, h, "/webhooks/mailgun", later), 500, "the store down")
	p.fail = nil
	wantCode(t, post(t, h, "/webhooks/mailgun", later), 200, "the retry")
	want["late@example.org"] = []bounce.Kind{bounce.Hard}
	p.want(t, want)

	// A store down for hours: Mailgun's retries carry the first post's
	// signature, and its last one, 8 hours on, is still taken.
	p.fail = errors.New("store down")
	outage := webhooktest.MailgunPost(key, now, "tok-12", failed("ev-12", "permanent", "bounce", "outage@example.org", 550, "5.1.1 unknown"))
	wantCode(t, post(t, h, "/webhooks/mailgun", outage), 500, "the store down")
	now = now.Add(3 * time.Hour)
	wantCode(t, post(t, h, "/webhooks/mailgun", outage), 500, "the store still down 3 hours on")
	p.fail = nil
	now = now.Add(5 * time.Hour)
	wantCode(t, post(t, h, "/webhooks/mailgun", outage), 200, "the retry 8 hours on")
	want["outage@example.org"] = []bounce.Kind{bounce.Hard}
	p.want(t, want)
	calls = p.calls
	wantCode(t, post(t, h, "/webhooks/mailgun", outage), 200, "the same post once more")
	if p.calls != calls {
		t.Errorf("a token taken 8 hours after its signature reached the store twice")
	}

	for _, body := range []string{`[]`, `{"signature":{}}`, `{"signature":{"token":"x"},"event-data":{"event":"failed"}}`} {
		wantCode(t, post(t, h, "/webhooks/mailgun", []byte(body)), 400, body)
	}
	if l := logs.String(); strings.Contains(l, string(key)) || strings.Contains(l, "gone@example.org") {
		t.Errorf("the log holds the key or a whole address:\n%s", l)
	}
}

// TestSendGridWebhook: ECDSA P-256 over the timestamp and the body as
// sent; bounce, dropped and spamreport events of a batch are recorded,
// the rest ignored; an altered body, another key or no signature is
// refused with 401; the batch posted again changes nothing.
func TestSendGridWebhook(t *testing.T) {
	sg, err := webhooktest.NewSendGrid()
	if err != nil {
		t.Fatal(err)
	}
	key, err := webhook.ParseSendGridKey(sg.PublicKey())
	if err != nil {
		t.Fatal(err)
	}
	p := &policy{}
	h := (&Webhooks{Recorder: p, SendGridKey: key}).Handler()
	batch := []byte(`[
{"email":"gone@example.org","timestamp":1765094400,"smtp-id":"<gull.2026-W49.1@example.org>","event":"bounce","sg_event_id":"e1","type":"bounce","status":"5.1.1","reason":"550 5.1.1 The email account that you tried to reach does not exist","bounce_classification":"Invalid Address"},
{"email":"blocked@example.org","timestamp":1765094400,"event":"bounce","sg_event_id":"e2","type":"blocked","status":"4.0.0","reason":"421 try again later"},
{"email":"known-bad@example.org","timestamp":1765094400,"event":"dropped","sg_event_id":"e3","reason":"Bounced Address","status":"5.0.0"},
{"email":"left@example.org","timestamp":1765094400,"event":"dropped","sg_event_id":"e4","reason":"Unsubscribed Address","status":"5.0.0"},
{"email":"spam@example.org","timestamp":1765094400,"event":"spamreport","sg_event_id":"e5"},
{"email":"fine@example.org","timestamp":1765094400,"event":"delivered","sg_event_id":"e6"},
{"email":"독자@example.org","timestamp":1765094400,"event":"bounce","sg_event_id":"e7","type":"bounce","status":"5.2.2","reason":"552 5.2.2 메일함이 가득 찼습니다","bounce_classification":"Mailbox Unavailable"}
]`)
	ts := "1765094400"
	sign := func(body []byte) []string {
		return []string{webhook.SendGridSignatureHeader, sg.Sign(ts, body), webhook.SendGridTimestampHeader, ts}
	}
	wantCode(t, post(t, h, "/webhooks/sendgrid", batch, sign(batch)...), 200, "a signed batch")
	want := map[string][]bounce.Kind{"gone@example.org": {bounce.Hard}, "blocked@example.org": {bounce.Soft},
		"known-bad@example.org": {bounce.Hard}, "spam@example.org": {bounce.Complaint}, "독자@example.org": {bounce.Soft}}
	p.want(t, want)
	if r := p.reasons["독자@example.org"]; r != "메일함이 가득 찼습니다" {
		t.Errorf("the Korean reason is %q", r)
	}
	wantCode(t, post(t, h, "/webhooks/sendgrid", batch, sign(batch)...), 200, "the batch again")
	p.want(t, want)

	other, _ := webhooktest.NewSendGrid()
	victim := []byte(`[{"email":"victim@example.org","event":"spamreport","sg_event_id":"e9"}]`)
	for name, hdr := range map[string][]string{
		"altered body":    sign(bytes.Replace(victim, []byte("victim"), []byte("target"), 1)),
		"another key":     {webhook.SendGridSignatureHeader, other.Sign(ts, victim), webhook.SendGridTimestampHeader, ts},
		"other timestamp": {webhook.SendGridSignatureHeader, sg.Sign(ts, victim), webhook.SendGridTimestampHeader, "1765094401"},
		"no signature":    {webhook.SendGridTimestampHeader, ts},
	} {
		wantCode(t, post(t, h, "/webhooks/sendgrid", victim, hdr...), 401, name)
	}
	p.want(t, want)
	bad := []byte(`{"not":"a list"}`)
	wantCode(t, post(t, h, "/webhooks/sendgrid", bad, sign(bad)...), 400, "a signed body that is no list")
}

// TestPostmarkWebhook: Postmark signs nothing: the secret comes as basic
// auth's password (never in the path, which access logs keep); without
// it, 401. A bounce and a spam complaint are recorded, once each.
func TestPostmarkWebhook(t *testing.T) {
	const secret = "s3cr3t-postmark-token"
	p := &policy{}
	var logs bytes.Buffer
	h := (&Webhooks{Recorder: p, PostmarkSecret: secret, Log: slog.New(slog.NewTextHandler(&logs, nil))}).Handler()
	hard := []byte(`{"RecordType":"Bounce","ID":4323372036854775807,"Type":"HardBounce","TypeCode":1,"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483",
"Description":"The server was unable to deliver your message (ex: unknown user, mailbox not found).","Details":"smtp;550 5.1.1 The email account that you tried to reach does not exist.",
"Email":"Gone@Example.org","From":"digest@example.org","BouncedAt":"2026-12-07T08:00:00.1234567Z","Inactive":true}`)
	spam := []byte(`{"RecordType":"SpamComplaint","ID":42,"Type":"SpamComplaint","TypeCode":100001,"Email":"spam@example.org","BouncedAt":"2026-12-07T08:00:00Z"}`)
	auto := []byte(`{"RecordType":"Bounce","ID":43,"Type":"AutoResponder","Email":"away@example.org"}`)

	basic := func(user, pass string) []string {
		r := httptest.NewRequest("POST", "/", nil)
		r.SetBasicAuth(user, pass)
		return []string{"Authorization", r.Header.Get("Authorization")}
	}
	wantCode(t, post(t, h, "/webhooks/postmark", hard, basic("postmark", secret)...), 200, "basic auth")
	wantCode(t, post(t, h, "/webhooks/postmark", spam, basic("", secret)...), 200, "a complaint")
	wantCode(t, post(t, h, "/webhooks/postmark", auto, basic("postmark", secret)...), 200, "an auto-reply")
	wantCode(t, post(t, h, "/webhooks/postmark", hard, basic("postmark", secret)...), 200, "the bounce again")
	// The address as the list spells it (the domain lower-cased).
	want := map[string][]bounce.Kind{"Gone@example.org": {bounce.Hard}, "spam@example.org": {bounce.Complaint}}
	p.want(t, want)
	if r := p.reasons["Gone@example.org"]; !strings.Contains(r, "does not exist") {
		t.Errorf("reason %q", r)
	}

	victim := []byte(`{"RecordType":"SpamComplaint","ID":44,"Type":"SpamComplaint","Email":"victim@example.org"}`)
	for name, w := range map[string]*httptest.ResponseRecorder{
		"no auth":      post(t, h, "/webhooks/postmark", victim),
		"wrong pass":   post(t, h, "/webhooks/postmark", victim, basic("postmark", secret+"x")...),
		"shorter":      post(t, h, "/webhooks/postmark", victim, basic("postmark", secret[:len(secret)-1])...),
		"secret as id": post(t, h, "/webhooks/postmark", victim, basic(secret, "")...),
	} {
		wantCode(t, w, 401, name)
		if w.Header().Get("WWW-Authenticate") == "" {
			t.Errorf("%s: no WWW-Authenticate", name)
		}
	}
	wantCode(t, post(t, h, "/webhooks/postmark/"+secret, victim), 404, "the secret in the path")
	p.want(t, want)
	wantCode(t, post(t, h, "/webhooks/postmark", []byte(`{"ID":1}`), basic("postmark", secret)...), 400, "no RecordType")
	if l := logs.String(); strings.Contains(l, secret) || strings.Contains(l, "Gone@example.org") {
		t.Errorf("the log holds the secret or a whole address:\n%s", l)
	}
}

// TestWebhooksRefuse: a provider not configured answers 404; a GET 405;
// a body past the cap 413, with nothing recorded.
func TestWebhooksRefuse(t *testing.T) {
	p := &policy{}
	h := (&Webhooks{Recorder: p, MailgunKey: []byte("k")}).Handler()
	for _, path := range []string{"/webhooks/ses", "/webhooks/postmark", "/webhooks/postmark/x", "/webhooks/sendgrid", "/webhooks/other"} {
		wantCode(t, post(t, h, path, []byte(`{}`)), 404, path)
	}
	req := httptest.NewRequest("GET", "/webhooks/mailgun", nil)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	wantCode(t, w, 405, "a GET")
	big := []byte(`{"signature":{"token":"` + strings.Repeat("x", maxWebhookBody) + `"}}`)
	wantCode(t, post(t, h, "/webhooks/mailgun", big), 413, "a body past the cap")
	p.want(t, nil)
}

// TestSiteServesWebhooks: on the site, a provider's burst of posts is not
// held to the forms' rate limit nor their 16 KiB cap, and without
// webhooks configured the path is the site's 404.
func TestSiteServesWebhooks(t *testing.T) {
	sg, _ := webhooktest.NewSendGrid()
	key, _ := webhook.ParseSendGridKey(sg.PublicKey())
	p := &policy{}
	h := newSiteFixture(t, func(s *Site) {
		s.WriteBurst, s.WriteEvery = 1, time.Hour
		s.Webhooks = &Webhooks{Recorder: p, SendGridKey: key}
	}).sh
	var events []string
	for i := range 300 { // ~40 KB
		events = append(events, fmt.Sprintf(`{"email":"r%d@example.org","event":"bounce","type":"bounce","status":"5.1.1","reason":"550 5.1.1 user unknown","sg_event_id":"ev%d"}`, i, i))
	}
	body := []byte("[" + strings.Join(events, ",") + "]")
	for i := range 3 {
		ts := strconv.Itoa(1765094400 + i)
		w := post(t, h, "/webhooks/sendgrid", body, webhook.SendGridSignatureHeader, sg.Sign(ts, body), webhook.SendGridTimestampHeader, ts)
		wantCode(t, w, 200, fmt.Sprintf("post %d of a burst", i+1))
	}
	if n := len(p.got()); n != 300 {
		t.Fatalf("%d addresses recorded, want 300", n)
	}
	wantCode(t, post(t, newSiteFixture(t).sh, "/webhooks/sendgrid", body), 404, "no webhooks configured")
}

// snsPost is a signed Notification of the test topic whose certificate is
// said to be at certURL.
func snsPost(sns *webhooktest.SNS, id, certURL string) []byte {
	return sns.Sign(webhooktest.Message{"Type": "Notification", "MessageId": id, "TopicArn": testTopic,
		"Message":   sesBounce("fb-"+id, "Permanent", "victim@example.org", "5.1.1", "550"),
		"Timestamp": webhooktest.Now(), "SignatureVersion": "2", "SigningCertURL": certURL})
}

// TestSESCertFetchStorm: anyone can post a message naming the configured
// topic and a certificate URL of SNS's form. Many at once naming one URL
// cost one fetch, and a URL that failed is not fetched again for a
// minute; many naming different URLs are fetched one at a time.
func TestSESCertFetchStorm(t *testing.T) {
	sns := newSNS(t)
	now := time.Now() // the test certificate is valid around now
	wh := &Webhooks{Recorder: &policy{}, SES: &webhook.SNS{TopicARNs: []string{testTopic}, Client: sns.Client}}
	var mu sync.Mutex
	wh.now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	h := wh.Handler()
	sns.Slow(20 * time.Millisecond) // the fetches overlap unless gull keeps them apart

	const missing = "https://sns.us-east-1.amazonaws.com/SimpleNotificationService-ffff0000.pem"
	fetches := func(url string) int {
		n := 0
		for _, g := range sns.Gets() {
			if "https://"+g == url {
				n++
			}
		}
		return n
	}
	storm := func(urls ...string) {
		var wg sync.WaitGroup
		for i, u := range urls {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if w := post(t, h, "/webhooks/ses", snsPost(sns, fmt.Sprint("storm-", i), u)); w.Code != 401 {
					t.Errorf("a post whose certificate is missing: %d", w.Code)
				}
			}()
		}
		wg.Wait()
	}
	same := make([]string, 16)
	for i := range same {
		same[i] = missing
	}
	storm(same...)
	if n := fetches(missing); n != 1 {
		t.Errorf("16 posts naming a missing certificate fetched it %d times, want once", n)
	}
	var different []string
	for i := range 8 {
		different = append(different, fmt.Sprintf("https://sns.us-east-1.amazonaws.com/SimpleNotificationService-%04x.pem", i+1))
	}
	storm(different...)
	if m := sns.MaxInFlight(); m != 1 {
		t.Errorf("%d certificate fetches at once, want one at a time", m)
	}
	// A minute on, the URL may have come back: fetched again, once.
	mu.Lock()
	now = now.Add(61 * time.Second)
	mu.Unlock()
	storm(missing, missing)
	if n := fetches(missing); n != 2 {
		t.Errorf("a failed certificate fetched %d times after a minute, want 2 in all", n)
	}
	// The real certificate is still taken.
	if w := post(t, h, "/webhooks/ses", sns.Notification(testTopic, "real", sesBounce("fb-real", "Permanent", "gone@example.org", "5.1.1", "550 5.1.1 unknown"), "2")); w.Code != 200 {
		t.Errorf("a signed post after the storm: %d", w.Code)
	}
}

// A subscription that cannot be confirmed is logged by its topic and
// SNS's host, never its SubscribeURL, whose Token= would confirm it.
func TestSESConfirmFailureLogsHostOnly(t *testing.T) {
	sns := newSNS(t)
	var logs bytes.Buffer
	h := (&Webhooks{Recorder: &policy{}, SES: &webhook.SNS{TopicARNs: []string{testTopic}, Client: sns.Client},
		Log: slog.New(slog.NewTextHandler(&logs, nil))}).Handler()
	// The certificate is fetched and kept; then SNS cannot be reached.
	wantCode(t, post(t, h, "/webhooks/ses", sns.Notification(testTopic, "n-1", sesBounce("fb-1", "Permanent", "a@example.org", "5.1.1", "550"), "2")), 200, "a notification")
	sns.Close()
	wantCode(t, post(t, h, "/webhooks/ses", sns.SubscriptionConfirmation(testTopic, "secret-confirm-token")), 502, "a confirmation SNS does not answer")
	l := logs.String()
	if strings.Contains(l, "secret-confirm-token") || strings.Contains(l, "Token=") || strings.Contains(l, "ConfirmSubscription") {
		t.Errorf("the log holds the SubscribeURL:\n%s", l)
	}
	if !strings.Contains(l, "sns.us-east-1.amazonaws.com") || !strings.Contains(l, "SNS subscription not confirmed") {
		t.Errorf("the log does not say which host failed:\n%s", l)
	}
}
