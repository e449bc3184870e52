package send

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"slices"
	"strings"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/collect"
	"gull/digest/config"
	"gull/digest/deliver"
	"gull/digest/pipeline"
	"gull/digest/render"
	"gull/digest/store"
	"gull/digest/web"
	"gull/subscribers"
)

// Env is what a send takes from the process it runs in. The command
// line fills it; the daemon passes its own on to each run.
type Env struct {
	// Getenv reads the environment: secrets come only from there.
	Getenv func(string) string
	Log    *slog.Logger
	// Grace is how long gull may take from SIGTERM or Ctrl-C to exit.
	Grace time.Duration
	// Backoff is the wait between tries of a temporary failure; nil is
	// deliver's default. Tests shorten it.
	Backoff func(attempt int) time.Duration
	// WatchFetch, when set, is told of a fetch of the feeds as it goes
	// (a progress line on a terminal): it returns the hooks for each
	// feed's start and end, and the function to call when it is over.
	WatchFetch func(feeds int) (started func(digest.Feed), done func(digest.FeedResult), stop func())
	// Lease is how long a claim on the store (a send's, the daemon's
	// leadership, a send's ledger rows) lasts without renewal; 0 is Lease.
	// $GULL_LEASE sets it (LeaseFromEnv).
	Lease time.Duration
}

// LeaseFromEnv is the lease $GULL_LEASE sets: how soon another daemon takes
// over the schedule, and a send's readers, after a daemon dies without a
// word (SIGKILL, a lost machine). Shorter hands over sooner and renews
// more often (at a third of it).
func LeaseFromEnv(getenv func(string) string) (time.Duration, error) {
	v := getenv("GULL_LEASE")
	if v == "" {
		return Lease, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 10*time.Minute {
		return 0, fmt.Errorf("$GULL_LEASE %q: give a duration from 1s to 10m, such as 30s (another daemon or sender takes over that long after one dies); or unset it for %v", v, Lease)
	}
	return d, nil
}

// LeaseTTL is e's lease, or Lease when unset.
func (e Env) LeaseTTL() time.Duration {
	if e.Lease > 0 {
		return e.Lease
	}
	return Lease
}

// DefaultGrace bounds the time from SIGTERM (or Ctrl-C) to exit: the
// messages on the wire get half of it to finish and be recorded, and no
// hung mail server holds gull longer. The unit in deploy/ gives 60 s
// before SIGKILL, as should docker's --stop-timeout.
const DefaultGrace = 30 * time.Second

// StopGrace is the grace $GULL_STOP_GRACE sets, for a supervisor that
// waits less than DefaultGrace before SIGKILL (and for tests).
func StopGrace(getenv func(string) string) (time.Duration, error) {
	v := getenv("GULL_STOP_GRACE")
	if v == "" {
		return DefaultGrace, nil
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second || d > 10*time.Minute {
		return 0, fmt.Errorf("$GULL_STOP_GRACE %q: give a duration from 1s to 10m, such as 20s, shorter than your supervisor's wait before SIGKILL; or unset it for %v", v, DefaultGrace)
	}
	return d, nil
}

// NewRenderer parses the templates: the embedded ones, overridden by dir
// (preview --templates) or else the config's templates folder.
func NewRenderer(cfg *config.Config, dir string) (*render.Renderer, error) {
	names := map[string]string{cfg.Other.ID: cfg.Other.Name.In(cfg.Language)}
	both := map[string]digest.Text{cfg.Other.ID: cfg.Other.Name.Text}
	for _, t := range cfg.Themes {
		names[t.ID] = t.Name.In(cfg.Language)
		both[t.ID] = t.Name.Text
	}
	return render.New(render.Options{
		Dir:        cmp.Or(dir, cfg.Templates),
		Lang:       cfg.Language,
		Location:   cfg.Location,
		BaseURL:    cfg.HTTP.BaseURL,
		ThemeNames: names,
		Names:      both,
		Title:      cfg.Title.Text,
		SendQuiet:  cfg.QuietWeek == "send",
	})
}

// NewComposer makes messages as the config says: its sender and list,
// DKIM-signed when mail.dkim is set. The preview's .eml and the sends
// share it, so the preview shows the very bytes that go out.
func NewComposer(cfg *config.Config) (deliver.Composer, error) {
	c := deliver.Composer{Envelope: deliver.Envelope{From: cfg.Mail.From, ReplyTo: cfg.Mail.ReplyTo, ListName: cfg.Title.In(cfg.Language)}}
	if d := cfg.Mail.DKIM; d.Domain != "" {
		key, err := deliver.LoadDKIM(d.Domain, d.Selector, d.KeyFile)
		if err != nil {
			return c, err
		}
		c.DKIM = key
	}
	return c, nil
}

// SMTPOptions is mail.smtp as deliver takes it, with the password from
// the environment variable the config names.
func (e Env) SMTPOptions(cfg *config.Config) (deliver.SMTPOptions, error) {
	sc := cfg.Mail.SMTP
	from, err := mail.ParseAddress(cfg.Mail.From)
	if err != nil {
		return deliver.SMTPOptions{}, fmt.Errorf("mail.from %q: %w", cfg.Mail.From, err)
	}
	return deliver.SMTPOptions{
		From: from.Address, Host: sc.Host, Port: sc.Port, TLS: sc.TLS, Username: sc.Username, Password: e.Getenv(sc.PasswordEnv),
		Connections: sc.Connections, Rate: sc.Rate, Logger: e.Log, Backoff: e.Backoff,
		// Messages on the wire get half the grace to finish once gull is
		// stopping; the rest is for recording them and closing.
		Grace: e.Grace / 2,
	}, nil
}

// Links signs subscriber links with the key in $secret_env, or else the
// random key kept in the store (made on first use).
func (e Env) Links(ctx context.Context, cfg *config.Config, st *store.Store) (web.Links, error) {
	key := []byte(e.Getenv(cfg.SecretEnv))
	if len(key) == 0 {
		var err error
		if key, err = st.TokenSecret(ctx); err != nil {
			return web.Links{}, err
		}
	} else if len(key) < 16 {
		return web.Links{}, fmt.Errorf("$%s is %d characters; a link secret needs at least 16 (e.g. the output of openssl rand -hex 32)", cfg.SecretEnv, len(key))
	}
	signer, err := subscribers.NewSigner(key)
	if err != nil {
		return web.Links{}, err
	}
	return web.Links{BaseURL: strings.TrimRight(cfg.HTTP.BaseURL, "/"), Signer: signer}, nil
}

// Gather runs the collect stage of the pipeline on the config's feeds,
// for the week ending at now.
func (e Env) Gather(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) (pipeline.Gathered, error) {
	return e.gather(ctx, cfg, st, now, pipeline.Gather)
}

// GatherCheck is Gather for `feeds check` (pipeline.GatherCheck): the
// articles outside the week come back without their text.
func (e Env) GatherCheck(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time) (pipeline.Gathered, error) {
	return e.gather(ctx, cfg, st, now, pipeline.GatherCheck)
}

func (e Env) gather(ctx context.Context, cfg *config.Config, st *store.Store, now time.Time,
	run func(context.Context, pipeline.Fetcher, pipeline.FeedStore, []digest.Feed, digest.Period, time.Time) (pipeline.Gathered, error)) (pipeline.Gathered, error) {
	opts := collect.Options{
		Timeout:     time.Duration(cfg.Fetch.Timeout),
		Concurrency: cfg.Fetch.Concurrency,
		MaxBytes:    int64(cfg.Fetch.MaxBytes),
		UserAgent:   cfg.Fetch.UserAgent,
		Logger:      e.Log,
	}
	if e.WatchFetch != nil && len(cfg.Feeds) > 0 {
		var stop func()
		opts.Started, opts.Done, stop = e.WatchFetch(len(cfg.Feeds))
		defer stop()
	}
	c := collect.New(opts)
	period := digest.WeekEnding(now, time.Duration(cfg.Window), cfg.Location)
	// The store dates what it sees by the clock, never by --now: an
	// undated article is first seen when it is, and a preview of another
	// week (past or future) must not date it so that the real send of
	// this week leaves it out.
	seen := time.Now()
	return run(ctx, c, st, cfg.DigestFeeds(), period, seen)
}

// LogFailedFeeds is for fetches nobody watches: one warning each, with
// the items of its last good copy that stand in.
func (e Env) LogFailedFeeds(feeds []digest.FeedResult) {
	for _, f := range feeds {
		if f.Status == digest.FeedError {
			e.Log.Warn("feed failed", "feed", cmp.Or(f.Feed.Name, f.Title, digest.RedactURL(f.Feed.URL)), "err", f.Err, "fallback_items", len(f.Articles))
		}
	}
}

// ThemeIDs are what a subscriber may choose: the themes and the catch-all.
func ThemeIDs(cfg *config.Config) []string {
	ids := make([]string, 0, len(cfg.Themes)+1)
	for _, t := range cfg.Themes {
		ids = append(ids, t.ID)
	}
	return append(ids, cfg.Other.ID)
}

// knownThemes is the reader's choice of themes in config order (ids), so
// readers who chose the same themes in another order share one rendered
// frame; ids the config no longer has are dropped, and a reader left with
// none gets every theme rather than nothing.
func knownThemes(ids, themes []string) []string {
	var out []string
	for _, id := range ids {
		if slices.Contains(themes, id) {
			out = append(out, id)
		}
	}
	return out
}

// ReaderOf is sub as they get the issue: the themes of theirs the config
// still has (ids), their language and article languages, and their own
// signed links.
func ReaderOf(ids []string, links web.Links, sub subscribers.Subscriber, issueID string) render.Recipient {
	return render.Recipient{
		Email: sub.Email, Name: sub.Name, Themes: knownThemes(ids, sub.Themes),
		Lang: sub.Language, Articles: sub.Articles,
		UnsubscribeURL: links.Unsubscribe(sub, issueID), PreferencesURL: links.Preferences(sub),
	}
}

// HoldLease renews l every third of ttl until stop is called. When
// another gull has taken it (ours lapsed, the machine slept), lost is
// called, if given, and renewing ends: sending on beside the new holder
// would mail the same readers twice.
func HoldLease(l *store.Lease, ttl time.Duration, log *slog.Logger, lost func(error)) (stop func()) {
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		t := time.NewTicker(ttl / 3)
		defer t.Stop()
		for {
			select {
			case <-done:
				return
			case <-t.C:
				err := l.Renew(context.Background(), time.Now())
				if errors.Is(err, store.ErrLeaseLost) && lost != nil {
					lost(err)
					return
				}
				if err != nil {
					log.Warn("could not renew a claim on the store", "err", err)
				}
			}
		}
	})
	return func() { close(done); wg.Wait() }
}
