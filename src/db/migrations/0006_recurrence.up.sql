-- Recurring tasks (issue 6, DESIGN §3). A recurring task carries its rule (jsonb: rule,
-- mode, dtstart, exdates, catch_up) and belongs to a series; each instance is its own task.
-- The recurrence consumer creates the next instance; two unique keys make that idempotent:
-- one instance per (series, occurrence) and at most one successor per instance.

CREATE TABLE task_series (
  id         uuid PRIMARY KEY,
  owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  -- active: generates; finished: UNTIL/COUNT reached; stopped: ended by the user.
  status     text NOT NULL DEFAULT 'active' CHECK (status IN ('active', 'finished', 'stopped')),
  created_at timestamptz NOT NULL DEFAULT now(),
  ended_at   timestamptz,
  CONSTRAINT task_series_ended_at_matches_status CHECK ((status = 'active') = (ended_at IS NULL))
);

ALTER TABLE tasks
  ADD COLUMN recurrence       jsonb,
  -- No foreign key to task_series: an instance outlives nothing, but restore re-creates
  -- tasks from events, and the series row only carries status.
  ADD COLUMN series_id        uuid,
  -- The occurrence this instance stands for (an all-day one at 00:00 UTC of its date).
  ADD COLUMN occurrence_at    timestamptz,
  -- The instance whose completion generated this one.
  ADD COLUMN previous_task_id uuid,
  ADD CONSTRAINT tasks_recurrence_requires_due CHECK (recurrence IS NULL OR due_date IS NOT NULL OR due_at IS NOT NULL),
  ADD CONSTRAINT tasks_recurrence_has_series CHECK (recurrence IS NULL OR series_id IS NOT NULL);

CREATE UNIQUE INDEX tasks_series_occurrence_key ON tasks (series_id, occurrence_at) WHERE series_id IS NOT NULL;
CREATE UNIQUE INDEX tasks_previous_task_key ON tasks (previous_task_id) WHERE previous_task_id IS NOT NULL;
