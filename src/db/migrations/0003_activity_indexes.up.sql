-- Activity feed filters (GET /api/v1/activity): by type, by correlation id, by time.
-- (task_id and history use events_aggregate_seq_idx from 0001.)
CREATE INDEX events_user_type_seq_idx ON events (user_id, type, seq DESC);
CREATE INDEX events_correlation_idx ON events (correlation_id) WHERE correlation_id IS NOT NULL;
CREATE INDEX events_user_occurred_idx ON events (user_id, occurred_at);
