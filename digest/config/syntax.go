package config

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// explainSyntax adds to a YAML syntax error the usual cause and its fix,
// read from the file's own lines: yaml says what it could not parse, but a
// person needs to hear "indent with spaces, not tabs" or "quote the value".
// line is yaml's, as syntaxLine corrected it; for an indentation mistake
// that yaml notices only later (a list item's key), it moves to the line at
// fault. Anything not recognised is returned as it came.
func explainSyntax(data []byte, line int, msg string) (int, string) {
	lines := strings.Split(string(data), "\n")
	for i := range lines {
		lines[i] = strings.TrimSuffix(lines[i], "\r")
	}
	const tabFix = ": this line is indented with a tab; indent with spaces, not tabs"
	switch msg {
	case "found a tab character that violates indentation", "found character that cannot start any token",
		"found a tab character where an indentation space is expected":
		if l := tabIndented(lines, line); l > 0 {
			return l, msg + tabFix
		}
	case "mapping values are not allowed in this context", "did not find expected key", "did not find expected '-' indicator":
		// A tab after spaces reads as part of a value, and yaml says
		// something else about it.
		if line > 0 && line <= len(lines) && hasTabIndent(lines[line-1]) {
			return line, msg + tabFix
		}
		// yaml's line is right for the first two; the third points at
		// the list the misplaced key broke, which comes before it.
		if bad, ok := misaligned(lines); ok && (bad.line == line || (bad.line > line && msg == "did not find expected '-' indicator")) {
			return bad.line, msg + ": " + bad.describe()
		}
		if msg == "mapping values are not allowed in this context" && line > 0 && line <= len(lines) {
			if key, value, ok := keyValue(lines[line-1]); ok && strings.Contains(value, ": ") {
				return line, msg + fmt.Sprintf(`: the value of %s contains ": ", which YAML reads as another key; quote the value: %s`, key, quoted(key, value))
			}
		}
	}
	return line, msg
}

// tabIndented returns the line, preferring near (yaml's), whose
// indentation has a tab in it; 0 if none up to the line after near does
// (yaml names the line before for a tab in a list item's mapping).
func tabIndented(lines []string, near int) int {
	hasTab := func(l int) bool { return hasTabIndent(lines[l-1]) }
	if near > 0 && near <= len(lines) && hasTab(near) {
		return near
	}
	for l := 1; l <= min(near+1, len(lines)); l++ {
		if hasTab(l) {
			return l
		}
	}
	return 0
}

func hasTabIndent(s string) bool {
	return strings.ContainsRune(s[:len(s)-len(strings.TrimLeft(s, " \t"))], '\t')
}

// keyLine is a line of a block mapping: where its key starts and what it is.
type keyLine struct {
	line, col int
	key       string
}

// misplacedKey is a key whose indentation matches no open level: indented
// more than a key with a value above it, or less than its sibling but more
// than its parent.
type misplacedKey struct {
	keyLine
	above keyLine
	over  bool // indented more than the key above, so read as part of its value
}

func (m misplacedKey) describe() string {
	s := fmt.Sprintf("%q is indented %s but %q above it (line %d) %s", m.key, spaces(m.col), m.above.key, m.above.line, spaces(m.above.col))
	if m.over {
		s += fmt.Sprintf(", so YAML reads it as part of the value of %q", m.above.key)
	}
	return s + "; align this key with the one above it"
}

func spaces(n int) string {
	if n == 1 {
		return "1 space"
	}
	return fmt.Sprintf("%d spaces", n)
}

// misaligned walks the block structure of the file the way YAML reads
// indentation and returns the first key that fits no open level. It skips
// what it cannot judge (block scalars, flow collections over several lines,
// continued plain values) rather than guess.
func misaligned(lines []string) (misplacedKey, bool) {
	var (
		levels     []int // columns of the open levels, innermost last
		opens      bool  // the last line expects deeper lines (key: with no value, a lone -)
		above      keyLine
		blockAt    = -1 // in a block scalar: lines indented more than this belong to it
		flowDepth  int  // open [ and { of a flow collection spanning lines
		sawContent bool
	)
	for i, text := range lines {
		trimmed := strings.TrimLeft(text, " ")
		if trimmed == "" || trimmed[0] == '#' {
			continue
		}
		col := len(text) - len(trimmed)
		if blockAt >= 0 {
			if col > blockAt {
				continue
			}
			blockAt = -1
		}
		if flowDepth > 0 {
			flowDepth += flowBalance(trimmed)
			continue
		}
		if trimmed[0] == '\t' || strings.HasPrefix(trimmed, "---") || strings.HasPrefix(trimmed, "...") || trimmed[0] == '%' {
			return misplacedKey{}, false // tabs are the tab case's; several documents are beyond this walk
		}
		key, value, isKey := keyValue(text)
		here := keyLine{line: i + 1, col: col, key: key}
		switch top := len(levels) - 1; {
		case !sawContent:
			levels = []int{col}
		case col > levels[top]:
			if !opens {
				if !isKey {
					continue // the continuation of a plain value
				}
				return misplacedKey{keyLine: here, above: above, over: true}, true
			}
			levels = append(levels, col)
		case col < levels[top]:
			for len(levels) > 0 && levels[len(levels)-1] > col {
				levels = levels[:len(levels)-1]
			}
			if len(levels) == 0 || levels[len(levels)-1] != col {
				if !isKey {
					return misplacedKey{}, false
				}
				return misplacedKey{keyLine: here, above: above}, true
			}
		}
		sawContent = true
		// A list item opens a level of its own for the keys of its mapping.
		rest := trimmed
		for rest == "-" || strings.HasPrefix(rest, "- ") {
			inner := strings.TrimLeft(rest[1:], " ")
			c := len(text) - len(inner)
			if inner != "" && !strings.HasPrefix(inner, "#") {
				levels = append(levels, c)
			}
			rest = inner
		}
		if isKey {
			above = keyLine{line: i + 1, col: len(text) - len(rest), key: key}
		}
		value = strings.TrimSpace(stripComment(value))
		if !isKey {
			value = rest
		}
		opens = value == "" || value == "-" || isProperty(value)
		switch {
		case strings.HasPrefix(value, "|") || strings.HasPrefix(value, ">"):
			blockAt = len(text) - len(rest)
		case strings.HasPrefix(value, "[") || strings.HasPrefix(value, "{"):
			flowDepth = max(0, flowBalance(value))
		}
	}
	return misplacedKey{}, false
}

// isProperty reports whether v is only an anchor or a tag (key: &name),
// whose node follows on the next lines.
func isProperty(v string) bool {
	for _, f := range strings.Fields(v) {
		if f[0] != '&' && f[0] != '!' {
			return false
		}
	}
	return true
}

// flowBalance counts the [ and { a line opens minus those it closes,
// outside quotes.
func flowBalance(s string) int {
	n := 0
	var quote rune
	for _, r := range s {
		switch {
		case quote != 0:
			if r == quote {
				quote = 0
			}
		case r == '"' || r == '\'':
			quote = r
		case r == '[' || r == '{':
			n++
		case r == ']' || r == '}':
			n--
		case r == '#':
			return n
		}
	}
	return n
}

// stripComment drops a trailing " # comment" from a plain value.
func stripComment(v string) string {
	if i := strings.Index(v, " #"); i >= 0 {
		return v[:i]
	}
	return v
}

// keyValue splits a block mapping line ("  - title: AI: Weekly") into its
// key and the raw rest after the first ": " (or a final ":").
func keyValue(text string) (key, value string, ok bool) {
	s := strings.TrimLeft(text, " ")
	for s == "-" || strings.HasPrefix(s, "- ") {
		s = strings.TrimLeft(s[1:], " ")
	}
	if s == "" || strings.ContainsRune("#[{!&*|>'\"", rune(s[0])) {
		// Quoted keys are rare in a config; leave them be.
		return "", "", false
	}
	if k, ok := strings.CutSuffix(s, ":"); ok && !strings.Contains(k, ": ") {
		return k, "", true
	}
	k, v, found := strings.Cut(s, ": ")
	if !found || strings.Contains(k, " #") {
		return "", "", false
	}
	return k, strings.TrimLeft(v, " "), true
}

// quoted writes key: value as it should be, quoted; a long value is not
// repeated, only shown how.
func quoted(key, value string) string {
	value = strings.TrimSpace(stripComment(value))
	if utf8.RuneCountInString(value) > 60 || !utf8.ValidString(value) {
		return key + `: "..."`
	}
	if strings.Contains(value, `"`) && !strings.Contains(value, `'`) {
		return key + ": '" + value + "'"
	}
	return key + `: "` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(value) + `"`
}
