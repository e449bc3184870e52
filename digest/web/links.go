package web

import (
	"net/url"
	"time"

	"gull/subscribers"
)

// Links are the signed per-subscriber URLs a message carries. The routes
// they point to are this package's, so the package makes them.
type Links struct {
	BaseURL string // absolute, no trailing slash
	Signer  *subscribers.Signer
}

// Unsubscribe is the one-click link (List-Unsubscribe and the footer). It
// never expires: RFC 8058 links must work as long as the mail is kept.
func (l Links) Unsubscribe(sub subscribers.Subscriber, issueID string) string {
	return l.BaseURL + "/unsubscribe?t=" + url.QueryEscape(l.Signer.Sign(subscribers.Claims{
		Purpose: subscribers.PurposeUnsubscribe, Subscriber: sub.ID, Data: issueID,
	}))
}

// Preferences is the link to choose themes.
func (l Links) Preferences(sub subscribers.Subscriber) string {
	return l.BaseURL + "/preferences?t=" + url.QueryEscape(l.Signer.Sign(subscribers.Claims{
		Purpose: subscribers.PurposePreferences, Subscriber: sub.ID,
	}))
}

// View is a test send's "view in browser" link to an issue not yet
// published: the issue's address with a signed token (purpose view, the
// issue id, expiring after subscribers.ViewTTL) that shows its web copy,
// marked as not yet published. The bare address says "not yet
// published" until the issue's send begins; then both show the issue.
func (l Links) View(issueID string, now time.Time) string {
	return l.BaseURL + "/issues/" + url.PathEscape(issueID) + "?view=" + url.QueryEscape(l.Signer.Sign(subscribers.Claims{
		Purpose: subscribers.PurposeView, Subscriber: subscribers.ViewSubscriber, Data: issueID, Expires: now.Add(subscribers.ViewTTL),
	}))
}
