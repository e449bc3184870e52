package main

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
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
	"sync"
	"time"

	"gull/digest"
	"gull/digest/config"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/send"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

var previewFormats = []string{"html", "text", "eml", "json"}

// gatherTTL is how long `preview --serve` reuses fetched feeds while the
// editor reloads; templates and config are read again on every request.
const gatherTTL = 2 * time.Minute

func (a *app) preview(ctx context.Context, args []string) error {
	fs := a.flagSet("preview")
	p := &previewer{a: a}
	fs.StringVar(&p.nowFlag, "now", "", "the time the week ends; default now")
	fs.StringVar(&p.as, "as", "", "render as this subscriber gets it")
	format := fs.String("format", "html", "html, text, eml or json")
	out := fs.String("out", "-", "file to write, or - for stdout")
	serve := fs.String("serve", "", "serve the preview on this loopback address, e.g. 127.0.0.1:8081")
	fs.StringVar(&p.templates, "templates", "", "folder whose templates override the embedded ones")
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
	if _, err := parseNow(p.nowFlag, time.UTC); err != nil { // the form; render reads it in the config's zone
		return err
	}
	if p.as != "" {
		if addr, err := mail.ParseAddress(p.as); err != nil || addr.Name != "" {
			return usageError{fmt.Sprintf("--as %q is not an email address; e.g. --as reader@example.org", p.as)}
		}
	}
	if *serve != "" {
		return p.serve(ctx, *serve)
	}
	body, rep, err := p.render(ctx, web.PreviewFormat(*format))
	if err != nil {
		return err
	}
	if err := writeOut(*out, body, a); err != nil {
		return err
	}
	a.report(rep, *out)
	return nil
}

// previewer builds the digest the way the send will, but stops before the
// ledger: nothing is mailed and nothing is marked as mailed.
type previewer struct {
	a         *app
	nowFlag   string
	as        string
	templates string

	mu       sync.Mutex // one build at a time; the cache below
	cacheKey string
	cacheAt  time.Time
	cached   pipeline.Gathered
	caching  bool
}

// previewReport is what the preview tells the editor beside the output.
type previewReport struct {
	issue         digest.Issue
	shown         int // articles in the rendered copy
	shownSections int
	// frozen is the stored issue's record when the week's send had begun
	// and the preview shows the issue as it went out.
	frozen *digest.IssueRecord
}

func (p *previewer) render(ctx context.Context, f web.PreviewFormat) ([]byte, previewReport, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	var rep previewReport
	cfg, err := p.a.loadConfig()
	if err != nil {
		return nil, rep, err
	}
	now, err := parseNow(p.nowFlag, cfg.Location)
	if err != nil {
		return nil, rep, err
	}
	// Templates first: a broken template fails before any feed is fetched.
	r, err := send.NewRenderer(cfg, p.templates)
	if err != nil {
		return nil, rep, err
	}
	is, err := p.issue(ctx, cfg, now, &rep)
	if err != nil {
		return nil, rep, err
	}
	rep.issue = is
	if f == web.PreviewJSON {
		var buf bytes.Buffer
		enc := json.NewEncoder(&buf)
		enc.SetEscapeHTML(false)
		enc.SetIndent("", "  ")
		err := enc.Encode(is)
		rep.shown, rep.shownSections = is.Count(), len(is.Sections)
		return buf.Bytes(), rep, err
	}
	to, err := p.recipient(ctx, cfg, is.ID)
	if err != nil {
		return nil, rep, err
	}
	msg, err := r.Render(is, to)
	if errors.Is(err, render.ErrNothingToSend) {
		return nil, rep, fmt.Errorf("%s chose themes (%s) with no article this week; they would get no mail", to.Email, subscribers.FormatThemes(to.Themes))
	}
	if err != nil {
		return nil, rep, err
	}
	mine := is.For(to.Themes)
	rep.shown, rep.shownSections = mine.Count(), len(mine.Sections)
	switch f {
	case web.PreviewText:
		return []byte(msg.Text), rep, nil
	case web.PreviewEML:
		c, err := send.NewComposer(cfg)
		if err != nil {
			return nil, rep, err
		}
		out, err := c.Compose(msg, now)
		return out.Body, rep, err
	}
	return []byte(msg.HTML), rep, nil
}

// issue is the week's issue as the send would mail it: the frozen one
// once the week's send has begun (its articles are marked as mailed, so a
// fresh build would come out empty), else one built from the feeds now.
func (p *previewer) issue(ctx context.Context, cfg *config.Config, now time.Time, rep *previewReport) (digest.Issue, error) {
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return digest.Issue{}, err
	}
	id := digest.IssueID(digest.WeekEnding(now, time.Duration(cfg.Window), cfg.Location))
	is, rec, frozen, err := pipeline.FrozenIssue(ctx, st, id)
	st.Close()
	if err != nil || frozen {
		rep.frozen = &rec
		// Stored times come back with a bare offset; the editor reads
		// the configured zone's name, as in a fresh build.
		is.Period = digest.Period{Start: is.Period.Start.In(cfg.Location), End: is.Period.End.In(cfg.Location)}
		return is, err
	}
	g, err := p.gather(ctx, cfg, now)
	if err != nil {
		return digest.Issue{}, err
	}
	return pipeline.BuildIssue(cfg.Title, g, cfg.Grouper()), nil
}

// recipient is who the preview is rendered for: with --as, that
// subscriber as they get it (their themes, their signed links); without,
// a reader of every theme.
func (p *previewer) recipient(ctx context.Context, cfg *config.Config, issueID string) (render.Recipient, error) {
	if p.as == "" {
		return render.Recipient{Email: "preview@example.org"}, nil
	}
	st, err := store.Open(ctx, cfg.Store.Path)
	if err != nil {
		return render.Recipient{}, err
	}
	defer st.Close()
	email, err := subscribers.NormalizeEmail(p.as)
	if err != nil {
		return render.Recipient{}, usageError{"--as: " + err.Error()}
	}
	sub, err := st.SubscriberByEmail(ctx, email)
	if errors.Is(err, subscribers.ErrNotFound) {
		return render.Recipient{}, fmt.Errorf("--as %s: not on the list; see gull subscribers list", p.as)
	}
	if err != nil {
		return render.Recipient{}, err
	}
	if sub.Status != subscribers.Active {
		fmt.Fprintf(p.a.stderr, "gull: note: %s is %s and gets no digest; showing what they would get if active\n", sub.Email, sub.Status)
	}
	links, err := p.a.env(0).Links(ctx, cfg, st)
	if err != nil {
		return render.Recipient{}, err
	}
	return send.ReaderOf(send.ThemeIDs(cfg), links, sub, issueID), nil
}

// gather fetches the feeds, or in serve mode reuses the last fetch for a
// while, so that reloading the page to see a template change is instant.
func (p *previewer) gather(ctx context.Context, cfg *config.Config, now time.Time) (pipeline.Gathered, error) {
	key := fmt.Sprint(cfg.Store.Path, cfg.Window, cfg.Location, p.nowFlag, cfg.DigestFeeds())
	if p.caching && key == p.cacheKey && time.Since(p.cacheAt) < gatherTTL {
		return p.cached, nil
	}
	g, err := p.a.gather(ctx, cfg, now)
	if err != nil {
		return g, err
	}
	p.cacheKey, p.cacheAt, p.cached = key, time.Now(), g
	return g, nil
}

// report tells the editor on stderr what the preview holds, and which
// feeds failed: the digest is still built from the others.
func (a *app) report(rep previewReport, out string) {
	is := rep.issue
	if rep.frozen != nil {
		a.reportFrozen(*rep.frozen, is.Period.End.Location())
	} else {
		a.reportFailedFeeds(is.Feeds)
	}
	where := "stdout"
	if out != "-" && out != "" {
		where = out
	}
	fmt.Fprintf(a.stderr, "gull: issue %s (%s – %s) to %s: %s in %s from %s, %d left out (see --format json)\n",
		is.ID, is.Period.Start.Format("2006-01-02 15:04"), is.Period.End.Format("2006-01-02 15:04 MST"), where,
		counted(rep.shown, "article", "articles"), counted(rep.shownSections, "section", "sections"), feedsCounted(is.Feeds), len(is.Dropped))
	if is.Count() == 0 && rep.frozen == nil {
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

// serve runs the preview web server until ctx ends (Ctrl-C).
func (p *previewer) serve(ctx context.Context, addr string) error {
	addr, err := loopbackAddr(addr)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("--serve %s: %w; pick another port", addr, err)
	}
	p.caching = true
	srv := &http.Server{
		Handler: web.Preview(func(ctx context.Context, f web.PreviewFormat) ([]byte, error) {
			body, _, err := p.render(ctx, f)
			return body, err
		}, p.a.log),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      5 * time.Minute, // a first request fetches every feed
		IdleTimeout:       2 * time.Minute,
	}
	fmt.Fprintf(p.a.stderr, "gull: previewing at http://%s/ (also /text, /json, /eml); templates and config are read again on every reload; Ctrl-C stops\n", ln.Addr())
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shut, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shut); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
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
