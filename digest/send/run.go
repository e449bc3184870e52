package send

import (
	"context"
	"errors"
	"io"
)

// Run is one send as `gull send` makes it: it opens the transport, then
// mails a test of the current digest to each address of to, or, without
// them, the week's issue to the list, and writes what it did to w (each
// problem to notes). ok is false when a message failed or was left for
// the next run.
func (s *Sender) Run(ctx context.Context, to []string, w, notes io.Writer) (ok bool, err error) {
	if err := s.Open(ctx); err != nil {
		if ctx.Err() != nil {
			return false, errors.New("stopped while connecting to the mail server; nothing was sent")
		}
		return false, err
	}
	defer s.Close()
	// Ctrl-C or SIGTERM: say what happens now, and how to quit at once.
	defer s.WarnWhenStopping(ctx)()
	if len(to) > 0 {
		return s.Test(ctx, to, w, notes)
	}
	res, err := s.SendIssue(ctx, s.IssueID())
	if err != nil {
		return false, err
	}
	return s.Summarize(w, res), nil
}
