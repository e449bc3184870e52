package daemon

import (
	"errors"
	"fmt"
	"strings"

	"gull/digest/config"
	"gull/digest/web"
	"gull/digest/webhook"
)

// errNoBounceStore: webhooks are configured, but the daemon was given
// nothing to record bounces to (Options.Bounces).
var errNoBounceStore = errors.New("bounces.webhooks: this gull has no bounce policy to record the providers' events to; remove bounces.webhooks")

// newWebhooks makes the providers' webhooks of cfg, their secrets read
// from the environment now (a reload reads them again); nil when no
// provider is configured. A secret that is unset, or a SendGrid key that
// is not one, stops the start (or the reload) with one line naming the
// key and the fix, never the value.
func (d *Daemon) newWebhooks(cfg *config.Config) (*web.Webhooks, error) {
	w := cfg.Bounces.Webhooks
	if len(w.SES.TopicARNs) == 0 && len(w.Envs()) == 0 {
		return nil, nil
	}
	if d.bounces == nil {
		return nil, errNoBounceStore
	}
	secret := func(key, env, what string) (string, error) {
		v := strings.TrimSpace(d.env.Getenv(env))
		if v == "" {
			return "", fmt.Errorf("bounces.webhooks.%s: $%s is unset or empty; set it to %s", key, env, what)
		}
		return v, nil
	}
	h := &web.Webhooks{Recorder: d.bounces, Log: d.log}
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
