-- Event consumers (DESIGN §2): per-consumer, per-partition checkpoints at (tx_id, seq),
-- dead letters for events a consumer gave up on, and dedupe of external effects.

CREATE TABLE consumer_checkpoints (
  consumer   text NOT NULL,
  partition  integer NOT NULL DEFAULT 0 CHECK (partition >= 0),
  -- The last event handled, in (tx_id, seq) order. '0' = from the beginning.
  tx_id      xid8 NOT NULL DEFAULT '0',
  seq        bigint NOT NULL DEFAULT 0,
  updated_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, partition)
);

CREATE TABLE dead_letters (
  id               uuid PRIMARY KEY,
  consumer         text NOT NULL,
  event_seq        bigint NOT NULL,
  event_id         uuid NOT NULL,
  event_type       text NOT NULL,
  error            text NOT NULL,
  attempts         integer NOT NULL,
  first_failed_at  timestamptz NOT NULL,
  last_failed_at   timestamptz NOT NULL,
  -- pending: waiting for a human; resolved: a retry succeeded.
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'resolved')),
  resolved_at      timestamptz,
  CONSTRAINT dead_letters_consumer_event_key UNIQUE (consumer, event_id)
);
CREATE INDEX dead_letters_status_idx ON dead_letters (status, last_failed_at DESC);

-- For handlers with external effects (webhooks, broker publish): at-least-once delivery
-- deduplicated by event id.
CREATE TABLE processed_events (
  consumer     text NOT NULL,
  event_id     uuid NOT NULL,
  processed_at timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (consumer, event_id)
);

-- Retention (EVENT_RETENTION_DAYS): old events move here, out of the hot table and its
-- indexes, but stay readable for a task's history.
CREATE TABLE events_archive (
  seq               bigint PRIMARY KEY,
  event_id          uuid NOT NULL,
  type              text NOT NULL,
  user_id           uuid NOT NULL,
  actor_id          uuid,
  aggregate_type    text NOT NULL,
  aggregate_id      uuid NOT NULL,
  aggregate_version integer NOT NULL,
  correlation_id    text,
  causation_id      uuid,
  occurred_at       timestamptz NOT NULL,
  data              jsonb NOT NULL,
  schema_version    integer NOT NULL,
  tx_id             xid8 NOT NULL,
  archived_at       timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX events_archive_aggregate_idx ON events_archive (aggregate_id, seq);
CREATE INDEX events_archive_user_idx ON events_archive (user_id, seq DESC);
