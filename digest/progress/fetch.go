// Package progress draws what a person at a terminal waits for: the
// fetch of the feeds (collect's hooks), one line redrawn each second. It
// sits at the edge of the flow, beside the command line: the send and the
// preview call it through send.Env.WatchFetch when stderr is a terminal,
// and nothing when it is a log or a pipe.
package progress

import (
	"cmp"
	"fmt"
	"io"
	"slices"
	"strings"
	"sync"
	"time"

	"gull/digest"
	"gull/digest/render"
)

// progressAfter is how long the feeds may keep a person waiting before the
// progress line appears; most fetches are over sooner and show nothing.
const progressAfter = time.Second

// Watch returns the watcher of a fetch for send.Env.WatchFetch: the
// progress line on w, width columns wide, redrawn at each tick of ticks
// (a second's ticker when nil). Its hooks go to collect.Options.Started and
// Done; stop ends the drawing and writes the summary.
func Watch(w io.Writer, width int, ticks <-chan time.Time) func(feeds int) (started func(digest.Feed), done func(digest.FeedResult), stop func()) {
	return func(feeds int) (func(digest.Feed), func(digest.FeedResult), func()) {
		p := newFetchProgress(w, feeds, width)
		return p.started, p.finished, p.watch(ticks)
	}
}

// watch redraws the line at each tick until the returned stop is called.
func (p *fetchProgress) watch(ticks <-chan time.Time) (stop func()) {
	var ticker *time.Ticker
	if ticks == nil {
		ticker = time.NewTicker(time.Second)
		ticks = ticker.C
	}
	// The one goroutine the progress keeps: the fetch blocks the command,
	// and only a timer can speak while it waits for a server that does not.
	quit, exited := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(exited)
		for {
			select {
			case now := <-ticks:
				p.draw(now)
			case <-quit:
				return
			}
		}
	}()
	return func() {
		close(quit)
		<-exited
		if ticker != nil {
			ticker.Stop()
		}
		p.finish(time.Now())
	}
}

// fetchProgress is one line on stderr, redrawn every second while feeds
// are fetched: how many are in and which are still awaited, longest first
// ("fetched 7/10 feeds; still fetching OECD AI (3s), 과기정통부 (2s)..."),
// so a server that hangs until fetch.timeout is not that long a silence.
// When the fetch is over the line gives way to a summary.
type fetchProgress struct {
	w     io.Writer
	width int // the terminal's columns: a line that wrapped could not be redrawn
	total int
	began time.Time

	mu      sync.Mutex
	running map[string]runningFeed // by URL
	done    int
	failed  int
	shown   int // columns of the line on screen; 0 when none is
}

type runningFeed struct {
	name  string
	since time.Time
}

func newFetchProgress(w io.Writer, total, width int) *fetchProgress {
	if width < 20 {
		width = 80
	}
	return &fetchProgress{w: w, width: width, total: total, began: time.Now(), running: map[string]runningFeed{}}
}

func (p *fetchProgress) started(f digest.Feed) {
	// The URL may carry a key in its query; the name shown never does.
	name := cmp.Or(f.Name, digest.RedactURL(f.URL))
	p.mu.Lock()
	defer p.mu.Unlock()
	p.running[f.URL] = runningFeed{name: name, since: time.Now()}
}

func (p *fetchProgress) finished(r digest.FeedResult) {
	p.mu.Lock()
	defer p.mu.Unlock()
	delete(p.running, r.Feed.URL)
	p.done++
	if r.Status == digest.FeedError {
		p.failed++
	}
}

// draw redraws the line as of now, once some feed has kept the fetch
// waiting for progressAfter.
func (p *fetchProgress) draw(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	// Whole seconds, rounded: the ticker began before the first fetch, so
	// its ticks come a little short of each second of a feed's wait.
	waited := func(f runningFeed) time.Duration { return now.Sub(f.since).Round(time.Second) }
	var slow []runningFeed
	for _, f := range p.running {
		if waited(f) >= progressAfter {
			slow = append(slow, f)
		}
	}
	if len(slow) == 0 && p.shown == 0 {
		return
	}
	slices.SortFunc(slow, func(a, b runningFeed) int {
		return cmp.Or(a.since.Compare(b.since), strings.Compare(a.name, b.name))
	})
	line := fmt.Sprintf("fetched %d/%d feeds", p.done, p.total)
	if len(slow) > 0 {
		var names []string
		for _, f := range slow[:min(len(slow), 2)] {
			names = append(names, fmt.Sprintf("%s (%ds)", render.Truncate(f.name, 30), int(waited(f)/time.Second)))
		}
		if more := len(slow) - len(names); more > 0 {
			names = append(names, fmt.Sprintf("%d more", more))
		}
		line += "; still fetching " + strings.Join(names, ", ") + "..."
	}
	p.redraw(line)
}

// redraw writes line over the one on screen: a carriage return, and spaces
// over whatever the old line had beyond the new one.
func (p *fetchProgress) redraw(line string) {
	if render.DisplayWidth(line) > p.width-1 {
		line = render.Truncate(line, p.width-1)
		for render.DisplayWidth(line) > p.width-1 { // wide characters take two columns
			line = render.Truncate(line, len([]rune(line))-1)
		}
	}
	w := render.DisplayWidth(line)
	fmt.Fprintf(p.w, "\r%s%s", line, strings.Repeat(" ", max(0, p.shown-w)))
	p.shown = max(w, 1)
}

// finish replaces the line, if one was shown, with what the fetch came to.
func (p *fetchProgress) finish(now time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.shown == 0 {
		return
	}
	line := fmt.Sprintf("fetched %d %s in %s", p.total, render.Plural(p.total, "feed", "feeds"), now.Sub(p.began).Round(100*time.Millisecond))
	if p.failed > 0 {
		line += fmt.Sprintf("; %d failed", p.failed)
	}
	p.redraw(line)
	fmt.Fprintln(p.w)
	p.shown = 0
}
