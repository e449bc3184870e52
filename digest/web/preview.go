// Package web holds gull's HTTP handlers: the preview, the subscriber
// pages, the archive, health and metrics (DESIGN.md §7).
package web

import (
	"context"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"net"
	"net/http"
	"strconv"
	"strings"
)

// PreviewFormat is one way to look at the digest.
type PreviewFormat string

const (
	PreviewHTML PreviewFormat = "html"
	PreviewText PreviewFormat = "text"
	PreviewJSON PreviewFormat = "json"
	PreviewEML  PreviewFormat = "eml"
)

// ErrPreviewNotReady is what the daemon's Preview answers until its first
// fetch of the feeds ends: there is nothing to show yet. That is the
// normal first minute of a start, not a failure: the site says the page
// is being prepared (503 with Retry-After) and logs it at INFO.
var ErrPreviewNotReady = errors.New("the feeds have not been fetched yet since gull started")

// failPreparing is /preview's page while ErrPreviewNotReady holds.
var failPreparing = failure{503,
	"미리보기를 준비하고 있습니다", "The preview is being prepared",
	"gull이 방금 시작되어 피드를 처음으로 가져오고 있습니다. 잠시 후 이 페이지를 다시 열어 주세요.",
	"gull has just started and is fetching the feeds for the first time. Please reload this page in a minute.",
	false}

// PreviewSource renders the digest in a format from the current templates
// and config. The preview calls it on every request, so an editor sees a
// change at the next reload; it must not send mail or mark anything as
// mailed.
type PreviewSource func(ctx context.Context, f PreviewFormat) ([]byte, error)

// Preview serves the digest for an editor: / the HTML, /text, /json and
// /eml. A failure (a broken template, a config typo) is shown as a page
// with the error, so the editor reads it in the browser and the server
// keeps running.
func Preview(src PreviewSource, log *slog.Logger) http.Handler {
	mux := http.NewServeMux()
	route := func(path string, f PreviewFormat, contentType string) {
		mux.HandleFunc("GET "+path, func(w http.ResponseWriter, r *http.Request) {
			body, err := src(r.Context(), f)
			if err != nil {
				log.Error("preview failed", "format", string(f), "err", err)
				previewError(w, err)
				return
			}
			securityHeaders(w, "'none'")
			w.Header().Set("Content-Type", contentType)
			w.Header().Set("Cache-Control", "no-store")
			w.Write(body)
		})
	}
	route("/{$}", PreviewHTML, "text/html; charset=utf-8")
	route("/text", PreviewText, "text/plain; charset=utf-8")
	route("/json", PreviewJSON, "application/json; charset=utf-8")
	// Shown as text so a browser displays the raw message instead of
	// downloading it; save it as .eml to open it in a mail client.
	route("/eml", PreviewEML, "text/plain; charset=utf-8")
	return loopbackOnly(mux)
}

// loopbackOnly refuses requests addressed to any host name but a loopback
// one. The preview listens on loopback, but a web page the editor visits
// could point its own domain at 127.0.0.1 (DNS rebinding) and read the
// unsent digest; such a request names that domain in Host.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		host := r.Host
		if h, _, err := net.SplitHostPort(host); err == nil {
			host = h
		}
		if !IsLoopbackHost(host) {
			http.Error(w, "the preview answers only to localhost, 127.0.0.1 or [::1]", http.StatusMisdirectedRequest)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// IsLoopbackHost reports whether host (a name or an IP, as written in a
// Host header or a listen address) means this machine: localhost in any
// case, with or without the root dot, or a loopback IP (an IPv6 zone such
// as [::1%lo] allowed).
func IsLoopbackHost(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if i := strings.IndexByte(host, '%'); i >= 0 {
		host = host[:i]
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// LoopbackAddr checks that addr (host:port) is on this machine only, as
// the preview must be: it shows unsent mail and has no login. An empty
// host, or a name such as localhost, means 127.0.0.1: one address, not
// whichever the resolver picks.
func LoopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("%v; write it as 127.0.0.1:8081", err)
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", fmt.Errorf("%q is not a port; write it as 127.0.0.1:8081", port)
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !IsLoopbackHost(host) {
		return "", fmt.Errorf("the preview serves on loopback only (it has no login); use 127.0.0.1:%s", port)
	}
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		host = "127.0.0.1"
	}
	return net.JoinHostPort(host, port), nil
}

// securityHeaders: gull's pages have no script and load nothing but
// images, so a page may do nothing else. formAction is where its forms may
// post: 'none' for the preview, 'self' for the subscriber pages.
func securityHeaders(w http.ResponseWriter, formAction string) {
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; base-uri 'none'; form-action "+formAction+"; frame-ancestors 'none'")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
}

func previewError(w http.ResponseWriter, err error) {
	securityHeaders(w, "'none'")
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(http.StatusInternalServerError)
	fmt.Fprintf(w, `<!DOCTYPE html><html lang="en"><meta charset="utf-8"><title>gull preview: error</title>
<body style="font-family: sans-serif; max-width: 50em; margin: 2em auto; line-height: 1.5">
<h1 style="font-size: 1.3em; color: #b3261e">The digest could not be rendered</h1>
<pre style="white-space: pre-wrap; background: #f6f6f6; padding: 1em">%s</pre>
<p>Fix the file it names and reload this page.</p></body></html>`, html.EscapeString(err.Error()))
}
