DROP INDEX IF EXISTS tasks_previous_task_key;
DROP INDEX IF EXISTS tasks_series_occurrence_key;
ALTER TABLE tasks
  DROP CONSTRAINT IF EXISTS tasks_recurrence_has_series,
  DROP CONSTRAINT IF EXISTS tasks_recurrence_requires_due,
  DROP COLUMN IF EXISTS previous_task_id,
  DROP COLUMN IF EXISTS occurrence_at,
  DROP COLUMN IF EXISTS series_id,
  DROP COLUMN IF EXISTS recurrence;
DROP TABLE IF EXISTS task_series;
