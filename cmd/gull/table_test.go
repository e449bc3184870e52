package main

import (
	"strings"
	"testing"

	"gull/digest/render"
)

// A Korean name takes two columns a character on screen; the next column
// must still start at the same place on every line.
func TestWriteTableAlignsHangul(t *testing.T) {
	var b strings.Builder
	writeTable(&b, [][]string{{"EMAIL", "NAME", "STATUS"}, {"kim@example.org", "김독자", "active"}, {"lee@example.org", "Lee", "pending"}})
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	var at []int
	for i, l := range lines {
		j := strings.Index(l, []string{"STATUS", "active", "pending"}[i])
		at = append(at, render.DisplayWidth(l[:j]))
	}
	if at[0] != at[1] || at[1] != at[2] {
		t.Errorf("the status column starts at %v:\n%s", at, b.String())
	}
}
