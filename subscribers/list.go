package subscribers

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// OperatorAdd is the subscriber an operator's add makes (gull subscribers
// add EMAIL --name NAME --themes IDS), and the fields it gives. Only what
// was given changes someone on the list: an add without --themes keeps
// the themes they chose themselves. The add means "send them the
// digest", so it sets active (never over an unsubscribe: see Merge). The
// error is about themes, checked against valid.
func OperatorAdd(email, name, themes string, valid []string) (Subscriber, Fields, error) {
	given := FieldStatus
	chosen, gotThemes, err := ParseThemeCell(themes, valid)
	if err != nil {
		return Subscriber{}, 0, err
	}
	if gotThemes {
		given |= FieldThemes
	}
	name = strings.TrimSpace(name)
	if name != "" {
		given |= FieldName
	}
	return Subscriber{Email: email, Name: name, Status: Active, Themes: chosen}, given, nil
}

// WithLanguages is in with the language and article choice an operator
// gave (already checked by ParseLanguage and ParseArticles); "" is not
// given, so an add without --language keeps what the reader chose.
func WithLanguages(in Subscriber, given Fields, language, articles string) (Subscriber, Fields) {
	if language != "" {
		in.Language = language
		given |= FieldLanguage
	}
	if articles != "" {
		in.Articles = articles
		given |= FieldArticles
	}
	return in, given
}

// LanguageOr is the language s reads, listLang (config language) when
// they have not chosen one.
func (s Subscriber) LanguageOr(listLang string) string {
	return cmp.Or(s.Language, listLang)
}

// ArticlesOr is the article languages s gets: both when not chosen.
func (s Subscriber) ArticlesOr() string {
	return cmp.Or(s.Articles, "both")
}

// Describe is s in a line for the operator: "a@b.org (active; all themes)".
func (s Subscriber) Describe() string {
	themes := "all themes"
	if len(s.Themes) > 0 {
		themes = "themes: " + FormatThemes(s.Themes)
	}
	// The language choice only when made: the usual line stays short.
	if s.Language != "" {
		themes += "; language: " + s.Language
	}
	if s.Articles != "" {
		themes += "; articles: " + s.Articles
	}
	return fmt.Sprintf("%s (%s; %s)", s.Email, s.Status, themes)
}

// Outcome is what an add did, for the operator; noted is true when Merge
// left a note, which says why instead.
func Outcome(change Change, s Subscriber, noted bool) string {
	switch {
	case change == Updated:
		return "updated " + s.Describe() + ": it was already on the list"
	case change == Unchanged && !noted:
		return "unchanged " + s.Describe() + ": already on the list as given"
	}
	return string(change) + " " + s.Describe()
}

// jsonRow is one subscriber of WriteJSON (README.md, Commands).
type jsonRow struct {
	ID           int64      `json:"id"`
	Email        string     `json:"email"`
	Name         string     `json:"name"`
	Status       string     `json:"status"`
	Themes       []string   `json:"themes"`
	Language     string     `json:"language"`
	Articles     string     `json:"articles"`
	Created      time.Time  `json:"created"`
	Confirmed    *time.Time `json:"confirmed"`
	Unsubscribed *time.Time `json:"unsubscribed"`
	Bounced      *time.Time `json:"bounced"`
	// Reason is why gull set a bounced or unsubscribed status (a bounce,
	// a complaint); "" otherwise.
	Reason string `json:"reason"`
}

// WriteJSON writes subs as an indented JSON array, times in loc and null
// for what has not happened; language and articles are what each reader
// gets (listLang, and both, when they chose nothing).
func WriteJSON(w io.Writer, subs []Subscriber, loc *time.Location, listLang string) error {
	rows := make([]jsonRow, 0, len(subs))
	for _, s := range subs {
		rows = append(rows, jsonRow{ID: s.ID, Email: s.Email, Name: s.Name, Status: string(s.Status),
			Themes: append([]string{}, s.Themes...), Language: s.LanguageOr(listLang), Articles: s.ArticlesOr(),
			Created:   s.Created.In(loc),
			Confirmed: optional(s.Confirmed.In(loc)), Unsubscribed: optional(s.Unsubscribed.In(loc)),
			Bounced: optional(s.Bounced.In(loc)), Reason: s.Reason})
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(rows)
}

func optional(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// Table is subs as rows of a table under a header row, each with the
// language and article languages they get (listLang and both when they
// chose nothing), the date its status began in loc, and the tally of the
// list by status: "3 subscribers: 1 pending, 2 active", in the order of
// Statuses. When a reader's status has a reason (a bounce, a complaint),
// a last column, REASON, says it; a list without one keeps its width.
func Table(subs []Subscriber, loc *time.Location, listLang string) (rows [][]string, tally string) {
	rows = [][]string{{"EMAIL", "NAME", "STATUS", "THEMES", "LANGUAGE", "ARTICLES", "SINCE"}}
	reasons := slices.ContainsFunc(subs, func(s Subscriber) bool { return s.Reason != "" })
	if reasons {
		rows[0] = append(rows[0], "REASON")
	}
	counts := map[Status]int{}
	for _, s := range subs {
		themes := cmp.Or(FormatThemes(s.Themes), "all")
		since := s.Created
		switch s.Status {
		case Active:
			since = s.Confirmed
		case Unsubscribed:
			since = s.Unsubscribed
		case Bounced:
			if !s.Bounced.IsZero() {
				since = s.Bounced
			}
		}
		row := []string{s.Email, cmp.Or(s.Name, "-"), string(s.Status), themes,
			s.LanguageOr(listLang), s.ArticlesOr(), since.In(loc).Format("2006-01-02")}
		if reasons {
			row = append(row, cmp.Or(s.Reason, "-"))
		}
		rows = append(rows, row)
		counts[s.Status]++
	}
	var parts []string
	for _, s := range Statuses {
		if counts[s] > 0 {
			parts = append(parts, fmt.Sprintf("%d %s", counts[s], s))
		}
	}
	tally = fmt.Sprintf("%d subscribers", len(subs))
	if len(subs) == 1 {
		tally = "1 subscriber"
	}
	if len(parts) > 0 {
		tally += ": " + strings.Join(parts, ", ")
	}
	return rows, tally
}
