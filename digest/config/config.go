// Package config reads gull's YAML configuration strictly: unknown keys,
// wrong types and invalid values are all reported at once, each with the
// file, line and key, and what to write instead.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net/mail"
	"net/netip"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/robfig/cron/v3"

	"go.yaml.in/yaml/v3"

	"gull/digest"
	"gull/subscribers"
)

// Config is the whole configuration (DESIGN.md §4). Paths in it are
// relative to the config file's folder until Load resolves them.
type Config struct {
	Title     Text     `yaml:"title"`
	Language  string   `yaml:"language"`
	Timezone  string   `yaml:"timezone"`
	Schedule  string   `yaml:"schedule"`
	Window    Duration `yaml:"window"`
	Fetch     Fetch    `yaml:"fetch"`
	QuietWeek string   `yaml:"quiet_week"`
	Feeds     []Feed   `yaml:"feeds"`
	Relevance []string `yaml:"relevance"`
	Themes    []Theme  `yaml:"themes"`
	Other     Other    `yaml:"other"`
	Store     Store    `yaml:"store"`
	Review    Review   `yaml:"review"`
	Bounces   Bounces  `yaml:"bounces"`
	Mail      Mail     `yaml:"mail"`
	HTTP      HTTP     `yaml:"http"`
	SecretEnv string   `yaml:"secret_env"`
	Templates string   `yaml:"templates"`

	// Aliases are groups of names of one thing in any language ([부산,
	// Busan]), added to the table stories are found with.
	Aliases [][]string `yaml:"aliases,omitempty"`

	// Location is Timezone loaded; never nil after Load.
	Location *time.Location `yaml:"-"`
	// Path is the file the config came from.
	Path string `yaml:"-"`
}

type Fetch struct {
	Timeout     Duration `yaml:"timeout"`
	Concurrency int      `yaml:"concurrency"`
	MaxBytes    Size     `yaml:"max_bytes"`
	UserAgent   string   `yaml:"user_agent"`
	// MinInterval is the shortest time the schedule may leave between two
	// runs: each run fetches every feed, and "@every 1s" would hammer
	// them all.
	MinInterval Duration `yaml:"min_interval"`
}

type Feed struct {
	URL      string `yaml:"url"`
	Name     string `yaml:"name,omitempty"`
	Theme    string `yaml:"theme,omitempty"`
	Timezone string `yaml:"timezone,omitempty"`
	Filter   bool   `yaml:"filter,omitempty"`

	// Weight ranks the feed's articles (a story's lead, a section's
	// order); nil means 1.
	Weight *float64 `yaml:"weight,omitempty"`
}

type Theme struct {
	ID       string   `yaml:"id"`
	Name     Text     `yaml:"name"`
	Keywords []string `yaml:"keywords,flow"`
	Exclude  []string `yaml:"exclude,flow,omitempty"`
	Max      int      `yaml:"max,omitempty"`
}

type Other struct {
	ID   string `yaml:"id"`
	Name Text   `yaml:"name"`
}

// Store is where gull keeps its state: the SQLite file at Path, or a
// PostgreSQL database shared by several gull processes, named by DSN or,
// with its password, by the environment variable DSNEnv.
type Store struct {
	Path   string `yaml:"path,omitempty"`
	DSN    string `yaml:"dsn,omitempty"`
	DSNEnv string `yaml:"dsn_env,omitempty"`
}

// Postgres reports whether the store is PostgreSQL.
func (s Store) Postgres() bool { return s.DSN != "" || s.DSNEnv != "" }

// Where is what store.Open takes: the SQLite file, or the PostgreSQL DSN
// (store.dsn, or the value of $dsn_env, read now). Its errors never show
// the DSN.
func (s Store) Where(getenv func(string) string) (string, error) {
	if s.DSNEnv == "" {
		if s.DSN != "" {
			return s.DSN, nil
		}
		return s.Path, nil
	}
	dsn := strings.TrimSpace(getenv(s.DSNEnv))
	if dsn == "" {
		return "", fmt.Errorf("store.dsn_env: $%s is unset or empty; set it to the PostgreSQL DSN, e.g. postgres://gull:PASSWORD@db.example.org:5432/gull", s.DSNEnv)
	}
	if !postgresURL(dsn) {
		return "", fmt.Errorf("store.dsn_env: $%s is not a postgres:// URL; set it to one, e.g. postgres://gull:PASSWORD@db.example.org:5432/gull", s.DSNEnv)
	}
	return dsn, nil
}

// postgresURL says whether dsn is a URL gull opens as PostgreSQL (the
// store's rule: postgres:// or postgresql://, with a host).
func postgresURL(dsn string) bool {
	u, err := url.Parse(dsn)
	return err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") && u.Host != ""
}

// Review is the editors' loop before a send: a draft built at Draft
// time, mailed to the editors, edited and approved on the desk or with
// `gull issue`.
type Review struct {
	// Editors are the addresses that get the review mail and may use the
	// desk. None: no draft is built, and each send mails the feeds' issue.
	Editors []string `yaml:"editors,flow"`
	// Draft is when the draft is built and mailed (5-field cron in
	// timezone); empty: 24 hours before each send.
	Draft string `yaml:"draft"`
	// Required: a send needs an approved issue; what it does without one
	// is Unapproved.
	Required bool `yaml:"required"`
	// Unapproved is hold (send nothing, tell the editors, send once
	// approved within the week) or send (the draft with its edits
	// so far).
	Unapproved string `yaml:"unapproved"`
}

// Bounces is the mailbox the return path's mail arrives in, read by the
// daemon every few minutes and by `gull bounces check`: an IMAP folder
// or a Maildir (one of them, or neither: no mailbox is read), and the
// policy's soft limit.
type Bounces struct {
	IMAP    BounceIMAP `yaml:"imap"`
	Maildir string     `yaml:"maildir,omitempty"`
	// SoftLimit: soft bounces of this many issues in a row mark a reader
	// bounced.
	SoftLimit int `yaml:"soft_limit"`
	// Webhooks are the mail providers' posts to the daemon (webhooks.go).
	Webhooks Webhooks `yaml:"webhooks"`
}

// BounceIMAP is the bounce mailbox's IMAP account; it is used when Host
// is set.
type BounceIMAP struct {
	Host        string `yaml:"host"`
	Port        int    `yaml:"port"`
	TLS         string `yaml:"tls"`
	Username    string `yaml:"username"`
	PasswordEnv string `yaml:"password_env"`
	Folder      string `yaml:"folder"`
}

// Mailbox says which mailbox is configured: "imap", "maildir" or "".
func (b Bounces) Mailbox() string {
	switch {
	case b.IMAP.Host != "":
		return "imap"
	case b.Maildir != "":
		return "maildir"
	}
	return ""
}

// DraftBefore is how long before a send the draft is built when
// review.draft is left empty.
const DraftBefore = 24 * time.Hour

type Mail struct {
	From    string `yaml:"from"`
	ReplyTo string `yaml:"reply_to,omitempty"`
	// ReturnPath, when set, is the envelope sender (MAIL FROM) of each
	// digest: "bounces+{token}@example.org", {token} a signed token of
	// the reader and the issue, so a bounce names whose copy failed even
	// when it quotes nothing of it (subscribers.ParseReturnPath).
	ReturnPath string `yaml:"return_path,omitempty"`
	Outbox     string `yaml:"outbox"`
	SMTP       SMTP   `yaml:"smtp"`
	DKIM       DKIM   `yaml:"dkim"`
}

type SMTP struct {
	Host        string  `yaml:"host"`
	Port        int     `yaml:"port"`
	TLS         string  `yaml:"tls"`
	Username    string  `yaml:"username"`
	PasswordEnv string  `yaml:"password_env"`
	Connections int     `yaml:"connections"`
	Rate        float64 `yaml:"rate"`
}

type DKIM struct {
	Domain   string `yaml:"domain"`
	Selector string `yaml:"selector"`
	KeyFile  string `yaml:"key_file"`
}

type HTTP struct {
	Listen  string `yaml:"listen"`
	BaseURL string `yaml:"base_url"`
	// TrustedProxies are the reverse proxies (addresses or CIDR ranges)
	// whose X-Forwarded-For names the client; rate limits then count
	// clients, not the proxy. Empty: the peer is the client.
	TrustedProxies []string `yaml:"trusted_proxies"`
	// PendingTTL is how long a web sign-up stays pending before it is
	// deleted (its confirm link stops working with it).
	PendingTTL Duration `yaml:"pending_ttl"`
	// MaxPending caps the pending sign-ups: past it the sign-up page
	// answers 503, try again later, so a flood cannot grow the store.
	MaxPending int `yaml:"max_pending"`

	// Proxies is TrustedProxies parsed; set by Load.
	Proxies []netip.Prefix `yaml:"-"`
}

// Version is stamped into the default User-Agent; cmd sets it.
var Version = "dev"

// ErrInvalid wraps every validation failure, so callers can tell a bad
// config (exit 2) from an unreadable file.
var ErrInvalid = errors.New("config: invalid")

// ErrRead means the config file could not be read at all.
var ErrRead = errors.New("read config")

// Default returns the configuration that applies to every key left out.
func Default() Config {
	return Config{
		// Every reader language gets its own default wording, as a
		// Korean reader would otherwise read English headings in a
		// Korean mail. mail.from stays one: a header has one name.
		Title:     Text{digest.Text{Ko: "AI 정책 주간", En: "AI Policy Weekly"}},
		Language:  "en",
		Timezone:  "UTC",
		Schedule:  "0 8 * * MON",
		Window:    Duration(168 * time.Hour),
		Fetch:     Fetch{Timeout: Duration(20 * time.Second), Concurrency: 8, MaxBytes: 10 << 20, MinInterval: Duration(time.Hour)},
		QuietWeek: "skip",
		Other:     Other{ID: "other", Name: Text{digest.Text{Ko: "이번 주 더 읽을거리", En: "More this week"}}},
		Store:     Store{Path: "gull.db"},
		Review:    Review{Unapproved: "hold"},
		Bounces: Bounces{SoftLimit: subscribers.DefaultSoftLimit,
			IMAP: BounceIMAP{Port: 993, TLS: "tls", PasswordEnv: "GULL_IMAP_PASSWORD", Folder: "INBOX"}},
		Mail: Mail{
			From:   "AI Policy Weekly <digest@example.org>",
			Outbox: "outbox",
			SMTP:   SMTP{Port: 587, TLS: "starttls", PasswordEnv: "GULL_SMTP_PASSWORD", Connections: 4},
		},
		HTTP:      HTTP{Listen: "127.0.0.1:8080", BaseURL: "http://127.0.0.1:8080", PendingTTL: Duration(7 * 24 * time.Hour), MaxPending: 10000},
		SecretEnv: "GULL_SECRET",
	}
}

// Load reads, checks and resolves the config at path. Every problem found
// is in the returned error, one line each, wrapped with ErrInvalid.
func Load(path string) (*Config, error) {
	data, err := readFile(path)
	if err != nil {
		return nil, fmt.Errorf("%w: %w (give another file with --config or $GULL_CONFIG)", ErrRead, err)
	}
	return Parse(path, data)
}

// MaxFileSize is the most a config file may be: a real one is a few KiB,
// and /dev/zero or a log given by mistake must not fill the memory.
const MaxFileSize = 1 << 20

// readFile reads a config file: a regular file (or a link to one) of at
// most MaxFileSize. A device would be read for ever, so it is refused
// before a byte is read; O_NONBLOCK keeps the open of a FIFO from
// waiting for a writer (it means nothing to a regular file).
func readFile(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if st, err := f.Stat(); err != nil {
		return nil, err
	} else if !st.Mode().IsRegular() {
		return nil, notRegular(path, st.Mode())
	}
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > MaxFileSize {
		return nil, fmt.Errorf("%s is larger than 1 MiB, too large for a config file; is it the right file?", path)
	}
	return data, nil
}

func notRegular(path string, mode os.FileMode) error {
	what := "not a regular file"
	switch {
	case mode.IsDir():
		what = "a folder"
	case mode&os.ModeDevice != 0:
		what = "a device"
	case mode&os.ModeNamedPipe != 0:
		what = "a named pipe"
	case mode&os.ModeSocket != 0:
		what = "a socket"
	}
	return fmt.Errorf("%s is %s, not a config file; name the YAML file itself", path, what)
}

// Parse is Load on bytes already read; path names them in messages and
// anchors relative paths.
func Parse(path string, data []byte) (*Config, error) {
	cfg := Default()
	cfg.Path = path
	name := filepath.Base(path)
	p := &problems{file: name}

	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		// yaml's own line is sometimes one off and sometimes missing;
		// syntaxLine corrects it to the "config.yaml:3: ..." form.
		line, msg := syntaxLine(strings.TrimPrefix(err.Error(), "yaml: "))
		line, msg = explainSyntax(data, line, msg)
		p.add(line, "", "%s", msg)
		return nil, p.err()
	}
	// A file of only comments, or a lone "~", is as empty as no bytes.
	if len(root.Content) == 0 || root.Content[0].ShortTag() == "!!null" {
		p.add(0, "", "the file is empty; start from the config.yaml in the repository")
		return nil, p.err()
	}
	doc := root.Content[0]
	for doc.Kind == yaml.AliasNode && doc.Alias != nil {
		doc = doc.Alias
	}
	// A list or a bare word would otherwise give yaml's "cannot unmarshal
	// !!seq into config.Config" and a misleading "list at least one feed".
	if doc.Kind != yaml.MappingNode {
		p.add(doc.Line, "", "the file must be a mapping of keys (title: ..., feeds: ...), not %s", kindName(doc))
		return nil, p.err()
	}
	checkKeys(p, doc, reflect.TypeOf(cfg), "", 0)
	if p.visited > maxVisits {
		return nil, p.err()
	}
	// Decode the tree checkKeys has just cleaned of duplicate keys (a
	// duplicate made yaml drop the whole mapping, so every key in it fell
	// back to its default and validate reported nonsense). Type errors were
	// already reported by checkKeys with their key; any left over (on a
	// line checkKeys did not flag) are still reported.
	if err := doc.Decode(&cfg); err != nil {
		var te *yaml.TypeError
		if !errors.As(err, &te) {
			p.add(0, "", "%s", strings.TrimPrefix(err.Error(), "yaml: "))
			return nil, p.err()
		}
		for _, e := range te.Errors {
			line := 0
			if m := lineRE.FindStringSubmatch(e); m != nil {
				line, _ = strconv.Atoi(m[1])
				e = strings.TrimPrefix(e, m[0])
			}
			if !p.typeLines[line] {
				p.add(line, "", "%s", e)
			}
		}
	}
	cfg.validate(p, doc)
	if len(p.list) > 0 {
		return nil, p.err()
	}
	cfg.resolvePaths()
	return &cfg, nil
}

var lineRE = regexp.MustCompile(`^line (\d+): `)

// yamlParserProblems are the problems yaml v3's parser (not its scanner)
// reports. For them yaml prints the 0-based line of the mark (parser.fail
// adds 1 only for scanner errors), and prints no line at all for the first
// line; syntaxLine corrects both.
var yamlParserProblems = map[string]bool{
	"did not find expected ',' or ']'":       true,
	"did not find expected ',' or '}'":       true,
	"did not find expected '-' indicator":    true,
	"did not find expected <document start>": true,
	"did not find expected <stream-start>":   true,
	"did not find expected key":              true,
	"did not find expected node content":     true,
	"found duplicate %TAG directive":         true,
	"found duplicate %YAML directive":        true,
	"found incompatible YAML document":       true,
	"found undefined tag handle":             true,
}

// syntaxLine splits yaml's "line N: problem" into a 1-based line and the
// problem. Errors of the byte reader (bad UTF-8, control characters) and
// of anchors carry no position, so they get line 0 (the file alone).
func syntaxLine(msg string) (int, string) {
	line := 0
	if m := lineRE.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = strings.TrimPrefix(msg, m[0])
	} else {
		for _, noPos := range []string{"invalid ", "incomplete ", "control characters", "expected low surrogate", "unexpected low surrogate", "input error", "unknown anchor", "anchor ", "attempted "} {
			if strings.HasPrefix(msg, noPos) {
				return 0, msg
			}
		}
	}
	if yamlParserProblems[msg] || line == 0 {
		line++
	}
	return line, msg
}

type problems struct {
	file string
	list []string
	// typeLines are lines where checkKeys reported a value of the wrong
	// type, so the same error from the full decode is not said twice.
	typeLines map[int]bool
	keys      map[string]bool // keys that have a problem already
	visited   int             // nodes checkKeys has looked at
}

// maxVisits bounds checkKeys; the shipped config has under a thousand values.
const maxVisits = 100_000

func (p *problems) add(line int, key, format string, args ...any) {
	// One problem per key: a value of the wrong type is left at its
	// default, and validate's complaint about that default would only
	// repeat the first message less clearly.
	if key != "" {
		if p.keys[key] {
			return
		}
		if p.keys == nil {
			p.keys = map[string]bool{}
		}
		p.keys[key] = true
	}
	var b strings.Builder
	b.WriteString(p.file)
	if line > 0 {
		fmt.Fprintf(&b, ":%d", line)
	}
	b.WriteString(": ")
	if key != "" {
		b.WriteString(key + ": ")
	}
	fmt.Fprintf(&b, format, args...)
	// One problem, one line: a newline in a key or a library's message
	// must not start a line that does not name the file.
	p.list = append(p.list, strings.NewReplacer("\r", `\r`, "\n", `\n`).Replace(b.String()))
}

func (p *problems) typeProblem(lines []int, key, format string, args ...any) {
	if p.typeLines == nil {
		p.typeLines = map[int]bool{}
	}
	for _, l := range lines {
		p.typeLines[l] = true
	}
	p.add(lines[0], key, format, args...)
}

func (p *problems) err() error {
	errs := []error{ErrInvalid}
	for _, s := range p.list {
		errs = append(errs, errors.New(s))
	}
	return &Error{Problems: p.list, err: errors.Join(errs...)}
}

// Error lists every problem of a config, one line each.
type Error struct {
	Problems []string
	err      error
}

func (e *Error) Error() string { return strings.Join(e.Problems, "\n") }
func (e *Error) Unwrap() error { return e.err }

// checkKeys walks the YAML tree beside the Go type and reports keys the
// type has no field for, with the nearest known key as a suggestion, keys
// given twice, and values of the wrong shape or type, each with its key
// path (yaml's own type errors name only a line and a Go type). line is
// where n's key is, 0 for n's own line. It drops repeated keys from the
// tree so the decode that follows keeps the first.
func checkKeys(p *problems, n *yaml.Node, t reflect.Type, path string, line int) {
	// Following aliases, a small file can name millions of values (a list
	// of aliases to lists of aliases); yaml's decoder refuses such files,
	// and this walk must stop before taking seconds over them.
	if p.visited++; p.visited > maxVisits {
		if p.visited == maxVisits+1 {
			p.add(0, "", "the file expands to more than %d values; use fewer aliases (*name)", maxVisits)
		}
		return
	}
	for n.Kind == yaml.AliasNode && n.Alias != nil {
		n = n.Alias
	}
	if n.ShortTag() == "!!null" {
		return // left empty: the default applies
	}
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if line == 0 {
		line = n.Line
	}
	lines := []int{line, n.Line}
	if t == reflect.TypeFor[Text]() {
		// A string or {ko, en}: Text's own decoder says which is wrong.
		var te *yaml.TypeError
		if err := n.Decode(new(Text)); errors.As(err, &te) {
			// The line Text names (the repeated or unknown language) is
			// nearer the mistake than the key's, in a block mapping.
			if m := lineRE.FindStringSubmatch(strings.Join(te.Errors, "; ")); m != nil {
				at, _ := strconv.Atoi(m[1])
				lines = append([]int{at}, lines...)
			}
			p.typeProblem(lines, path, "%s", lineRE.ReplaceAllString(strings.Join(te.Errors, "; "), ""))
		}
		return
	}
	switch t.Kind() {
	case reflect.Struct:
		if n.Kind != yaml.MappingNode {
			p.typeProblem(lines, path, "must be a mapping of keys (key: value), not %s", kindName(n))
			return
		}
		fields := map[string]reflect.Type{}
		for i := 0; i < t.NumField(); i++ {
			f := t.Field(i)
			tag := strings.Split(f.Tag.Get("yaml"), ",")[0]
			if tag == "" || tag == "-" {
				continue
			}
			fields[tag] = f.Type
		}
		firstAt := map[string]int{}
		kept := make([]*yaml.Node, 0, len(n.Content))
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, v := n.Content[i], n.Content[i+1]
			key := joinKey(path, k.Value)
			if at, dup := firstAt[k.Value]; dup {
				p.typeProblem([]int{k.Line}, key, "already set at line %d; remove one", at)
				continue
			}
			firstAt[k.Value] = k.Line
			kept = append(kept, k, v)
			ft, ok := fields[k.Value]
			if !ok {
				hint := ""
				if s := nearest(k.Value, fields); s != "" {
					hint = fmt.Sprintf("; did you mean %q?", s)
				}
				p.add(k.Line, key, "unknown key%s", hint)
				continue
			}
			checkKeys(p, v, ft, key, k.Line)
		}
		n.Content = kept
	case reflect.Slice:
		if n.Kind != yaml.SequenceNode {
			p.typeProblem(lines, path, "must be a list ([a, b] or one \"- item\" per line), not %s", kindName(n))
			return
		}
		for i, c := range n.Content {
			checkKeys(p, c, t.Elem(), fmt.Sprintf("%s[%d]", path, i), 0)
		}
	default:
		if err := n.Decode(reflect.New(t).Interface()); err != nil {
			p.typeProblem(lines, path, "%s", leafMessage(n, t, err))
		}
	}
}

// leafMessage says what a single value should have been, in the words of
// the config file rather than Go's types.
func leafMessage(n *yaml.Node, t reflect.Type, err error) string {
	if n.Kind != yaml.ScalarNode {
		return "must be a single value, not " + kindName(n)
	}
	var te *yaml.TypeError
	if _, custom := reflect.New(t).Interface().(yaml.Unmarshaler); custom && errors.As(err, &te) {
		msgs := make([]string, len(te.Errors))
		for i, e := range te.Errors {
			msgs[i] = lineRE.ReplaceAllString(e, "")
		}
		return strings.Join(msgs, "; ")
	}
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return fmt.Sprintf("must be a whole number, got %q", n.Value)
	case reflect.Float32, reflect.Float64:
		return fmt.Sprintf("must be a number, got %q", n.Value)
	case reflect.Bool:
		return fmt.Sprintf("must be true or false, got %q", n.Value)
	}
	return lineRE.ReplaceAllString(strings.TrimPrefix(err.Error(), "yaml: "), "")
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	}
	return fmt.Sprintf("the value %q", n.Value)
}

var plainKeyRE = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func joinKey(path, k string) string {
	if !plainKeyRE.MatchString(k) {
		k = strconv.Quote(k) // odd keys (spaces, dots, newlines) stay readable and on one line
	}
	if path == "" {
		return k
	}
	return path + "." + k
}

// nearest returns the known key closest to k by edit distance, if close.
func nearest(k string, known map[string]reflect.Type) string {
	return Nearest(k, slices.Collect(maps.Keys(known)))
}

// Nearest returns the candidate closest to word by edit distance (a swap of
// two neighbouring letters counts as one edit), or "" when none is close
// enough to be what was meant: at most one edit for a word of up to four
// letters, two for a longer one, and never as many edits as the word has
// letters (x is not a typo of v). Ties go to the first in sorted order. The
// CLI uses it for mistyped commands and flags, as Parse does for keys.
func Nearest(word string, candidates []string) string {
	n := len([]rune(word))
	limit := 1
	if n > 4 {
		limit = 2
	}
	limit = min(limit, n-1)
	best, bestD := "", limit+1
	for _, cand := range candidates {
		if d := editDistance(word, cand); d < bestD || (d == bestD && cand < best) {
			best, bestD = cand, d
		}
	}
	return best
}

// editDistance is the optimal string alignment distance of a and b, in
// runes: insertions, deletions, substitutions and swaps of neighbours.
func editDistance(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	// Three rows: the swap looks two back.
	prev2 := make([]int, len(rb)+1)
	prev := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur := make([]int, len(rb)+1)
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			c := 1
			if ra[i-1] == rb[j-1] {
				c = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+c)
			if i > 1 && j > 1 && ra[i-1] == rb[j-2] && ra[i-2] == rb[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev = prev, cur
	}
	return prev[len(rb)]
}

// lineOf finds the line of the value at a key path such as
// []any{"feeds", 3, "url"} in the YAML tree; 0 when the key is absent (a
// default), in which case the message names the key alone.
// hasKey says whether the mapping at path has key (a default filled in
// is not there).
func hasKey(n *yaml.Node, path ...string) bool {
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	for _, step := range path {
		if n.Kind != yaml.MappingNode {
			return false
		}
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == step {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			return false
		}
		n = next
	}
	return true
}

// hasPassword says whether a URL carries a password.
func hasPassword(dsn string) bool {
	u, err := url.Parse(dsn)
	if err != nil {
		return false
	}
	_, has := u.User.Password()
	return has || u.Query().Has("password")
}

func lineOf(n *yaml.Node, path ...any) int {
	line := 0
	for _, step := range path {
		switch s := step.(type) {
		case string:
			if n.Kind != yaml.MappingNode {
				return line
			}
			found := false
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == s {
					line, n, found = n.Content[i].Line, n.Content[i+1], true
					break
				}
			}
			if !found {
				return line
			}
		case int:
			if n.Kind != yaml.SequenceNode || s >= len(n.Content) {
				return line
			}
			n = n.Content[s]
			line = n.Line
		}
	}
	return line
}

var (
	themeIDRE = regexp.MustCompile(`^[a-z0-9][a-z0-9_-]*$`)
	envNameRE = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)
)

// shortestGap is the shortest time between two runs of sched over a
// year (at most 100,000 runs), which every pattern of a cron spec's
// minutes, hours and days shows; it stops at the first gap under floor.
// The spec is read in UTC, as the daemon reads it by the wall clock: a
// change of the clocks does not count as a short gap.
func shortestGap(sched cron.Schedule, floor time.Duration) time.Duration {
	if ss, ok := sched.(*cron.SpecSchedule); ok {
		utc := *ss
		utc.Location = time.UTC
		sched = &utc
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	end := start.AddDate(1, 0, 0)
	shortest := time.Duration(math.MaxInt64)
	t := sched.Next(start)
	for range 100_000 {
		next := sched.Next(t)
		if t.IsZero() || next.IsZero() || next.After(end) {
			break
		}
		shortest = min(shortest, next.Sub(t))
		if shortest < floor {
			break
		}
		t = next
	}
	return shortest
}

func (c *Config) validate(p *problems, doc *yaml.Node) {
	at := func(path ...any) int { return lineOf(doc, path...) }

	if c.Title.Blank() {
		p.add(at("title"), "title", "must not be empty; name the newsletter, e.g. \"AI Policy Weekly\"")
	}
	if c.Language != "en" && c.Language != "ko" {
		p.add(at("language"), "language", "%q is not supported; use ko (Korean) or en (English)", c.Language)
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil || c.Timezone == "" {
		p.add(at("timezone"), "timezone", "unknown time zone %q; use an IANA name such as Asia/Seoul or UTC", c.Timezone)
		loc = time.UTC
	}
	c.Location = loc
	if tz, _, ok := strings.Cut(strings.TrimSpace(c.Schedule), "="); ok && (tz == "TZ" || tz == "CRON_TZ") {
		// robfig/cron panics on "TZ=x" without a space, and a zone here
		// would fight the timezone key the week is computed in.
		p.add(at("schedule"), "schedule", "%q names a time zone; remove the TZ= part and set timezone instead", c.Schedule)
	} else if sched, err := cron.ParseStandard(c.Schedule); err != nil {
		p.add(at("schedule"), "schedule", "%q is not a 5-field cron spec (%v); e.g. \"0 8 * * MON\" for Mondays at 08:00", c.Schedule, err)
	} else if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
		// cron looks five years ahead; a date that never comes (30 Feb)
		// would leave the daemon waiting for ever.
		p.add(at("schedule"), "schedule", "%q never comes (no such date); e.g. \"0 8 * * MON\" for Mondays at 08:00", c.Schedule)
	} else if floor := time.Duration(c.Fetch.MinInterval); floor > 0 {
		if gap := shortestGap(sched, floor); gap < floor {
			p.add(at("schedule"), "schedule", "%q runs as often as every %v, and each run fetches every feed; fetch.min_interval allows every %v at most: choose a sparser schedule, e.g. \"0 8 * * MON\", or lower fetch.min_interval if you mean it", c.Schedule, gap, c.Fetch.MinInterval)
		}
	}
	if c.Fetch.MinInterval <= 0 {
		p.add(at("fetch", "min_interval"), "fetch.min_interval", "must be positive, e.g. 1h")
	}
	if c.Window <= 0 {
		p.add(at("window"), "window", "must be positive, e.g. 168h or 7d")
	}
	if c.Fetch.Timeout <= 0 {
		p.add(at("fetch", "timeout"), "fetch.timeout", "must be positive, e.g. 20s")
	}
	if c.Fetch.Concurrency < 1 || c.Fetch.Concurrency > 64 {
		p.add(at("fetch", "concurrency"), "fetch.concurrency", "must be between 1 and 64, got %d", c.Fetch.Concurrency)
	}
	if c.Fetch.MaxBytes < 1024 || c.Fetch.MaxBytes > 1<<30 {
		p.add(at("fetch", "max_bytes"), "fetch.max_bytes", "must be between 1KiB and 1GiB, e.g. 10MiB")
	}
	if c.Fetch.UserAgent == "" {
		c.Fetch.UserAgent = "gull/" + Version + " (+" + c.HTTP.BaseURL + ")"
	}
	if c.QuietWeek != "skip" && c.QuietWeek != "send" {
		p.add(at("quiet_week"), "quiet_week", "must be skip or send, got %q", c.QuietWeek)
	}

	themeIDs := map[string]bool{}
	for i, t := range c.Themes {
		key := fmt.Sprintf("themes[%d]", i)
		switch {
		case !themeIDRE.MatchString(t.ID):
			p.add(at("themes", i, "id"), key+".id", "%q must be lower-case letters, digits, - or _ (e.g. compute)", t.ID)
		case themeIDs[t.ID]:
			p.add(at("themes", i, "id"), key+".id", "%q is used by an earlier theme; ids must be unique", t.ID)
		}
		themeIDs[t.ID] = true
		if t.Name.Blank() {
			p.add(at("themes", i), key+".name", "must not be empty; it heads the section")
		}
		if len(t.Keywords) == 0 {
			p.add(at("themes", i), key+".keywords", "list at least one keyword, e.g. [반도체, semiconductor]")
		}
		for j, k := range t.Keywords {
			if strings.TrimSpace(k) == "" {
				p.add(at("themes", i, "keywords", j), fmt.Sprintf("%s.keywords[%d]", key, j), "empty keyword; remove it")
			}
		}
		if t.Max < 0 {
			p.add(at("themes", i, "max"), key+".max", "must be 0 (no cap) or more")
		}
	}
	if !themeIDRE.MatchString(c.Other.ID) {
		p.add(at("other", "id"), "other.id", "%q must be lower-case letters, digits, - or _", c.Other.ID)
	} else if themeIDs[c.Other.ID] {
		p.add(at("other", "id"), "other.id", "%q is also a theme id; pick another id for the catch-all section", c.Other.ID)
	}
	if c.Other.Name.Blank() {
		p.add(at("other"), "other.name", "must not be empty")
	}

	if len(c.Feeds) == 0 {
		p.add(at("feeds"), "feeds", "list at least one feed: - {url: https://example.org/feed.xml}")
	}
	seen := map[string]int{}
	for i, f := range c.Feeds {
		key := fmt.Sprintf("feeds[%d]", i)
		u := strings.TrimSpace(f.URL)
		c.Feeds[i].URL = u
		if msg := checkFeedURL(u); msg != "" {
			p.add(at("feeds", i, "url"), key+".url", "%s", msg)
		} else if j, dup := seen[u]; dup {
			p.add(at("feeds", i, "url"), key+".url", "%q is already feeds[%d]; remove one", u, j)
		}
		seen[u] = i
		if f.Theme != "" && !themeIDs[f.Theme] {
			p.add(at("feeds", i, "theme"), key+".theme", "%q is not a theme id; use one of %s", f.Theme, strings.Join(slices.Sorted(maps.Keys(themeIDs)), ", "))
		}
		if f.Timezone != "" {
			if _, err := time.LoadLocation(f.Timezone); err != nil {
				p.add(at("feeds", i, "timezone"), key+".timezone", "unknown time zone %q; use an IANA name such as Asia/Seoul", f.Timezone)
			}
		}
		if f.Weight != nil && !(*f.Weight > 0) {
			p.add(at("feeds", i, "weight"), key+".weight", "must be a number above 0 (1 is the default; 2 ranks this feed's articles first)")
		}
	}
	c.validateAliases(p, at)
	for i, r := range c.Relevance {
		if strings.TrimSpace(r) == "" {
			p.add(at("relevance", i), fmt.Sprintf("relevance[%d]", i), "empty keyword; remove it")
		}
	}

	switch st := c.Store; {
	case st.DSN != "" && st.DSNEnv != "":
		p.add(at("store", "dsn_env"), "store.dsn_env", "store.dsn and store.dsn_env both name the PostgreSQL database; keep one (dsn_env keeps the password out of the file)")
	case st.Postgres() && hasKey(doc, "store", "path"):
		p.add(at("store", "path"), "store.path", "the SQLite file, but store.dsn or store.dsn_env names a PostgreSQL database; keep one of them")
	case st.DSN != "" && !postgresURL(st.DSN):
		// Never echoed: it may carry a password.
		p.add(at("store", "dsn"), "store.dsn", "is not a postgres:// URL; write one, e.g. postgres://gull@db.example.org:5432/gull")
	case st.DSN != "" && hasPassword(st.DSN):
		p.add(at("store", "dsn"), "store.dsn", "carries a password; put the whole DSN in an environment variable and name it with store.dsn_env (e.g. GULL_STORE_DSN), so the password stays out of the file")
	case st.DSNEnv != "" && !envNameRE.MatchString(st.DSNEnv):
		p.add(at("store", "dsn_env"), "store.dsn_env", "is not an environment variable name (letters, digits, _); the DSN itself goes in that variable")
	case !st.Postgres() && strings.TrimSpace(st.Path) == "":
		p.add(at("store"), "store.path", "must name the SQLite file, e.g. gull.db")
	}

	c.validateReview(p, at)
	c.validateBounces(p, at)

	if _, err := mail.ParseAddress(c.Mail.From); err != nil {
		p.add(at("mail", "from"), "mail.from", "%q is not an address (%v); e.g. \"AI Policy Weekly <digest@example.org>\"", c.Mail.From, err)
	}
	if c.Mail.ReplyTo != "" {
		if _, err := mail.ParseAddress(c.Mail.ReplyTo); err != nil {
			p.add(at("mail", "reply_to"), "mail.reply_to", "%q is not an address (%v)", c.Mail.ReplyTo, err)
		}
	}
	if c.Mail.ReturnPath != "" {
		if _, err := subscribers.ParseReturnPath(c.Mail.ReturnPath); err != nil {
			p.add(at("mail", "return_path"), "mail.return_path", "%q is %v", c.Mail.ReturnPath, err)
		}
	}
	if strings.TrimSpace(c.Mail.Outbox) == "" {
		p.add(at("mail", "outbox"), "mail.outbox", "must name a folder for .eml files, e.g. outbox")
	}
	s := c.Mail.SMTP
	if s.TLS != "starttls" && s.TLS != "tls" && s.TLS != "none" {
		p.add(at("mail", "smtp", "tls"), "mail.smtp.tls", "must be starttls, tls or none, got %q", s.TLS)
	}
	if s.Port < 1 || s.Port > 65535 {
		p.add(at("mail", "smtp", "port"), "mail.smtp.port", "must be a TCP port (587 for starttls, 465 for tls)")
	}
	if s.Connections < 1 || s.Connections > 64 {
		p.add(at("mail", "smtp", "connections"), "mail.smtp.connections", "must be between 1 and 64")
	}
	// YAML reads .nan and .inf as floats: neither is a rate (NaN passes
	// every comparison, and an infinite rate is a division by zero).
	if s.Rate < 0 || math.IsNaN(s.Rate) || math.IsInf(s.Rate, 0) {
		p.add(at("mail", "smtp", "rate"), "mail.smtp.rate", "must be 0 (unlimited) or a number of messages per second, e.g. 10, got %v", s.Rate)
	}
	// The two *_env checks below never echo the value: it is most likely
	// the secret itself pasted in the wrong place.
	if !envNameRE.MatchString(s.PasswordEnv) {
		p.add(at("mail", "smtp", "password_env"), "mail.smtp.password_env", "is not an environment variable name (letters, digits, _); the password itself never goes in the file")
	}
	d := c.Mail.DKIM
	if (d.Domain != "" || d.Selector != "" || d.KeyFile != "") && (d.Domain == "" || d.Selector == "" || d.KeyFile == "") {
		p.add(at("mail", "dkim"), "mail.dkim", "set domain, selector and key_file together, or none of them")
	}

	if u, err := url.Parse(c.HTTP.BaseURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		p.add(at("http", "base_url"), "http.base_url", "%q must be an absolute http(s) URL, e.g. https://news.example.org", c.HTTP.BaseURL)
	}
	if !strings.Contains(c.HTTP.Listen, ":") {
		p.add(at("http", "listen"), "http.listen", "%q must be host:port, e.g. 127.0.0.1:8080", c.HTTP.Listen)
	}
	if c.HTTP.PendingTTL < Duration(time.Hour) {
		p.add(at("http", "pending_ttl"), "http.pending_ttl", "must be at least 1h, e.g. 7d (how long an unconfirmed sign-up is kept)")
	}
	if c.HTTP.MaxPending < 1 {
		p.add(at("http", "max_pending"), "http.max_pending", "must be at least 1, e.g. 10000 (how many unconfirmed sign-ups are kept at once)")
	}
	c.HTTP.Proxies = nil
	for i, v := range c.HTTP.TrustedProxies {
		pfx, err := netip.ParsePrefix(v)
		if err != nil {
			addr, aerr := netip.ParseAddr(v)
			if aerr != nil {
				p.add(at("http", "trusted_proxies", i), fmt.Sprintf("http.trusted_proxies[%d]", i), "%q is not an IP address or CIDR range, e.g. 127.0.0.1 or 10.0.0.0/8", v)
				continue
			}
			pfx = netip.PrefixFrom(addr.Unmap(), addr.Unmap().BitLen())
		}
		if a := pfx.Addr(); a.Is4In6() && pfx.Bits() >= 96 {
			pfx = netip.PrefixFrom(a.Unmap(), pfx.Bits()-96) // clients are compared unmapped
		}
		c.HTTP.Proxies = append(c.HTTP.Proxies, pfx.Masked())
	}
	c.validateWebhooks(p, at)
	if !envNameRE.MatchString(c.SecretEnv) {
		p.add(at("secret_env"), "secret_env", "is not an environment variable name (letters, digits, _); the secret itself never goes in the file")
	}
	if c.Templates != "" {
		if st, err := os.Stat(c.resolve(c.Templates)); err != nil || !st.IsDir() {
			p.add(at("templates"), "templates", "%q is not a folder; leave it empty for the embedded templates", c.Templates)
		}
	}
}

func checkFeedURL(u string) string {
	if u == "" {
		return "must not be empty; give the feed's URL or a local file path"
	}
	if !strings.Contains(u, "://") {
		return "" // a local path; a missing file is that feed's error at fetch time
	}
	pu, err := url.Parse(u)
	if err != nil {
		return fmt.Sprintf("%q does not parse as a URL (%v)", u, err)
	}
	switch pu.Scheme {
	case "http", "https":
		if pu.Host == "" {
			return fmt.Sprintf("%q has no host", u)
		}
	case "file":
	default:
		return fmt.Sprintf("scheme %q is not supported; use http, https, file or a path", pu.Scheme)
	}
	return ""
}

// resolve anchors a relative path at the config file's folder, so gull
// behaves the same whatever folder it is started from.
func (c *Config) resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(filepath.Dir(c.Path), p)
}

func (c *Config) resolvePaths() {
	c.Store.Path = c.resolve(c.Store.Path)
	if c.Store.Postgres() {
		c.Store.Path = "" // the default's file is not used
	}
	c.Mail.Outbox = c.resolve(c.Mail.Outbox)
	c.Bounces.Maildir = c.resolve(c.Bounces.Maildir)
	c.Templates = c.resolve(c.Templates)
	c.Mail.DKIM.KeyFile = c.resolve(c.Mail.DKIM.KeyFile)
	for i, f := range c.Feeds {
		if !strings.Contains(f.URL, "://") {
			c.Feeds[i].URL = c.resolve(f.URL)
		}
	}
}

// DigestFeeds turns the feeds into the domain type, each with its zone.
func (c *Config) DigestFeeds() []digest.Feed {
	out := make([]digest.Feed, 0, len(c.Feeds))
	for _, f := range c.Feeds {
		loc := c.Location
		if f.Timezone != "" {
			if l, err := time.LoadLocation(f.Timezone); err == nil {
				loc = l
			}
		}
		weight := 1.0
		if f.Weight != nil {
			weight = *f.Weight
		}
		out = append(out, digest.Feed{URL: f.URL, Name: f.Name, Theme: f.Theme, Location: loc, Filter: f.Filter, Weight: weight})
	}
	return out
}

// DigestThemes turns the themes into the domain type, in section order.
func (c *Config) DigestThemes() []digest.Theme {
	out := make([]digest.Theme, 0, len(c.Themes))
	for _, t := range c.Themes {
		out = append(out, digest.Theme{ID: t.ID, Name: t.Name.In(c.Language), Keywords: t.Keywords, Exclude: t.Exclude, Max: t.Max})
	}
	return out
}

// Grouper compiles the themes, the catch-all section and the relevance
// words into the digest's grouper, which also joins each story's articles
// into one entry (led in the digest's language, with the config's aliases).
func (c *Config) Grouper() *digest.Grouper {
	return digest.NewGrouper(c.DigestThemes(), digest.Theme{ID: c.Other.ID, Name: c.Other.Name.In(c.Language)}, c.Relevance).
		WithStories(digest.NewStories(c.Language, c.Aliases))
}

// Redacted renders the effective config as YAML with every secret replaced
// by whether it is set. Secret values are read only to say that.
func (c *Config) Redacted(getenv func(string) string) ([]byte, error) {
	out := *c
	out.Feeds = append([]Feed(nil), c.Feeds...)
	if out.Store.DSN != "" {
		out.Store.DSN = digest.RedactURL(out.Store.DSN)
	}
	for i := range out.Feeds {
		out.Feeds[i].URL = digest.RedactURL(out.Feeds[i].URL)
	}
	var buf bytes.Buffer
	enc := yaml.NewEncoder(&buf)
	enc.SetIndent(2)
	if err := enc.Encode(out); err != nil {
		return nil, err
	}
	fmt.Fprintf(&buf, "# secrets (values never printed):\n")
	envs := []string{c.Mail.SMTP.PasswordEnv, c.SecretEnv}
	if c.Store.DSNEnv != "" {
		envs = append(envs, c.Store.DSNEnv)
	}
	if c.Bounces.Mailbox() == "imap" {
		envs = append(envs, c.Bounces.IMAP.PasswordEnv)
	}
	envs = append(envs, c.Bounces.Webhooks.Envs()...)
	for _, env := range envs {
		state := "unset"
		if getenv(env) != "" {
			state = "set"
		}
		fmt.Fprintf(&buf, "#   $%s: %s\n", env, state)
	}
	return buf.Bytes(), nil
}

// validateBounces checks the bounces: key: one mailbox at most, an IMAP
// account that can log in, a password that never crosses a network in
// clear.
func (c *Config) validateBounces(p *problems, at func(path ...any) int) {
	b := c.Bounces
	if b.SoftLimit < 1 || b.SoftLimit > 100 {
		p.add(at("bounces", "soft_limit"), "bounces.soft_limit", "must be between 1 and 100: how many issues in a row may bounce soft (mailbox full, greylisting) before a reader is marked bounced; the default is 3")
	}
	m := b.IMAP
	switch {
	case m.Host != "" && b.Maildir != "":
		p.add(at("bounces"), "bounces", "names both an IMAP account and a Maildir; keep the one the return path's mail is delivered to")
	case m.Host == "" && m.Username != "": // an account meant, its server forgotten
		p.add(at("bounces", "imap"), "bounces.imap.host", "is missing: the IMAP server the return path's mail is delivered to, e.g. imap.example.org")
	}
	if m.Host == "" {
		return
	}
	if m.Username == "" {
		p.add(at("bounces", "imap"), "bounces.imap.username", "is missing: the account to log in as (its password goes in the environment variable bounces.imap.password_env names)")
	}
	switch m.TLS {
	case "tls", "starttls":
	case "none":
		if !loopbackHost(m.Host) {
			p.add(at("bounces", "imap", "tls"), "bounces.imap.tls", "none would send the password in clear to %s; use tls (port 993) or starttls (143); none is for a server on this machine (127.0.0.1) only", m.Host)
		}
	default:
		p.add(at("bounces", "imap", "tls"), "bounces.imap.tls", "must be tls (port 993), starttls (143) or none (a server on 127.0.0.1 only), got %q", m.TLS)
	}
	if m.Port < 1 || m.Port > 65535 {
		p.add(at("bounces", "imap", "port"), "bounces.imap.port", "must be a TCP port (993 for tls, 143 for starttls)")
	}
	if !envNameRE.MatchString(m.PasswordEnv) {
		p.add(at("bounces", "imap", "password_env"), "bounces.imap.password_env", "is not an environment variable name (letters, digits, _); the password itself never goes in the file")
	}
	if strings.TrimSpace(m.Folder) == "" {
		p.add(at("bounces", "imap", "folder"), "bounces.imap.folder", "must name the folder the bounces arrive in, e.g. INBOX")
	}
}

func loopbackHost(h string) bool {
	if h == "localhost" {
		return true
	}
	a, err := netip.ParseAddr(h)
	return err == nil && a.IsLoopback()
}

// validateReview checks the review: key: real addresses, a draft time the
// cron reads, a known policy, and no requirement nobody can meet.
func (c *Config) validateReview(p *problems, at func(path ...any) int) {
	r := c.Review
	seen := map[string]int{}
	for i, e := range r.Editors {
		key := fmt.Sprintf("review.editors[%d]", i)
		a, err := mail.ParseAddress(e)
		if err != nil || a.Name != "" || !strings.Contains(a.Address, "@") {
			p.add(at("review", "editors", i), key, "%q is not an email address; write the bare address, e.g. editor@example.org", e)
			continue
		}
		addr := strings.ToLower(a.Address)
		if j, dup := seen[addr]; dup {
			p.add(at("review", "editors", i), key, "%q is already review.editors[%d]; remove one", e, j)
		}
		seen[addr] = i
	}
	if r.Draft != "" {
		if tz, _, ok := strings.Cut(strings.TrimSpace(r.Draft), "="); ok && (tz == "TZ" || tz == "CRON_TZ") {
			p.add(at("review", "draft"), "review.draft", "%q names a time zone; remove the TZ= part (the draft time is in timezone)", r.Draft)
		} else if sched, err := cron.ParseStandard(r.Draft); err != nil {
			p.add(at("review", "draft"), "review.draft", "%q is not a 5-field cron spec (%v); e.g. \"0 16 * * FRI\" for Fridays at 16:00, or leave it out for 24 hours before each send", r.Draft, err)
		} else if sched.Next(time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)).IsZero() {
			p.add(at("review", "draft"), "review.draft", "%q never comes (no such date); e.g. \"0 16 * * FRI\"", r.Draft)
		}
	}
	if r.Unapproved != "hold" && r.Unapproved != "send" {
		p.add(at("review", "unapproved"), "review.unapproved", "must be hold (send nothing until approved) or send (the draft with its edits so far), got %q", r.Unapproved)
	}
	if r.Required && len(r.Editors) == 0 {
		p.add(at("review", "required"), "review.required", "is true but review.editors is empty, so nobody could approve an issue; list the editors' addresses or set required: false")
	}
}

// validateAliases checks config.yaml's aliases: each a list of two or more
// names of one thing.
func (c *Config) validateAliases(p *problems, at func(path ...any) int) {
	for i, group := range c.Aliases {
		key := fmt.Sprintf("aliases[%d]", i)
		names := 0
		for j, name := range group {
			if strings.TrimSpace(name) == "" {
				p.add(at("aliases", i, j), fmt.Sprintf("%s[%d]", key, j), "empty name; remove it")
				continue
			}
			names++
		}
		if names < 2 {
			p.add(at("aliases", i), key, "list two or more names of one thing, e.g. [부산, Busan]")
		}
	}
}
