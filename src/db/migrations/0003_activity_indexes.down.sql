DROP INDEX IF EXISTS events_user_occurred_idx;
DROP INDEX IF EXISTS events_correlation_idx;
DROP INDEX IF EXISTS events_user_type_seq_idx;
