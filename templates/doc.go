// Package templates will embed the default digest templates (DESIGN.md
// §2) and nothing else. The templates arrive with the themes-and-preview
// issue; the package exists now so the import rules are checked from the
// start.
package templates
