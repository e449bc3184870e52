-- The archive, rebuilt: a story's coverage by other outlets is archived
-- beside its lead (story names the lead's title; "" for a lead), every
-- theme an article matched is listed in archive_themes (a theme's page
-- lists them, not only its section's), and fold is NFC normalized
-- (digest.FoldSearch). The rows are emptied here and rebuilt from the
-- frozen issues at open (Store.backfillArchive); the delete trigger
-- empties archive_fts with them.
ALTER TABLE archive_articles ADD COLUMN story TEXT NOT NULL DEFAULT '';
CREATE TABLE archive_themes (
    article INTEGER NOT NULL REFERENCES archive_articles (id) ON DELETE CASCADE,
    theme   TEXT NOT NULL,
    PRIMARY KEY (theme, article)
);
CREATE INDEX archive_themes_by_article ON archive_themes (article);
DELETE FROM archive_articles;
