-- PostgreSQL's copy of ../0011_archive_coverage.sql.
ALTER TABLE archive_articles ADD COLUMN story TEXT COLLATE "C" NOT NULL DEFAULT '';
CREATE TABLE archive_themes (
    article BIGINT NOT NULL REFERENCES archive_articles (id) ON DELETE CASCADE,
    theme   TEXT COLLATE "C" NOT NULL,
    PRIMARY KEY (theme, article)
);
CREATE INDEX archive_themes_by_article ON archive_themes (article);
DELETE FROM archive_articles;
