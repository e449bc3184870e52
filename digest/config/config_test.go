package config_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"gull/digest/config"
)

// minimal is the smallest config that loads: everything else defaults.
const minimal = `feeds:
  - url: https://example.org/feed.xml
themes:
  - {id: compute, name: Compute, keywords: [GPU]}
`

func parse(t *testing.T, yml string) (*config.Config, error) {
	t.Helper()
	return config.Parse("config.yaml", []byte(yml))
}

// problems parses yml, requires a *config.Error wrapping ErrInvalid and
// returns its lines.
func problems(t *testing.T, yml string) []string {
	t.Helper()
	cfg, err := parse(t, yml)
	if err == nil {
		t.Fatalf("Parse accepted the config: %+v", cfg)
	}
	if cfg != nil {
		t.Errorf("Parse returned a config with the error %v", err)
	}
	if !errors.Is(err, config.ErrInvalid) {
		t.Errorf("errors.Is(err, ErrInvalid) = false for %v", err)
	}
	var ce *config.Error
	if !errors.As(err, &ce) {
		t.Fatalf("errors.As(err, *config.Error) = false for %T %v", err, err)
	}
	if got := strings.Join(ce.Problems, "\n"); got != err.Error() {
		t.Errorf("Error() = %q, Problems joined = %q", err.Error(), got)
	}
	return ce.Problems
}

func TestShippedConfigsLoad(t *testing.T) {
	for _, path := range []string{"../../config.yaml", "../../examples/config.yaml"} {
		t.Run(path, func(t *testing.T) {
			cfg, err := config.Load(path)
			if err != nil {
				t.Fatalf("Load(%s): %v", path, err)
			}
			if cfg.Location == nil || cfg.Location.String() != "Asia/Seoul" {
				t.Errorf("Location = %v, want Asia/Seoul", cfg.Location)
			}
			if cfg.Path != path {
				t.Errorf("Path = %q, want %q", cfg.Path, path)
			}
			if len(cfg.Feeds) == 0 || len(cfg.Themes) == 0 {
				t.Errorf("got %d feeds and %d themes", len(cfg.Feeds), len(cfg.Themes))
			}
			if got := len(cfg.DigestFeeds()); got != len(cfg.Feeds) {
				t.Errorf("DigestFeeds gives %d feeds, want %d", got, len(cfg.Feeds))
			}
		})
	}
}

func TestExamplePathsResolveAgainstItsFolder(t *testing.T) {
	const dir = "../../examples"
	cfg, err := config.Load(filepath.Join(dir, "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.Feeds) != 4 {
		t.Fatalf("got %d feeds, want the example's 4", len(cfg.Feeds))
	}
	for i, f := range cfg.Feeds {
		if filepath.Dir(f.URL) != filepath.Join(dir, "feeds") {
			t.Errorf("feeds[%d].url = %q, want it under %s/feeds", i, f.URL, dir)
		}
		if _, err := os.Stat(f.URL); err != nil {
			t.Errorf("feeds[%d]: %v", i, err)
		}
	}
	if want := filepath.Join(dir, "gull-example.db"); cfg.Store.Path != want {
		t.Errorf("store.path = %q, want %q", cfg.Store.Path, want)
	}
	if want := filepath.Join(dir, "outbox"); cfg.Mail.Outbox != want {
		t.Errorf("mail.outbox = %q, want %q", cfg.Mail.Outbox, want)
	}
	// The per-feed zone wins over the config's.
	if loc := cfg.DigestFeeds()[2].Location; loc.String() != "UTC" {
		t.Errorf("feeds[2] location = %v, want UTC", loc)
	}
}

func TestManyProblemsReportedAtOnce(t *testing.T) {
	const yml = `titel: Weekly
language: jp
timezone: Mars/Olympus_Mons
schedule: "0 8 * *"
window: soon
fetch:
  timeout: 20s
  max_bytes: lots
feeds:
  - url: https://example.org/a.xml
    theme: nosuch
  - url: https://example.org/b.xml
    nmae: B
  - url: https://example.org/a.xml
  - {url: "ftp://example.org/c.xml", name: C}
themes:
  - {id: compute, name: Compute, keywords: [GPU]}
  - id: compute
    name: Again
    keywords: [chip]
mail:
  from: not an address
  smtp:
    port: 587
    tls: ssl
`
	want := []struct {
		prefix string // "config.yaml:<line>: <key>: "
		has    string // a word of the message
	}{
		{"config.yaml:1: titel: ", `did you mean "title"?`},
		{"config.yaml:2: language: ", `"jp" is not supported; use ko (Korean) or en (English)`},
		{"config.yaml:3: timezone: ", "Mars/Olympus_Mons"},
		{"config.yaml:4: schedule: ", "5-field"},
		{"config.yaml:5: window: ", `"soon" is not a duration`},
		{"config.yaml:8: fetch.max_bytes: ", `"lots" is not a size`},
		{"config.yaml:11: feeds[0].theme: ", `"nosuch" is not a theme id; use one of compute`},
		{"config.yaml:13: feeds[1].nmae: ", `unknown key; did you mean "name"?`},
		{"config.yaml:14: feeds[2].url: ", "is already feeds[0]"},
		{"config.yaml:15: feeds[3].url: ", `scheme "ftp" is not supported`},
		{"config.yaml:18: themes[1].id: ", "used by an earlier theme"},
		{"config.yaml:22: mail.from: ", "not an address"},
		{"config.yaml:25: mail.smtp.tls: ", `starttls, tls or none, got "ssl"`},
	}
	got := problems(t, yml)
	for _, w := range want {
		found := false
		for _, line := range got {
			if strings.HasPrefix(line, w.prefix) && strings.Contains(line, w.has) {
				found = true
			}
		}
		if !found {
			t.Errorf("no problem %q...%q", w.prefix, w.has)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// Values of the wrong type are named by key, in the words of the file,
// even several on one line of a flow mapping.
func TestWrongTypesNameTheKey(t *testing.T) {
	const yml = `feeds:
  - {url: https://example.org/a.xml, filter: maybe}
  - https://example.org/b.xml
themes:
  - {id: compute, name: Compute, keywords: GPU, max: lots}
fetch: {timeout: soon, concurrency: many}
relevance: [AI, [nested]]
other: catch-all
mail:
  smtp:
    rate: fast
    port:
      - 25
`
	want := []string{
		`config.yaml:2: feeds[0].filter: must be true or false, got "maybe"`,
		`config.yaml:3: feeds[1]: must be a mapping of keys (key: value), not the value "https://example.org/b.xml"`,
		`config.yaml:5: themes[0].keywords: must be a list`,
		`config.yaml:5: themes[0].max: must be a whole number, got "lots"`,
		`config.yaml:6: fetch.timeout: "soon" is not a duration`,
		`config.yaml:6: fetch.concurrency: must be a whole number, got "many"`,
		`config.yaml:7: relevance[1]: must be a single value, not a list`,
		`config.yaml:8: other: must be a mapping of keys`,
		`config.yaml:11: mail.smtp.rate: must be a number, got "fast"`,
		`config.yaml:12: mail.smtp.port: must be a single value, not a list`,
	}
	got := problems(t, yml)
	for _, w := range want {
		found := false
		for _, line := range got {
			found = found || strings.HasPrefix(line, w)
		}
		if !found {
			t.Errorf("no problem starting %q", w)
		}
	}
	for _, line := range got {
		if strings.Contains(line, "config.Config") || strings.Contains(line, "unmarshal") {
			t.Errorf("message speaks Go, not config: %q", line)
		}
	}
	if len(got) != len(want) {
		t.Errorf("got %d problems, want %d:\n%s", len(got), len(want), strings.Join(got, "\n"))
	}
}

// A repeated key is named; the rest of its mapping still counts (yaml
// alone drops the whole mapping, which then looked like "no feeds").
func TestDuplicateKey(t *testing.T) {
	got := problems(t, "title: A\n"+minimal+"title: B\n")
	if len(got) != 1 || got[0] != "config.yaml:6: title: already set at line 1; remove one" {
		t.Errorf("got %q", got)
	}
}

func TestDefaults(t *testing.T) {
	cfg, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	checks := []struct {
		name      string
		got, want any
	}{
		{"timezone", cfg.Timezone, "UTC"},
		{"location", cfg.Location, time.UTC},
		{"window", time.Duration(cfg.Window), 168 * time.Hour},
		{"fetch.timeout", time.Duration(cfg.Fetch.Timeout), 20 * time.Second},
		{"fetch.concurrency", cfg.Fetch.Concurrency, 8},
		{"fetch.max_bytes", int64(cfg.Fetch.MaxBytes), int64(10 << 20)},
		{"quiet_week", cfg.QuietWeek, "skip"},
		{"language", cfg.Language, "en"},
		{"other.id", cfg.Other.ID, "other"},
		{"mail.smtp.port", cfg.Mail.SMTP.Port, 587},
		{"mail.smtp.tls", cfg.Mail.SMTP.TLS, "starttls"},
		{"mail.smtp.password_env", cfg.Mail.SMTP.PasswordEnv, "GULL_SMTP_PASSWORD"},
		{"secret_env", cfg.SecretEnv, "GULL_SECRET"},
		{"schedule", cfg.Schedule, "0 8 * * MON"},
		{"store.path", cfg.Store.Path, "gull.db"}, // "config.yaml" is in "."
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
	if ua := cfg.Fetch.UserAgent; !strings.Contains(ua, "gull/") {
		t.Errorf("user_agent = %q, want one containing gull/", ua)
	}
	// A key left empty keeps its default too.
	cfg, err = parse(t, minimal+"timezone:\nfetch:\n")
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Timezone != "UTC" || cfg.Fetch.Concurrency != 8 {
		t.Errorf("empty keys: timezone %q, concurrency %d", cfg.Timezone, cfg.Fetch.Concurrency)
	}
}

func TestRedactedSecrets(t *testing.T) {
	cfg, err := parse(t, minimal+"mail:\n  smtp:\n    password_env: MY_PW\n")
	if err != nil {
		t.Fatal(err)
	}
	const value = "correct-horse-battery"
	set := func(name string) string {
		if name == "MY_PW" || name == "GULL_SECRET" {
			return value
		}
		return ""
	}
	out, err := cfg.Redacted(set)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "$MY_PW: set") || !strings.Contains(string(out), "$GULL_SECRET: set") {
		t.Errorf("Redacted with the variables set:\n%s", out)
	}
	if strings.Contains(string(out), value) {
		t.Errorf("Redacted prints the secret:\n%s", out)
	}
	out, err = cfg.Redacted(func(string) string { return "" })
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), "$MY_PW: unset") {
		t.Errorf("Redacted with nothing set:\n%s", out)
	}
	// The rendering is a config that loads again, with the same values.
	back, err := parse(t, string(out))
	if err != nil {
		t.Fatalf("Redacted output does not parse: %v\n%s", err, out)
	}
	if back.Window != cfg.Window || back.Fetch.MaxBytes != cfg.Fetch.MaxBytes || back.Mail.SMTP.PasswordEnv != "MY_PW" {
		t.Errorf("round trip: window %v max_bytes %v password_env %q", back.Window, back.Fetch.MaxBytes, back.Mail.SMTP.PasswordEnv)
	}
}

func TestSecretsNeverEchoed(t *testing.T) {
	for _, tc := range []struct{ yml, prefix string }{
		// A literal password is an unknown key; the value is not repeated.
		{minimal + "mail:\n  smtp:\n    password: hunter2\n", "config.yaml:7: mail.smtp.password: unknown key"},
		// A password pasted where the variable's name goes.
		{minimal + "mail:\n  smtp:\n    password_env: hunter2!\n", "config.yaml:7: mail.smtp.password_env: is not an environment variable name"},
		{minimal + "secret_env: hunter2 secret\n", "config.yaml:5: secret_env: is not an environment variable name"},
	} {
		got := problems(t, tc.yml)
		if len(got) != 1 || !strings.HasPrefix(got[0], tc.prefix) {
			t.Errorf("got %q, want one problem starting %q", got, tc.prefix)
		}
		if strings.Contains(strings.Join(got, "\n"), "hunter2") {
			t.Errorf("the error echoes the secret: %q", got)
		}
	}
}

func TestNotAConfig(t *testing.T) {
	for _, tc := range []struct{ name, yml, want string }{
		{"empty", "", "config.yaml: the file is empty"},
		{"comments only", "# nothing yet\n\n", "config.yaml: the file is empty"},
		{"null", "~\n", "config.yaml: the file is empty"},
		{"list", "- title: A\n- feeds: []\n", "config.yaml:1: the file must be a mapping of keys (title: ..., feeds: ...), not a list"},
		{"word", "hello\n", `config.yaml:1: the file must be a mapping of keys (title: ..., feeds: ...), not the value "hello"`},
		// yaml reports these on a wrong line or none; the file's line is given.
		{"scanner, first line", "title: a: b\n", "config.yaml:1: mapping values are not allowed in this context"},
		{"scanner", "title: A\nwindow: @7d\n", "config.yaml:2: found character that cannot start any token"},
		{"tab", "fetch:\n\ttimeout: 20s\n", "config.yaml:2: found character that cannot start any token"},
		{"unclosed quote", "title: A\nschedule: \"0 8 * * MON\n", "config.yaml:2: found unexpected end of stream"},
		{"flow list", "title: A\nwindow: 7d\nrelevance: [AI,\nthemes: []\n", "config.yaml:3: did not find expected ',' or ']'"},
		// yaml loses the '[' on the first line and marks the end of the file.
		{"flow list, first line", "relevance: [AI\n", "config.yaml:2: did not find expected ',' or ']'"},
		{"indentation", "fetch:\n  timeout: 20s\n concurrency: 8\n", "config.yaml:3: did not find expected key"},
		{"bad utf-8", "title: \xff\n", "config.yaml: invalid leading UTF-8 octet"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := problems(t, tc.yml)
			if len(got) != 1 || !strings.HasPrefix(got[0], tc.want) {
				t.Errorf("got %q, want one problem starting %q", got, tc.want)
			}
		})
	}
}

func TestLoadMissingFile(t *testing.T) {
	_, err := config.Load(filepath.Join(t.TempDir(), "nope.yaml"))
	if err == nil || errors.Is(err, config.ErrInvalid) || !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestScheduleWithZoneRejected(t *testing.T) {
	// robfig/cron panics on "TZ=x" with no space after it.
	for _, spec := range []string{"TZ=Asia/Seoul", "CRON_TZ=UTC 0 8 * * MON"} {
		got := problems(t, minimal+"schedule: "+spec+"\n")
		if len(got) != 1 || !strings.HasPrefix(got[0], "config.yaml:5: schedule: ") {
			t.Errorf("%s: got %q", spec, got)
		}
	}
}

func TestOddKeysStayOnOneLine(t *testing.T) {
	got := problems(t, minimal+"\"ti\\ntle\": A\nfeeds.url: x\n")
	want := []string{
		`config.yaml:5: "ti\ntle": unknown key`,
		`config.yaml:6: "feeds.url": unknown key`,
	}
	if len(got) != len(want) {
		t.Fatalf("got %q", got)
	}
	for i := range want {
		if !strings.HasPrefix(got[i], want[i]) {
			t.Errorf("got %q, want it to start %q", got[i], want[i])
		}
	}
}

// Aliases can make a small file name millions of values; Parse refuses
// it quickly instead of walking them all.
func TestAliasExpansionBounded(t *testing.T) {
	const n = 3000
	yml := "k: &K [" + strings.Repeat("x,", n) + "x]\n" +
		"t: &t {id: a, name: b, keywords: *K}\n" +
		"T: &T [" + strings.Repeat("*t,", n) + "*t]\n" +
		"themes: *T\n"
	start := time.Now()
	got := problems(t, yml)
	if took := time.Since(start); took > 2*time.Second {
		t.Errorf("Parse took %v", took)
	}
	if last := got[len(got)-1]; last != "config.yaml: the file expands to more than 100000 values; use fewer aliases (*name)" {
		t.Errorf("got %q", got)
	}
	// Aliases in moderation are fine.
	if _, err := parse(t, "x: &f {url: https://example.org/f.xml}\nfeeds: [*f]\nthemes: [{id: a, name: A, keywords: [k]}]\n"); err == nil || !strings.HasPrefix(err.Error(), "config.yaml:1: x: unknown key") {
		t.Errorf("got %v", err)
	}
}

func FuzzParse(f *testing.F) {
	for _, path := range []string{"../../config.yaml", "../../examples/config.yaml"} {
		data, err := os.ReadFile(path)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	for _, s := range []string{
		minimal,
		minimal + "window: 2w\nfetch: {max_bytes: 1g, timeout: 1.5d}\nschedule: \"@weekly\"\n",
		minimal + "other: &o {id: more, name: More}\nstore: *o\n",
		minimal + "title: A\ntitle: B\n",
		"- a\n- b\n",
		"titel: x\nfeeds: [{url: ftp://x, nmae: y}]\n",
		"relevance: [AI,\n",
		"schedule: TZ=x\n",
		"",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cfg, err := config.Parse("config.yaml", data)
		if err == nil {
			if cfg == nil || cfg.Location == nil {
				t.Fatalf("no error and config %v", cfg)
			}
			return
		}
		if !errors.Is(err, config.ErrInvalid) {
			t.Errorf("error does not wrap ErrInvalid: %v", err)
		}
		for _, line := range strings.Split(err.Error(), "\n") {
			if !strings.HasPrefix(line, "config.yaml") {
				t.Fatalf("line %q of the error does not name the file", line)
			}
		}
	})
}

func TestTrustedProxies(t *testing.T) {
	cfg, err := parse(t, minimal+"http: {trusted_proxies: [127.0.0.1, \"10.0.0.0/8\", \"::1\", \"fd00::/8\", \"::ffff:192.168.0.0/112\"]}\n")
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range cfg.HTTP.Proxies {
		got = append(got, p.String())
	}
	if strings.Join(got, " ") != "127.0.0.1/32 10.0.0.0/8 ::1/128 fd00::/8 192.168.0.0/16" {
		t.Errorf("proxies %v", got)
	}
	bad := problems(t, minimal+"http:\n  trusted_proxies: [10.0.0.0/8, nginx]\n")
	if len(bad) != 1 || !strings.HasPrefix(bad[0], `config.yaml:6: http.trusted_proxies[1]: "nginx" is not an IP address or CIDR range`) {
		t.Errorf("got %q", bad)
	}
}

func TestScheduleThatNeverComes(t *testing.T) {
	got := problems(t, minimal+"schedule: \"0 8 30 2 *\"\n")
	if len(got) != 1 || !strings.HasPrefix(got[0], `config.yaml:5: schedule: "0 8 30 2 *" never comes`) {
		t.Errorf("got %q", got)
	}
}

// http.pending_ttl and http.max_pending bound a flood of sign-ups: 7 days
// and 10,000 unless set; nonsense is refused naming the key.
func TestPendingSignUpKeys(t *testing.T) {
	cfg, err := parse(t, minimal)
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(cfg.HTTP.PendingTTL) != 7*24*time.Hour || cfg.HTTP.MaxPending != 10000 {
		t.Errorf("defaults: pending_ttl %v, max_pending %d", time.Duration(cfg.HTTP.PendingTTL), cfg.HTTP.MaxPending)
	}
	cfg, err = parse(t, minimal+"http: {pending_ttl: 2d, max_pending: 50}\n")
	if err != nil {
		t.Fatal(err)
	}
	if time.Duration(cfg.HTTP.PendingTTL) != 48*time.Hour || cfg.HTTP.MaxPending != 50 {
		t.Errorf("set: pending_ttl %v, max_pending %d", time.Duration(cfg.HTTP.PendingTTL), cfg.HTTP.MaxPending)
	}
	bad := problems(t, minimal+"http:\n  pending_ttl: 1m\n  max_pending: 0\n")
	if len(bad) != 2 || !strings.HasPrefix(bad[0], "config.yaml:6: http.pending_ttl: must be at least 1h") ||
		!strings.HasPrefix(bad[1], "config.yaml:7: http.max_pending: must be at least 1") {
		t.Errorf("got %q", bad)
	}
}
