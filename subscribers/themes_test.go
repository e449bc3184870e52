package subscribers

import (
	"slices"
	"testing"
)

var testThemes = []string{"regulation", "compute", "strategy", "agents", "safety"}

func TestParseThemes(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"", nil},
		{"   ", nil},
		{" , ; | ", nil},
		{"compute", []string{"compute"}},
		{"compute,regulation", []string{"compute", "regulation"}},
		{"regulation, compute", []string{"regulation", "compute"}},
		{"compute;regulation|safety", []string{"compute", "regulation", "safety"}},
		{"compute regulation\tsafety\nagents", []string{"compute", "regulation", "safety", "agents"}},
		{"Compute, REGULATION", []string{"compute", "regulation"}},
		{"compute, compute, Compute", []string{"compute"}},
		{"safety compute safety regulation", []string{"safety", "compute", "regulation"}},
		{",,compute,,", []string{"compute"}},
	}
	for _, tt := range tests {
		got, err := ParseThemes(tt.in, testThemes)
		if err != nil {
			t.Errorf("ParseThemes(%q): %v", tt.in, err)
			continue
		}
		if !slices.Equal(got, tt.want) || (got == nil) != (tt.want == nil) {
			t.Errorf("ParseThemes(%q) = %#v, want %#v", tt.in, got, tt.want)
		}
	}
}

func TestParseThemesUnknown(t *testing.T) {
	tests := []struct {
		valid   []string
		s, want string
	}{
		{s: "compute, chips", valid: testThemes,
			want: `unknown theme "chips"; use one of agents, compute, regulation, safety, strategy`},
		{s: "CHIPS", valid: testThemes,
			want: `unknown theme "chips"; use one of agents, compute, regulation, safety, strategy`},
		{s: "compute-regulation", valid: testThemes,
			want: `unknown theme "compute-regulation"; use one of agents, compute, regulation, safety, strategy`},
		{s: "compute", valid: nil,
			want: `unknown theme "compute"; no themes are configured, so leave the themes empty`},
	}
	for _, tt := range tests {
		got, err := ParseThemes(tt.s, tt.valid)
		if err == nil || err.Error() != tt.want {
			t.Errorf("ParseThemes(%q) = %v, %v; want error %q", tt.s, got, err, tt.want)
		}
	}
	if !slices.Equal(testThemes, []string{"regulation", "compute", "strategy", "agents", "safety"}) {
		t.Errorf("ParseThemes sorted the caller's slice: %v", testThemes)
	}
}

func TestFormatThemes(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{}, ""},
		{[]string{"compute"}, "compute"},
		{[]string{"compute", "regulation"}, "compute regulation"},
	}
	for _, tt := range tests {
		got := FormatThemes(tt.in)
		if got != tt.want {
			t.Errorf("FormatThemes(%#v) = %q, want %q", tt.in, got, tt.want)
		}
		back, err := ParseThemes(got, testThemes)
		if err != nil || !slices.Equal(back, tt.in) {
			t.Errorf("ParseThemes(FormatThemes(%#v)) = %#v, %v", tt.in, back, err)
		}
	}
}
