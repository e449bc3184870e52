-- State that several `gull run` daemons over one store must agree on.
-- The desk's sign-in links that were used: each works once, whichever
-- daemon the editor's browser reaches. A row is kept until the link
-- expires (15 minutes); after that the link is refused as expired anyway.
CREATE TABLE desk_used_links (
    id         INTEGER PRIMARY KEY,  -- the link's random id (its claims' Subscriber)
    expires_at TEXT NOT NULL
);

-- The mails the editors got about an issue (the daemon's review loop):
-- the draft at its draft time (kind 'review'), the notice of a send held
-- for approval (kind 'held'). Whichever daemon leads the schedule reads
-- them, so a new leader does not mail them again, and its next review
-- mail says what changed since the build the editors last saw.
CREATE TABLE review_mails (
    issue_id TEXT NOT NULL,
    kind     TEXT NOT NULL,   -- review | held
    draft_at TEXT NOT NULL,   -- the draft time it was for
    base     TEXT NOT NULL,   -- the build mailed, as drafts.body
    sent_at  TEXT NOT NULL,
    PRIMARY KEY (issue_id, kind)
);

-- The sign-ups whose confirmation mail is owed: written before the
-- reader's page is answered, deleted once the mail is sent (or the
-- sign-up needed none). holder is the daemon working on it, which renews
-- claimed_until while it lives; a row whose claim lapsed (its daemon died,
-- or stopped with it still queued) is taken by another daemon and mailed.
CREATE TABLE signup_mails (
    id            INTEGER PRIMARY KEY,
    form          TEXT NOT NULL,   -- the sign-up as the form gave it (JSON)
    asked_at      TEXT NOT NULL,
    holder        TEXT NOT NULL,
    claimed_until TEXT NOT NULL
);
CREATE INDEX signup_mails_by_claim ON signup_mails (claimed_until);
