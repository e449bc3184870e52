-- PostgreSQL's copy of ../0006_languages.sql.
ALTER TABLE subscribers ADD COLUMN language TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN articles TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN lang TEXT COLLATE "C" NOT NULL DEFAULT '';
