package subscribers

import (
	"fmt"
	"slices"
	"strings"
	"unicode"
)

// ParseThemes reads a subscriber's theme choice as people write it in a
// spreadsheet cell or a form: ids separated by commas, semicolons, bars
// or spaces, in any case. It keeps the first-seen order and drops
// repeats. An empty choice is nil, which means every theme, so a blank
// cell never leaves someone with no digest at all.
//
// valid is the configured theme ids; an id outside it is an error, since
// a misspelt theme would otherwise silently get the reader nothing.
func ParseThemes(s string, valid []string) ([]string, error) {
	fields := strings.FieldsFunc(s, func(r rune) bool {
		return r == ',' || r == ';' || r == '|' || unicode.IsSpace(r)
	})
	if len(fields) == 0 {
		return nil, nil
	}
	canon := make(map[string]string, len(valid))
	for _, v := range valid {
		canon[strings.ToLower(v)] = v
	}
	var out []string
	for _, f := range fields {
		id, ok := canon[strings.ToLower(f)]
		if !ok {
			return nil, unknownTheme(f, valid)
		}
		if !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out, nil
}

func unknownTheme(id string, valid []string) error {
	if len(valid) == 0 {
		return fmt.Errorf("unknown theme %q; no themes are configured, so leave the themes empty", strings.ToLower(id))
	}
	sorted := slices.Clone(valid)
	slices.Sort(sorted)
	return fmt.Errorf("unknown theme %q; use one of %s", strings.ToLower(id), strings.Join(sorted, ", "))
}

// FormatThemes writes themes the way ParseThemes reads them back; nil
// (every theme) is "".
func FormatThemes(themes []string) string {
	return strings.Join(themes, " ")
}
