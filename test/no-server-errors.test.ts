// "Bad input gets a clear error, never a 500": every operation of the published OpenAPI
// document, fed random and hostile path parameters, query strings and bodies by
// fast-check, must answer below 500, and every error must be problem+json with a stable
// `code`. The operations come from the document itself, so a route added later is
// covered without touching this file. Ids are a mix of real ones (the caller's and another
// user's), random uuids and junk, so that both the validation and the service paths run.
import fc from 'fast-check';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { expectProblem, problemFields } from './support/problems.js';

type Method = 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';

interface Operation {
  method: Method;
  path: string;
  query: string[];
  bodyFields: string[];
  hasBody: boolean;
}

// Streams stay open (SSE) or need an upgrade (WebSocket); they have their own suites.
const SKIP = [/\/events\/stream$/, /\/ws$/, /\/realtime/];

const junk = fc.oneof(
  fc.constantFrom('', ' ', 'null', 'undefined', '0', '-1', '1e309', 'NaN', 'true', '[]', '{}', "'; drop table tasks; --"),
  fc.constantFrom('%_\\', '\u0000', 'a\u0000b', '\ud800', '../../etc/passwd', 'x'.repeat(5000), '2026-02-30', '2026-13-01T25:61'),
  fc.constantFrom(
    '9999999-01-01',
    '+275760-09-13T00:00:00Z',
    '-000001-01-01',
    '0000-00-00',
    '2026-06-01T10:00:00+99:00',
    'P99999Y',
  ),
  fc.string({ maxLength: 40 }),
  fc.uuid().map(String),
  fc.integer().map(String),
);

const jsonValue = fc.oneof(
  { maxDepth: 2 },
  junk,
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.array(junk, { maxLength: 4 }),
  fc.dictionary(fc.string({ maxLength: 8 }), junk, { maxKeys: 3 }),
);

function operationsOf(doc: { paths: Record<string, Record<string, unknown>> }): Operation[] {
  const out: Operation[] = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    if (SKIP.some((re) => re.test(path))) continue;
    for (const [method, raw] of Object.entries(item)) {
      if (!['get', 'post', 'patch', 'put', 'delete'].includes(method)) continue;
      const op = raw as {
        parameters?: { in: string; name: string }[];
        requestBody?: { content?: Record<string, { schema?: { properties?: Record<string, unknown> } }> };
      };
      const schema = op.requestBody?.content?.['application/json']?.schema;
      out.push({
        method: method.toUpperCase() as Method,
        path,
        query: (op.parameters ?? []).filter((p) => p.in === 'query').map((p) => p.name),
        bodyFields: Object.keys(schema?.properties ?? {}),
        hasBody: op.requestBody !== undefined,
      });
    }
  }
  return out;
}

describeWithDatabase('no input makes the API answer 5xx', () => {
  let t: TestApp;
  let me: TestUser;
  let ids: string[] = [];

  beforeAll(async () => {
    t = await startTestApp();
    me = await signUp(t.app);
    const other = await signUp(t.app);
    const task = await call(t.app, 'POST', '/api/v1/tasks', {
      token: me.token,
      body: { title: 'Fuzz target', due_at: '2030-01-01T09:00', time_zone: 'Europe/Berlin', tags: ['fuzz'] },
    });
    const theirs = await call(t.app, 'POST', '/api/v1/tasks', { token: other.token, body: { title: 'Not yours' } });
    const tags = await call(t.app, 'GET', '/api/v1/tags', { token: me.token });
    const history = await call(t.app, 'GET', `/api/v1/tasks/${task.body.id}/history`, { token: me.token });
    ids = [
      task.body.id,
      theirs.body.id,
      me.id,
      other.id,
      me.inboxListId,
      ...(tags.body.items ?? []).map((tag: { id: string }) => tag.id),
      ...(history.body.items ?? []).map((e: { event_id: string }) => e.event_id),
    ].filter((id): id is string => typeof id === 'string');
  });
  afterAll(() => t.close());

  it('every documented operation, with random path ids, query strings and bodies, answers < 500 with problem+json errors', async () => {
    const doc = (await call(t.app, 'GET', '/api/openapi.json')).body;
    const operations = operationsOf(doc);
    expect(operations.length).toBeGreaterThan(20);
    const failures: string[] = [];
    for (const [index, op] of operations.entries()) {
      const idOrJunk = fc.oneof(fc.constantFrom(...ids), junk);
      const input = fc.record({
        params: fc.array(idOrJunk, { minLength: 4, maxLength: 4 }),
        query: fc.dictionary(fc.constantFrom('cursor', 'limit', 'q', ...op.query), junk, { maxKeys: 4 }),
        body: fc.oneof(
          fc.constant(undefined),
          jsonValue,
          fc.dictionary(op.bodyFields.length > 0 ? fc.constantFrom(...op.bodyFields) : fc.string(), jsonValue, { maxKeys: 5 }),
        ),
        raw: fc.oneof(fc.constant(undefined), fc.constantFrom('{', '{"a":', 'not json', '[1,2', '\u0000')),
      });
      await fc.check(
        fc.asyncProperty(input, async ({ params, query, body, raw }) => {
          let n = 0;
          const path = op.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(params[n++ % params.length] ?? ''));
          const qs = new URLSearchParams(query).toString();
          const url = `${path}${qs ? `?${qs}` : ''}`;
          const res = await call(t.app, op.method, url, {
            token: me.token,
            ...(op.hasBody && raw !== undefined ? { rawBody: raw } : op.hasBody && body !== undefined ? { body } : {}),
          });
          const problem = res.status >= 400 && !/problem\+json/.test(String(res.headers['content-type']));
          if (res.status >= 500 || problem || (res.status >= 400 && typeof res.body?.code !== 'string')) {
            failures.push(
              `${op.method} ${url} ${JSON.stringify(body ?? raw)?.slice(0, 200)} → ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`,
            );
            return false;
          }
          return true;
        }),
        // Seeded: the same inputs every run (a fuzz finding is a bug to fix, not a flaky test).
        { numRuns: 25, endOnFailure: true, seed: 0x7a5c + index },
      );
    }
    expect(failures).toEqual([]);
  }, 120_000);

  it('what the fuzzing found: NUL characters and over-long path segments get problem+json 4xx naming the field', async () => {
    const nulQuery = await call(t.app, 'GET', '/api/v1/activity?correlation_id=%00');
    expect(nulQuery.status).toBe(401);
    const asMe = (method: 'GET' | 'POST', url: string, body?: unknown) =>
      call(t.app, method, url, { token: me.token, ...(body !== undefined ? { body } : {}) });
    const feed = await asMe('GET', '/api/v1/activity?correlation_id=%00');
    expectProblem(feed, 422, 'validation_failed');
    expect(problemFields(feed)).toEqual(['query.correlation_id']);
    const search = await asMe('GET', '/api/v1/tasks?q=a%00b');
    expectProblem(search, 422, 'validation_failed');
    expect(problemFields(search)).toEqual(['query.q']);
    const created = await asMe('POST', '/api/v1/tasks', { title: 'Pay\u0000 rent', tags: ['ok', 'b\u0000d'] });
    expectProblem(created, 422, 'validation_failed');
    expect(problemFields(created)).toEqual(['title']);
    expectProblem(await asMe('GET', `/api/v1/tasks/${'x'.repeat(500)}`), 414, 'uri_too_long');
    // Nothing was written by the refused requests.
    const titles = (await asMe('GET', '/api/v1/tasks?status=all')).body.items.map((task: { title: string }) => task.title);
    expect(titles).not.toContain('Pay\u0000 rent');
  });
});
