-- Foundation: accounts, lists (ownership, ready for sharing), tasks, tags, the event log.

CREATE TABLE app_settings (
  key        text PRIMARY KEY,
  value      text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE users (
  id            uuid PRIMARY KEY,
  email         text NOT NULL,
  password_hash text NOT NULL,
  display_name  text NOT NULL,
  time_zone     text NOT NULL DEFAULT 'UTC',
  role          text NOT NULL DEFAULT 'user' CHECK (role IN ('user', 'admin')),
  created_at    timestamptz NOT NULL DEFAULT now(),
  updated_at    timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

-- Refresh tokens rotate on every use; a reused (already rotated) token revokes its whole
-- family, which is how a stolen refresh token is detected.
CREATE TABLE refresh_tokens (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  family_id   uuid NOT NULL,
  token_hash  text NOT NULL UNIQUE,
  expires_at  timestamptz NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now(),
  rotated_at  timestamptz,
  revoked_at  timestamptz
);
CREATE INDEX refresh_tokens_user_idx ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family_idx ON refresh_tokens (family_id);

-- Personal API tokens (scripts, the MCP server). Only a SHA-256 of the secret is stored.
CREATE TABLE api_tokens (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name         text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  token_hash   text NOT NULL UNIQUE,
  prefix       text NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  expires_at   timestamptz,
  last_used_at timestamptz,
  revoked_at   timestamptz
);
CREATE INDEX api_tokens_user_idx ON api_tokens (user_id);

-- Every task lives in a list; access is decided by list membership (one place:
-- src/lists/access.ts). Today each list has exactly one member, its owner.
CREATE TABLE lists (
  id         uuid PRIMARY KEY,
  owner_id   uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 200),
  is_inbox   boolean NOT NULL DEFAULT false,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX lists_one_inbox_per_owner ON lists (owner_id) WHERE is_inbox;

CREATE TABLE list_members (
  list_id    uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  role       text NOT NULL CHECK (role IN ('owner', 'editor', 'viewer')),
  created_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (list_id, user_id)
);
CREATE INDEX list_members_user_idx ON list_members (user_id, list_id);

CREATE TABLE tasks (
  id           uuid PRIMARY KEY,
  list_id      uuid NOT NULL REFERENCES lists (id) ON DELETE CASCADE,
  created_by   uuid NOT NULL REFERENCES users (id),
  title        text NOT NULL CHECK (char_length(title) BETWEEN 1 AND 500),
  description  text NOT NULL DEFAULT '' CHECK (char_length(description) <= 20000),
  -- A due moment is either a whole day (due_date, all-day) or an instant (due_at) that
  -- was entered in time_zone; never both.
  due_date     date,
  due_at       timestamptz,
  time_zone    text,
  priority     smallint NOT NULL DEFAULT 0 CHECK (priority BETWEEN 0 AND 4),
  status       text NOT NULL DEFAULT 'open' CHECK (status IN ('open', 'completed')),
  completed_at timestamptz,
  created_at   timestamptz NOT NULL DEFAULT now(),
  updated_at   timestamptz NOT NULL DEFAULT now(),
  version      integer NOT NULL DEFAULT 1 CHECK (version >= 1),
  CONSTRAINT tasks_one_kind_of_due CHECK (due_date IS NULL OR due_at IS NULL),
  CONSTRAINT tasks_due_at_has_zone CHECK (due_at IS NULL OR time_zone IS NOT NULL),
  CONSTRAINT tasks_completed_at_matches_status CHECK ((status = 'completed') = (completed_at IS NOT NULL))
);
-- Default listing: a list's tasks by status, newest first, with id as the stable tie break.
CREATE INDEX tasks_list_status_created_idx ON tasks (list_id, status, created_at DESC, id DESC);
CREATE INDEX tasks_list_created_idx ON tasks (list_id, created_at DESC, id DESC);

CREATE TABLE tags (
  id         uuid PRIMARY KEY,
  user_id    uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  name       text NOT NULL CHECK (char_length(name) BETWEEN 1 AND 100),
  color      text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX tags_user_name_key ON tags (user_id, lower(name));

CREATE TABLE task_tags (
  task_id uuid NOT NULL REFERENCES tasks (id) ON DELETE CASCADE,
  tag_id  uuid NOT NULL REFERENCES tags (id) ON DELETE CASCADE,
  PRIMARY KEY (task_id, tag_id)
);
CREATE INDEX task_tags_tag_idx ON task_tags (tag_id, task_id);

-- Idempotency-Key on POST: the first response is kept and replayed for the same key.
CREATE TABLE idempotency_keys (
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  key             text NOT NULL,
  request_hash    text NOT NULL,
  response_status integer NOT NULL,
  response_body   jsonb NOT NULL,
  created_at      timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_created_idx ON idempotency_keys (created_at);

-- The event log: audit trail, activity feed, real-time resume source, outbox and input
-- of every consumer (DESIGN §1). Appended in the same transaction as the state change.
CREATE TABLE events (
  seq               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  event_id          uuid NOT NULL UNIQUE,
  type              text NOT NULL,
  user_id           uuid NOT NULL,
  actor_id          uuid,
  aggregate_type    text NOT NULL,
  aggregate_id      uuid NOT NULL,
  aggregate_version integer NOT NULL,
  correlation_id    text,
  causation_id      uuid,
  occurred_at       timestamptz NOT NULL DEFAULT now(),
  data              jsonb NOT NULL,
  schema_version    integer NOT NULL DEFAULT 1,
  -- Consumers read only below pg_snapshot_xmin, ordered by (tx_id, seq): a seq allocated
  -- early but committed late is then never skipped.
  tx_id             xid8 NOT NULL DEFAULT pg_current_xact_id(),
  CONSTRAINT events_aggregate_version_key UNIQUE (aggregate_type, aggregate_id, aggregate_version)
);
CREATE INDEX events_tx_seq_idx ON events (tx_id, seq);
CREATE INDEX events_user_seq_idx ON events (user_id, seq DESC);
CREATE INDEX events_aggregate_seq_idx ON events (aggregate_id, seq);

-- Events are facts: once written they are never edited.
CREATE FUNCTION events_reject_update() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  RAISE EXCEPTION 'events are immutable (seq %)', OLD.seq USING ERRCODE = 'raise_exception';
END;
$$;
CREATE TRIGGER events_immutable BEFORE UPDATE ON events
  FOR EACH ROW EXECUTE FUNCTION events_reject_update();
