-- Find anything (issue 5): full-text search, filters, sorting, tag management, saved views.
-- Four derived columns on tasks, kept by the database itself so that no writer (task
-- service, tag rename, restore, recurrence, the bulk seed) can forget them:
--   tag_names      the task's tag names, so that the search vector can include them;
--   tag_keys       the same names lowercased, as an array: tag filters test the row itself;
--   due_key        one sortable due moment for all-day and timed tasks;
--   search_vector  generated: title (A), description (B), tag names (C), English stemming.
-- See docs/adr/0005-search.md for the choices and docs/search-explain.md for the plans.

-- GIN over plain columns (uuid, text) next to the tsvector: one index narrows a search to
-- one list before touching the heap. A trusted extension (PostgreSQL 13+), in core contrib.
CREATE EXTENSION IF NOT EXISTS btree_gin;

-- Tags and views are aggregates with their own event history: they need a version.
ALTER TABLE tags ADD COLUMN version integer NOT NULL DEFAULT 1 CHECK (version >= 1);
ALTER TABLE tags ADD CONSTRAINT tags_color_format CHECK (color IS NULL OR color ~ '^#[0-9a-f]{6}$');
-- Tag filters match by name on the task's own tags; this lets the planner start from the tag.
CREATE INDEX tags_lower_name_idx ON tags (lower(name));

ALTER TABLE tasks ADD COLUMN tag_names text NOT NULL DEFAULT '';
ALTER TABLE tasks ADD COLUMN tag_keys text[] NOT NULL DEFAULT '{}';
-- The due moment to sort by: due_at, or an all-day due_date at the start of that day in the
-- task's zone (else its list owner's). Filters stay exact on due_at/due_date in the reader's
-- zone and use due_key only as a widened, indexable range (src/search/conditions.ts).
ALTER TABLE tasks ADD COLUMN due_key timestamptz;
ALTER TABLE tasks ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
  setweight(to_tsvector('english'::regconfig, title), 'A')
  || setweight(to_tsvector('english'::regconfig, description), 'B')
  || setweight(to_tsvector('english'::regconfig, tag_names), 'C')
) STORED;

-- Tag names in display order (case-insensitive, code-point order: compareTagNames), and
-- the lowercased names.
CREATE FUNCTION task_tag_names(task uuid, OUT names text, OUT keys text[]) LANGUAGE sql STABLE AS $$
  SELECT coalesce(string_agg(tags.name, ' ' ORDER BY lower(tags.name) COLLATE "C", tags.name COLLATE "C"), ''),
         coalesce(array_agg(lower(tags.name) ORDER BY lower(tags.name) COLLATE "C", tags.name COLLATE "C"), '{}')
  FROM task_tags JOIN tags ON tags.id = task_tags.tag_id
  WHERE task_tags.task_id = task
$$;

-- Statement-level, with the changed rows as a transition table: a task given three tags in
-- one INSERT is rewritten once, and a bulk insert that already set tag_names writes nothing.
-- (Transition tables allow one event per trigger, hence two triggers on one function.)
CREATE FUNCTION task_tags_refresh_tag_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET tag_names = fresh.names, tag_keys = fresh.keys
  FROM (SELECT c.task_id, t.names, t.keys
        FROM (SELECT DISTINCT task_id FROM changed) c, LATERAL task_tag_names(c.task_id) t) fresh
  WHERE tasks.id = fresh.task_id AND (tasks.tag_names, tasks.tag_keys) IS DISTINCT FROM (fresh.names, fresh.keys);
  RETURN NULL;
END;
$$;
CREATE TRIGGER task_tags_added AFTER INSERT ON task_tags
  REFERENCING NEW TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION task_tags_refresh_tag_names();
CREATE TRIGGER task_tags_removed AFTER DELETE ON task_tags
  REFERENCING OLD TABLE AS changed FOR EACH STATEMENT EXECUTE FUNCTION task_tags_refresh_tag_names();

CREATE FUNCTION tags_refresh_task_tag_names() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET tag_names = t.names, tag_keys = t.keys
  FROM task_tags, LATERAL task_tag_names(task_tags.task_id) t
  WHERE task_tags.tag_id = NEW.id AND tasks.id = task_tags.task_id;
  RETURN NULL;
END;
$$;
CREATE TRIGGER tags_renamed AFTER UPDATE OF name ON tags
  FOR EACH ROW WHEN (OLD.name IS DISTINCT FROM NEW.name) EXECUTE FUNCTION tags_refresh_task_tag_names();

CREATE FUNCTION tasks_due_key(due_instant timestamptz, due_day date, zone text, list uuid) RETURNS timestamptz
LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN due_instant IS NOT NULL THEN due_instant
    WHEN due_day IS NOT NULL THEN due_day::timestamp AT TIME ZONE coalesce(
      zone,
      (SELECT users.time_zone FROM lists JOIN users ON users.id = lists.owner_id WHERE lists.id = list),
      'UTC')
  END
$$;

CREATE FUNCTION tasks_set_due_key() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  NEW.due_key := tasks_due_key(NEW.due_at, NEW.due_date, NEW.time_zone, NEW.list_id);
  RETURN NEW;
END;
$$;
CREATE TRIGGER tasks_due_key BEFORE INSERT OR UPDATE OF due_at, due_date, time_zone, list_id ON tasks
  FOR EACH ROW EXECUTE FUNCTION tasks_set_due_key();

-- A user who moves to another zone: their zone-less all-day tasks start their day elsewhere.
CREATE FUNCTION users_refresh_due_keys() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  UPDATE tasks SET due_key = tasks.due_date::timestamp AT TIME ZONE NEW.time_zone
  WHERE tasks.list_id IN (SELECT id FROM lists WHERE owner_id = NEW.id)
    AND tasks.due_date IS NOT NULL AND tasks.time_zone IS NULL;
  RETURN NULL;
END;
$$;
CREATE TRIGGER users_time_zone_changed AFTER UPDATE OF time_zone ON users
  FOR EACH ROW WHEN (OLD.time_zone IS DISTINCT FROM NEW.time_zone) EXECUTE FUNCTION users_refresh_due_keys();

-- Existing rows.
UPDATE tasks SET (tag_names, tag_keys) = (SELECT names, keys FROM task_tag_names(tasks.id)),
  due_key = tasks_due_key(due_at, due_date, time_zone, list_id);

-- One index per filter and sort (EXPLAIN output in docs/search-explain.md). Every list query
-- runs per accessible list and status (src/search/task-query.ts), so each index leads with
-- (list_id, status) and ends with id, the tie break: a page is an index range, either way.
-- Search and tag filters: the list, status, tag and lexeme posting lists intersect inside
-- one GIN index, so a word common across all users still costs only this list's matches.
CREATE INDEX tasks_find_idx ON tasks USING gin (list_id, status, tag_keys, search_vector);
CREATE INDEX tasks_list_status_due_idx ON tasks (list_id, status, due_key, id);
CREATE INDEX tasks_list_status_priority_idx ON tasks (list_id, status, priority, id);
CREATE INDEX tasks_list_status_updated_idx ON tasks (list_id, status, updated_at, id);
CREATE INDEX tasks_list_status_title_idx ON tasks (list_id, status, (lower(title) COLLATE "C"), id);
CREATE INDEX tasks_list_status_completed_idx ON tasks (list_id, status, completed_at, id);
-- (created: tasks_list_status_created_idx from 0001.)

-- Saved views: a named filter expression and sort, per user.
CREATE TABLE views (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  filter     text NOT NULL DEFAULT '' CHECK (char_length(filter) <= 2000),
  sort       text CHECK (sort IN ('due', 'priority', 'created', 'updated', 'title', 'rank')),
  sort_order text CHECK (sort_order IN ('asc', 'desc')),
  version    integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX views_user_name_key ON views (user_id, lower(name));
