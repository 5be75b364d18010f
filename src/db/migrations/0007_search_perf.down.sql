CREATE INDEX IF NOT EXISTS tasks_find_idx ON tasks USING gin (list_id, status, tag_keys, search_vector);
DROP INDEX IF EXISTS tasks_find_completed_idx;
DROP INDEX IF EXISTS tasks_find_open_idx;
DROP INDEX IF EXISTS tasks_recurring_idx;
DROP TRIGGER IF EXISTS tasks_open_tags_deleted ON tasks;
DROP TRIGGER IF EXISTS tasks_open_tags_updated ON tasks;
DROP TRIGGER IF EXISTS tasks_open_tags_inserted ON tasks;
DROP FUNCTION IF EXISTS tasks_count_open_tags();
DROP TABLE IF EXISTS tag_open_counts;
