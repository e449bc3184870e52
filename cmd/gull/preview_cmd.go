package main

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/render"
	"gull/digest/send"
	"gull/digest/web"
	"gull/subscribers"
)

var previewFormats = []string{"html", "text", "eml", "json"}

func (a *app) preview(ctx context.Context, args []string) error {
	fs := a.flagSet("preview")
	p := &send.Previewer{Notes: a.stderr}
	fs.StringVar(&p.Week, "now", "", "the time the week ends; default now")
	fs.StringVar(&p.As, "as", "", "render as this subscriber gets it")
	format := fs.String("format", "html", "html, text, eml or json")
	out := fs.String("out", "-", "file to write, or - for stdout")
	serve := fs.String("serve", "", "serve the preview on this loopback address, e.g. 127.0.0.1:8081")
	fs.StringVar(&p.Templates, "templates", "", "folder whose templates override the embedded ones")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usageError{fmt.Sprintf("preview takes no arguments, got %q", pos)}
	}
	if !slices.Contains(previewFormats, *format) {
		return usageError{fmt.Sprintf("--format must be one of %s, not %q", strings.Join(previewFormats, ", "), *format)}
	}
	if _, err := parseNow(p.Week, time.UTC); err != nil { // the form; render reads it in the config's zone
		return err
	}
	if p.As != "" {
		if addr, err := mail.ParseAddress(p.As); err != nil || addr.Name != "" {
			return usageError{fmt.Sprintf("--as %q is not an email address; e.g. --as reader@example.org", p.As)}
		}
		if _, err := subscribers.NormalizeEmail(p.As); err != nil {
			return usageError{"--as: " + err.Error()}
		}
	}
	p.Env = a.env(0)
	load := func() (*config.Config, time.Time, error) {
		cfg, err := a.loadConfig()
		if err != nil {
			return nil, time.Time{}, err
		}
		now, err := parseNow(p.Week, cfg.Location)
		return cfg, now, err
	}
	if *serve != "" {
		return a.servePreview(ctx, *serve, p, load)
	}
	body, rep, err := p.Render(ctx, web.PreviewFormat(*format), load)
	if err != nil {
		return err
	}
	if err := writeOut(*out, body, a); err != nil {
		return err
	}
	a.report(rep, *out)
	return nil
}

// report tells the editor on stderr what the preview holds, and which
// feeds failed: the digest is still built from the others.
func (a *app) report(rep send.PreviewReport, out string) {
	is := rep.Issue
	if rep.Frozen != nil {
		a.reportFrozen(*rep.Frozen, is.Period.End.Location())
	} else {
		a.reportFailedFeeds(is.Feeds)
	}
	where := "stdout"
	if out != "-" && out != "" {
		where = out
	}
	fmt.Fprintf(a.stderr, "gull: issue %s (%s – %s) to %s: %s in %s from %s, %d left out (see --format json)\n",
		is.ID, is.Period.Start.Format("2006-01-02 15:04"), is.Period.End.Format("2006-01-02 15:04 MST"), where,
		counted(rep.Shown, "article", "articles"), counted(rep.ShownSections, "section", "sections"), feedsCounted(is.Feeds), len(is.Dropped))
	if is.Count() == 0 && rep.Frozen == nil {
		fmt.Fprintf(a.stderr, "gull: no new articles in this week; nothing would be sent (quiet_week). Try --now with a date the feeds cover.\n")
	}
}

// counted is n and the noun in its number: "1 article", "3 articles".
func counted(n int, one, many string) string {
	return strconv.Itoa(n) + " " + render.Plural(n, one, many)
}

// feedsCounted is "10 feeds (6 failed)": a digest from the feeds that
// worked is a success, but the count alone would hide that most failed.
func feedsCounted(feeds []digest.FeedReport) string {
	failed := 0
	for _, f := range feeds {
		if f.Status == digest.FeedError {
			failed++
		}
	}
	s := counted(len(feeds), "feed", "feeds")
	if failed > 0 {
		s += fmt.Sprintf(" (%d failed)", failed)
	}
	return s
}

// reportFrozen says that the preview shows the issue the week's send
// froze, not a fresh build: the editor sees what went out.
func (a *app) reportFrozen(rec digest.IssueRecord, loc *time.Location) {
	when := rec.Created.In(loc).Format("2006-01-02 15:04 MST")
	if rec.Status == digest.IssueDone {
		fmt.Fprintf(a.stderr, "gull: issue %s was sent on %s: showing it as it went out\n", rec.ID, when)
		return
	}
	fmt.Fprintf(a.stderr, "gull: issue %s was frozen on %s, when its send began (not finished yet): showing it as it goes out\n", rec.ID, when)
}

// reportFailedFeeds says on stderr which feeds failed and what stood in
// for them: the digest is still built from the others.
func (a *app) reportFailedFeeds(feeds []digest.FeedReport) {
	for _, f := range feeds {
		if f.Status != digest.FeedError {
			continue
		}
		fallback := "no earlier copy to fall back on"
		if f.Items > 0 {
			fallback = fmt.Sprintf("using the %s of its last good copy", counted(f.Items, "item", "items"))
		}
		fmt.Fprintf(a.stderr, "gull: feed %s failed: %s (%s)\n", cmp.Or(f.Name, digest.RedactURL(f.URL)), f.Error, fallback)
	}
}

// writeOut writes body to stdout or to a file. A regular file (or a new
// one) is replaced atomically, so a browser reloading it never sees half
// a digest; anything else (/dev/stdout, a pipe, a symlink's target) is
// written in place, never replaced.
func writeOut(out string, body []byte, a *app) error {
	return writeOutPerm(out, body, a, 0o644)
}

// writeOutPerm is writeOut making a new file with perm. A file that is
// there keeps its mode, narrowed to perm when perm is for the owner only:
// a list of addresses written 0600 tightens an old 0644 export.
func writeOutPerm(out string, body []byte, a *app, perm os.FileMode) error {
	if out == "-" || out == "" {
		_, err := a.stdout.Write(body)
		return err
	}
	mode := perm
	switch st, err := os.Lstat(out); {
	case err == nil && !st.Mode().IsRegular():
		return os.WriteFile(out, body, mode)
	case err == nil:
		mode = st.Mode().Perm()
		if perm&0o077 == 0 {
			mode &= perm // a private file stays private
		}
	case !errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("--out %s: %w", out, err)
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--out %s: the folder %s does not exist; create it or write elsewhere", out, dir)}
	}
	tmp, err := os.CreateTemp(dir, ".gull-preview-*")
	if err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(body); err != nil {
		tmp.Close()
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	if err := os.Chmod(tmp.Name(), mode); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), out); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

// servePreview runs the preview web server until ctx ends (Ctrl-C).
func (a *app) servePreview(ctx context.Context, addr string, p *send.Previewer, load func() (*config.Config, time.Time, error)) error {
	addr, err := loopbackAddr(addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--serve %s: %w; pick another port", addr, err)
	}
	p.Caching = true
	srv := &http.Server{
		Handler: web.Preview(func(ctx context.Context, f web.PreviewFormat) ([]byte, error) {
			body, _, err := p.Render(ctx, f, load)
			return body, err
		}, a.log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a first request fetches every feed
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(a.stderr, "gull: previewing at http://%s/ (also /text, /json, /eml); templates and config are read again on every reload; Ctrl-C stops\n", ln.Addr())
	return web.ServeUntil(ctx, srv, ln, 5*time.Second)
}

// loopbackAddr checks that the preview listens on this machine only: it
// shows unsent mail and has no authentication. ":8081" means 127.0.0.1.
func loopbackAddr(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", usageError{fmt.Sprintf("--serve %q: %v; write it as 127.0.0.1:8081", addr, err)}
	}
	if n, err := strconv.Atoi(port); err != nil || n < 0 || n > 65535 {
		return "", usageError{fmt.Sprintf("--serve %q: %q is not a port; write it as 127.0.0.1:8081", addr, port)}
	}
	if host == "" {
		host = "127.0.0.1"
	}
	if !web.IsLoopbackHost(host) {
		return "", usageError{fmt.Sprintf("--serve %q: the preview serves on loopback only (it has no login); use 127.0.0.1:%s", addr, port)}
	}
	if net.ParseIP(strings.Trim(host, "[]")) == nil {
		host = "127.0.0.1" // localhost: one address, not whichever the resolver picks
	}
	return net.JoinHostPort(host, port), nil
}
