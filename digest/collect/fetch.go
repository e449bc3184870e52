package collect

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"syscall"

	"gull/digest"
)

// Sentinel errors of the fetch step.
var (
	ErrTooLarge     = errors.New("collect: feed too large")
	ErrRedirects    = errors.New("collect: too many redirects")
	ErrTimeout      = errors.New("collect: timed out")
	ErrHTTPStatus   = errors.New("collect: unexpected HTTP status")
	ErrFileNotFound = errors.New("collect: no such file")
	ErrConnect      = errors.New("collect: cannot connect")
)

// maxRedirects is how many redirects a feed may take; more is a loop or a
// misconfigured site.
const maxRedirects = 5

// fetched is one feed's raw body and what the server said about it.
type fetched struct {
	body         []byte
	charset      string // from Content-Type, "" when none
	notModified  bool
	etag         string
	lastModified string
	finalURL     *url.URL // after redirects; the base for relative links
}

// newHTTPClient builds the client every feed is fetched with: no overall
// timeout (each fetch has a context deadline that also covers the body),
// at most five redirects, and no transparent decompression, because gull
// unpacks gzip itself under the size cap.
func newHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.DisableCompression = true
	tr.ResponseHeaderTimeout = 0
	tr.MaxIdleConnsPerHost = 4
	return &http.Client{
		Transport: tr,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) > maxRedirects {
				return fmt.Errorf("%w: stopped after %d (a redirect loop?)", ErrRedirects, maxRedirects)
			}
			return nil
		},
	}
}

// fetch reads one feed from the network or the disk.
func (c *Collector) fetch(ctx context.Context, rawURL string, st digest.FeedState) (fetched, error) {
	if isLocal(rawURL) {
		return c.fetchFile(ctx, rawURL)
	}
	var f fetched
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, rawURL, nil)
	if err != nil {
		return f, fmt.Errorf("collect: bad URL: %w", err)
	}
	req.Header.Set("User-Agent", c.opts.UserAgent)
	req.Header.Set("Accept", "application/rss+xml, application/atom+xml, application/feed+json, application/json;q=0.9, application/xml;q=0.9, text/xml;q=0.8, */*;q=0.5")
	req.Header.Set("Accept-Encoding", "gzip")
	if st.ETag != "" {
		req.Header.Set("If-None-Match", st.ETag)
	}
	if st.LastModified != "" {
		req.Header.Set("If-Modified-Since", st.LastModified)
	}
	resp, err := c.client.Do(req)
	if err != nil {
		return f, c.describe(ctx, err)
	}
	defer resp.Body.Close()
	f.finalURL = resp.Request.URL
	if resp.StatusCode == http.StatusNotModified {
		f.notModified = true
		f.etag, f.lastModified = st.ETag, st.LastModified
		return f, nil
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return f, statusError(resp)
	}
	if resp.ContentLength > c.opts.MaxBytes {
		return f, fmt.Errorf("%w: the server announces %d bytes, more than fetch.max_bytes (%d)", ErrTooLarge, resp.ContentLength, c.opts.MaxBytes)
	}
	body, err := readCapped(resp.Body, c.opts.MaxBytes)
	if err != nil {
		return f, c.describe(ctx, err)
	}
	// A declared gzip body is unpacked here, under the same cap; an
	// undeclared one is found by its magic bytes when parsing, which says
	// so in the feed's repairs. Servers that declare gzip and send plain
	// bytes are taken at their bytes.
	if strings.EqualFold(resp.Header.Get("Content-Encoding"), "gzip") && isGzip(body) {
		if body, err = gunzip(body, c.opts.MaxBytes); err != nil {
			return f, err
		}
	}
	f.body = body
	f.etag = resp.Header.Get("ETag")
	f.lastModified = resp.Header.Get("Last-Modified")
	if _, params, err := mime.ParseMediaType(resp.Header.Get("Content-Type")); err == nil {
		f.charset = params["charset"]
	}
	return f, nil
}

func (c *Collector) fetchFile(ctx context.Context, raw string) (fetched, error) {
	var f fetched
	path := raw
	if strings.HasPrefix(raw, "file://") {
		u, err := url.Parse(raw)
		if err != nil {
			return f, fmt.Errorf("collect: bad file URL: %w", err)
		}
		path = u.Path
	}
	st, err := os.Stat(path)
	if errors.Is(err, os.ErrNotExist) {
		return f, fmt.Errorf("%w: %s (check the path; relative paths start at the config file's folder)", ErrFileNotFound, path)
	}
	if err != nil {
		return f, fmt.Errorf("collect: %w", err)
	}
	// A pipe or a device would block a read forever, past any timeout.
	if !st.Mode().IsRegular() {
		return f, fmt.Errorf("collect: %s is not a regular file; save the feed to a file first", path)
	}
	// The read is bounded by the deadline too: a stalled network mount
	// blocks like a slow server.
	body, err := aside(ctx, func() ([]byte, error) {
		fh, err := os.Open(path)
		if err != nil {
			return nil, fmt.Errorf("collect: %w", err)
		}
		defer fh.Close()
		return readCapped(fh, c.opts.MaxBytes)
	})
	if ctx.Err() != nil {
		return f, c.describe(ctx, ctx.Err())
	}
	if err != nil {
		return f, err
	}
	f.body = body
	abs, _ := filepath.Abs(path)
	f.finalURL = &url.URL{Scheme: "file", Path: abs}
	return f, nil
}

func isLocal(raw string) bool {
	return strings.HasPrefix(raw, "file://") || !strings.Contains(raw, "://")
}

// readCapped reads at most max bytes and fails, rather than truncating, on
// a larger body.
func readCapped(r io.Reader, max int64) ([]byte, error) {
	var buf bytes.Buffer
	n, err := io.Copy(&buf, io.LimitReader(r, max+1))
	if err != nil {
		return nil, err
	}
	if n > max {
		return nil, fmt.Errorf("%w: more than fetch.max_bytes (%d bytes)", ErrTooLarge, max)
	}
	return buf.Bytes(), nil
}

func statusError(resp *http.Response) error {
	hint := ""
	switch {
	case resp.StatusCode == http.StatusNotFound || resp.StatusCode == http.StatusGone:
		hint = "; the feed moved or is gone: check its URL"
	case resp.StatusCode == http.StatusUnauthorized || resp.StatusCode == http.StatusForbidden:
		hint = "; the site refuses gull: check the URL or ask the site"
	case resp.StatusCode == http.StatusTooManyRequests:
		hint = "; the site rate-limits: it is tried again next run"
	case resp.StatusCode >= 500:
		hint = "; the site has a problem: it is tried again next run"
	}
	return fmt.Errorf("%w: HTTP %s%s", ErrHTTPStatus, resp.Status, hint)
}

// describe turns a transport error into a one-line reason.
func (c *Collector) describe(ctx context.Context, err error) error {
	if errors.Is(err, ErrRedirects) || errors.Is(err, ErrTooLarge) {
		var ue *url.Error
		if errors.As(err, &ue) {
			return ue.Err
		}
		return err
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("%w after %s (fetch.timeout)", ErrTimeout, c.opts.Timeout)
	}
	if errors.Is(ctx.Err(), context.Canceled) {
		return fmt.Errorf("collect: canceled")
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return fmt.Errorf("%w: cannot find host %s (%s): check the URL's host, or this machine's network", ErrConnect, dnsErr.Name, dnsErr.Err)
	}
	if errors.Is(err, syscall.ECONNREFUSED) {
		return fmt.Errorf("%w: connection refused: the site is down or the port is wrong", ErrConnect)
	}
	var certErr *tls.CertificateVerificationError
	if errors.As(err, &certErr) {
		return fmt.Errorf("%w: the site's TLS certificate is not valid: %v", ErrConnect, certErr.Err)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return fmt.Errorf("%w: %v", ErrConnect, ue.Err)
	}
	return fmt.Errorf("%w: %v", ErrConnect, err)
}
