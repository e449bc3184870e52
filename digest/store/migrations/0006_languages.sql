-- Readers in their own language: the wording of a reader's mail and pages
-- ('ko' or 'en'; '' = the list's, config `language`), and which articles
-- they get ('ko', 'en' or 'both'; '' = both). An article's language, from
-- its feed's declared language or its text's script ('' = not known).
ALTER TABLE subscribers ADD COLUMN language TEXT NOT NULL DEFAULT '';
ALTER TABLE subscribers ADD COLUMN articles TEXT NOT NULL DEFAULT '';
ALTER TABLE articles ADD COLUMN lang TEXT NOT NULL DEFAULT '';
