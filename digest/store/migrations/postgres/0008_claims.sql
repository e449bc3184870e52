-- PostgreSQL's copy of ../0008_claims.sql.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN claim_expires TEXT COLLATE "C" NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN claim_parked INTEGER NOT NULL DEFAULT 0;
CREATE INDEX deliveries_open ON deliveries (issue_id, subscriber_id) WHERE status IN ('pending', 'sending');
