package config_test

import (
	"strings"
	"testing"
)

// A YAML syntax error keeps its line and says the usual cause and its fix
// in the words a person would use (issue 12 §3).
func TestSyntaxErrorsSayCauseAndFix(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"tab before a key", "title: A\nfetch:\n\ttimeout: 20s\n",
			"config.yaml:3: found character that cannot start any token: this line is indented with a tab; indent with spaces, not tabs"},
		{"tab in a list item", "title: A\nfeeds:\n  - url: a.xml\n\t  name: A\n",
			"config.yaml:4: found a tab character that violates indentation: this line is indented with a tab; indent with spaces, not tabs"},
		{"tab for a key", "title: A\n\tfeeds: []\n",
			"config.yaml:2: found a tab character that violates indentation: this line is indented with a tab; indent with spaces, not tabs"},
		{"tab after spaces", "title: A\n  \tfeeds: []\n",
			"config.yaml:2: mapping values are not allowed in this context: this line is indented with a tab; indent with spaces, not tabs"},
		{"colon in a value", "feeds: [{url: a.xml}]\ntitle: AI: Weekly\n",
			`config.yaml:2: mapping values are not allowed in this context: the value of title contains ": ", which YAML reads as another key; quote the value: title: "AI: Weekly"`},
		{"colon in a Korean value", "title: AI 정책: 주간 # the name\n",
			`config.yaml:1: mapping values are not allowed in this context: the value of title contains ": ", which YAML reads as another key; quote the value: title: "AI 정책: 주간"`},
		{"colon in a value with quotes", "mail:\n  from: Policy \"Weekly\": <d@example.org>\n",
			`quote the value: from: 'Policy "Weekly": <d@example.org>'`},
		{"key indented more", "mail:\n  from: d@example.org\n   outbox: out\n",
			`config.yaml:3: mapping values are not allowed in this context: "outbox" is indented 3 spaces but "from" above it (line 2) 2 spaces, so YAML reads it as part of the value of "from"; align this key with the one above it`},
		{"key indented less", "fetch:\n  timeout: 20s\n concurrency: 8\n",
			`config.yaml:3: did not find expected key: "concurrency" is indented 1 space but "timeout" above it (line 2) 2 spaces; align this key with the one above it`},
		// yaml names line 2, where the list starts; the key at fault is on 4.
		{"key of a list item", "feeds:\n  - url: a.xml\n    name: A\n   theme: compute\n",
			`config.yaml:4: did not find expected '-' indicator: "theme" is indented 3 spaces but "name" above it (line 3) 4 spaces; align this key with the one above it`},
		// Block scalars, flow lists over lines and continued values are
		// read past, not mistaken for the fault.
		{"after a block scalar", "relevance: [AI,\n  ML]\ntitle: A long\n  title\nthemes:\n  - id: a\n    name: |\n      multi\n       line\n    keywords: [x]\n   max: 3\n",
			`config.yaml:11: did not find expected '-' indicator: "max" is indented 3 spaces but "keywords" above it (line 10) 4 spaces; align this key with the one above it`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.yml)
			if len(got) != 1 || !strings.Contains(got[0], tc.want) {
				t.Errorf("got %q,\nwant one problem with %q", got, tc.want)
			}
		})
	}
}

// Errors that are none of those cases come as yaml said them, with no
// made-up cause.
func TestSyntaxErrorsWithoutAKnownCause(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"at sign", "title: A\nwindow: @7d\n", "config.yaml:2: found character that cannot start any token"},
		{"unclosed quote", "title: A\nschedule: \"0 8 * * MON\n", "config.yaml:2: found unexpected end of stream"},
		{"list where a key goes", "fetch:\n  timeout: 20s\n  - x\n", "config.yaml:2: did not find expected key"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.yml)
			if len(got) != 1 || got[0] != tc.want {
				t.Errorf("got %q, want exactly %q", got, tc.want)
			}
		})
	}
}
