DROP TABLE IF EXISTS views;

DROP INDEX IF EXISTS tasks_list_status_completed_idx;
DROP INDEX IF EXISTS tasks_list_status_title_idx;
DROP INDEX IF EXISTS tasks_list_status_updated_idx;
DROP INDEX IF EXISTS tasks_list_status_priority_idx;
DROP INDEX IF EXISTS tasks_list_status_due_idx;
DROP INDEX IF EXISTS tasks_find_idx;

DROP TRIGGER IF EXISTS users_time_zone_changed ON users;
DROP FUNCTION IF EXISTS users_refresh_due_keys();
DROP TRIGGER IF EXISTS tasks_due_key ON tasks;
DROP FUNCTION IF EXISTS tasks_set_due_key();
DROP FUNCTION IF EXISTS tasks_due_key(timestamptz, date, text, uuid);
DROP TRIGGER IF EXISTS tags_renamed ON tags;
DROP FUNCTION IF EXISTS tags_refresh_task_tag_names();
DROP TRIGGER IF EXISTS task_tags_removed ON task_tags;
DROP TRIGGER IF EXISTS task_tags_added ON task_tags;
DROP FUNCTION IF EXISTS task_tags_refresh_tag_names();
DROP FUNCTION IF EXISTS task_tag_names(uuid);

ALTER TABLE tasks DROP COLUMN IF EXISTS search_vector;
ALTER TABLE tasks DROP COLUMN IF EXISTS due_key;
ALTER TABLE tasks DROP COLUMN IF EXISTS tag_keys;
ALTER TABLE tasks DROP COLUMN IF EXISTS tag_names;

DROP INDEX IF EXISTS tags_lower_name_idx;
ALTER TABLE tags DROP CONSTRAINT IF EXISTS tags_color_format;
ALTER TABLE tags DROP COLUMN IF EXISTS version;

DROP EXTENSION IF EXISTS btree_gin;
