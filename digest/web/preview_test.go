package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestPreviewRoutes(t *testing.T) {
	var asked []PreviewFormat
	h := Preview(func(_ context.Context, f PreviewFormat) ([]byte, error) {
		asked = append(asked, f)
		if f == PreviewEML {
			return nil, errors.New(`templates/digest.html.tmpl:3: unexpected "}" <script>alert(1)</script>`)
		}
		return []byte("body of " + string(f)), nil
	}, slog.New(slog.NewTextHandler(io.Discard, nil)))

	for _, c := range []struct {
		method, path string
		code         int
		ctype, body  string
	}{
		{"GET", "/", 200, "text/html; charset=utf-8", "body of html"},
		{"GET", "/text", 200, "text/plain; charset=utf-8", "body of text"},
		{"GET", "/json", 200, "application/json; charset=utf-8", "body of json"},
		{"GET", "/eml", 500, "text/html; charset=utf-8", "templates/digest.html.tmpl:3: unexpected &#34;}&#34; &lt;script&gt;"},
		{"HEAD", "/text", 200, "text/plain; charset=utf-8", ""},
		{"POST", "/", 405, "", ""},
		{"GET", "/nothing", 404, "", ""},
	} {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(c.method, c.path, nil)
		req.Host = "127.0.0.1:8081"
		h.ServeHTTP(rec, req)
		if rec.Code != c.code {
			t.Errorf("%s %s: %d, want %d", c.method, c.path, rec.Code, c.code)
			continue
		}
		if c.ctype != "" && rec.Header().Get("Content-Type") != c.ctype {
			t.Errorf("%s %s: Content-Type %q, want %q", c.method, c.path, rec.Header().Get("Content-Type"), c.ctype)
		}
		if c.body != "" && !strings.Contains(rec.Body.String(), c.body) {
			t.Errorf("%s %s: body %q lacks %q", c.method, c.path, rec.Body.String(), c.body)
		}
		if c.code == 200 || c.code == 500 {
			if rec.Header().Get("X-Content-Type-Options") != "nosniff" || !strings.Contains(rec.Header().Get("Content-Security-Policy"), "default-src 'none'") {
				t.Errorf("%s %s: security headers missing: %v", c.method, c.path, rec.Header())
			}
		}
		if strings.Contains(rec.Body.String(), "<script>") {
			t.Errorf("%s %s: the error page shows markup unescaped", c.method, c.path)
		}
	}
}

// A page on another domain that resolves to 127.0.0.1 (DNS rebinding)
// must not read the unsent digest.
func TestPreviewRefusesOtherHosts(t *testing.T) {
	h := Preview(func(context.Context, PreviewFormat) ([]byte, error) { return []byte("secret digest"), nil },
		slog.New(slog.NewTextHandler(io.Discard, nil)))
	for host, want := range map[string]int{
		"evil.example": 421, "evil.example:8081": 421, "10.0.0.5:8081": 421,
		"localhost:8081": 200, "127.0.0.1:8081": 200, "[::1]:8081": 200,
		"LOCALHOST:8081": 200, "localhost.:8081": 200, "[::1%25lo]:8081": 200,
	} {
		req := httptest.NewRequest("GET", "/json", nil)
		req.Host = host
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want || (want != 200 && strings.Contains(rec.Body.String(), "secret")) {
			t.Errorf("Host %s: %d, want %d", host, rec.Code, want)
		}
	}
}

// The preview listens on this machine only: an empty host or a name for
// it becomes 127.0.0.1; any other host, or a port that is not one, is
// refused with the form to write.
func TestLoopbackAddr(t *testing.T) {
	for in, want := range map[string]string{
		":8081":           "127.0.0.1:8081",
		"localhost:8081":  "127.0.0.1:8081",
		"127.0.0.1:0":     "127.0.0.1:0",
		"[::1]:8081":      "[::1]:8081",
		"LOCALHOST.:8081": "127.0.0.1:8081",
	} {
		if got, err := LoopbackAddr(in); err != nil || got != want {
			t.Errorf("LoopbackAddr(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for in, want := range map[string]string{
		"0.0.0.0:8081":     "loopback only",
		"example.org:8081": "loopback only",
		":abc":             `"abc" is not a port`,
		"8081":             "write it as 127.0.0.1:8081",
	} {
		if _, err := LoopbackAddr(in); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("LoopbackAddr(%q): %v, want an error saying %q", in, err, want)
		}
	}
}
