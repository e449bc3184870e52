package config

import (
	"fmt"
	"regexp"
)

// Webhooks are the mail providers' bounce and complaint posts the daemon
// takes (POST /webhooks/{provider}). A provider is on when its key is
// set; its route answers 404 otherwise. The secrets themselves come only
// from the environment variables named, read when the daemon starts.
type Webhooks struct {
	SES      SESWebhook      `yaml:"ses"`
	Postmark PostmarkWebhook `yaml:"postmark"`
	Mailgun  MailgunWebhook  `yaml:"mailgun"`
	SendGrid SendGridWebhook `yaml:"sendgrid"`
}

// SESWebhook: Amazon SES publishes to SNS topics; their messages are
// taken (and their subscriptions confirmed) for these topics only.
type SESWebhook struct {
	TopicARNs []string `yaml:"topic_arns,flow"`
}

// PostmarkWebhook: Postmark signs nothing; its posts carry a secret as
// the basic-auth password of the webhook's URL.
type PostmarkWebhook struct {
	TokenEnv string `yaml:"token_env"`
}

// MailgunWebhook: the HTTP webhook signing key signs each post.
type MailgunWebhook struct {
	SigningKeyEnv string `yaml:"signing_key_env"`
}

// SendGridWebhook: the signed event webhook's verification key (base64,
// as SendGrid shows it).
type SendGridWebhook struct {
	PublicKeyEnv string `yaml:"public_key_env"`
}

// Envs are the environment variables the webhooks read, for the
// redacted config's list of secrets.
func (w Webhooks) Envs() []string {
	var envs []string
	for _, e := range []string{w.Postmark.TokenEnv, w.Mailgun.SigningKeyEnv, w.SendGrid.PublicKeyEnv} {
		if e != "" {
			envs = append(envs, e)
		}
	}
	return envs
}

// snsTopicRE is an SNS topic's ARN: partition, region, account, name.
var snsTopicRE = regexp.MustCompile(`^arn:aws(-cn|-us-gov)?:sns:[a-z]{2}(-[a-z]+)+-\d+:\d{12}:[A-Za-z0-9_-]{1,256}$`)

// validateWebhooks checks bounces.webhooks: topics that are SNS topic
// ARNs, and environment variable names (never the secret pasted in).
func (c *Config) validateWebhooks(p *problems, at func(path ...any) int) {
	w := c.Bounces.Webhooks
	seen := map[string]int{}
	for i, arn := range w.SES.TopicARNs {
		key := fmt.Sprintf("bounces.webhooks.ses.topic_arns[%d]", i)
		line := at("bounces", "webhooks", "ses", "topic_arns", i)
		if !snsTopicRE.MatchString(arn) {
			p.add(line, key, "%q is not an SNS topic ARN; copy the topic's ARN from the SNS console, e.g. arn:aws:sns:us-east-1:123456789012:gull-bounces", arn)
			continue
		}
		if j, dup := seen[arn]; dup {
			p.add(line, key, "is already topic_arns[%d]; remove one", j)
		}
		seen[arn] = i
	}
	for _, e := range []struct{ provider, key, value, what string }{
		{"postmark", "token_env", w.Postmark.TokenEnv, "the secret Postmark's webhook URL carries"},
		{"mailgun", "signing_key_env", w.Mailgun.SigningKeyEnv, "Mailgun's HTTP webhook signing key"},
		{"sendgrid", "public_key_env", w.SendGrid.PublicKeyEnv, "SendGrid's verification key"},
	} {
		// The value is not echoed: it is most likely the secret itself.
		if e.value != "" && !envNameRE.MatchString(e.value) {
			p.add(at("bounces", "webhooks", e.provider, e.key), "bounces.webhooks."+e.provider+"."+e.key,
				"is not an environment variable name (letters, digits, _); %s goes in that variable, never in the file", e.what)
		}
	}
}
