package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"gull/digest/config"
)

// TestLoadRefusesNonRegularFiles: --config /dev/zero read for ever and
// grew to gigabytes; a FIFO would wait for a writer. Each is refused
// with a line that names the file and says what to give instead.
func TestLoadRefusesNonRegularFiles(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "config.fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "zero.yaml")
	if err := os.Symlink("/dev/zero", link); err != nil {
		t.Fatal(err)
	}
	// The FIFO comes before the devices: without the check it hangs, and
	// the test stops there instead of reading /dev/zero into memory.
	for _, tc := range []struct{ path, what string }{
		{dir, "a folder"}, {fifo, "a named pipe"}, {link, "a device"}, {"/dev/zero", "a device"},
	} {
		path, what := tc.path, tc.what
		done := make(chan error, 1)
		go func() { _, err := config.Load(path); done <- err }()
		var err error
		select {
		case err = <-done:
		case <-time.After(5 * time.Second): // a hang is the bug, not slowness
			t.Fatalf("Load(%s) did not return", path)
		}
		want := path + " is " + what + ", not a config file; name the YAML file itself"
		if !errors.Is(err, config.ErrRead) || !strings.Contains(err.Error(), want) || strings.Contains(err.Error(), "\n") {
			t.Errorf("Load(%s): %v; want one line with %q", path, err, want)
		}
	}
}

// TestLoadCapsTheSize: a config is a few KiB; a file over 1 MiB is
// refused without reading it all.
func TestLoadCapsTheSize(t *testing.T) {
	dir := t.TempDir()
	big := filepath.Join(dir, "big.yaml")
	body := minimal + "# " + strings.Repeat("x", config.MaxFileSize) + "\n"
	if err := os.WriteFile(big, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := config.Load(big)
	if !errors.Is(err, config.ErrRead) || !strings.Contains(err.Error(), big+" is larger than 1 MiB") {
		t.Errorf("Load of %d bytes: %v", len(body), err)
	}
	// Just under the cap still loads.
	ok := filepath.Join(dir, "ok.yaml")
	body = minimal + "# " + strings.Repeat("x", config.MaxFileSize-len(minimal)-3) + "\n"
	if err := os.WriteFile(ok, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.Load(ok); err != nil {
		t.Errorf("Load of %d bytes: %v", len(body), err)
	}
}

// TestRateMustBeANumber: YAML's .nan and .inf are floats, and NaN passed
// the "not negative" check.
func TestRateMustBeANumber(t *testing.T) {
	for _, v := range []string{".nan", ".NaN", ".inf", "+.inf", "-.inf", "-1"} {
		got := problems(t, minimal+"mail: {smtp: {rate: "+v+"}}\n")
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:5: mail.smtp.rate: must be 0 (unlimited) or a number of messages per second") {
			t.Errorf("rate %s: %q", v, got)
		}
	}
	cfg, err := parse(t, minimal+"mail: {smtp: {rate: 2.5}}\n")
	if err != nil || cfg.Mail.SMTP.Rate != 2.5 {
		t.Errorf("rate 2.5: %v", err)
	}
}

// TestScheduleNotTooFrequent: each run fetches every feed, so a schedule
// that runs more often than fetch.min_interval (1h unless set) is refused.
func TestScheduleNotTooFrequent(t *testing.T) {
	for _, tc := range []struct{ extra, every string }{
		{`schedule: "@every 1s"`, "1s"},
		{`schedule: "@every 59m"`, "59m0s"},
		{`schedule: "* * * * *"`, "1m0s"},
		{`schedule: "*/30 * * * *"`, "30m0s"},
		{`schedule: "0,59 8 * * MON"`, "59m0s"},
		{`schedule: "@every 5m"` + "\n" + `fetch: {min_interval: 10m}`, "5m0s"},
	} {
		got := problems(t, minimal+tc.extra+"\n")
		want := "runs as often as every " + tc.every + ", and each run fetches every feed"
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:") || !strings.Contains(got[0], "schedule: ") || !strings.Contains(got[0], want) || !strings.Contains(got[0], "fetch.min_interval") {
			t.Errorf("%s: got %q, want one problem saying %q", tc.extra, got, want)
		}
	}
	for _, ok := range []string{
		`schedule: "@hourly"`,
		`schedule: "0 * * * *"`,
		`schedule: "0 8 * * MON"`,
		`schedule: "@every 1h"`,
		`schedule: "@every 5m"` + "\n" + `fetch: {min_interval: 5m}`,
		`schedule: "* * * * *"` + "\n" + `fetch: {min_interval: 1m}`,
		`schedule: "59 23 * * SUN"` + "\n" + `fetch: {min_interval: 1w}`, // a gap equal to it is allowed
	} {
		if _, err := parse(t, minimal+ok+"\n"); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	cfg, err := parse(t, minimal)
	if err != nil || time.Duration(cfg.Fetch.MinInterval) != time.Hour {
		t.Errorf("fetch.min_interval defaults to %v (%v), want 1h", cfg.Fetch.MinInterval, err)
	}
	for _, bad := range []string{"0s", "-5m"} {
		got := problems(t, minimal+"fetch: {min_interval: "+bad+"}\n")
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:5: fetch.min_interval: must be positive") {
			t.Errorf("min_interval %s: %q", bad, got)
		}
	}
}
