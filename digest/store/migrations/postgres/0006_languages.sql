-- PostgreSQL's copy of ../0006_languages.sql.
ALTER TABLE subscribers ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN articles TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN lang TEXT NOT NULL DEFAULT '';
