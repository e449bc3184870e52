package config_test

import (
	"math"
	"testing"
	"time"

	"gull/digest/config"
)

func TestParseDuration(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want time.Duration
	}{
		{"20s", 20 * time.Second},
		{"90m", 90 * time.Minute},
		{"168h", 168 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"7d", 7 * 24 * time.Hour},
		{"2w", 14 * 24 * time.Hour},
		{"1.5d", 36 * time.Hour},
		{" 7d ", 7 * 24 * time.Hour},
		{"0s", 0},
		{"-1d", -24 * time.Hour}, // parses; validate says it must be positive
	} {
		got, err := config.ParseDuration(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseDuration(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "   ", "soon", "7", "d", "w", "7 days", "7dd", "1x", "20", "NaNd", "infd", "1e300w", "200000w", "1h30md"} {
		if got, err := config.ParseDuration(in); err == nil {
			t.Errorf("ParseDuration(%q) = %v, want an error", in, got)
		}
	}
}

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
	}{
		{"10MiB", 10 << 20},
		{"512KiB", 512 << 10},
		{"10MB", 10_000_000},
		{"10mb", 10_000_000},
		{"1048576", 1 << 20},
		{"1g", 1 << 30},
		{"1G", 1 << 30},
		{"2k", 2 << 10},
		{"1.5MiB", 3 << 19},
		{"10 MiB", 10 << 20},
		{"100b", 100},
		{"0", 0},
	} {
		got, err := config.ParseSize(tc.in)
		if err != nil || got != tc.want {
			t.Errorf("ParseSize(%q) = %v, %v; want %v", tc.in, got, err, tc.want)
		}
	}
	for _, in := range []string{"", "lots", "MiB", "10XB", "10 M iB", "-1", "-10MiB", "NaN", "inf", "1e30", "9223372036854775808", "10GiBs"} {
		if got, err := config.ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q) = %v, want an error", in, got)
		}
	}
}

func TestDurationStringRoundTrip(t *testing.T) {
	for _, d := range []time.Duration{
		0, time.Nanosecond, 1500 * time.Millisecond, 20 * time.Second, 90 * time.Minute,
		36 * time.Hour, 168 * time.Hour, 14 * 24 * time.Hour, 25*time.Hour + time.Second,
		-time.Hour, 100000 * 24 * time.Hour, math.MaxInt64,
	} {
		s := config.Duration(d).String()
		back, err := config.ParseDuration(s)
		if err != nil || back != d {
			t.Errorf("Duration(%v).String() = %q, parsed back as %v, %v", d, s, back, err)
		}
	}
	if s := config.Duration(168 * time.Hour).String(); s != "7d" {
		t.Errorf("168h prints as %q, want 7d", s)
	}
}

func TestSizeStringRoundTrip(t *testing.T) {
	for _, z := range []int64{0, 1, 1000, 1023, 1024, 1536, 512 << 10, 10 << 20, 10_000_000, 1 << 30, 3 << 40, math.MaxInt64} {
		s := config.Size(z).String()
		back, err := config.ParseSize(s)
		if err != nil || back != z {
			t.Errorf("Size(%d).String() = %q, parsed back as %d, %v", z, s, back, err)
		}
	}
	if s := config.Size(10 << 20).String(); s != "10MiB" {
		t.Errorf("10MiB prints as %q", s)
	}
}
