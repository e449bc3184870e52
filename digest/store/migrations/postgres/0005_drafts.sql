-- PostgreSQL's copy of ../0005_drafts.sql.
CREATE TABLE drafts (
    issue_id   TEXT PRIMARY KEY,
    period_end TEXT NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT NOT NULL CHECK (status IN ('draft', 'approved')),
    body       TEXT NOT NULL,
    themes     TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX drafts_by_period ON drafts (period_end);

CREATE TABLE draft_articles (
    issue_id      TEXT NOT NULL REFERENCES drafts (issue_id),
    article_id    TEXT NOT NULL,
    added_version INTEGER NOT NULL,
    PRIMARY KEY (issue_id, article_id)
);

CREATE TABLE draft_log (
    issue_id TEXT NOT NULL REFERENCES drafts (issue_id),
    version  INTEGER NOT NULL,
    editor   TEXT NOT NULL,
    at       TEXT NOT NULL,
    action   TEXT NOT NULL,
    article  TEXT NOT NULL DEFAULT '',
    theme    TEXT NOT NULL DEFAULT '',
    text     TEXT NOT NULL DEFAULT '',
    title    TEXT NOT NULL DEFAULT '',
    detail   TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (issue_id, version)
);
