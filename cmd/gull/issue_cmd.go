package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/user"
	"strings"
	"time"

	"gull/digest"
	"gull/digest/send"
	"gull/digest/store"
	"gull/subscribers"
)

// `gull issue`: the editor's loop on the command line, the same operations
// as the desk. Every change is made against the draft's version and
// recorded with who made it; a refused change leaves the draft unchanged.

// issueCommands are the subcommands of issue, for the command table.
func issueCommands() []command {
	edit := func(name, synopsis, short, about string, kind digest.EditKind, nargs int) command {
		return command{name: "issue " + name, synopsis: "issue " + name + " " + synopsis + " [--issue ID] [--as EMAIL] [--version N]",
			short: short, about: about + "\n" + issueWho,
			run: func(ctx context.Context, a *app, args []string) error {
				return runIssueEdit(ctx, a, args, kind, synopsis, nargs)
			}}
	}
	return []command{{
		name:     "issue",
		synopsis: "issue COMMAND",
		short:    "look at and edit the coming issue before it is sent",
		about:    "The editor's loop: look at the coming issue's draft, change it, approve it.",
	}, {
		name:     "issue show",
		synopsis: "issue show [ID] [--format text|json] [--now TIME]",
		short:    "the coming draft, or any issue, with article ids",
		about: `Prints the coming issue's draft (building it from the feeds for the week
ending at --now when there is none yet), or issue ID: its sections with
each article's id and marks (pinned, hidden, new), the subject and the
note. Hidden articles are listed and marked; readers do not get them.`,
		run: runIssueShow,
	},
		edit("hide", "ARTICLE", "keep an article from readers", "Hides the article (its id, or the first six or more characters of it) from readers.", digest.EditHide, 1),
		edit("show-again", "ARTICLE", "undo a hide", "Shows a hidden article to readers again.", digest.EditShowAgain, 1),
		edit("pin", "ARTICLE", "put an article at the top of its section", "Pins the article to the top of its section; the latest pin leads the mail.", digest.EditPin, 1),
		edit("unpin", "ARTICLE", "undo a pin", "Puts a pinned article back at its ranked place.", digest.EditUnpin, 1),
		edit("move", "ARTICLE THEME", "put an article in another section", "Moves the article to the section of theme THEME (an id of the config's themes, or the catch-all's).", digest.EditMove, 2),
		edit("blurb", "ARTICLE TEXT", "replace an article's summary", "Replaces the feed's summary of the article in this issue; \"\" gives the feed's back.", digest.EditBlurb, 2),
		edit("subject", "TEXT", "set the mail's subject", "Sets the subject of the issue's mail, on one line; \"\" gives the default back.", digest.EditSubject, 1),
		command{
			name:     "issue note",
			synopsis: "issue note (TEXT | --file F) [--issue ID] [--as EMAIL] [--version N]",
			short:    "write the editor's introduction",
			about: `Sets the introduction at the top of the mail, in both its parts: paragraphs,
[links](https://...) and *emphasis*; at most 64 KiB. --file reads it from F.
` + issueWho,
			run: runIssueNote,
		}, command{
			name:     "issue approve",
			synopsis: "issue approve [--issue ID] [--as EMAIL] [--version N]",
			short:    "freeze the draft for the send",
			about: `Approves the draft: the send mails it as it is now, edits applied, hidden
articles left out. Approving an approved issue does nothing.
` + issueWho,
			run: func(ctx context.Context, a *app, args []string) error {
				return runIssueState(ctx, a, "issue approve", args)
			},
		}, command{
			name:     "issue reopen",
			synopsis: "issue reopen [--issue ID] [--as EMAIL] [--version N]",
			short:    "take an approved issue back to draft",
			about: `Takes an approved issue back to draft so it can change again. An issue whose
send has begun cannot be reopened.
` + issueWho,
			run: func(ctx context.Context, a *app, args []string) error {
				return runIssueState(ctx, a, "issue reopen", args)
			},
		}, command{
			name:     "issue history",
			synopsis: "issue history [--issue ID]",
			short:    "list the draft's changes: who, when, what",
			about:    "Lists the builds, edits, approvals and reopenings of the draft, oldest first.",
			run:      runIssueHistory,
		}}
}

// issueWho says whom a change is recorded for.
const issueWho = `The change is recorded as made by --as EMAIL, else $GULL_EDITOR, else the
system's user name; --issue ID changes another draft than the coming one;
--version N refuses the change unless the draft is still at version N.`

// issueFlags are the flags of every command that changes a draft.
type issueFlags struct {
	issue, as string
	version   int
}

func addIssueFlags(fs *flag.FlagSet) *issueFlags {
	f := &issueFlags{}
	fs.StringVar(&f.issue, "issue", "", "the issue whose draft to change; default the coming one")
	fs.StringVar(&f.as, "as", "", "who makes the change (recorded in the history); default $GULL_EDITOR, else the user name")
	fs.IntVar(&f.version, "version", 0, "the draft's version the change is made against; default the current one")
	return f
}

// editor is who makes the change: --as, $GULL_EDITOR, the OS user.
func editor(a *app, as string) (string, error) {
	if as != "" {
		e, err := subscribers.NormalizeEmail(as)
		if err != nil {
			return "", usageError{fmt.Sprintf("--as %q: %v", as, err)}
		}
		return e, nil
	}
	if e := strings.TrimSpace(a.getenv("GULL_EDITOR")); e != "" {
		return e, nil
	}
	if u, err := user.Current(); err == nil && u.Username != "" {
		return u.Username, nil
	}
	return "", usageError{"no editor to record the change for; give --as EMAIL or set $GULL_EDITOR"}
}

func runIssueShow(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("issue show")
	format := fs.String("format", "text", "text or json")
	nowFlag := fs.String("now", "", "the time the week ends, when the draft is built now; default now")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if *format != "text" && *format != "json" {
		return usageError{fmt.Sprintf("--format must be text or json, not %q", *format)}
	}
	if len(pos) > 1 {
		return usageError{fmt.Sprintf("issue show takes at most one issue id, got %q", pos)}
	}
	if _, err := parseNow(*nowFlag, time.UTC); err != nil {
		return err
	}
	cfg, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	var d digest.Draft
	if len(pos) == 1 {
		d, err = showByID(ctx, a, st, pos[0], *format, cfg.Location)
		if d.Base.ID == "" {
			return err
		}
	} else {
		now, _ := parseNow(*nowFlag, cfg.Location)
		s := &send.Sender{Env: a.env(0), Config: cfg, Store: st, Now: now,
			FailedFeeds: func(f []digest.FeedReport) { send.ReportFailedFeeds(a.stderr, f) }}
		d, err = s.ComingDraft(ctx)
	}
	if err != nil {
		return issueErr(a, err)
	}
	if *format == "json" {
		return send.WriteIssueJSON(a.stdout, d.Issue())
	}
	send.WriteDraftText(a.stdout, d, cfg.Location)
	return nil
}

// showByID is issue show ID: the issue's draft when it has one; else the
// issue as stored (sent or frozen), printed here, and an empty draft.
func showByID(ctx context.Context, a *app, st *store.Store, id, format string, loc *time.Location) (digest.Draft, error) {
	d, err := st.Draft(ctx, id)
	if !errors.Is(err, digest.ErrNoDraft) {
		return d, err
	}
	is, _, err := st.Issue(ctx, id)
	if errors.Is(err, digest.ErrNoIssue) {
		return d, usageError{fmt.Sprintf("issue %q: no such issue or draft; gull issue show lists the coming one", id)}
	}
	if err != nil {
		return d, err
	}
	if format == "json" {
		return d, send.WriteIssueJSON(a.stdout, is)
	}
	// An issue without a draft had no edits: its text is the draft's
	// with nothing changed.
	send.WriteDraftText(a.stdout, digest.Draft{Base: is, Added: map[string]int{}}, loc)
	return d, nil
}

func runIssueEdit(ctx context.Context, a *app, args []string, kind digest.EditKind, want string, nargs int) error {
	name := "issue " + string(kind)
	fs := a.flagSet(name)
	f := addIssueFlags(fs)
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != nargs {
		return usageError{fmt.Sprintf("%s takes %s (quote a text of several words), got %d arguments", name, want, len(pos))}
	}
	e := digest.Edit{Kind: kind}
	switch kind {
	case digest.EditSubject:
		e.Text = pos[0]
	case digest.EditMove:
		e.Article, e.Theme = pos[0], pos[1]
	case digest.EditBlurb:
		e.Article, e.Text = pos[0], pos[1]
	default:
		e.Article = pos[0]
	}
	return editIssue(ctx, a, f, e)
}

func runIssueNote(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("issue note")
	f := addIssueFlags(fs)
	file := fs.String("file", "", "read the note from this file")
	pos, err := a.parseArgs(fs, args)
	if err != nil {
		return err
	}
	if (*file == "") == (len(pos) != 1) || len(pos) > 1 {
		return usageError{"issue note takes the note as one argument (quote it) or --file F, not both"}
	}
	e := digest.Edit{Kind: digest.EditNote}
	if *file == "" {
		e.Text = pos[0]
	} else {
		b, err := os.ReadFile(*file)
		if err != nil {
			return usageError{fmt.Sprintf("--file %q: %v", *file, errors.Unwrap(err))}
		}
		e.Text = string(b)
	}
	return editIssue(ctx, a, f, e)
}

// editIssue makes edit e to the draft and says what it did.
func editIssue(ctx context.Context, a *app, f *issueFlags, e digest.Edit) error {
	d, v, err := changeIssue(ctx, a, f, func(st *store.Store, id string, version int, who string) (int, error) {
		return st.EditDraft(ctx, id, version, who, e, time.Now())
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "issue %s: %s; version %d\n", d.Base.ID, e.Kind, v)
	return nil
}

// changeIssue makes one change to the draft the flags name, as the editor
// they name, and returns the draft as it was and its new version.
func changeIssue(ctx context.Context, a *app, f *issueFlags, change func(st *store.Store, id string, version int, who string) (int, error)) (digest.Draft, int, error) {
	who, err := editor(a, f.as)
	if err != nil {
		return digest.Draft{}, 0, err
	}
	_, st, err := openList(ctx, a)
	if err != nil {
		return digest.Draft{}, 0, err
	}
	defer st.Close()
	d, v, err := send.ChangeDraft(ctx, st, f.issue, f.version, func(d digest.Draft, version int) (int, error) {
		return change(st, d.Base.ID, version, who)
	})
	if err != nil {
		return d, v, issueErr(a, err)
	}
	return d, v, nil
}

func runIssueState(ctx context.Context, a *app, name string, args []string) error {
	fs := a.flagSet(name)
	f := addIssueFlags(fs)
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	approve := name == "issue approve"
	d, v, err := changeIssue(ctx, a, f, func(st *store.Store, id string, version int, who string) (int, error) {
		if approve {
			return st.ApproveDraft(ctx, id, version, who, time.Now())
		}
		return st.ReopenDraft(ctx, id, version, who, time.Now())
	})
	if err != nil {
		return err
	}
	switch {
	case approve && d.Status == digest.DraftApproved:
		fmt.Fprintf(a.stdout, "issue %s was approved already; nothing changed\n", d.Base.ID)
	case approve:
		fmt.Fprintf(a.stdout, "issue %s approved (version %d): the send mails it as it is now\n", d.Base.ID, v)
	case d.Status == digest.DraftOpen:
		fmt.Fprintf(a.stdout, "issue %s is a draft already; nothing changed\n", d.Base.ID)
	default:
		fmt.Fprintf(a.stdout, "issue %s reopened (version %d): approve it again for the send\n", d.Base.ID, v)
	}
	return nil
}

func runIssueHistory(ctx context.Context, a *app, args []string) error {
	fs := a.flagSet("issue history")
	id := fs.String("issue", "", "the issue whose history to list; default the coming one")
	if err := parseFlags(a, fs, args, ""); err != nil {
		return err
	}
	cfg, st, err := openList(ctx, a)
	if err != nil {
		return err
	}
	defer st.Close()
	d, err := send.FindDraft(ctx, st, *id)
	if err != nil {
		return issueErr(a, err)
	}
	h, err := st.DraftHistory(ctx, d.Base.ID)
	if err != nil {
		return err
	}
	send.WriteHistory(a.stdout, h, cfg.Location)
	return nil
}

// issueErr says a refused change in one line and picks the exit status:
// 2 for what the editor typed (an unknown article or theme, bad text), 1
// for the rest. The draft is unchanged in every case.
func issueErr(a *app, err error) error {
	var stale *digest.StaleDraftError
	var ue usageError
	switch {
	case errors.As(err, &ue):
		return err
	case errors.As(err, &stale):
		fmt.Fprintf(a.stderr, "gull: the draft changed meanwhile (version %d, now %d); look at it with gull issue show and run the command again\n", stale.Loaded, stale.Now)
		return exitError{exitFailure}
	case errors.Is(err, digest.ErrBadEdit):
		fmt.Fprintf(a.stderr, "gull: %v\n", err)
		return exitError{exitUsage}
	case errors.Is(err, digest.ErrDraftClosed), errors.Is(err, digest.ErrNoDraft):
		fmt.Fprintf(a.stderr, "gull: %v\n", err)
		return exitError{exitFailure}
	}
	return err
}
