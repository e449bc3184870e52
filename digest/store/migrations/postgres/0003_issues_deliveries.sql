-- PostgreSQL's copy of ../0003_issues_deliveries.sql.
CREATE TABLE issues (
    id           TEXT COLLATE "C" PRIMARY KEY,
    title        TEXT COLLATE "C" NOT NULL,
    period_start TEXT COLLATE "C" NOT NULL,
    period_end   TEXT COLLATE "C" NOT NULL,
    articles     INTEGER NOT NULL,
    body         TEXT COLLATE "C" NOT NULL,
    status       TEXT COLLATE "C" NOT NULL CHECK (status IN ('open', 'quiet', 'done')),
    created_at   TEXT COLLATE "C" NOT NULL,
    done_at      TEXT COLLATE "C"
);

CREATE TABLE deliveries (
    issue_id      TEXT COLLATE "C" NOT NULL REFERENCES issues (id),
    subscriber_id BIGINT NOT NULL,
    email         TEXT COLLATE "C" NOT NULL,
    status        TEXT COLLATE "C" NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT COLLATE "C" NOT NULL DEFAULT '',
    error         TEXT COLLATE "C" NOT NULL DEFAULT '',
    updated_at    TEXT COLLATE "C" NOT NULL,
    sent_at       TEXT COLLATE "C",
    PRIMARY KEY (issue_id, subscriber_id)
);
CREATE INDEX deliveries_by_status ON deliveries (issue_id, status);

-- On PostgreSQL a lease is judged by its expiry alone: its holder may be
-- on another machine. host and pid name it for the operator.
CREATE TABLE leases (
    name       TEXT COLLATE "C" PRIMARY KEY,
    holder     TEXT COLLATE "C" NOT NULL,
    host       TEXT COLLATE "C" NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at TEXT COLLATE "C" NOT NULL
);
