-- The articles stored before gull knew languages have lang '' (0006 added
-- the column with no value), which reads as "not known": a reader of
-- Korean articles only would get them all, English ones too. They are
-- marked '?', "not yet detected", and the same transaction gives each the
-- language of its text's script in Go (digest.DetectLang; see
-- Store.detectLangs), since SQL cannot tell Hangul from Latin. An article
-- collect stores from now on has its language, or '' when none can be told.
UPDATE articles SET lang = '?' WHERE lang = '';
