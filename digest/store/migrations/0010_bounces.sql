-- Bounces and complaints that come back after a send (issue 19): from the
-- bounce mailbox or a provider's webhook, one row per report and reader.
-- The key (source, event_id, subscriber_id) makes a report handled twice
-- change nothing. A reader's status says why gull set it (status_reason)
-- and when they bounced (bounced_at); unsubscribed_at already says when a
-- complaint unsubscribed them.
ALTER TABLE subscribers ADD COLUMN status_reason TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN bounced_at TEXT;

CREATE TABLE bounces (
    source        TEXT NOT NULL,            -- 'mailbox', or the provider's name
    event_id      TEXT NOT NULL,            -- the bounce's own Message-ID, the provider's event id
    -- No foreign key, as for deliveries: removing a reader keeps the record.
    subscriber_id INTEGER NOT NULL,
    email         TEXT NOT NULL,            -- the reader's address then
    issue_id      TEXT NOT NULL DEFAULT '', -- the issue whose copy bounced
    kind          TEXT NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'delayed')),
    status        TEXT NOT NULL DEFAULT '', -- the enhanced status code, 5.1.1
    reason        TEXT NOT NULL DEFAULT '',
    matched_by    TEXT NOT NULL,            -- id, message-id or address
    effect        TEXT NOT NULL,            -- what it did: bounced, unsubscribed, counted, none
    bounced_at    TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    PRIMARY KEY (source, event_id, subscriber_id)
);
CREATE INDEX bounces_by_subscriber ON bounces (subscriber_id, kind);
CREATE INDEX bounces_by_issue ON bounces (issue_id, kind);
-- A bounce that quotes the original Message-ID finds its ledger row.
CREATE INDEX deliveries_by_message_id ON deliveries (message_id);
