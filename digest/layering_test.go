package digest_test

import (
	"encoding/json"
	"os/exec"
	"strings"
	"testing"
)

// allowedImports is ARCHITECTURE.md's import rules: which of gull's packages each package
// may import. Third-party imports are free only where listed in
// thirdParty; the core packages take the standard library and x/text alone.
var allowedImports = map[string][]string{
	"gull/cmd/gull":       {"*"},
	"gull/digest":         {},
	"gull/subscribers":    {},
	"gull/templates":      {},
	"gull/digest/config":  {"gull/digest", "gull/subscribers"},
	"gull/digest/collect": {"gull/digest"},
	"gull/digest/render":  {"gull/digest", "gull/subscribers", "gull/templates"},
	"gull/digest/deliver": {"gull/digest", "gull/subscribers"},
	// A real SMTP server for tests, as net/http/httptest is for HTTP.
	"gull/digest/deliver/smtptest": {},
	// A real headless Chromium for tests of the pages a person uses.
	"gull/digest/web/browsertest": {},
	"gull/digest/store":           {"gull/digest", "gull/subscribers"},
	"gull/digest/pipeline":        {"gull/digest", "gull/subscribers"},
	"gull/digest/web":             {"gull/digest", "gull/subscribers", "gull/digest/bounce", "gull/digest/webhook"},
	// The providers' webhooks: their signatures and events, as bounce
	// reports; beside the bounce mailbox, below web.
	"gull/digest/webhook": {"gull/digest/bounce", "gull/subscribers"},
	// Signs posts as the providers do, for tests (SNS served on loopback).
	"gull/digest/webhook/webhooktest": {},
	// Reading bounces (DSNs, ARF, the MTAs' own), the return-path token
	// and the Maildir they arrive in: below the store and the daemon.
	"gull/digest/bounce": {"gull/subscribers"},
	// The bounce mailbox (IMAP or Maildir) and one check of it: parse with
	// bounce, record through subscribers.BounceRecorder (the store's).
	"gull/digest/bouncebox": {"gull/digest/bounce", "gull/subscribers"},
	// The wall-clock schedule: cron underneath, none of gull's packages.
	"gull/digest/schedule": {},
	// The first and second stop signal: the standard library only.
	"gull/digest/signals": {},
	// A fresh PostgreSQL schema per test, for the store's tests on both engines.
	"gull/digest/store/pgtest": {},
	// feeds check's rows, read from a fetch: beside pipeline.
	"gull/digest/feedcheck": {"gull/digest", "gull/digest/pipeline", "gull/digest/render", "gull/subscribers", "gull/templates"},
	// The progress line a person watches: render's width helpers.
	"gull/digest/progress": {"gull/digest", "gull/digest/render", "gull/subscribers", "gull/templates"},
	// One send: where the stages meet, so it may use each of them.
	"gull/digest/send": {"gull/digest", "gull/subscribers", "gull/templates", "gull/digest/config", "gull/digest/collect",
		"gull/digest/pipeline", "gull/digest/render", "gull/digest/deliver", "gull/digest/store", "gull/digest/web",
		"gull/digest/bounce", "gull/digest/bouncebox", "gull/digest/webhook"},
	// `gull run`: the top of the flow, above the send, the web side and
	// the schedule. Nothing but cmd imports it (no entry lists it).
	"gull/digest/daemon": {"gull/digest", "gull/subscribers", "gull/templates", "gull/digest/config", "gull/digest/collect",
		"gull/digest/pipeline", "gull/digest/render", "gull/digest/deliver", "gull/digest/store", "gull/digest/web",
		"gull/digest/schedule", "gull/digest/send", "gull/digest/bounce", "gull/digest/bouncebox", "gull/digest/webhook"},
}

// stdlibOnly packages may import nothing outside the standard library
// except golang.org/x/text.
var stdlibOnly = map[string]bool{"gull/digest": true, "gull/subscribers": true, "gull/templates": true}

func TestImportRules(t *testing.T) {
	out, err := exec.Command("go", "list", "-json=ImportPath,Imports,Deps,Standard", "gull/...").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(out)))
	seen := 0
	for dec.More() {
		var p struct {
			ImportPath string
			Imports    []string
			Deps       []string
		}
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		seen++
		allowed, ok := allowedImports[p.ImportPath]
		if !ok {
			t.Errorf("%s is not in ARCHITECTURE.md; add it there and to allowedImports", p.ImportPath)
			continue
		}
		if len(allowed) == 1 && allowed[0] == "*" {
			continue
		}
		for _, imp := range p.Deps {
			if strings.HasPrefix(imp, "gull/") {
				if !contains(allowed, imp) {
					t.Errorf("%s depends on %s; ARCHITECTURE.md allows only %v", p.ImportPath, imp, allowed)
				}
				continue
			}
			if stdlibOnly[p.ImportPath] && strings.Contains(strings.Split(imp, "/")[0], ".") &&
				!strings.HasPrefix(imp, "golang.org/x/text") {
				t.Errorf("%s depends on %s; it may use only the standard library and golang.org/x/text", p.ImportPath, imp)
			}
		}
	}
	if seen < 5 {
		t.Fatalf("go list saw only %d packages", seen)
	}
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
