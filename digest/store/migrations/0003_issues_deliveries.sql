-- Issues and the send ledger. An issue's content is frozen when it is first
-- built, so a rerun (or a restart after a crash) mails the same articles;
-- each (issue, subscriber) has one ledger row that is claimed before its
-- SMTP transaction and marked after it.
CREATE TABLE issues (
    id           TEXT PRIMARY KEY,
    title        TEXT NOT NULL,
    period_start TEXT NOT NULL,
    period_end   TEXT NOT NULL,
    articles     INTEGER NOT NULL,
    body         TEXT NOT NULL,          -- the whole issue as JSON
    status       TEXT NOT NULL CHECK (status IN ('open', 'quiet', 'done')),
    created_at   TEXT NOT NULL,
    done_at      TEXT
);

CREATE TABLE deliveries (
    issue_id      TEXT NOT NULL REFERENCES issues (id),
    -- No foreign key: removing a subscriber must not lose the record of
    -- what was sent to them.
    subscriber_id INTEGER NOT NULL,
    email         TEXT NOT NULL,         -- the address it went (or goes) to
    status        TEXT NOT NULL CHECK (status IN ('pending', 'sending', 'sent', 'failed', 'skipped')),
    attempts      INTEGER NOT NULL DEFAULT 0,
    message_id    TEXT NOT NULL DEFAULT '',
    error         TEXT NOT NULL DEFAULT '',
    updated_at    TEXT NOT NULL,
    sent_at       TEXT,
    PRIMARY KEY (issue_id, subscriber_id)
);
CREATE INDEX deliveries_by_status ON deliveries (issue_id, status);

-- Leases: one holder at a time for work that must not run twice at once
-- (a send). A holder that died is recognised by its expiry, or on the same
-- host by its process being gone.
CREATE TABLE leases (
    name       TEXT PRIMARY KEY,
    holder     TEXT NOT NULL,
    host       TEXT NOT NULL,
    pid        INTEGER NOT NULL,
    expires_at TEXT NOT NULL
);
