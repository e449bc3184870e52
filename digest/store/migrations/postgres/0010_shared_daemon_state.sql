-- State that several `gull run` daemons over one store must agree on.
-- The desk's sign-in links that were used: each works once, whichever
-- daemon the editor's browser reaches. A row is kept until the link
-- expires (15 minutes); after that the link is refused as expired anyway.
CREATE TABLE desk_used_links (
    id         BIGINT PRIMARY KEY,  -- the link's random id (its claims' Subscriber)
    expires_at TEXT COLLATE "C" NOT NULL
);

-- The mails the editors got about an issue (the daemon's review loop):
-- the draft at its draft time (kind 'review'), the notice of a send held
-- for approval (kind 'held'). Whichever daemon leads the schedule reads
-- them, so a new leader does not mail them again, and its next review
-- mail says what changed since the build the editors last saw.
CREATE TABLE review_mails (
    issue_id TEXT COLLATE "C" NOT NULL,
    kind     TEXT COLLATE "C" NOT NULL,   -- review | held
    draft_at TEXT COLLATE "C" NOT NULL,   -- the draft time it was for
    base     TEXT NOT NULL,               -- the build mailed, as drafts.body
    sent_at  TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (issue_id, kind)
);
