import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../src/clock.js';
import { call, describeWithDatabase, signUp, startTestApp, type TestApp, type TestUser } from './support/app.js';
import { accessClaims, jwtPayload, jwtSignedWith, unsignedJwt, withTamperedPayload } from './support/jwt.js';
import { expectProblem, problemFields, problemShape } from './support/problems.js';

const uniqueEmail = (label: string) => `${label}-${randomUUID().slice(0, 8)}@example.com`;

async function stop(t: TestApp | undefined) {
  if (!t) return;
  await t.close();
  await t.database.drop();
}

describeWithDatabase('auth: accounts, sessions and API tokens', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp();
  });
  afterAll(() => stop(t));

  describe('sign-up', () => {
    it('creates an account and answers 201 with a bearer session and the user with an Inbox', async () => {
      const email = uniqueEmail('new');
      const res = await call(t.app, 'POST', '/api/v1/auth/signup', {
        body: { email, password: 'correct horse battery', time_zone: 'Europe/Berlin' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toMatchObject({
        token_type: 'Bearer',
        access_token: expect.stringMatching(/^[\w-]+\.[\w-]+\.[\w-]+$/),
        refresh_token: expect.any(String),
        expires_in: 900,
        user: { email, time_zone: 'Europe/Berlin', role: 'user', inbox_list_id: expect.any(String) },
      });
      expect(res.body.refresh_token).not.toBe(res.body.access_token);
      const lists = await call(t.app, 'GET', '/api/v1/lists', { token: res.body.access_token });
      expect(lists.body.items).toEqual([
        expect.objectContaining({ id: res.body.user.inbox_list_id, is_inbox: true, role: 'owner' }),
      ]);
    });

    it('refuses an email that is already registered in another letter case with 409 email_taken', async () => {
      const email = uniqueEmail('Mixed.Case');
      await signUp(t.app, { email: email.replace('@example.com', '@Example.COM') });
      const res = await call(t.app, 'POST', '/api/v1/auth/signup', {
        body: { email: email.toLowerCase(), password: 'another long password' },
      });
      expectProblem(res, 409, 'email_taken');
      expect(problemFields(res)).toEqual(['email']);
    });

    const invalidSignUps: { what: string; body: Record<string, unknown>; field: string }[] = [
      { what: 'a password shorter than 8 characters', body: { password: 'short' }, field: 'password' },
      { what: 'an email that is not an email address', body: { email: 'not-an-email' }, field: 'email' },
      { what: 'a time zone that does not exist', body: { time_zone: 'Mars/Olympus' }, field: 'time_zone' },
      { what: 'an unknown field', body: { role: 'admin' }, field: 'role' },
    ];
    for (const { what, body, field } of invalidSignUps) {
      it(`refuses ${what} with 422 on ${field}`, async () => {
        const res = await call(t.app, 'POST', '/api/v1/auth/signup', {
          body: { email: uniqueEmail('invalid'), password: 'correct horse battery', ...body },
        });
        expectProblem(res, 422, 'validation_failed');
        expect(problemFields(res)).toContain(field);
      });
    }
  });

  describe('log-in', () => {
    it('answers 200 with a fresh session for the right password, whatever the letter case of the email', async () => {
      const user = await signUp(t.app);
      const res = await call(t.app, 'POST', '/api/v1/auth/login', {
        body: { email: user.email.toUpperCase(), password: user.password },
      });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ token_type: 'Bearer', user: { id: user.id, inbox_list_id: user.inboxListId } });
      const me = await call(t.app, 'GET', '/api/v1/me', { token: res.body.access_token });
      expect(me.body.id).toBe(user.id);
    });

    it('answers a wrong password and an unknown email with the same 401 body', async () => {
      const user = await signUp(t.app);
      const wrongPassword = await call(t.app, 'POST', '/api/v1/auth/login', {
        body: { email: user.email, password: 'not the password' },
      });
      const unknownEmail = await call(t.app, 'POST', '/api/v1/auth/login', {
        body: { email: uniqueEmail('nobody'), password: 'not the password' },
      });
      expectProblem(wrongPassword, 401, 'unauthorized');
      expectProblem(unknownEmail, 401, 'unauthorized');
      const { request_id: _a, ...wrongPasswordBody } = wrongPassword.body;
      const { request_id: _b, ...unknownEmailBody } = unknownEmail.body;
      expect(unknownEmailBody).toEqual(wrongPasswordBody);
      expect(Object.keys(unknownEmail.headers).sort()).toEqual(Object.keys(wrongPassword.headers).sort());
    });
  });

  describe('the current user', () => {
    let user: TestUser;
    beforeAll(async () => {
      user = await signUp(t.app, { time_zone: 'UTC' });
    });

    it('GET /me returns the signed-in user', async () => {
      const res = await call(t.app, 'GET', '/api/v1/me', { token: user.token });
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: user.id, email: user.email, time_zone: 'UTC', inbox_list_id: user.inboxListId });
    });

    it('PATCH /me changes the time zone, and GET /me shows it afterwards', async () => {
      const patched = await call(t.app, 'PATCH', '/api/v1/me', { token: user.token, body: { time_zone: 'America/New_York' } });
      expect(patched.status).toBe(200);
      expect(patched.body).toMatchObject({ id: user.id, time_zone: 'America/New_York' });
      const me = await call(t.app, 'GET', '/api/v1/me', { token: user.token });
      expect(me.body.time_zone).toBe('America/New_York');
    });

    it('PATCH /me refuses an unknown time zone and fields it does not manage (role, email)', async () => {
      const zone = await call(t.app, 'PATCH', '/api/v1/me', { token: user.token, body: { time_zone: 'Mars/Olympus' } });
      expectProblem(zone, 422, 'validation_failed');
      expect(problemFields(zone)).toContain('time_zone');
      const escalate = await call(t.app, 'PATCH', '/api/v1/me', {
        token: user.token,
        body: { role: 'admin', email: uniqueEmail('other') },
      });
      expectProblem(escalate, 422, 'validation_failed');
      expect(problemFields(escalate)).toEqual(expect.arrayContaining(['role', 'email']));
      const me = await call(t.app, 'GET', '/api/v1/me', { token: user.token });
      expect(me.body).toMatchObject({ role: 'user', email: user.email });
    });
  });

  describe('refresh tokens', () => {
    const refresh = (refreshToken: string) =>
      call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: refreshToken } });

    it('refreshing returns a new access and refresh token, and the new access token works', async () => {
      const user = await signUp(t.app);
      const res = await refresh(user.refreshToken);
      expect(res.status).toBe(200);
      expect(res.body.user.id).toBe(user.id);
      expect(res.body.refresh_token).not.toBe(user.refreshToken);
      expect(res.body.access_token).not.toBe(user.token);
      const me = await call(t.app, 'GET', '/api/v1/me', { token: res.body.access_token });
      expect(me.body.id).toBe(user.id);
    });

    it('reusing a rotated refresh token answers 401 and revokes the newest token of its family', async () => {
      const user = await signUp(t.app);
      const second = await refresh(user.refreshToken);
      const third = await refresh(second.body.refresh_token);
      expect(third.status).toBe(200);

      expectProblem(await refresh(user.refreshToken), 401, 'unauthorized');
      expectProblem(await refresh(third.body.refresh_token), 401, 'unauthorized');
    });

    it('revoking one family leaves the sessions of other log-ins working', async () => {
      const user = await signUp(t.app);
      const otherDevice = await call(t.app, 'POST', '/api/v1/auth/login', {
        body: { email: user.email, password: user.password },
      });
      await refresh(user.refreshToken);
      expectProblem(await refresh(user.refreshToken), 401, 'unauthorized');
      expect((await refresh(otherDevice.body.refresh_token)).status).toBe(200);
    });

    it('an unknown refresh token is refused with 401', async () => {
      expectProblem(await refresh('not-a-refresh-token'), 401, 'unauthorized');
    });

    it('after log-out the refresh token no longer works', async () => {
      const user = await signUp(t.app);
      const out = await call(t.app, 'POST', '/api/v1/auth/logout', { body: { refresh_token: user.refreshToken } });
      expect(out.status).toBe(204);
      expectProblem(await refresh(user.refreshToken), 401, 'unauthorized');
    });
  });

  describe('personal API tokens', () => {
    it('a new token is shown once, starts with tf_pat_ and authenticates API calls', async () => {
      const user = await signUp(t.app);
      const created = await call(t.app, 'POST', '/api/v1/api-tokens', { token: user.token, body: { name: 'cli' } });
      expect(created.status).toBe(201);
      expect(created.body).toMatchObject({ name: 'cli', token: expect.stringMatching(/^tf_pat_/), expires_at: null });
      expect(created.body.token.startsWith(created.body.prefix)).toBe(true);

      const tasks = await call(t.app, 'GET', '/api/v1/tasks', { token: created.body.token });
      expect(tasks.status).toBe(200);
      const me = await call(t.app, 'GET', '/api/v1/me', { token: created.body.token });
      expect(me.body.id).toBe(user.id);

      const listed = await call(t.app, 'GET', '/api/v1/api-tokens', { token: user.token });
      expect(listed.status).toBe(200);
      expect(listed.body.items).toEqual([
        expect.objectContaining({
          id: created.body.id,
          name: 'cli',
          prefix: created.body.prefix,
          last_used_at: expect.any(String),
        }),
      ]);
      expect(listed.body.items[0]).not.toHaveProperty('token');
      expect(JSON.stringify(listed.body)).not.toContain(created.body.token);
    });

    it('a revoked token is refused with 401 and disappears from the list', async () => {
      const user = await signUp(t.app);
      const { body: apiToken } = await call(t.app, 'POST', '/api/v1/api-tokens', { token: user.token, body: { name: 'ci' } });
      const revoked = await call(t.app, 'DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: user.token });
      expect(revoked.status).toBe(204);
      expectProblem(await call(t.app, 'GET', '/api/v1/tasks', { token: apiToken.token }), 401, 'unauthorized');
      const listed = await call(t.app, 'GET', '/api/v1/api-tokens', { token: user.token });
      expect(listed.body.items).toEqual([]);
    });

    it("another user cannot revoke someone's token: 404, and the token keeps working", async () => {
      const owner = await signUp(t.app);
      const stranger = await signUp(t.app);
      const { body: apiToken } = await call(t.app, 'POST', '/api/v1/api-tokens', { token: owner.token, body: { name: 'mine' } });
      const res = await call(t.app, 'DELETE', `/api/v1/api-tokens/${apiToken.id}`, { token: stranger.token });
      expectProblem(res, 404, 'not_found');
      const missing = await call(t.app, 'DELETE', `/api/v1/api-tokens/${randomUUID()}`, { token: stranger.token });
      expect(problemShape(res)).toEqual(problemShape(missing));
      expect((await call(t.app, 'GET', '/api/v1/tasks', { token: apiToken.token })).status).toBe(200);
    });
  });

  describe('token attacks', () => {
    let victim: TestUser;
    let attacker: TestUser;
    beforeAll(async () => {
      victim = await signUp(t.app);
      attacker = await signUp(t.app);
    });

    const attacks: { what: string; headers: () => Promise<Record<string, string>> }[] = [
      { what: 'no Authorization header', headers: async () => ({}) },
      { what: 'a Basic Authorization header', headers: async () => ({ authorization: 'Basic dXNlcjpwYXNz' }) },
      { what: 'a garbage bearer token', headers: async () => ({ authorization: 'Bearer garbage' }) },
      { what: 'an unknown tf_pat_ token', headers: async () => ({ authorization: 'Bearer tf_pat_notarealtoken' }) },
      {
        what: 'a refresh token used as a bearer token',
        headers: async () => ({ authorization: `Bearer ${victim.refreshToken}` }),
      },
      {
        what: 'an unsigned JWT with alg "none"',
        headers: async () => ({ authorization: `Bearer ${unsignedJwt(accessClaims(victim.id))}` }),
      },
      {
        what: 'a JWT signed with another HS256 secret',
        headers: async () => ({
          authorization: `Bearer ${await jwtSignedWith('not-the-server-secret-but-long-enough-1234', accessClaims(victim.id))}`,
        }),
      },
      {
        what: "a valid token whose payload was changed to another user's id",
        headers: async () => ({
          authorization: `Bearer ${withTamperedPayload(attacker.token, (claims) => ({ ...claims, sub: victim.id }))}`,
        }),
      },
    ];

    for (const { what, headers } of attacks) {
      it(`${what} is refused with 401 unauthorized`, async () => {
        const h = await headers();
        for (const url of ['/api/v1/me', '/api/v1/tasks']) {
          expectProblem(await call(t.app, 'GET', url, { headers: h }), 401, 'unauthorized');
        }
      });
    }

    it('the tampered token really carried the victim id and a genuine signature', () => {
      const tampered = withTamperedPayload(attacker.token, (claims) => ({ ...claims, sub: victim.id }));
      expect(jwtPayload(tampered).sub).toBe(victim.id);
      expect(tampered.split('.')[2]).toBe(attacker.token.split('.')[2]);
    });
  });
});

describeWithDatabase('auth: access tokens expire on the clock', () => {
  const clock = new ManualClock('2026-03-01T12:00:00Z');
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ clock, env: { ACCESS_TOKEN_TTL_SECONDS: '60', REFRESH_TOKEN_TTL_SECONDS: '3600' } });
  });
  afterAll(() => stop(t));

  it('an access token past its expiry answers 401 token_expired, and refreshing gives a working one', async () => {
    const user = await signUp(t.app);
    expect((await call(t.app, 'GET', '/api/v1/me', { token: user.token })).status).toBe(200);

    clock.advance(59_000);
    expect((await call(t.app, 'GET', '/api/v1/me', { token: user.token })).status).toBe(200);

    clock.advance(2_000);
    const expired = await call(t.app, 'GET', '/api/v1/me', { token: user.token });
    expectProblem(expired, 401, 'unauthorized');
    expect(expired.body.reason).toBe('token_expired');

    const refreshed = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expect(refreshed.body.expires_in).toBe(60);
    expect((await call(t.app, 'GET', '/api/v1/me', { token: refreshed.body.access_token })).status).toBe(200);
  });

  it('a refresh token past its expiry is refused with 401', async () => {
    const user = await signUp(t.app);
    clock.advance(3_601_000);
    const res = await call(t.app, 'POST', '/api/v1/auth/refresh', { body: { refresh_token: user.refreshToken } });
    expectProblem(res, 401, 'unauthorized');
  });

  it('an API token stops working once its expires_in_days have passed', async () => {
    const user = await signUp(t.app);
    const { body: apiToken } = await call(t.app, 'POST', '/api/v1/api-tokens', {
      token: user.token,
      body: { name: 'one day', expires_in_days: 1 },
    });
    expect(Date.parse(apiToken.expires_at) - clock.now().getTime()).toBe(86_400_000);
    clock.advance(86_399_000);
    expect((await call(t.app, 'GET', '/api/v1/tasks', { token: apiToken.token })).status).toBe(200);
    clock.advance(1_000);
    expectProblem(await call(t.app, 'GET', '/api/v1/tasks', { token: apiToken.token }), 401, 'unauthorized');
  });
});

describeWithDatabase('auth: log-in is rate limited per client', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await startTestApp({ env: { RATE_LIMIT_AUTH_MAX: '3' } });
  });
  afterAll(() => stop(t));

  it('the 4th log-in within the window answers 429 rate_limited, even with the right password', async () => {
    const user = await signUp(t.app);
    const logIn = () => call(t.app, 'POST', '/api/v1/auth/login', { body: { email: user.email, password: user.password } });
    for (let attempt = 1; attempt <= 3; attempt++) expect((await logIn()).status).toBe(200);
    const limited = await logIn();
    expectProblem(limited, 429, 'rate_limited');
    expect(limited.headers['retry-after']).toBeDefined();
    // The tight limit is for credential endpoints; the rest of the API is not throttled by it.
    expect((await call(t.app, 'GET', '/api/v1/me', { token: user.token })).status).toBe(200);
  });
});
