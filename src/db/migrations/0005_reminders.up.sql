-- Reminders (DESIGN §3, issue 7): per-task reminders fired exactly once by the scheduler,
-- the in-app inbox they land in, per-user reminder settings (default offset, webhook),
-- and Web Push subscriptions.

CREATE TABLE reminders (
  id              uuid PRIMARY KEY,
  -- No foreign key: a deleted task keeps its (cancelled) reminders so that restoring
  -- the task can bring them back. The scheduler only fires reminders of open tasks.
  task_id         uuid NOT NULL,
  user_id         uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  remind_at       timestamptz NOT NULL,
  -- Relative reminders: seconds before the task's due moment (0 = at due). NULL = absolute.
  offset_seconds  integer CHECK (offset_seconds IS NULL OR offset_seconds >= 0),
  -- The ISO-8601 duration the user gave (or the preset), shown back as given.
  offset_text     text,
  channel         text NOT NULL DEFAULT 'all' CHECK (channel IN ('all', 'in_app', 'push', 'webhook')),
  status          text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'cancelled')),
  -- Why a reminder was cancelled: task_completed and task_deleted are undone by reopen/restore.
  cancel_reason   text,
  attempts        integer NOT NULL DEFAULT 0,
  sent_at         timestamptz,
  created_at      timestamptz NOT NULL DEFAULT now(),
  updated_at      timestamptz NOT NULL DEFAULT now(),
  version         integer NOT NULL DEFAULT 1
);
-- The scheduler's only hot index: due pending reminders in time order (next timer, firing).
CREATE INDEX reminders_pending_idx ON reminders (remind_at) WHERE status = 'pending';
CREATE INDEX reminders_task_idx ON reminders (task_id);
CREATE INDEX reminders_user_idx ON reminders (user_id, remind_at);

CREATE TABLE reminder_settings (
  user_id                 uuid PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
  -- Applied to tasks created with a due time; NULL = no default reminder.
  default_offset_seconds  integer CHECK (default_offset_seconds IS NULL OR default_offset_seconds >= 0),
  default_offset_text     text,
  webhook_url             text,
  webhook_secret          text,
  updated_at              timestamptz NOT NULL DEFAULT now()
);

-- The in-app inbox: one row per reminder.fired event (event_id makes delivery idempotent).
CREATE TABLE notifications (
  id           uuid PRIMARY KEY,
  user_id      uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  event_id     uuid NOT NULL UNIQUE,
  reminder_id  uuid NOT NULL,
  task_id      uuid NOT NULL,
  title        text NOT NULL,
  remind_at    timestamptz NOT NULL,
  created_at   timestamptz NOT NULL DEFAULT now(),
  read_at      timestamptz
);
CREATE INDEX notifications_user_idx ON notifications (user_id, created_at DESC);
CREATE INDEX notifications_unread_idx ON notifications (user_id, created_at DESC) WHERE read_at IS NULL;

CREATE TABLE push_subscriptions (
  id          uuid PRIMARY KEY,
  user_id     uuid NOT NULL REFERENCES users (id) ON DELETE CASCADE,
  endpoint    text NOT NULL UNIQUE,
  p256dh      text NOT NULL,
  auth        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX push_subscriptions_user_idx ON push_subscriptions (user_id);
