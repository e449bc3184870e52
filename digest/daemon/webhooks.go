package daemon

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"gull/digest/bouncebox"

	"gull/digest/config"
	"gull/digest/web"
	"gull/digest/webhook"
)

// newWebhooks makes the providers' webhooks of cfg, their secrets read
// from the environment now (a reload reads them again); nil when no
// provider is configured. A secret that is unset, or a SendGrid key that
// is not one, stops the start (or the reload) with one line naming the
// key and the fix, never the value.
func (d *Daemon) newWebhooks(ctx context.Context, cfg *config.Config) (*web.Webhooks, error) {
	w := cfg.Bounces.Webhooks
	if len(w.SES.TopicARNs) == 0 && len(w.Envs()) == 0 {
		return nil, nil
	}
	policy, err := d.env.BouncePolicy(ctx, cfg, d.st)
	if err != nil {
		return nil, err
	}
	secret := func(key, env, what string) (string, error) {
		v := strings.TrimSpace(d.env.Getenv(env))
		if v == "" {
			return "", fmt.Errorf("bounces.webhooks.%s: $%s is unset or empty; set it to %s", key, env, what)
		}
		return v, nil
	}
	h := &web.Webhooks{Recorder: storeBounces{policy, d.metrics}, Log: d.log}
	var errs []error
	if len(w.SES.TopicARNs) > 0 {
		h.SES = &webhook.SNS{TopicARNs: w.SES.TopicARNs}
	}
	if env := w.Postmark.TokenEnv; env != "" {
		v, err := secret("postmark.token_env", env, "the secret in Postmark's webhook URL (its basic-auth password: https://postmark:SECRET@your.host/webhooks/postmark)")
		h.PostmarkSecret, errs = v, append(errs, err)
	}
	if env := w.Mailgun.SigningKeyEnv; env != "" {
		v, err := secret("mailgun.signing_key_env", env, "Mailgun's HTTP webhook signing key")
		h.MailgunKey, errs = []byte(v), append(errs, err)
	}
	if env := w.SendGrid.PublicKeyEnv; env != "" {
		v, err := secret("sendgrid.public_key_env", env, "the verification key of SendGrid's signed event webhook")
		if err == nil {
			if h.SendGridKey, err = webhook.ParseSendGridKey(v); err != nil {
				err = fmt.Errorf("bounces.webhooks.sendgrid.public_key_env: $%s is not SendGrid's verification key (%v); copy the key shown under Mail Settings > Signed Event Webhook", env, err)
			}
		}
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return h, nil
}

// storeBounces records the providers' events by the store's bounce
// policy, as the mailbox's are (bouncebox.Record: the same matching, the
// same idempotence on the event's id), and counts them on /metrics.
type storeBounces struct {
	policy  bouncebox.Options
	metrics *web.Metrics
}

func (b storeBounces) RecordBounce(ctx context.Context, e webhook.Event) error {
	at := e.At
	if at.IsZero() {
		at = time.Now()
	}
	lines, err := bouncebox.Record(ctx, e.Report, e.Provider, e.ID, at, b.policy)
	for _, l := range lines {
		if l.Outcome.Counted() {
			b.metrics.CountBounce(string(l.Bounce.Kind))
		}
	}
	return err
}
