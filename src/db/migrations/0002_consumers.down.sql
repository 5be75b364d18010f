DROP TABLE IF EXISTS events_archive;
DROP TABLE IF EXISTS processed_events;
DROP TABLE IF EXISTS dead_letters;
DROP TABLE IF EXISTS consumer_checkpoints;
