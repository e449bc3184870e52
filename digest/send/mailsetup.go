package send

import (
	"fmt"
	"net/mail"
	"net/url"
	"strings"

	"gull/digest/config"
	"gull/digest/web"
)

// MailSetupProblems are the settings that are valid but would make mail
// to readers go wrong, each naming the file, the key and the fix. fatal
// ones make the mail fail its readers (refused or binned, dead links); a
// minor one costs a feature: a plain-http base_url still works, but
// without one-click unsubscribe, and an intranet list may want just that.
func MailSetupProblems(cfg *config.Config) (fatal, minor []string) {
	var out []string
	if addr, err := mail.ParseAddress(cfg.Mail.From); err == nil && isExampleDomain(addr.Address) {
		out = append(out, fmt.Sprintf("%s: mail.from: %q is the example address (the default when mail.from is not set); "+
			"set it to an address of your domain, e.g. mail.from: \"AI Policy Weekly <digest@news.your-domain>\": "+
			"mail servers refuse or bin mail from example domains", cfg.Path, cfg.Mail.From))
	}
	if u, err := url.Parse(cfg.HTTP.BaseURL); err == nil {
		switch {
		case web.IsLoopbackHost(u.Hostname()):
			out = append(out, fmt.Sprintf("%s: http.base_url: %q is this machine: every link in the mail (unsubscribe, preferences, the web copy) "+
				"would be dead for readers; set it to the public https address gull run is reached at, e.g. https://news.your-domain", cfg.Path, cfg.HTTP.BaseURL))
		case u.Scheme == "http":
			minor = append(minor, fmt.Sprintf("%s: http.base_url: %q is plain http: mail programs flag its links and one-click unsubscribe (RFC 8058) needs https; "+
				"serve gull run behind https and write https:// here", cfg.Path, cfg.HTTP.BaseURL))
		}
	}
	return out, minor
}

// CheckMailSetup is MailSetupProblems before a command: with the outbox
// as the transport nothing reaches a reader, so there is nothing to say.
// Else they are warnings, or, when refuse is set (send --all, run: mail
// to the whole list), an error that stops the command. An SMTP server on
// this machine is a test server or a relay the operator runs: it is
// warned about, never refused.
func CheckMailSetup(cfg *config.Config, refuse bool) (warnings []string, err error) {
	host := cfg.Mail.SMTP.Host
	if host == "" {
		return nil, nil
	}
	fatal, minor := MailSetupProblems(cfg)
	if refuse && len(fatal) > 0 && !web.IsLoopbackHost(host) {
		for i, p := range fatal {
			fatal[i] = p + "; gull refuses to mail the list so"
		}
		return nil, &config.Error{Problems: fatal}
	}
	return append(fatal, minor...), nil
}

// isExampleDomain reports whether addr is at one of the domains RFC 2606
// reserves for examples (example.org, .com, .net, and their subdomains).
func isExampleDomain(addr string) bool {
	at := strings.LastIndexByte(addr, '@')
	domain := strings.TrimSuffix(strings.ToLower(addr[at+1:]), ".")
	for _, d := range []string{"example.org", "example.com", "example.net"} {
		if domain == d || strings.HasSuffix(domain, "."+d) {
			return true
		}
	}
	return false
}
