-- PostgreSQL's copy of ../0010_bounces.sql.
ALTER TABLE subscribers ADD COLUMN status_reason TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN bounced_at TEXT COLLATE "C";

CREATE TABLE bounces (
    source        TEXT COLLATE "C" NOT NULL,
    event_id      TEXT COLLATE "C" NOT NULL,
    subscriber_id BIGINT NOT NULL,
    email         TEXT COLLATE "C" NOT NULL,
    issue_id      TEXT COLLATE "C" NOT NULL DEFAULT '',
    kind          TEXT COLLATE "C" NOT NULL CHECK (kind IN ('hard', 'soft', 'complaint', 'delayed')),
    status        TEXT COLLATE "C" NOT NULL DEFAULT '',
    reason        TEXT COLLATE "C" NOT NULL DEFAULT '',
    matched_by    TEXT COLLATE "C" NOT NULL,
    effect        TEXT COLLATE "C" NOT NULL,
    bounced_at    TEXT COLLATE "C" NOT NULL,
    recorded_at   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (source, event_id, subscriber_id)
);
CREATE INDEX bounces_by_subscriber ON bounces (subscriber_id, kind);
CREATE INDEX bounces_by_issue ON bounces (issue_id, kind);
CREATE INDEX deliveries_by_message_id ON deliveries (message_id);
