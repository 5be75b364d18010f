// Row types of every table, as Kysely sees them. Kept by hand beside the SQL migrations
// (the migrations are the source of truth; a test compares the two column sets).
import type { ColumnType, Generated, Insertable, Selectable } from 'kysely';

type Timestamp = ColumnType<Date, Date | string | undefined, Date | string>;
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>;

export interface SchemaMigrationsTable {
  version: number;
  name: string;
  applied_at: Generated<Date>;
}

export interface AppSettingsTable {
  key: string;
  value: string;
  created_at: DefaultedTimestamp;
}

export interface UsersTable {
  id: string;
  email: string;
  password_hash: string;
  display_name: string;
  time_zone: Generated<string>;
  role: Generated<'user' | 'admin'>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface RefreshTokensTable {
  id: string;
  user_id: string;
  family_id: string;
  token_hash: string;
  expires_at: Timestamp;
  created_at: DefaultedTimestamp;
  rotated_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface ApiTokensTable {
  id: string;
  user_id: string;
  name: string;
  token_hash: string;
  prefix: string;
  created_at: DefaultedTimestamp;
  expires_at: Timestamp | null;
  last_used_at: Timestamp | null;
  revoked_at: Timestamp | null;
}

export interface ListsTable {
  id: string;
  owner_id: string;
  name: string;
  is_inbox: Generated<boolean>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface ListMembersTable {
  list_id: string;
  user_id: string;
  role: 'owner' | 'editor' | 'viewer';
  created_at: DefaultedTimestamp;
}

export interface TasksTable {
  id: string;
  list_id: string;
  created_by: string;
  title: string;
  description: Generated<string>;
  due_date: string | null;
  due_at: Timestamp | null;
  time_zone: string | null;
  priority: Generated<number>;
  status: Generated<'open' | 'completed'>;
  completed_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  version: Generated<number>;
  /** Derived by triggers (migration 0004): tag names and keys, the sortable due moment, the FTS document. */
  tag_names: Generated<string>;
  tag_keys: ColumnType<string[], string[] | undefined, string[]>;
  due_key: ColumnType<Date | null, never, never>;
  search_vector: ColumnType<string, never, never>;
  /** Recurrence (migration 0006): the rule as jsonb, the series, the occurrence this instance is, its predecessor. */
  recurrence: ColumnType<TaskRecurrence | null, string | null, string | null>;
  series_id: string | null;
  occurrence_at: Timestamp | null;
  previous_task_id: string | null;
}

/** tasks.recurrence: the rule of a recurring task (src/recurrence/schema.ts is the API shape). */
export interface TaskRecurrence {
  rule: string;
  mode: 'schedule' | 'after_completion';
  dtstart: string;
  exdates: string[];
  catch_up: boolean;
}

export interface TaskSeriesTable {
  id: string;
  owner_id: string;
  status: Generated<'active' | 'finished' | 'stopped'>;
  created_at: DefaultedTimestamp;
  ended_at: Timestamp | null;
}

export interface TagsTable {
  id: string;
  user_id: string;
  name: string;
  color: string | null;
  created_at: DefaultedTimestamp;
  version: Generated<number>;
}

export interface ViewsTable {
  id: string;
  user_id: string;
  name: string;
  filter: Generated<string>;
  sort: 'due' | 'priority' | 'created' | 'updated' | 'title' | 'rank' | null;
  sort_order: 'asc' | 'desc' | null;
  version: Generated<number>;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
}

export interface TaskTagsTable {
  task_id: string;
  tag_id: string;
}

/** Open tasks per (list, lowercased tag name), kept by a trigger on tasks (migration 0007). */
export interface TagOpenCountsTable {
  list_id: string;
  tag_key: string;
  /** Sharded counter (migration 0007): the count is the sum over shards. */
  shard: Generated<number>;
  open_tasks: number;
}

export interface IdempotencyKeysTable {
  user_id: string;
  key: string;
  request_hash: string;
  response_status: number;
  response_body: ColumnType<unknown, string, string>;
  created_at: DefaultedTimestamp;
}

export interface EventsTable {
  seq: ColumnType<string, never, never>;
  event_id: string;
  type: string;
  user_id: string;
  actor_id: string | null;
  aggregate_type: string;
  aggregate_id: string;
  aggregate_version: number;
  correlation_id: string | null;
  causation_id: string | null;
  occurred_at: DefaultedTimestamp;
  data: ColumnType<unknown, string, never>;
  schema_version: Generated<number>;
  tx_id: ColumnType<string, never, never>;
}

export interface ConsumerCheckpointsTable {
  consumer: string;
  partition: number;
  tx_id: string;
  seq: string;
  updated_at: DefaultedTimestamp;
}

export interface DeadLettersTable {
  id: string;
  consumer: string;
  event_seq: string;
  event_id: string;
  event_type: string;
  error: string;
  attempts: number;
  first_failed_at: Timestamp;
  last_failed_at: Timestamp;
  status: Generated<'pending' | 'resolved'>;
  resolved_at: Timestamp | null;
}

export interface ProcessedEventsTable {
  consumer: string;
  event_id: string;
  processed_at: DefaultedTimestamp;
}

export interface EventsArchiveTable extends Omit<EventsTable, 'seq' | 'tx_id' | 'data' | 'schema_version'> {
  seq: string;
  tx_id: string;
  data: unknown;
  schema_version: number;
  archived_at: DefaultedTimestamp;
}

export interface RemindersTable {
  id: string;
  task_id: string;
  user_id: string;
  remind_at: Timestamp;
  offset_seconds: number | null;
  offset_text: string | null;
  channel: Generated<'all' | 'in_app' | 'push' | 'webhook'>;
  status: Generated<'pending' | 'sent' | 'cancelled'>;
  cancel_reason: string | null;
  attempts: Generated<number>;
  sent_at: Timestamp | null;
  created_at: DefaultedTimestamp;
  updated_at: DefaultedTimestamp;
  version: Generated<number>;
}

export interface ReminderSettingsTable {
  user_id: string;
  default_offset_seconds: number | null;
  default_offset_text: string | null;
  webhook_url: string | null;
  webhook_secret: string | null;
  updated_at: DefaultedTimestamp;
}

export interface NotificationsTable {
  id: string;
  user_id: string;
  event_id: string;
  reminder_id: string;
  task_id: string;
  title: string;
  remind_at: Timestamp;
  created_at: DefaultedTimestamp;
  read_at: Timestamp | null;
}

export interface PushSubscriptionsTable {
  id: string;
  user_id: string;
  endpoint: string;
  p256dh: string;
  auth: string;
  created_at: DefaultedTimestamp;
}

export interface DB {
  schema_migrations: SchemaMigrationsTable;
  app_settings: AppSettingsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  api_tokens: ApiTokensTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  tasks: TasksTable;
  task_series: TaskSeriesTable;
  tags: TagsTable;
  task_tags: TaskTagsTable;
  tag_open_counts: TagOpenCountsTable;
  views: ViewsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  consumer_checkpoints: ConsumerCheckpointsTable;
  dead_letters: DeadLettersTable;
  processed_events: ProcessedEventsTable;
  events_archive: EventsArchiveTable;
  reminders: RemindersTable;
  reminder_settings: ReminderSettingsTable;
  notifications: NotificationsTable;
  push_subscriptions: PushSubscriptionsTable;
}

/** The columns the database derives for search and sorting: never part of a task as read. */
export type DerivedTaskColumns = 'tag_names' | 'tag_keys' | 'due_key' | 'search_vector';
export type TaskRow = Omit<Selectable<TasksTable>, DerivedTaskColumns>;

/** Every column of a task as read (all but the derived ones): the SELECT list of task reads. */
export const TASK_COLUMNS = [
  'id',
  'list_id',
  'created_by',
  'title',
  'description',
  'due_date',
  'due_at',
  'time_zone',
  'priority',
  'status',
  'completed_at',
  'created_at',
  'updated_at',
  'version',
  'recurrence',
  'series_id',
  'occurrence_at',
  'previous_task_id',
] as const satisfies ReadonlyArray<keyof TaskRow>;
// Does not compile while a column of TaskRow is missing from TASK_COLUMNS.
type Exhaustive<Missing extends never> = Missing;
export type TaskColumnsAreListed = Exhaustive<Exclude<keyof TaskRow, (typeof TASK_COLUMNS)[number]>>;
export type NewTaskRow = Insertable<TasksTable>;
export type EventRow = Selectable<EventsTable>;
