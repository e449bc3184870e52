-- Feed state for conditional GET, the articles seen (so a 304 still yields
-- the feed's items and undated items keep the time gull first saw them), and
-- the stories already mailed.
CREATE TABLE feeds (
    url           TEXT PRIMARY KEY,
    title         TEXT NOT NULL DEFAULT '',
    etag          TEXT NOT NULL DEFAULT '',
    last_modified TEXT NOT NULL DEFAULT '',
    checked_at    TEXT,
    ok_at         TEXT,
    last_error    TEXT NOT NULL DEFAULT ''
);

CREATE TABLE articles (
    id         TEXT PRIMARY KEY,
    feed_url   TEXT NOT NULL,
    guid       TEXT NOT NULL DEFAULT '',
    title      TEXT NOT NULL DEFAULT '',
    link       TEXT NOT NULL DEFAULT '',
    author     TEXT NOT NULL DEFAULT '',
    summary    TEXT NOT NULL DEFAULT '',
    content    TEXT NOT NULL DEFAULT '',
    categories TEXT NOT NULL DEFAULT '[]',
    published  TEXT,
    first_seen TEXT NOT NULL,
    last_seen  TEXT NOT NULL,
    -- 1 while the item is in the feed's latest copy; a 304 serves these.
    in_feed    INTEGER NOT NULL DEFAULT 1
);
CREATE INDEX articles_by_feed ON articles (feed_url, in_feed);

CREATE TABLE mailed (
    key       TEXT PRIMARY KEY,
    issue_id  TEXT NOT NULL,
    mailed_at TEXT NOT NULL
);
