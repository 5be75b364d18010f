// The operator's surface (DESIGN §7): health probes, Prometheus metrics, the OpenAPI
// document and docs UI, request ids, the 404 shape and the security headers.
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';

/** The value of the first sample of `metric` whose labels include every given label. */
function sample(exposition: string, metric: string, labels: Record<string, string>): number | undefined {
  for (const line of exposition.split('\n')) {
    const match = /^([a-zA-Z_:][\w:]*)\{([^}]*)\} (\S+)$/.exec(line);
    if (!match || match[1] !== metric) continue;
    const present = Object.fromEntries([...(match[2] ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((m) => [m[1], m[2]]));
    if (Object.entries(labels).every(([k, v]) => present[k] === v)) return Number(match[3]);
  }
  return undefined;
}

describeWithDatabase('operations: health, metrics, OpenAPI, request ids, errors and headers', () => {
  let t: TestApp;
  let user: TestUser;
  beforeAll(async () => {
    t = await startTestApp();
    user = await signUp(t.app);
  });
  afterAll(async () => {
    await t.close();
    await t.database.drop();
  });

  it('/health/live answers 200 ok', async () => {
    const res = await call(t.app, 'GET', '/health/live');
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ status: 'ok' });
  });

  it('/health/ready answers 200 when the database answers and the migrations are applied', async () => {
    const res = await call(t.app, 'GET', '/health/ready');
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ status: 'ok', checks: { database: { ok: true }, migrations: { ok: true } } });
  });

  it('/metrics exposes request latency by route template, appended events and pool connections', async () => {
    const list = await call(t.app, 'GET', '/api/v1/tasks', { token: user.token });
    expect(list.status).toBe(200);
    const created = await call(t.app, 'POST', '/api/v1/tasks', { token: user.token, body: { title: 'Counted' } });
    expect(created.status).toBe(201);
    const fetched = await call(t.app, 'GET', `/api/v1/tasks/${created.body.id}`, { token: user.token });
    expect(fetched.status).toBe(200);

    const res = await call(t.app, 'GET', '/metrics');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/plain');
    const text: string = res.body;
    expect(
      sample(text, 'taskflow_http_request_duration_seconds_bucket', {
        method: 'GET',
        route: '/api/v1/tasks',
        status_code: '200',
        le: '+Inf',
      }),
    ).toBeGreaterThanOrEqual(1);
    // The route label is the template, never the concrete id (bounded cardinality).
    expect(sample(text, 'taskflow_http_request_duration_seconds_count', { route: '/api/v1/tasks/:id' })).toBeGreaterThanOrEqual(
      1,
    );
    expect(text).not.toContain(created.body.id);
    expect(sample(text, 'taskflow_events_appended_total', { type: 'task.created' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'taskflow_events_appended_total', { type: 'user.registered' })).toBeGreaterThanOrEqual(1);
    expect(sample(text, 'taskflow_db_pool_connections', { state: 'total' })).toBeGreaterThanOrEqual(1);
  });

  it('/api/openapi.json is an OpenAPI 3.1 document with the task and auth paths and shared schemas', async () => {
    const res = await call(t.app, 'GET', '/api/openapi.json');
    expect(res.status).toBe(200);
    const doc = res.body;
    expect(doc.openapi).toMatch(/^3\.1\./);
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/api/v1/tasks', '/api/v1/tasks/{id}', '/api/v1/auth/signup']),
    );
    expect(doc.paths['/api/v1/tasks']).toHaveProperty('post');
    expect(doc.paths['/api/v1/tasks/{id}']).toHaveProperty('patch');
    expect(doc.components.schemas).toHaveProperty('Task');
    expect(doc.components.schemas).toHaveProperty('Problem');
  });

  it('/api/docs serves the HTML documentation page', async () => {
    let res = await call(t.app, 'GET', '/api/docs');
    for (let hops = 0; res.status >= 300 && res.status < 400 && hops < 3; hops++) {
      const location = String(res.headers.location);
      res = await call(t.app, 'GET', new URL(location, 'http://localhost/api/docs').pathname);
    }
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toContain('text/html');
    expect(String(res.body)).toMatch(/<html/i);
  });

  it('echoes the caller’s X-Request-Id and generates one when it is absent or malformed', async () => {
    const given = `ops-${randomUUID()}`;
    const echoed = await call(t.app, 'GET', '/health/live', { headers: { 'x-request-id': given } });
    expect(echoed.headers['x-request-id']).toBe(given);

    const generated = await call(t.app, 'GET', '/health/live');
    const malformed = await call(t.app, 'GET', '/health/live', { headers: { 'x-request-id': 'has spaces <script>' } });
    for (const res of [generated, malformed]) {
      expect(res.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    expect(generated.headers['x-request-id']).not.toBe(malformed.headers['x-request-id']);
  });

  it('an unknown route answers 404 problem+json with code route_not_found and the request id', async () => {
    const res = await call(t.app, 'GET', '/api/v1/no-such-thing?x=1', { headers: { 'x-request-id': 'unknown-route-1' } });
    expect(res.status).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
    expect(res.body).toMatchObject({
      status: 404,
      code: 'route_not_found',
      instance: '/api/v1/no-such-thing',
      request_id: 'unknown-route-1',
    });
  });

  it('sends security headers on API responses', async () => {
    for (const res of [
      await call(t.app, 'GET', '/api/v1/tasks', { token: user.token }),
      await call(t.app, 'GET', '/api/v1/no-such-thing'),
    ]) {
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      expect(res.headers['x-frame-options']).toBeDefined();
      expect(String(res.headers['content-security-policy'])).toContain("default-src 'self'");
    }
  });
});
