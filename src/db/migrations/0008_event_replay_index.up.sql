-- Real-time resume (readVisibleEventsAfter): one user's events after a (tx_id, seq) cursor,
-- in (tx_id, seq) order, from the live log and the archive. Without these the planner
-- walks all of the user's events by seq and sorts them; with them a resume is a range scan.
CREATE INDEX events_user_tx_seq_idx ON events (user_id, tx_id, seq);
CREATE INDEX events_archive_user_tx_seq_idx ON events_archive (user_id, tx_id, seq);
