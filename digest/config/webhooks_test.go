package config_test

import (
	"strings"
	"testing"
)

// bounces.webhooks: each provider on with its key; topic ARNs and
// environment variable names checked, one line each naming the key and
// the fix, and a secret pasted in place of a name never echoed.
func TestWebhooksConfig(t *testing.T) {
	cfg, err := parse(t, minimal+`bounces:
  webhooks:
    ses: {topic_arns: [arn:aws:sns:us-east-1:123456789012:gull-bounces, arn:aws:sns:ap-northeast-2:123456789012:gull-complaints]}
    postmark: {token_env: GULL_POSTMARK_TOKEN}
    mailgun: {signing_key_env: GULL_MAILGUN_KEY}
    sendgrid: {public_key_env: GULL_SENDGRID_KEY}
`)
	if err != nil {
		t.Fatal(err)
	}
	w := cfg.Bounces.Webhooks
	if len(w.SES.TopicARNs) != 2 || w.Postmark.TokenEnv != "GULL_POSTMARK_TOKEN" || w.Mailgun.SigningKeyEnv != "GULL_MAILGUN_KEY" || w.SendGrid.PublicKeyEnv != "GULL_SENDGRID_KEY" {
		t.Errorf("webhooks = %+v", w)
	}
	out, err := cfg.Redacted(func(k string) string {
		if k == "GULL_MAILGUN_KEY" {
			return "key-very-secret"
		}
		return ""
	})
	if err != nil || !strings.Contains(string(out), "$GULL_MAILGUN_KEY: set") || !strings.Contains(string(out), "$GULL_SENDGRID_KEY: unset") ||
		strings.Contains(string(out), "key-very-secret") {
		t.Errorf("redacted config does not list the webhooks' secrets as set/unset:\n%s", out)
	}
	if cfg, err := parse(t, minimal); err != nil || len(cfg.Bounces.Webhooks.Envs()) != 0 || len(cfg.Bounces.Webhooks.SES.TopicARNs) != 0 {
		t.Errorf("by default no webhook is on: %+v, %v", cfg.Bounces.Webhooks, err)
	}

	for bad, want := range map[string]string{
		"bounces:\n  webhooks:\n    ses: {topic_arns: [gull-bounces]}\n":                                                                    `config.yaml:7: bounces.webhooks.ses.topic_arns[0]: "gull-bounces" is not an SNS topic ARN; copy the topic's ARN`,
		"bounces:\n  webhooks:\n    ses:\n      topic_arns: [arn:aws:sns:us-east-1:123456789012:t, arn:aws:sns:us-east-1:123456789012:t]\n": `config.yaml:8: bounces.webhooks.ses.topic_arns[1]: is already topic_arns[0]`,
		"bounces:\n  webhooks:\n    mailgun:\n      signing_key_env: key-3ax6xnjp29jd6fds4gc373sgvjxteol0\n":                                `config.yaml:8: bounces.webhooks.mailgun.signing_key_env: is not an environment variable name`,
		"bounces:\n  webhooks:\n    sendgird: {public_key_env: X}\n":                                                                        `config.yaml:7: bounces.webhooks.sendgird: unknown key; did you mean "sendgrid"?`,
	} {
		got := problems(t, minimal+bad)
		if len(got) != 1 || !strings.HasPrefix(got[0], want) || strings.Contains(got[0], "3ax6xnjp") {
			t.Errorf("%s: got %q; want one line starting %q", bad, got, want)
		}
	}
}
