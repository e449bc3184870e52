package daemon

import (
	"context"
	"time"

	"gull/digest/bouncebox"
)

// bounceCheck is how often the daemon reads the bounce mailbox (and once
// at start): a reader who bounced hard or complained gets nothing more
// within minutes, and a check of an IMAP folder costs a login and a
// search. A variable, so tests can shorten it.
var bounceCheck = 5 * time.Minute

// bounceLoop reads the bounce mailbox at start and every bounceCheck,
// with the config in force (a reload may add or change the mailbox).
func (d *Daemon) bounceLoop(ctx context.Context) {
	t := time.NewTicker(bounceCheck)
	defer t.Stop()
	for {
		d.checkBounces(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// checkBounces is one check (send.Env.CheckBounces). The log names
// readers by id, never by address: a bounce's reason often quotes the
// address, so it stays out too.
func (d *Daemon) checkBounces(ctx context.Context) {
	cfg := d.config().cfg
	if cfg.Bounces.Mailbox() == "" || ctx.Err() != nil {
		return
	}
	ctx, cancel := context.WithTimeout(ctx, bounceCheck)
	defer cancel()
	res, err := d.env.CheckBounces(ctx, cfg, d.st, bouncebox.Options{Remember: d.bouncesLeft})
	// What a check did before an error (the IMAP server went away) is
	// recorded: logged and counted as well.
	for _, l := range res.Handled {
		if l.Outcome.Counted() {
			d.metrics.CountBounce(string(l.Bounce.Kind))
		}
		d.log.Info("bounce handled", "message", l.Message, "subscriber_id", l.Outcome.Subscriber.ID, "kind", string(l.Bounce.Kind),
			"status", l.Bounce.Status, "matched_by", l.Outcome.MatchedBy, "issue", l.Outcome.IssueID, "effect", string(l.Outcome.Effect))
	}
	if err != nil {
		if ctx.Err() == nil {
			d.log.Error("could not read the bounce mailbox; trying again in a few minutes", "mailbox", cfg.Bounces.Mailbox(),
				"handled", res.Messages, "err", err)
		}
		return
	}
	for _, e := range res.Errs {
		d.log.Error("bounce message not handled; tried again at the next check", "err", e)
	}
	if res.Messages > 0 || len(res.Errs) > 0 {
		d.log.Info("bounce mailbox checked", "handled", res.Messages, "left_alone", res.LeftTotal())
	}
}
