// Package subscribers holds who gets the digest: the Subscriber, their
// status and theme choices, address checks, signed link tokens, CSV import
// and export, and the Store interface the database implements
// (digest/store). It imports only the standard library and x/text.
package subscribers

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
)

// Status is where a subscriber stands.
type Status string

const (
	// Pending signed up on the web and has not confirmed yet.
	Pending Status = "pending"
	// Active gets the digest.
	Active Status = "active"
	// Unsubscribed asked to stop. The row stays, so an import of an old
	// list never adds them back.
	Unsubscribed Status = "unsubscribed"
	// Bounced has an address the mail server refused for good.
	Bounced Status = "bounced"
)

// Statuses lists every status, in the order a person reads them.
var Statuses = []Status{Pending, Active, Unsubscribed, Bounced}

// ParseThemeCell reads a themes cell or flag: empty means not given
// (keep what the subscriber chose), "all" means every theme, anything
// else the listed ids.
func ParseThemeCell(s string, valid []string) (themes []string, given bool, err error) {
	switch t := strings.TrimSpace(s); {
	case t == "":
		return nil, false, nil
	case strings.EqualFold(t, "all") || t == "*":
		return nil, true, nil
	}
	themes, err = ParseThemes(s, valid)
	return themes, err == nil, err
}

// The languages a reader may choose, and their article choices.
var (
	Languages = []string{"ko", "en"}
	Articles  = []string{"ko", "en", "both"}
)

// ParseLanguage reads a language cell or flag: "" is not given (keep
// what the reader chose, or the list's language for a new one).
func ParseLanguage(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || slices.Contains(Languages, s) {
		return s, nil
	}
	return "", fmt.Errorf("unknown language %q; use ko (Korean) or en (English)", s)
}

// ParseArticles reads an article-language cell or flag: "" is not given.
func ParseArticles(s string) (string, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" || slices.Contains(Articles, s) {
		return s, nil
	}
	return "", fmt.Errorf("unknown article languages %q; use ko, en or both", s)
}

// ParseStatus reads a status; "" is Active (an operator adding or
// importing someone has their consent).
func ParseStatus(s string) (Status, error) {
	s = strings.ToLower(strings.TrimSpace(s))
	if s == "" {
		return Active, nil
	}
	if st := Status(s); slices.Contains(Statuses, st) {
		return st, nil
	}
	return "", fmt.Errorf("unknown status %q; use pending, active, unsubscribed or bounced", s)
}

// Subscriber is one person on the list.
type Subscriber struct {
	ID    int64
	Email string // normalized: see NormalizeEmail
	Name  string
	// Status decides whether they get the digest.
	Status Status
	// Themes are the theme ids they chose; empty means every theme.
	Themes []string
	// Language is the wording of their mail and pages: "ko" or "en"; ""
	// means the list's (config `language`).
	Language string
	// Articles are the articles they get by language: "ko", "en" or
	// "both"; "" means both.
	Articles string
	// Created, Confirmed, Unsubscribed, Bounced and Updated are when that
	// happened; zero when it has not.
	Created, Confirmed, Unsubscribed, Bounced, Updated time.Time
	// Reason says why a bounced or unsubscribed reader has that status
	// when gull set it (a bounce, a complaint: ApplyBounce); "" when they
	// chose it themselves or the operator did.
	Reason string
}

// SetStatus moves s to st and records when it was confirmed,
// unsubscribed or bounced; the reason of the old status goes with it.
// Setting the status it already has changes nothing, so a second
// unsubscribe keeps the time of the first.
func (s *Subscriber) SetStatus(st Status, now time.Time) {
	if s.Status == st {
		return
	}
	s.Status = st
	s.Reason = ""
	switch st {
	case Active:
		s.Confirmed = now
	case Unsubscribed:
		s.Unsubscribed = now
	case Bounced:
		s.Bounced = now
	}
}

// Complained reports whether s was unsubscribed by a complaint (they
// marked the digest as spam).
func (s Subscriber) Complained() bool {
	return s.Status == Unsubscribed && strings.HasPrefix(s.Reason, string(Complaint))
}

// ErrNotFound means no subscriber has that id or address.
var ErrNotFound = errors.New("subscribers: no such subscriber")

// Change is what saving a subscriber did.
type Change string

const (
	Added     Change = "added"
	Updated   Change = "updated"
	Unchanged Change = "unchanged"
)

// Fields says which of a subscriber's fields an import row or a command
// gave. An update changes only those: an empty cell in a spreadsheet, or
// an add without --themes, must not wipe what the reader chose on the
// preferences page.
type Fields uint8

const (
	FieldName Fields = 1 << iota
	FieldThemes
	FieldStatus
	FieldLanguage
	FieldArticles
	AllFields = FieldName | FieldThemes | FieldStatus | FieldLanguage | FieldArticles
)

// Row is one subscriber read from a CSV file, with its line for messages
// and the cells it filled.
type Row struct {
	Line       int
	Subscriber Subscriber
	Given      Fields
}

// Rejected is a CSV row that was not imported, and why.
type Rejected struct {
	Line   int
	Value  string // the row's address as written
	Reason string
}

// Result is what an import did with one row.
type Result struct {
	Line   int
	Email  string
	Change Change
	// Note explains an unchanged or partial result, e.g. that an
	// unsubscribed address was not re-activated.
	Note string
}

// Merge decides what importing (or adding) incoming does to existing,
// the row already stored for the same address (nil when there is none).
// given names the fields incoming sets; an existing row keeps the others.
// It returns the row to store, what changed, and a note for the operator.
//
// Nobody who unsubscribed is re-activated this way: their consent was
// withdrawn, and an old spreadsheet or an operator's command is not new
// consent; they can sign up again themselves. Nor is a bounced address:
// mailing it again is what costs a sender its reputation, and only its
// owner, signing up, shows it works again. Marking an address
// unsubscribed or bounced is always allowed.
func Merge(existing *Subscriber, incoming Subscriber, given Fields, now time.Time) (Subscriber, Change, string) {
	if existing == nil {
		s := incoming
		s.ID = 0
		s.Created, s.Updated = now, now
		s.Confirmed, s.Unsubscribed, s.Bounced = time.Time{}, time.Time{}, time.Time{}
		s.Status = ""
		s.SetStatus(incoming.Status, now)
		return s, Added, ""
	}
	s := *existing
	note := ""
	if given&FieldName != 0 {
		s.Name = incoming.Name
	}
	if given&FieldThemes != 0 {
		s.Themes = incoming.Themes
	}
	if given&FieldLanguage != 0 {
		s.Language = incoming.Language
	}
	if given&FieldArticles != 0 {
		s.Articles = incoming.Articles
	}
	switch {
	case given&FieldStatus == 0:
	case existing.Complained() && incoming.Status != Unsubscribed:
		note = fmt.Sprintf("marked the digest as spam on %s; kept unsubscribed: only they can subscribe again, by signing up themselves",
			existing.Unsubscribed.Format("2006-01-02"))
	case existing.Status == Unsubscribed && incoming.Status != Unsubscribed:
		note = fmt.Sprintf("unsubscribed on %s; kept unsubscribed: only they can subscribe again, by signing up themselves",
			existing.Unsubscribed.Format("2006-01-02"))
	case existing.Status == Bounced && incoming.Status != Bounced && incoming.Status != Unsubscribed:
		note = fmt.Sprintf("bounced on %s (%s); kept bounced: only they can subscribe again, by signing up themselves",
			existing.BouncedOn(), cmp.Or(existing.Reason, "the mail server refused the address"))
	default:
		s.SetStatus(incoming.Status, now)
	}
	if same(s, *existing) {
		return *existing, Unchanged, note
	}
	s.Updated = now
	return s, Updated, note
}

func same(a, b Subscriber) bool {
	return a.Email == b.Email && a.Name == b.Name && a.Status == b.Status && slices.Equal(a.Themes, b.Themes) &&
		a.Language == b.Language && a.Articles == b.Articles && a.Reason == b.Reason
}

// BouncedOn is the day s bounced, "?" for a row bounced before gull kept
// the date.
func (s Subscriber) BouncedOn() string {
	if s.Bounced.IsZero() {
		return "?"
	}
	return s.Bounced.Format("2006-01-02")
}

// Store keeps the list. digest/store implements it on SQLite, in the same
// database file as the feeds.
type Store interface {
	SubscriberByID(ctx context.Context, id int64) (Subscriber, error)
	SubscriberByEmail(ctx context.Context, email string) (Subscriber, error)
	// ListSubscribers returns the subscribers with status st ("" for
	// all), ordered by address.
	ListSubscribers(ctx context.Context, st Status) ([]Subscriber, error)
	// SaveSubscriber adds s or updates the given fields of the row of its
	// address, by Merge.
	SaveSubscriber(ctx context.Context, s Subscriber, given Fields, now time.Time) (Subscriber, Change, string, error)
	// RemoveSubscriber deletes the row of email for good.
	RemoveSubscriber(ctx context.Context, email string) error
	// ImportSubscribers saves rows in one transaction: all of them or,
	// if anything fails (a cancelled context included), none.
	ImportSubscribers(ctx context.Context, rows []Row, now time.Time) ([]Result, error)
	// CreatePending adds s (address, name, themes, language, articles)
	// as pending unless its address exists; created says whether it did.
	// An existing row is returned unchanged.
	CreatePending(ctx context.Context, s Subscriber, now time.Time) (Subscriber, bool, error)
	// SetStatus, SetThemes and SetLanguage change one subscriber.
	SetStatus(ctx context.Context, id int64, st Status, now time.Time) (Subscriber, error)
	SetThemes(ctx context.Context, id int64, themes []string, now time.Time) (Subscriber, error)
	SetLanguage(ctx context.Context, id int64, language, articles string, now time.Time) (Subscriber, error)
	// TokenSecret is the key that signs links when secret_env is unset:
	// random, made on first use and kept in the store.
	TokenSecret(ctx context.Context) ([]byte, error)
}
