-- PostgreSQL's copy of ../0004_issue_numbers.sql.
CREATE INDEX IF NOT EXISTS issues_by_freeze ON issues (status, created_at, id);
