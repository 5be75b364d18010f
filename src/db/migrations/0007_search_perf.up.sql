-- Search at scale (issue 5, second pass): open-task counts per tag kept by the database, and
-- the indexes that the measured plans asked for (docs/search-explain.md).

-- Open tasks per (list, lowercased tag name): what GET /tags sums over the reader's lists.
-- Keyed like tasks.tag_keys, so it counts exactly what `tag_keys @> ARRAY[lower(name)]` over
-- the open tasks of the reader's lists counted before (the same answer, O(tags) instead of
-- O(open tasks)). One statement-level trigger on tasks keeps it: every path that changes
-- whether an open task carries a tag writes tasks — create, restore and the bulk seed
-- (INSERT), tag/untag and tag rename (0004's triggers rewrite tag_keys), complete, reopen
-- and moves (UPDATE), delete and list deletion (DELETE) — so the count changes in the same
-- transaction as the task. A row may reach 0 and stay (a tag name used again reuses it).
--
-- Sharded: a count is the SUM of up to 8 rows, and a writer adds its delta to the row of its
-- connection's shard (pg_backend_pid() % 8). With one row per (list, tag), every concurrent
-- request creating a task with the same tag in the same list queued on that row's lock until
-- the previous one committed: http-create-task (10 concurrent, one tag) ran at 452 req/s,
-- p99 76 ms with the counter against 637-706 req/s, p99 23-28 ms without it. A shard's row
-- may go negative (a task counted in one shard, completed through another connection); only
-- the sum is meaningful.
CREATE TABLE tag_open_counts (
  list_id    uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  tag_key    text NOT NULL,
  shard      smallint NOT NULL DEFAULT 0 CHECK (shard BETWEEN 0 AND 7),
  open_tasks integer NOT NULL,
  PRIMARY KEY (list_id, tag_key, shard)
);

-- One function for the three events (a branch only plans the transition tables its event
-- has). Deltas are summed per key first, so a statement that writes 20 000 tasks touches each
-- counter row once; rows are written in key order, so two writers take the counter locks in
-- the same order. A task's keys are taken DISTINCT: `@>` counted a task once per name.
-- Nothing is written for a list that no longer exists: when a list is deleted, its counter
-- rows go by cascade before the cascaded task delete reports here.
CREATE FUNCTION tasks_count_open_tags() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
  changes refcursor;
  change record;
BEGIN
  IF TG_OP = 'INSERT' THEN
    OPEN changes FOR
      SELECT n.list_id, k.tag_key, count(*)::integer AS delta
      FROM new_rows n, LATERAL (SELECT DISTINCT unnest(n.tag_keys) AS tag_key) k
      WHERE n.status = 'open'
      GROUP BY 1, 2 ORDER BY 1, 2;
  ELSIF TG_OP = 'DELETE' THEN
    OPEN changes FOR
      SELECT o.list_id, k.tag_key, -count(*)::integer AS delta
      FROM old_rows o, LATERAL (SELECT DISTINCT unnest(o.tag_keys) AS tag_key) k
      WHERE o.status = 'open'
      GROUP BY 1, 2 ORDER BY 1, 2;
  ELSE
    OPEN changes FOR
      SELECT list_id, tag_key, sum(delta)::integer AS delta FROM (
        SELECT n.list_id, k.tag_key, 1 AS delta
        FROM new_rows n, LATERAL (SELECT DISTINCT unnest(n.tag_keys) AS tag_key) k
        WHERE n.status = 'open'
        UNION ALL
        SELECT o.list_id, k.tag_key, -1
        FROM old_rows o, LATERAL (SELECT DISTINCT unnest(o.tag_keys) AS tag_key) k
        WHERE o.status = 'open'
      ) AS each_change
      GROUP BY 1, 2 HAVING sum(delta) <> 0 ORDER BY 1, 2;
  END IF;
  LOOP
    FETCH changes INTO change;
    EXIT WHEN NOT FOUND;
    INSERT INTO tag_open_counts (list_id, tag_key, shard, open_tasks)
    SELECT change.list_id, change.tag_key, pg_backend_pid() % 8, change.delta
    WHERE EXISTS (SELECT 1 FROM lists WHERE lists.id = change.list_id)
    ON CONFLICT (list_id, tag_key, shard) DO UPDATE SET open_tasks = tag_open_counts.open_tasks + excluded.open_tasks;
  END LOOP;
  CLOSE changes;
  RETURN NULL;
END;
$$;
-- (Transition tables allow one event per trigger: three triggers on one function.)
CREATE TRIGGER tasks_open_tags_inserted AFTER INSERT ON tasks
  REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_count_open_tags();
CREATE TRIGGER tasks_open_tags_updated AFTER UPDATE ON tasks
  REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_count_open_tags();
CREATE TRIGGER tasks_open_tags_deleted AFTER DELETE ON tasks
  REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION tasks_count_open_tags();

-- Existing rows (shard 0).
INSERT INTO tag_open_counts (list_id, tag_key, open_tasks)
SELECT tasks.list_id, k.tag_key, count(*)
FROM tasks, LATERAL (SELECT DISTINCT unnest(tasks.tag_keys) AS tag_key) k
WHERE tasks.status = 'open'
GROUP BY 1, 2;

-- `recurring=true` (and the `recurring` filter term): recurring tasks are a few among many,
-- so neither the sort indexes (they would walk every open task to find them) nor a bitmap
-- of all the list's tasks serves them. This partial index holds only recurring tasks, in
-- the default order: newest first is an index range, and any other sort a bitmap of the
-- list's recurring tasks and a sort of those few. `recurring=false` (most tasks) needs
-- nothing: the sort indexes find a page of them at once. Plans: docs/search-explain.md.
CREATE INDEX tasks_recurring_idx ON tasks (list_id, status, created_at DESC, id DESC) WHERE recurrence IS NOT NULL;

-- Search and tag filters: 0004's GIN index over (list_id, status, tag_keys, search_vector),
-- split into one partial index per status. Every list query asks for one status per branch
-- (src/search/task-query.ts, with the status as a literal), and the status key of the old
-- index had one posting list for all the open (or completed) tasks of every user: each
-- search intersected it with the list's and the word's. Without it the index scan reads half
-- as much (q=invoice at 100k tasks: 2.1 -> 1.0 ms) and the indexes are smaller in total.
CREATE INDEX tasks_find_open_idx ON tasks USING gin (list_id, tag_keys, search_vector) WHERE status = 'open';
CREATE INDEX tasks_find_completed_idx ON tasks USING gin (list_id, tag_keys, search_vector) WHERE status = 'completed';
DROP INDEX tasks_find_idx;
