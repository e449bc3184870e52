-- The archive's articles: one row per article of a frozen issue, as
-- readers got it, for the theme pages and the search. Filled when an
-- issue is frozen (store.saveIssue) and, for issues stored before this
-- migration, at open (Store.backfillArchive); an issue reopened by an
-- editor (its row deleted) takes its rows with it. Which of them are
-- shown is decided at query time (publishedSQL): an approved issue
-- whose send has not begun is not published.
CREATE TABLE archive_articles (
    id         INTEGER PRIMARY KEY,
    issue_id   TEXT NOT NULL REFERENCES issues (id) ON DELETE CASCADE,
    pos        INTEGER NOT NULL,         -- the article's place in the issue, 0 first
    article_id TEXT NOT NULL,
    section    TEXT NOT NULL,            -- the theme id of its section
    title      TEXT NOT NULL,
    link       TEXT NOT NULL,
    feed       TEXT NOT NULL,
    summary    TEXT NOT NULL,
    published  TEXT,
    -- fold is what the search reads: title, summary and feed name,
    -- lower-cased by digest.FoldSearch, a line each.
    fold       TEXT NOT NULL
);
CREATE INDEX archive_articles_by_issue ON archive_articles (issue_id, pos);
CREATE INDEX archive_articles_by_section ON archive_articles (section);

-- SQLite's accelerator for the search: a trigram index over fold, so a
-- term of three characters or more ("인공지능" inside "인공지능법") is
-- found without reading every row. It mirrors archive_articles through
-- the triggers; the store's Go code never writes it. Another engine
-- (PostgreSQL: pg_trgm) keeps its own; SearchArchive's answer is the
-- same, since the match itself is checked in Go.
CREATE VIRTUAL TABLE archive_fts USING fts5 (fold, content = 'archive_articles', content_rowid = 'id', tokenize = 'trigram');
CREATE TRIGGER archive_articles_ai AFTER INSERT ON archive_articles BEGIN
    INSERT INTO archive_fts (rowid, fold) VALUES (new.id, new.fold);
END;
CREATE TRIGGER archive_articles_ad AFTER DELETE ON archive_articles BEGIN
    INSERT INTO archive_fts (archive_fts, rowid, fold) VALUES ('delete', old.id, old.fold);
END;
