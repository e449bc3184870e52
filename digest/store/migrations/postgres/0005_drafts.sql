-- PostgreSQL's copy of ../0005_drafts.sql.
CREATE TABLE drafts (
    issue_id   TEXT COLLATE "C" PRIMARY KEY,
    period_end TEXT COLLATE "C" NOT NULL,
    version    INTEGER NOT NULL,
    status     TEXT COLLATE "C" NOT NULL CHECK (status IN ('draft', 'approved')),
    body       TEXT COLLATE "C" NOT NULL,
    themes     TEXT COLLATE "C" NOT NULL,
    created_at TEXT COLLATE "C" NOT NULL,
    updated_at TEXT COLLATE "C" NOT NULL
);
CREATE INDEX drafts_by_period ON drafts (period_end);

CREATE TABLE draft_articles (
    issue_id      TEXT COLLATE "C" NOT NULL REFERENCES drafts (issue_id),
    article_id    TEXT COLLATE "C" NOT NULL,
    added_version INTEGER NOT NULL,
    PRIMARY KEY (issue_id, article_id)
);

CREATE TABLE draft_log (
    issue_id TEXT COLLATE "C" NOT NULL REFERENCES drafts (issue_id),
    version  INTEGER NOT NULL,
    editor   TEXT COLLATE "C" NOT NULL,
    at       TEXT COLLATE "C" NOT NULL,
    action   TEXT COLLATE "C" NOT NULL,
    article  TEXT COLLATE "C" NOT NULL DEFAULT '',
    theme    TEXT COLLATE "C" NOT NULL DEFAULT '',
    text     TEXT COLLATE "C" NOT NULL DEFAULT '',
    title    TEXT COLLATE "C" NOT NULL DEFAULT '',
    detail   TEXT COLLATE "C" NOT NULL DEFAULT '',
    PRIMARY KEY (issue_id, version)
);
