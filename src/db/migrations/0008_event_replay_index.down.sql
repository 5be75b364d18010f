DROP INDEX IF EXISTS events_archive_user_tx_seq_idx;
DROP INDEX IF EXISTS events_user_tx_seq_idx;
