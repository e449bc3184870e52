package digest

import "strconv"

// Counted is n and the noun in its number, "1 article", "3 articles", for
// the English lines gull prints to the operator (the templates have their
// own plural).
func Counted(n int, one, many string) string {
	if n == 1 {
		return strconv.Itoa(n) + " " + one
	}
	return strconv.Itoa(n) + " " + many
}
