package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/mail"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gull/digest/config"
	"gull/digest/deliver"
	"gull/digest/send"
	"gull/digest/web"
	"gull/subscribers"
)

var previewFormats = []string{"html", "text", "eml", "json"}

func runPreview(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("preview")
	p := &send.Previewer{Notes: a.stderr}
	fs.StringVar(&p.Week, "now", "", "the time the week ends; default now")
	fs.StringVar(&p.As, "as", "", "render as this subscriber gets it")
	fs.StringVar(&p.Lang, "lang", "", "the mail's language, ko or en; default the --as subscriber's, else the config's")
	format := fs.String("format", "html", "html, text, eml or json")
	out := fs.String("out", "-", "file to write, or - for stdout")
	serve := fs.String("serve", "", "serve the preview on this loopback address, e.g. 127.0.0.1:8081")
	fs.StringVar(&p.Templates, "templates", "", "folder whose templates override the embedded ones")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	if !slices.Contains(previewFormats, *format) {
		return usageError{fmt.Sprintf("--format must be one of %s, not %q", strings.Join(previewFormats, ", "), *format)}
	}
	if _, err := parseNow(p.Week, time.UTC); err != nil { // the form; render reads it in the config's zone
		return err
	}
	var err error
	if p.Lang, err = subscribers.ParseLanguage(p.Lang); err != nil {
		return usageError{"--lang: " + err.Error()}
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
		return servePreview(ctx, a.stderr, *serve, p, load)
	}
	body, rep, err := p.Render(ctx, web.PreviewFormat(*format), load)
	if err != nil {
		return err
	}
	if err := writeOut(*out, body, a); err != nil {
		return err
	}
	rep.Write(a.stderr, *out)
	return nil
}

// writeOut writes body to stdout or to the file --out names, new ones
// world-readable.
func writeOut(out string, body []byte, a *app) error {
	return writeOutPerm(out, body, a, 0o644)
}

// writeOutPerm is writeOut making a new file with perm (deliver.WriteFile
// says how a file that is there is replaced).
func writeOutPerm(out string, body []byte, a *app, perm os.FileMode) error {
	if out == "-" || out == "" {
		_, err := a.stdout.Write(body)
		return err
	}
	dir := filepath.Dir(out)
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return usageError{fmt.Sprintf("--out %s: the folder %s does not exist; create it or write elsewhere", out, dir)}
	}
	if err := deliver.WriteFile(out, body, perm); err != nil {
		return fmt.Errorf("--out %s: %w", out, err)
	}
	return nil
}

// servePreview runs the preview web server until ctx ends (Ctrl-C).
func servePreview(ctx context.Context, w io.Writer, addr string, p *send.Previewer, load func() (*config.Config, time.Time, error)) error {
	local, err := web.LoopbackAddr(addr)
	if err != nil {
		return usageError{fmt.Sprintf("--serve %q: %v", addr, err)}
	}
	ln, err := net.Listen("tcp", local)
	if err != nil {
		return fmt.Errorf("--serve %s: %w; pick another port", local, err)
	}
	fmt.Fprintf(w, "gull: previewing at http://%s/ (also /text, /json, /eml); templates and config are read again on every reload; Ctrl-C stops\n", ln.Addr())
	return p.Serve(ctx, ln, load)
}
