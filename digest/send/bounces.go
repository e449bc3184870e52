package send

import (
	"context"
	"errors"
	"fmt"
	"io"
	"time"

	"gull/digest/bouncebox"
	"gull/digest/config"
	"gull/digest/render"
	"gull/digest/store"
	"gull/subscribers"
)

// ErrNoBounceMailbox: the config names no bounce mailbox.
var ErrNoBounceMailbox = errors.New("no bounce mailbox is configured; set bounces.imap (host, username, password_env) or bounces.maildir in the config (see README, Bounces)")

// OpenBounceMailbox opens the mailbox cfg's bounces: names, logged in
// (IMAP, with the password from the environment variable password_env
// names) or checked (Maildir).
func (e Env) OpenBounceMailbox(ctx context.Context, cfg *config.Config) (bouncebox.Mailbox, error) {
	b := cfg.Bounces
	switch b.Mailbox() {
	case "imap":
		m := b.IMAP
		pw := e.Getenv(m.PasswordEnv)
		if pw == "" {
			return nil, fmt.Errorf("bounces.imap: $%s is empty; put the IMAP password of %s in it", m.PasswordEnv, m.Username)
		}
		return bouncebox.DialIMAP(ctx, bouncebox.IMAP{Host: m.Host, Port: m.Port, TLS: m.TLS, Username: m.Username,
			Password: pw, Folder: m.Folder})
	case "maildir":
		return bouncebox.OpenMaildir(b.Maildir)
	}
	return nil, ErrNoBounceMailbox
}

// CheckBounces reads the bounce mailbox once and records what it finds
// in st (bouncebox.Check), with the return path's token verified by the
// link key and cfg's soft limit; o gives the rest (DryRun, Remember).
func (e Env) CheckBounces(ctx context.Context, cfg *config.Config, st *store.Store, o bouncebox.Options) (bouncebox.Result, error) {
	box, err := e.OpenBounceMailbox(ctx, cfg)
	if err != nil {
		return bouncebox.Result{}, err
	}
	defer box.Close()
	policy, err := e.BouncePolicy(ctx, cfg, st)
	if err != nil {
		return bouncebox.Result{}, err
	}
	o.Recorder, o.Signer, o.ReturnPath, o.SoftLimit, o.Now = policy.Recorder, policy.Signer, policy.ReturnPath, policy.SoftLimit, time.Now()
	if o.DryRun {
		// One transaction for the whole check, rolled back: each report
		// sees what the ones before it would have done.
		r, err := st.RehearseBounces(ctx)
		if err != nil {
			return bouncebox.Result{}, err
		}
		defer r.Close()
		o.Recorder = r
	}
	return bouncebox.Check(ctx, box, o)
}

// BouncePolicy is how a bounce from any source (the mailbox, a
// provider's webhook) is recorded in st: the return path's token verified
// by the link key, and cfg's soft limit.
func (e Env) BouncePolicy(ctx context.Context, cfg *config.Config, st *store.Store) (bouncebox.Options, error) {
	links, err := e.Links(ctx, cfg, st)
	if err != nil {
		return bouncebox.Options{}, err
	}
	// The config was checked, so an unset key is the only zero here.
	rp, _ := subscribers.ParseReturnPath(cfg.Mail.ReturnPath)
	return bouncebox.Options{Recorder: st, Signer: links.Signer, ReturnPath: rp, SoftLimit: cfg.Bounces.SoftLimit}, nil
}

// The rates past which the send summary warns: relays and mailbox
// providers suspend or junk a sender past a few percent of bounces or
// 0.1% of complaints (Amazon SES reviews an account at 5% and 0.1%,
// Gmail's sender rules ask for complaints under 0.1% and never 0.3%).
const (
	BounceWarnRate    = 0.02
	ComplaintWarnRate = 0.001
)

// writeBounceRates is the summary's line on what came back of the last
// issue sent before this one, and a warning per rate past its limit.
func writeBounceRates(w io.Writer, c store.BounceCounts) {
	fmt.Fprintf(w, "last issue %s (%d sent): %d bounced for good (%.1f%%), %d soft; %d %s (%.2f%%)\n",
		c.IssueID, c.Sent, c.Hard, 100*c.BounceRate(), c.Soft, c.Spam, render.Plural(c.Spam, "complaint", "complaints"), 100*c.ComplaintRate())
	for _, warning := range BounceWarnings(c) {
		fmt.Fprintf(w, "  warning: %s\n", warning)
	}
}

// BounceWarnings are the warnings on c's rates past their limits (none
// when both are under), each one line: the send summary's and the
// daemon's log's.
func BounceWarnings(c store.BounceCounts) []string {
	var out []string
	if c.BounceRate() > BounceWarnRate {
		out = append(out, fmt.Sprintf("%.1f%% of the last issue bounced for good, above %.0f%%: relays suspend senders past a few percent; those readers are marked bounced, but look at where the addresses came from (an old or bought list?)",
			100*c.BounceRate(), 100*BounceWarnRate))
	}
	if c.ComplaintRate() > ComplaintWarnRate {
		out = append(out, fmt.Sprintf("%.2f%% of the last issue's readers marked it as spam, above %.1f%%: providers junk or suspend senders past that; those readers are unsubscribed, but check that everyone on the list asked for the digest",
			100*c.ComplaintRate(), 100*ComplaintWarnRate))
	}
	return out
}
