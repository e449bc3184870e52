package daemon

import (
	"bytes"
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"gull/digest"
	"gull/digest/store"
	"gull/digest/webhook"
	"gull/digest/webhook/webhooktest"
	"gull/subscribers"
)

const webhooksConfig = `bounces:
  webhooks:
    mailgun: {signing_key_env: GULL_TEST_MAILGUN_KEY}
    sendgrid: {public_key_env: GULL_TEST_SENDGRID_KEY}
`

// The daemon serves the webhooks of bounces.webhooks, with the secrets
// of the variables they name, and reports the events to its bounce
// policy; a secret unset, a key that is none or no policy stops the
// start with one line naming the key; without the config the path is
// the site's 404.
func TestDaemonWebhooks(t *testing.T) {
	const mgKey = "key-daemon-test-0123456789"
	sg, err := webhooktest.NewSendGrid()
	if err != nil {
		t.Fatal(err)
	}
	d := newTestDaemon(t, 0, webhooksConfig)
	ctx := context.Background()
	for _, addr := range []string{"gone@example.org", "spam@example.org"} {
		if _, _, _, err := d.st.SaveSubscriber(ctx, subscribers.Subscriber{Email: addr, Status: subscribers.Active}, subscribers.AllFields, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	sentTo(t, d.st, "2026-W49", time.Now())
	// never@ signed up after the issue went out: no copy of theirs can
	// have bounced, whatever a provider posts.
	if _, _, _, err := d.st.SaveSubscriber(ctx, subscribers.Subscriber{Email: "never@example.org", Status: subscribers.Active}, subscribers.AllFields, time.Now()); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"GULL_TEST_MAILGUN_KEY": mgKey, "GULL_TEST_SENDGRID_KEY": sg.PublicKey()}
	d.env.Getenv = func(k string) string { return env[k] }
	h := &siteHolder{}
	deskSite(t, d, h)
	t.Cleanup(func() { h.stop(); h.wait(); h.close() })

	body := webhooktest.MailgunPost([]byte(mgKey), time.Now(), "tok-d1", map[string]any{
		"event": "failed", "id": "ev-d1", "severity": "permanent", "reason": "bounce", "recipient": "gone@example.org",
		"delivery-status": map[string]any{"code": 550, "message": "5.1.1 user unknown"}})
	send := func(path string, body []byte, hdr ...string) int {
		req := httptest.NewRequest("POST", path, bytes.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			req.Header.Set(hdr[i], hdr[i+1])
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	if c := send("/webhooks/mailgun", body); c != 200 {
		t.Fatalf("a signed Mailgun post: %d", c)
	}
	if c := send("/webhooks/mailgun", webhooktest.MailgunPost([]byte(mgKey), time.Now(), "tok-d3", map[string]any{
		"event": "failed", "id": "ev-d3", "severity": "permanent", "reason": "bounce", "recipient": "never@example.org",
		"delivery-status": map[string]any{"code": 550, "message": "5.1.1 user unknown"}})); c != 200 {
		t.Fatalf("a signed Mailgun post of a reader sent nothing: %d", c)
	}
	if sub, err := d.st.SubscriberByEmail(ctx, "never@example.org"); err != nil || sub.Status != subscribers.Active {
		t.Errorf("a reader sent nothing: %s %v", sub.Status, err)
	}
	if c := send("/webhooks/mailgun", webhooktest.MailgunPost([]byte("not-the-key"), time.Now(), "tok-d2", map[string]any{"event": "complained", "id": "ev-d2", "recipient": "x@example.org"})); c != 401 {
		t.Fatalf("a forged Mailgun post: %d", c)
	}
	spam := []byte(`[{"email":"spam@example.org","event":"spamreport","sg_event_id":"sg-d1"}]`)
	if c := send("/webhooks/sendgrid", spam, webhook.SendGridSignatureHeader, sg.Sign("1", spam), webhook.SendGridTimestampHeader, "1"); c != 200 {
		t.Fatalf("a signed SendGrid post: %d", c)
	}
	if c := send("/webhooks/ses", []byte(`{}`)); c != 404 {
		t.Fatalf("SES, not configured: %d", c)
	}
	// The store's policy: the hard bounce marks its reader bounced, the
	// complaint unsubscribes its reader, and /metrics counts both.
	for addr, want := range map[string]subscribers.Status{"gone@example.org": subscribers.Bounced, "spam@example.org": subscribers.Unsubscribed} {
		if sub, err := d.st.SubscriberByEmail(ctx, addr); err != nil || sub.Status != want {
			t.Errorf("%s: %s %v, want %s", addr, sub.Status, err, want)
		}
	}
	if c := send("/webhooks/mailgun", body); c != 200 {
		t.Errorf("a replayed Mailgun post: %d", c)
	}
	mw := httptest.NewRecorder()
	d.metrics.Handler().ServeHTTP(mw, httptest.NewRequest("GET", "/metrics", nil))
	if m := mw.Body.String(); !strings.Contains(m, `gull_bounces_total{kind="hard"} 1`) || !strings.Contains(m, `gull_complaints_total 1`) {
		t.Errorf("metrics:\n%s", m)
	}
	if strings.Contains(d.log.String(), mgKey) || strings.Contains(d.log.String(), "gone@example.org") {
		t.Errorf("the log holds the key or a whole address:\n%s", d.log)
	}

	// What stops the start.
	c := d.config()
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"GULL_TEST_SENDGRID_KEY": sg.PublicKey()}, "bounces.webhooks.mailgun.signing_key_env: $GULL_TEST_MAILGUN_KEY is unset or empty; set it to Mailgun's HTTP webhook signing key"},
		{map[string]string{"GULL_TEST_MAILGUN_KEY": mgKey, "GULL_TEST_SENDGRID_KEY": "c2VjcmV0LWJ1dC1ub3QtYS1rZXk="}, "bounces.webhooks.sendgrid.public_key_env: $GULL_TEST_SENDGRID_KEY is not SendGrid's verification key"},
	} {
		d.env.Getenv = func(k string) string { return tc.env[k] }
		_, _, err := d.newSite(context.Background(), c.cfg, c.r)
		if err == nil || !strings.HasPrefix(err.Error(), tc.want) || strings.Contains(err.Error(), "c2VjcmV0") || strings.Contains(err.Error(), mgKey) {
			t.Errorf("start with %v: %v; want %q", tc.env, err, tc.want)
		}
	}

	plain := newTestDaemon(t, 0)
	ph := &siteHolder{}
	deskSite(t, plain, ph)
	t.Cleanup(func() { ph.stop(); ph.wait(); ph.close() })
	req := httptest.NewRequest("POST", "/webhooks/mailgun", bytes.NewReader(body))
	w := httptest.NewRecorder()
	ph.ServeHTTP(w, req)
	if w.Code != 404 {
		t.Errorf("no webhooks configured: %d", w.Code)
	}
}

// sentTo records issue id sent at `at` to every active reader, as a
// send's ledger would: only a copy sent can bounce.
func sentTo(t *testing.T, st *store.Store, id string, at time.Time) {
	t.Helper()
	ctx := context.Background()
	if _, err := st.SaveIssue(ctx, digest.Issue{ID: id, Title: "Test Weekly"}, digest.IssueOpen, at); err != nil {
		t.Fatal(err)
	}
	if _, _, err := st.PrepareDeliveries(ctx, id, at); err != nil {
		t.Fatal(err)
	}
	ds, err := st.PendingDeliveries(ctx, id, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var ups []digest.DeliveryUpdate
	for _, d := range ds {
		ups = append(ups, digest.DeliveryUpdate{IssueID: id, SubscriberID: d.SubscriberID, Status: digest.DeliverySent, At: at})
	}
	if err := st.UpdateDeliveries(ctx, ups); err != nil {
		t.Fatal(err)
	}
}
