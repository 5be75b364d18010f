// `taskflow seed --user demo`: a demo account with a realistic spread of tasks (overdue,
// today, this week, later, undated; all priorities; tags; some completed), created through
// the task service so that every seeded task has its events like any other. Above
// BULK_THRESHOLD tasks, or with --users, it seeds set-based instead (bulk.ts).
import { sql } from 'kysely';
import type { App } from '../app.js';
import { EmailTaken } from '../errors.js';
import type { CreateTaskInput, Priority } from '../tasks/schema.js';
import { ensureSeedUser, seedTasksInBulk } from './bulk.js';

export const DEMO_PASSWORD = 'taskflow-demo';

const TITLES = [
  'Pay rent',
  'Call the dentist',
  'Renew passport',
  'Write quarterly report',
  'Book flights for the conference',
  'Buy groceries',
  'Review pull request',
  'Plan team offsite',
  'Water the plants',
  'Send invoice to client',
  'Prepare slides for Monday',
  'Fix the leaking tap',
  'Read chapter 4',
  'Go for a run',
  'Update project roadmap',
  'Cancel unused subscription',
];
const TAGS = ['work', 'home', 'errands', 'finance', 'health', 'reading'];
const PRIORITIES: Priority[] = ['none', 'none', 'low', 'medium', 'high', 'urgent'];

/** Deterministic pseudo-random numbers, so two seeds of the same size look alike. */
function* numbers(seed: number): Generator<number, never> {
  let x = seed;
  for (;;) {
    x = (x * 1_103_515_245 + 12_345) % 2 ** 31;
    yield x / 2 ** 31;
  }
}

export async function seedDemoUser(app: App, name: string, count: number) {
  const email = `${name}@example.com`;
  let session: Awaited<ReturnType<App['auth']['logIn']>>;
  try {
    session = await app.auth.signUp({ email, password: DEMO_PASSWORD, time_zone: 'Europe/Berlin', display_name: name }, 'seed');
  } catch (err) {
    if (!(err instanceof EmailTaken)) throw err;
    session = await app.auth.logIn(email, DEMO_PASSWORD);
  }
  const actor = { userId: session.user.id, correlationId: 'seed' };
  const random = numbers(count + name.length);
  const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random.next().value * xs.length)] as T;
  const now = Date.now();
  let completed = 0;
  for (let i = 0; i < count; i++) {
    const dayOffset = Math.floor(random.next().value * 30) - 10; // 10 days ago .. 20 days ahead
    const due = new Date(now + dayOffset * 86_400_000);
    const kind = random.next().value;
    const input: CreateTaskInput = {
      title: `${pick(TITLES)}${i >= TITLES.length ? ` #${i}` : ''}`,
      description: random.next().value < 0.3 ? 'Notes:\n- first step\n- second step' : '',
      priority: pick(PRIORITIES),
      tags: random.next().value < 0.7 ? [pick(TAGS), ...(random.next().value < 0.3 ? [pick(TAGS)] : [])] : [],
      ...(kind < 0.45
        ? { due_date: due.toISOString().slice(0, 10) }
        : kind < 0.8
          ? {
              due_at: `${due.toISOString().slice(0, 10)}T${String(8 + Math.floor(random.next().value * 10)).padStart(2, '0')}:00`,
              time_zone: 'Europe/Berlin',
            }
          : {}),
    };
    const { task } = await app.tasks.createTask(actor, input);
    if (dayOffset < 0 && random.next().value < 0.5) {
      await app.tasks.completeTask(actor, task.id);
      completed++;
    }
  }
  return { email, password: DEMO_PASSWORD, tasks: count, completed };
}

/** More tasks than this are seeded set-based: one service call per task would take minutes. */
export const BULK_THRESHOLD = 1000;

export interface SeedOptions {
  /** Tasks for `name`@example.com. */
  tasks: number;
  /** More users, `name`-1 … `name`-N, each with `tasksPerUser` tasks (bulk). */
  users?: number;
  tasksPerUser?: number;
  onProgress?: (message: string) => void;
}

/** The seed command: the demo user (through the services when small), plus bulk users. */
export async function seed(app: App, name: string, options: SeedOptions) {
  const { tasks, users = 0, tasksPerUser = tasks, onProgress } = options;
  const main =
    tasks <= BULK_THRESHOLD && users === 0
      ? await seedDemoUser(app, name, tasks)
      : await seedBulkUser(app, name, tasks, onProgress);
  let otherTasks = 0;
  for (let k = 1; k <= users; k++) {
    const result = await seedBulkUser(app, `${name}-${k}`, tasksPerUser);
    otherTasks += result.tasks;
    onProgress?.(`user ${k}/${users} seeded (${tasksPerUser} tasks)`);
  }
  // After a bulk load the planner's statistics still describe the empty tables (autovacuum
  // gets to them later): a search then scanned all 68k open tasks of the list instead of
  // its GIN index (30 ms instead of 9 at 100k tasks). Refresh them now.
  if (main.tasks + otherTasks > BULK_THRESHOLD) await sql`ANALYZE`.execute(app.database.db);
  return { ...main, users: 1 + users, total_tasks: main.tasks + otherTasks };
}

async function seedBulkUser(app: App, name: string, count: number, onProgress?: (message: string) => void) {
  const user = await ensureSeedUser(app, name, DEMO_PASSWORD);
  const { tasks, completed } = await seedTasksInBulk(app, user, count, {
    onProgress: (done, total) => onProgress?.(`${name}: ${done}/${total} tasks`),
  });
  return { email: user.email, password: DEMO_PASSWORD, tasks, completed };
}
