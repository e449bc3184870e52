package main

import (
	"fmt"
	"io"
	"strings"

	"gull/digest/render"
)

// writeTable prints rows as columns two spaces apart. Unlike tabwriter it
// measures Hangul and other wide characters as two columns, as terminals
// draw them, so a Korean name does not push the rest of its row askew.
func writeTable(w io.Writer, rows [][]string) {
	var widths []int
	for _, r := range rows {
		for i, c := range r {
			if i >= len(widths) {
				widths = append(widths, 0)
			}
			widths[i] = max(widths[i], render.DisplayWidth(c))
		}
	}
	for _, r := range rows {
		var b strings.Builder
		for i, c := range r {
			b.WriteString(c)
			if i < len(r)-1 {
				b.WriteString(strings.Repeat(" ", widths[i]-render.DisplayWidth(c)+2))
			}
		}
		fmt.Fprintln(w, b.String())
	}
}
