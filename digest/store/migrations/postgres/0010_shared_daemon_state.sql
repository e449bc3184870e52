-- State that several `gull run` daemons over one store must agree on.
-- The desk's sign-in links that were used: each works once, whichever
-- daemon the editor's browser reaches. A row is kept until the link
-- expires (15 minutes); after that the link is refused as expired anyway.
CREATE TABLE desk_used_links (
    id         BIGINT PRIMARY KEY,  -- the link's random id (its claims' Subscriber)
    expires_at TEXT COLLATE "C" NOT NULL
);
