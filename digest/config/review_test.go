package config_test

import (
	"slices"
	"strings"
	"testing"
)

// review: is off unless set (no editors, no draft, nothing required);
// set, it is read as written, with hold as the policy left out.
func TestReviewKeys(t *testing.T) {
	cfg, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	r := cfg.Review
	if len(r.Editors) != 0 || r.Draft != "" || r.Required || r.Unapproved != "hold" {
		t.Errorf("defaults: %+v, want no editors, no draft time, not required, hold", r)
	}
	cfg, err = parse(t, minimal+"review: {editors: [ed@example.org, 편집@example.kr], draft: \"0 16 * * FRI\", required: true}\n")
	if err != nil {
		t.Fatal(err)
	}
	r = cfg.Review
	if !slices.Equal(r.Editors, []string{"ed@example.org", "편집@example.kr"}) || r.Draft != "0 16 * * FRI" || !r.Required || r.Unapproved != "hold" {
		t.Errorf("set: %+v", r)
	}
}

// Each mistake in review: is its own line, naming the key and the fix.
func TestReviewKeysRefused(t *testing.T) {
	got := problems(t, minimal+`review:
  editors: [ed@example.org, "Ed <x@example.org>", nope, ED@example.org]
  draft: "every friday"
  required: true
  unapproved: later
`)
	want := []string{
		`config.yaml:6: review.editors[1]: "Ed <x@example.org>" is not an email address; write the bare address`,
		`config.yaml:6: review.editors[2]: "nope" is not an email address`,
		`config.yaml:6: review.editors[3]: "ED@example.org" is already review.editors[0]; remove one`,
		`config.yaml:7: review.draft: "every friday" is not a 5-field cron spec`,
		`config.yaml:9: review.unapproved: must be hold (send nothing until approved) or send (the draft with its edits so far), got "later"`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("problem %d:\n got %s\nwant %s...", i, got[i], want[i])
		}
	}
	got = problems(t, minimal+"review: {required: true}\n")
	if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:5: review.required: is true but review.editors is empty") {
		t.Errorf("required without editors: %q", got)
	}
	got = problems(t, minimal+"review: {editors: [ed@example.org], draft: \"TZ=UTC 0 16 * * FRI\"}\n")
	if len(got) != 1 || !strings.Contains(got[0], "review.draft:") || !strings.Contains(got[0], "remove the TZ= part") {
		t.Errorf("draft with a zone: %q", got)
	}
}
