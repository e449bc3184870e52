-- Several senders share one issue's send (on PostgreSQL): each claims
-- batches of pending rows. claimed_by names the sender that holds a row
-- ('' = nobody), claim_expires is when its claim lapses unless renewed
-- (a killed sender's rows return to the pool then), and claim_parked says
-- its sender is done with the row for this run (deferred, or in doubt):
-- the others neither wait for it nor take it while the claim holds.
ALTER TABLE deliveries ADD COLUMN claimed_by TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN claim_expires TEXT NOT NULL DEFAULT '';
ALTER TABLE deliveries ADD COLUMN claim_parked INTEGER NOT NULL DEFAULT 0;
-- The rows still to send, in claim order: a claim reads the head of this
-- index, not every row of a long list already sent.
CREATE INDEX deliveries_open ON deliveries (issue_id, subscriber_id) WHERE status IN ('pending', 'sending');
