-- Alerts fired while backfilling history (src/alerts, issue 6): an alert whose latest signal was
-- already more than `alerts.backfill_minutes` old (event time against the wall clock) when it was
-- written is listed like any other but never takes the walls over, runs no escalation chain and
-- sends no webhook. It becomes live (0) when a recent signal merges into it.
ALTER TABLE alerts ADD COLUMN backfill INTEGER NOT NULL DEFAULT 0;
