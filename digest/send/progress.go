package send

import (
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/schollz/progressbar/v3"

	"gull/digest"
	"gull/digest/pipeline"
)

// sendProgress shows the send's progress: a bar on a terminal, a log line
// every few seconds and one per problem otherwise.
type sendProgress struct {
	log   *slog.Logger
	term  io.Writer // the terminal the bar is drawn on; nil: the log
	id    string
	bar   *progressbar.ProgressBar
	total int
	done  int
	last  time.Time
	began time.Time
}

func (s *Sender) progress(is digest.Issue) *sendProgress {
	p := &sendProgress{log: s.Log, id: is.ID}
	if !s.Unattended {
		p.term = s.Bar
	}
	return p
}

func (p *sendProgress) start(total, inDoubt int) {
	p.total, p.began, p.last = total, time.Now(), time.Now()
	if p.term != nil && total > 0 {
		p.bar = progressbar.NewOptions(total,
			progressbar.OptionSetWriter(p.term),
			progressbar.OptionSetDescription("sending "+p.id),
			progressbar.OptionShowCount(),
			progressbar.OptionShowIts(),
			progressbar.OptionSetItsString("msg"),
			progressbar.OptionSetPredictTime(true),
			progressbar.OptionThrottle(200*time.Millisecond),
			progressbar.OptionClearOnFinish(),
		)
		return
	}
	p.log.Info("sending", "issue", p.id, "readers", total, "in_doubt", inDoubt)
}

func (p *sendProgress) outcome(o pipeline.Outcome) {
	p.done++
	if o.Err != nil {
		msg := "left for the next run"
		if o.Delivery.Status == digest.DeliveryFailed {
			msg = "failed"
		}
		if p.bar != nil {
			p.bar.Clear()
		}
		p.log.Warn(msg, "to", o.Delivery.Email, "err", o.Delivery.Error)
	}
	if p.bar != nil {
		p.bar.Add(1)
		return
	}
	if time.Since(p.last) >= 5*time.Second {
		p.last = time.Now()
		p.log.Info("progress", "issue", p.id, "done", p.done, "of", p.total,
			"per_second", fmt.Sprintf("%.0f", float64(p.done)/time.Since(p.began).Seconds()))
	}
}

func (p *sendProgress) finish() {
	if p.bar != nil {
		p.bar.Finish()
	}
}
