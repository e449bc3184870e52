package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"golang.org/x/text/encoding"
	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/korean"
	"golang.org/x/text/encoding/unicode"

	"gull/digest/store"
	"gull/subscribers"
)

// TestMain lets the test binary act as the gull command inside scripts, so
// testscript runs gull as a user types it.
func TestMain(m *testing.M) {
	// The crash test runs the test binary as gull itself, in a process it
	// can kill.
	if os.Getenv("GULL_TEST_AS_GULL") == "1" {
		main()
	}
	testscript.Main(m, map[string]func(){
		"gull": func() { os.Exit(run(context.Background(), os.Args[1:], os.Stdout, os.Stderr)) },
	})
}

// TestScripts runs testdata/script/*.txtar. Each script gets $FEEDS, the
// URL of a feed server with a good feed at /ai.xml and a failing /down.
func TestScripts(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/ai.xml":
			w.Header().Set("ETag", `"ai-1"`)
			if r.Header.Get("If-None-Match") == `"ai-1"` {
				w.WriteHeader(http.StatusNotModified)
				return
			}
			w.Write([]byte(`<rss version="2.0"><channel><title>AI News</title>
				<item><title>Export controls and chips</title><link>/n/1</link><pubDate>Wed, 25 Nov 2026 10:00:00 +0000</pubDate></item>
				</channel></rss>`))
		default:
			http.Error(w, "unavailable", http.StatusInternalServerError)
		}
	}))
	// The scripts run as parallel subtests after this function returns.
	t.Cleanup(srv.Close)
	testscript.Run(t, testscript.Params{
		Dir: "testdata/script",
		Setup: func(env *testscript.Env) error {
			env.Setenv("FEEDS", srv.URL)
			// A value with a line break, which a script cannot write.
			env.Setenv("NL", "Kim\nBcc: x@example.org")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			// encode cp949|utf-16|latin-1 SRC DST: write the UTF-8 file SRC as
			// Korean Excel saves "CSV" (CP949) or "Unicode text" (UTF-16LE
			// with a byte order mark), or as Latin-1; a script cannot hold
			// such bytes itself.
			"encode": func(ts *testscript.TestScript, neg bool, args []string) {
				encodings := map[string]encoding.Encoding{
					"cp949":   korean.EUCKR,
					"utf-16":  unicode.UTF16(unicode.LittleEndian, unicode.UseBOM),
					"latin-1": charmap.ISO8859_1,
				}
				if len(args) != 3 || encodings[args[0]] == nil {
					ts.Fatalf("usage: encode cp949|utf-16|latin-1 SRC DST")
				}
				out, err := encodings[args[0]].NewEncoder().String(ts.ReadFile(args[1]))
				ts.Check(err)
				ts.Check(os.WriteFile(ts.MkAbs(args[2]), []byte(out), 0o644))
			},
			// perm MODE FILE: FILE's permission bits are MODE (octal, 0600).
			"perm": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: perm MODE FILE")
				}
				want, err := strconv.ParseUint(args[0], 8, 32)
				ts.Check(err)
				st, err := os.Stat(ts.MkAbs(args[1]))
				ts.Check(err)
				if got := st.Mode().Perm(); (got == os.FileMode(want)) == neg {
					ts.Fatalf("%s has mode %04o, want %s%04o", args[1], got, map[bool]string{true: "not "}[neg], want)
				}
			},
			// setid VAR REGEXP: $VAR is the article id that starts the first
			// line of the last command's stdout (gull issue show) matching
			// REGEXP: ids hash the feed's path, which differs each run.
			"setid": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: setid VAR REGEXP")
				}
				re := regexp.MustCompile(args[1])
				for _, line := range strings.Split(ts.ReadFile("stdout"), "\n") {
					if f := strings.Fields(line); len(f) > 1 && re.MatchString(line) {
						ts.Setenv(args[0], f[0])
						return
					}
				}
				ts.Fatalf("no line of stdout matches %q", args[1])
			},
			// bigfile BYTES FILE: FILE holds BYTES bytes of text, more than a
			// script or a command line can carry.
			"bigfile": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 2 {
					ts.Fatalf("usage: bigfile BYTES FILE")
				}
				n, err := strconv.Atoi(args[0])
				ts.Check(err)
				line := strings.Repeat("word ", 15) + "\n"
				data := strings.Repeat(line, n/len(line)+1)[:n]
				ts.Check(os.WriteFile(ts.MkAbs(args[1]), []byte(data), 0o644))
			},
			// reader STORE EMAIL LANGUAGE ARTICLES: set a subscriber's
			// language and article languages in the store, as the sign-up
			// and preferences pages do (subscribers add has no flag for
			// them on this branch).
			"reader": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 4 {
					ts.Fatalf("usage: reader STORE EMAIL LANGUAGE ARTICLES")
				}
				ctx := context.Background()
				st, err := store.Open(ctx, ts.MkAbs(args[0]))
				ts.Check(err)
				defer st.Close()
				sub, err := st.SubscriberByEmail(ctx, args[1])
				ts.Check(err)
				sub.Language, sub.Articles = args[2], args[3]
				_, _, _, err = st.SaveSubscriber(ctx, sub, subscribers.FieldLanguage|subscribers.FieldArticles, time.Now())
				ts.Check(err)
			},
			// catdir DIR: print every file in DIR to stdout, for the
			// outbox's test sends, whose names hold the time they were made.
			"catdir": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: catdir DIR")
				}
				entries, err := os.ReadDir(ts.MkAbs(args[0]))
				ts.Check(err)
				for _, e := range entries {
					ts.Stdout().Write([]byte(ts.ReadFile(args[0] + "/" + e.Name())))
				}
			},
			// envsubst FILE: replace ${VAR} in FILE with the script's env.
			"envsubst": func(ts *testscript.TestScript, neg bool, args []string) {
				if len(args) != 1 {
					ts.Fatalf("usage: envsubst FILE")
				}
				data := ts.ReadFile(args[0])
				out := regexp.MustCompile(`\$\{(\w+)\}`).ReplaceAllStringFunc(data, func(m string) string {
					return ts.Getenv(strings.Trim(m, "${}"))
				})
				if err := os.WriteFile(ts.MkAbs(args[0]), []byte(out), 0o644); err != nil {
					ts.Fatalf("%v", err)
				}
			},
		},
	})
}
