-- Subscribers: who gets the digest. AUTOINCREMENT so an id is never given
-- to a second person after a removal: signed links carry the id.
CREATE TABLE subscribers (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    email           TEXT NOT NULL,
    email_key       TEXT NOT NULL UNIQUE,   -- the address lower-cased: one row per person
    name            TEXT NOT NULL DEFAULT '',
    status          TEXT NOT NULL CHECK (status IN ('pending', 'active', 'unsubscribed', 'bounced')),
    themes          TEXT NOT NULL DEFAULT '',  -- chosen theme ids, space-separated; '' = all
    created_at      TEXT NOT NULL,
    confirmed_at    TEXT,
    unsubscribed_at TEXT,
    updated_at      TEXT NOT NULL
);
CREATE INDEX subscribers_status ON subscribers (status);

-- Small settings gull makes for itself, such as the link-signing key when
-- secret_env is unset.
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
