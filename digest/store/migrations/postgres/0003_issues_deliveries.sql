-- PostgreSQL's copy of ../0003_issues_deliveries.sql.
CREATE TABLE issues (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    articles     INTEGER NOT NULL,
    body         TEXT NOT NULL,
    status       TEXT NOT NULL CHECK (status IN ('open', 'quiet', 'done')),
    created_at   TEXT NOT NULL,
    done_at      TEXT
);

CREATE TABLE deliveries (
    issue_id      TEXT NOT NULL REFERENCES issues (id),
    subscriber_id BIGINT NOT NULL,
    email         TEXT NOT NULL,
    status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    sent_at       TEXT,
    PRIMARY KEY (issue_id, subscriber_id)
);
CREATE INDEX deliveries_by_status ON deliveries (issue_id, status);

-- On PostgreSQL a lease is judged by its expiry alone: its holder may be
-- on another machine. host and pid name it for the operator.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
