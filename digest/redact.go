package digest

import (
	"net/url"
	"strings"
)

// secretParams are query parameters that carry credentials: private feeds
// (a paid newsletter's RSS, a members-only blog) put a token in the URL.
var secretParams = map[string]bool{
	"token": true, "access_token": true, "auth": true, "auth_token": true, "api_key": true, "apikey": true,
	"key": true, "secret": true, "password": true, "passwd": true, "pwd": true, "sig": true,
	"signature": true, "session": true, "sid": true, "private": true, "hash": true,
}

// RedactURL is a feed URL fit to print or log: a password in it and the
// values of credential-like query parameters are replaced, the rest kept
// so the operator still recognizes the feed. Fetching uses the real URL.
func RedactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil || (u.User == nil && u.RawQuery == "") {
		return raw
	}
	if _, has := u.User.Password(); has {
		u.User = url.UserPassword(u.User.Username(), "xxxxx")
	}
	if u.RawQuery != "" {
		parts := strings.Split(u.RawQuery, "&")
		for i, p := range parts {
			name, _, hasValue := strings.Cut(p, "=")
			if hasValue && secretParams[strings.ToLower(name)] {
				parts[i] = name + "=xxxxx"
			}
		}
		u.RawQuery = strings.Join(parts, "&")
	}
	return u.String()
}
