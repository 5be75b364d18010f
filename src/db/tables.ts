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
}

export interface TagsTable {
  id: string;
  user_id: string;
  name: string;
  color: string | null;
  created_at: DefaultedTimestamp;
}

export interface TaskTagsTable {
  task_id: string;
  tag_id: string;
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

export interface DB {
  schema_migrations: SchemaMigrationsTable;
  app_settings: AppSettingsTable;
  users: UsersTable;
  refresh_tokens: RefreshTokensTable;
  api_tokens: ApiTokensTable;
  lists: ListsTable;
  list_members: ListMembersTable;
  tasks: TasksTable;
  tags: TagsTable;
  task_tags: TaskTagsTable;
  idempotency_keys: IdempotencyKeysTable;
  events: EventsTable;
  consumer_checkpoints: ConsumerCheckpointsTable;
  dead_letters: DeadLettersTable;
  processed_events: ProcessedEventsTable;
  events_archive: EventsArchiveTable;
}

export type TaskRow = Selectable<TasksTable>;
export type NewTaskRow = Insertable<TasksTable>;
export type EventRow = Selectable<EventsTable>;
