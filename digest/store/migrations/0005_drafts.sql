-- Drafts: an issue built before its send for editors to review (issue 16).
-- The draft keeps its latest build; the edits are the log, applied to the
-- build whenever the draft is read, so a rebuild keeps them in force. Every
-- change bumps the version, and (issue_id, version) is the log's key: two
-- changes made against the same version cannot both be written.
CREATE TABLE drafts (
    issue_id   TEXT PRIMARY KEY,
    period_end TEXT NOT NULL,
    version    INTEGER NOT NULL,
    -- 'approved' once frozen into issues by an approval; an issue whose
    -- send has begun reads as sent (see draftState).
    status     TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    body       TEXT NOT NULL,          -- the latest build, before edits, as JSON
    themes     TEXT NOT NULL,          -- the sections an article may move to, JSON
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX drafts_by_period ON drafts (period_end);

-- Every article a build of the draft had, with the version of the build
-- that first had it: articles that came after the first build are new.
CREATE TABLE draft_articles (
    issue_id      TEXT NOT NULL REFERENCES drafts (issue_id),
    article_id    TEXT NOT NULL,
    added_version INTEGER NOT NULL,
    PRIMARY KEY (issue_id, article_id)
);

-- The history: every edit, build, approval and reopening, who and when.
CREATE TABLE draft_log (
    issue_id TEXT NOT NULL REFERENCES drafts (issue_id),
    version  INTEGER NOT NULL,         -- the draft's version this change made
    editor   TEXT NOT NULL,            -- the editor's address; 'gull' for builds
    at       TEXT NOT NULL,
    action   TEXT NOT NULL,            -- hide, show-again, move, pin, unpin, blurb, note, subject, build, rebuild, approve, reopen
    article  TEXT NOT NULL DEFAULT '', -- the article's id
    theme    TEXT NOT NULL DEFAULT '', -- a move's theme
    text     TEXT NOT NULL DEFAULT '', -- a blurb, note or subject
    title    TEXT NOT NULL DEFAULT '', -- the article's title at the time
    detail   TEXT NOT NULL DEFAULT '', -- what a build brought
    PRIMARY KEY (issue_id, version)
);
