package config

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"gull/digest"
)

// Duration is a time.Duration written the human way in YAML: "20s", "168h",
// "90m", and also "7d" and "2w", which time.ParseDuration lacks.
type Duration time.Duration

// ParseDuration reads a duration with optional d (day) and w (week) units.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return 0, fmt.Errorf("empty duration (examples: 20s, 90m, 168h, 7d)")
	}
	for _, u := range []struct {
		suffix string
		unit   time.Duration
	}{{"d", 24 * time.Hour}, {"w", 7 * 24 * time.Hour}} {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(num, 64)
			// ParseFloat takes "NaN" and "Inf", and a huge count would
			// overflow int64 into a negative duration.
			if err != nil || math.IsNaN(n) || math.Abs(n*float64(u.unit)) >= 1<<63 {
				return 0, fmt.Errorf("%q is not a duration (examples: 20s, 90m, 168h, 7d)", s)
			}
			return time.Duration(n * float64(u.unit)), nil
		}
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a duration (examples: 20s, 90m, 168h, 7d)", s)
	}
	return d, nil
}

func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*d = Duration(v)
	return nil
}

func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// String prints whole days as days, so "168h" comes back as "7d".
func (d Duration) String() string {
	v := time.Duration(d)
	if v > 0 && v%(24*time.Hour) == 0 {
		return fmt.Sprintf("%dd", v/(24*time.Hour))
	}
	return v.String()
}

// Size is a byte count written the human way: "10MiB", "512KB", "1048576".
type Size int64

var sizeUnits = []struct {
	suffix string
	mult   int64
}{
	{"kib", 1 << 10}, {"mib", 1 << 20}, {"gib", 1 << 30},
	{"kb", 1000}, {"mb", 1000 * 1000}, {"gb", 1000 * 1000 * 1000},
	{"k", 1 << 10}, {"m", 1 << 20}, {"g", 1 << 30}, {"b", 1},
}

// ParseSize reads a size such as "10MiB" (binary), "10MB" (decimal) or a
// plain number of bytes.
func ParseSize(s string) (int64, error) {
	t := strings.ToLower(strings.TrimSpace(s))
	mult := int64(1)
	for _, u := range sizeUnits {
		if num, ok := strings.CutSuffix(t, u.suffix); ok {
			t, mult = strings.TrimSpace(num), u.mult
			break
		}
	}
	// Whole numbers are exact (a float64 rounds past 2^53).
	if n, err := strconv.ParseInt(t, 10, 64); err == nil && n >= 0 && n <= math.MaxInt64/mult {
		return n * mult, nil
	}
	n, err := strconv.ParseFloat(t, 64)
	// "NaN", "Inf" and sizes past int64 would come out negative.
	if err != nil || n < 0 || math.IsNaN(n) || n*float64(mult) >= 1<<63 {
		return 0, fmt.Errorf("%q is not a size (examples: 10MiB, 512KiB, 2000000)", s)
	}
	return int64(n * float64(mult)), nil
}

func (z *Size) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseSize(n.Value)
	if err != nil {
		return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %v", n.Line, err)}}
	}
	*z = Size(v)
	return nil
}

func (z Size) MarshalYAML() (any, error) { return z.String(), nil }

func (z Size) String() string {
	v := int64(z)
	switch {
	case v >= 1<<30 && v%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", v>>30)
	case v >= 1<<20 && v%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", v>>20)
	case v >= 1<<10 && v%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", v>>10)
	}
	return strconv.FormatInt(v, 10)
}

// Text is a name or title in each reader language: one string for both
// ("AI Policy Weekly"), or {ko: 반도체와 컴퓨팅, en: Compute & Chips}.
type Text struct{ digest.Text }

// Same is a Text that reads s in every language.
func Same(s string) Text { return Text{digest.Same(s)} }

func (t *Text) UnmarshalYAML(n *yaml.Node) error {
	switch n.Kind {
	case yaml.ScalarNode:
		if n.Tag != "!!str" && n.Tag != "!!int" && n.Tag != "!!float" && n.Tag != "!!bool" {
			break
		}
		*t = Same(n.Value)
		return nil
	case yaml.MappingNode:
		var out Text
		// YAML forbids a key twice in a mapping, and of two titles the
		// operator wrote one would be dropped without a word.
		firstAt := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			if v.Kind != yaml.ScalarNode {
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s must be a string", v.Line, k.Value)}}
			}
			if at, dup := firstAt[k.Value]; dup {
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %s is given twice (first at line %d); keep one", k.Line, k.Value, at)}}
			}
			firstAt[k.Value] = k.Line
			switch k.Value {
			case "ko":
				out.Ko = v.Value
			case "en":
				out.En = v.Value
			default:
				return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: %q is not a language; write {ko: ..., en: ...}", k.Line, k.Value)}}
			}
		}
		*t = out
		return nil
	}
	return &yaml.TypeError{Errors: []string{fmt.Sprintf("line %d: write a name, or one per language: {ko: ..., en: ...}", n.Line)}}
}

// MarshalYAML writes one string when both languages read the same.
func (t Text) MarshalYAML() (any, error) {
	if t.Ko == t.En {
		return t.Ko, nil
	}
	return map[string]string{"ko": t.Ko, "en": t.En}, nil
}

// Blank: no language has any text.
func (t Text) Blank() bool { return strings.TrimSpace(t.Ko) == "" && strings.TrimSpace(t.En) == "" }
