-- Issue numbers (digest.Issue.Number) count the frozen issues in the order
-- they were frozen. The count must not read the rows: their body, stored
-- before status and created_at, runs to hundreds of KB, and walking it
-- for every issue of the archive made the index page take seconds.
CREATE INDEX IF NOT EXISTS issues_by_freeze ON issues (status, created_at, id);
