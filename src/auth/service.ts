// Accounts and credentials: sign-up (with the user's Inbox), log-in, rotating refresh
// tokens, personal API tokens, and `authenticate`, which turns a bearer token into the
// Principal every other service is scoped by.
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT } from 'jose';
import type { Kysely } from 'kysely';
import type { Clock } from '../clock.js';
import type { DB } from '../db/tables.js';
import type { Transact } from '../db/transaction.js';
import { EmailTaken, NotFound, Unauthorized } from '../errors.js';
import { appendEvents } from '../events/append-events.js';
import type { Actor, NewEvent } from '../events/types.js';
import { createInbox, inboxListId } from '../lists/service.js';
import { DUMMY_PASSWORD_HASH, hashPassword, verifyPassword } from './passwords.js';
import type { SessionView, SignUpInput, UserView } from './schema.js';
import { API_TOKEN_PREFIX, hashToken, newOpaqueToken } from './secrets.js';

export interface Principal {
  userId: string;
  role: 'user' | 'admin';
  /** How the caller proved who they are. */
  via: 'access_token' | 'api_token';
  /** The API token's id (via api_token): streams opened with it end when it is revoked. */
  tokenId?: string;
}

export interface AuthDeps {
  db: Kysely<DB>;
  transact: Transact;
  clock: Clock;
  signingSecret: Uint8Array;
  accessTokenTtlSeconds: number;
  refreshTokenTtlSeconds: number;
}

const ISSUER = 'taskflow';
const PG_UNIQUE_VIOLATION = '23505';

export type AuthService = ReturnType<typeof createAuthService>;

export function createAuthService(deps: AuthDeps) {
  const { db, transact, clock } = deps;

  async function issueSession(userId: string, familyId: string = randomUUID()): Promise<SessionView> {
    const now = clock.now();
    const user = await getMe(userId);
    const accessToken = await new SignJWT({ role: user.role, typ: 'access' })
      .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
      .setSubject(userId)
      .setIssuer(ISSUER)
      .setIssuedAt(Math.floor(now.getTime() / 1000))
      .setExpirationTime(Math.floor(now.getTime() / 1000) + deps.accessTokenTtlSeconds)
      .setJti(randomUUID())
      .sign(deps.signingSecret);
    const refreshToken = newOpaqueToken();
    await db
      .insertInto('refresh_tokens')
      .values({
        id: randomUUID(),
        user_id: userId,
        family_id: familyId,
        token_hash: hashToken(refreshToken),
        created_at: now,
        expires_at: new Date(now.getTime() + deps.refreshTokenTtlSeconds * 1000),
      })
      .execute();
    return {
      token_type: 'Bearer',
      access_token: accessToken,
      expires_in: deps.accessTokenTtlSeconds,
      refresh_token: refreshToken,
      user,
    };
  }

  async function signUp(input: SignUpInput, correlationId: string | null): Promise<SessionView> {
    const passwordHash = await hashPassword(input.password);
    const userId = randomUUID();
    const now = clock.now();
    try {
      await transact(async (tx) => {
        await tx.q
          .insertInto('users')
          .values({
            id: userId,
            email: input.email,
            password_hash: passwordHash,
            display_name: input.display_name ?? input.email.split('@')[0] ?? input.email,
            time_zone: input.time_zone,
            created_at: now,
            updated_at: now,
          })
          .execute();
        const actor = { userId, correlationId };
        await appendEvents(tx, actor, now, [
          {
            type: 'user.registered',
            aggregateType: 'user',
            aggregateId: userId,
            aggregateVersion: 1,
            userId,
            data: { time_zone: input.time_zone },
          },
        ]);
        await createInbox(tx, actor, now);
      });
    } catch (err) {
      if ((err as { code?: string }).code === PG_UNIQUE_VIOLATION) {
        throw new EmailTaken('An account with this email already exists', {
          errors: [{ field: 'email', message: 'is already registered' }],
        });
      }
      throw err;
    }
    return issueSession(userId);
  }

  async function logIn(email: string, password: string): Promise<SessionView> {
    const user = await db
      .selectFrom('users')
      .select(['id', 'password_hash'])
      .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
      .executeTakeFirst();
    // Verify against a dummy hash for unknown emails: same work, same timing.
    const ok = await verifyPassword(password, user?.password_hash ?? DUMMY_PASSWORD_HASH);
    if (!user || !ok) throw new Unauthorized('Email or password is incorrect', { extra: { code_detail: 'bad_credentials' } });
    return issueSession(user.id);
  }

  /** Rotates a refresh token. Presenting an already-rotated token revokes its whole family. */
  async function refresh(refreshToken: string): Promise<SessionView> {
    const now = clock.now();
    const row = await db
      .selectFrom('refresh_tokens')
      .selectAll()
      .where('token_hash', '=', hashToken(refreshToken))
      .executeTakeFirst();
    if (!row || row.revoked_at || row.expires_at <= now) throw new Unauthorized('Refresh token is invalid or expired');
    const rotated = await db
      .updateTable('refresh_tokens')
      .set({ rotated_at: now })
      .where('id', '=', row.id)
      .where('rotated_at', 'is', null)
      .executeTakeFirst();
    if (rotated.numUpdatedRows === 0n) {
      // Reuse of a rotated token: someone else holds a copy. End every session of the family.
      await db.updateTable('refresh_tokens').set({ revoked_at: now }).where('family_id', '=', row.family_id).execute();
      throw new Unauthorized('Refresh token was already used; all sessions from it are revoked');
    }
    return issueSession(row.user_id, row.family_id);
  }

  async function logOut(refreshToken: string): Promise<void> {
    const row = await db
      .selectFrom('refresh_tokens')
      .select('family_id')
      .where('token_hash', '=', hashToken(refreshToken))
      .executeTakeFirst();
    if (row) {
      await db
        .updateTable('refresh_tokens')
        .set({ revoked_at: clock.now() })
        .where('family_id', '=', row.family_id)
        .where('revoked_at', 'is', null)
        .execute();
    }
  }

  async function authenticate(bearer: string): Promise<Principal> {
    if (bearer.startsWith(API_TOKEN_PREFIX)) {
      const now = clock.now();
      const row = await db
        .updateTable('api_tokens')
        .set({ last_used_at: now })
        .where('token_hash', '=', hashToken(bearer))
        .where('revoked_at', 'is', null)
        .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]))
        .returning(['id', 'user_id'])
        .executeTakeFirst();
      if (!row) throw new Unauthorized('API token is invalid, expired or revoked');
      const user = await db.selectFrom('users').select('role').where('id', '=', row.user_id).executeTakeFirst();
      if (!user) throw new Unauthorized('API token is invalid, expired or revoked');
      return { userId: row.user_id, role: user.role, via: 'api_token', tokenId: row.id };
    }
    try {
      const { payload } = await jwtVerify(bearer, deps.signingSecret, {
        algorithms: ['HS256'],
        issuer: ISSUER,
        currentDate: clock.now(),
        requiredClaims: ['sub', 'exp'],
      });
      if (payload.typ !== 'access' || typeof payload.sub !== 'string') throw new Unauthorized('Not an access token');
      return { userId: payload.sub, role: payload.role === 'admin' ? 'admin' : 'user', via: 'access_token' };
    } catch (err) {
      if (err instanceof Unauthorized) throw err;
      const expired = err instanceof joseErrors.JWTExpired;
      throw new Unauthorized(expired ? 'Access token has expired' : 'Access token is invalid', {
        extra: { reason: expired ? 'token_expired' : 'token_invalid' },
      });
    }
  }

  async function getMe(userId: string): Promise<UserView> {
    const user = await db
      .selectFrom('users')
      .select(['id', 'email', 'display_name', 'time_zone', 'role', 'created_at'])
      .where('id', '=', userId)
      .executeTakeFirst();
    if (!user) throw new NotFound('User not found');
    return { ...user, created_at: user.created_at.toISOString(), inbox_list_id: await inboxListId(db, userId) };
  }

  async function updateMe(userId: string, patch: { display_name?: string | undefined; time_zone?: string | undefined }) {
    const set = Object.fromEntries(Object.entries(patch).filter(([, v]) => v !== undefined));
    if (Object.keys(set).length > 0) {
      await db
        .updateTable('users')
        .set({ ...set, updated_at: clock.now() })
        .where('id', '=', userId)
        .execute();
    }
    return getMe(userId);
  }

  // Token changes are events (never the secret, only its name): the account's audit trail,
  // and how every server process learns to end streams opened with a revoked token.
  async function createApiToken(actor: Actor, input: { name: string; expires_in_days?: number | undefined }) {
    const userId = actor.userId;
    const now = clock.now();
    const token = newOpaqueToken(API_TOKEN_PREFIX);
    const row = await transact(async (tx) => {
      const created = await tx.q
        .insertInto('api_tokens')
        .values({
          id: randomUUID(),
          user_id: userId,
          name: input.name,
          token_hash: hashToken(token),
          prefix: token.slice(0, API_TOKEN_PREFIX.length + 6),
          created_at: now,
          expires_at: input.expires_in_days ? new Date(now.getTime() + input.expires_in_days * 86_400_000) : null,
        })
        .returningAll()
        .executeTakeFirstOrThrow();
      await appendEvents(tx, actor, now, [tokenEvent('api_token.created', created, 1)]);
      return created;
    });
    return { ...apiTokenView(row), token };
  }

  async function listApiTokens(userId: string) {
    const rows = await db
      .selectFrom('api_tokens')
      .selectAll()
      .where('user_id', '=', userId)
      .where('revoked_at', 'is', null)
      .orderBy('created_at', 'desc')
      .execute();
    return rows.map(apiTokenView);
  }

  async function revokeApiToken(actor: Actor, tokenId: string): Promise<void> {
    const userId = actor.userId;
    const now = clock.now();
    await transact(async (tx) => {
      const revoked = await tx.q
        .updateTable('api_tokens')
        .set({ revoked_at: now })
        .where('id', '=', tokenId)
        .where('user_id', '=', userId)
        .where('revoked_at', 'is', null)
        .returningAll()
        .executeTakeFirst();
      if (!revoked) throw new NotFound('API token not found');
      await appendEvents(tx, actor, now, [tokenEvent('api_token.revoked', revoked, 2)]);
    });
  }

  /** Operator action (CLI): makes a user an admin; takes effect at their next log-in. */
  async function grantAdmin(email: string): Promise<void> {
    await transact(async (tx) => {
      const user = await tx.q
        .updateTable('users')
        .set({ role: 'admin', updated_at: clock.now() })
        .where((eb) => eb(eb.fn('lower', ['email']), '=', email.toLowerCase()))
        .returning('id')
        .executeTakeFirst();
      if (!user) throw new NotFound(`No user with email ${email}`);
      const version = await tx.q
        .selectFrom('events')
        .select((eb) => eb.fn.max('aggregate_version').as('v'))
        .where('aggregate_id', '=', user.id)
        .executeTakeFirst();
      await appendEvents(tx, { userId: user.id, correlationId: 'cli' }, clock.now(), [
        {
          type: 'user.role_changed',
          aggregateType: 'user',
          aggregateId: user.id,
          aggregateVersion: (version?.v ?? 0) + 1,
          userId: user.id,
          data: { role: 'admin' },
        },
      ]);
    });
  }

  return {
    grantAdmin,
    signUp,
    logIn,
    refresh,
    logOut,
    authenticate,
    getMe,
    updateMe,
    createApiToken,
    listApiTokens,
    revokeApiToken,
  };
}

function apiTokenView(row: {
  id: string;
  name: string;
  prefix: string;
  created_at: Date;
  expires_at: Date | null;
  last_used_at: Date | null;
}) {
  return {
    id: row.id,
    name: row.name,
    prefix: row.prefix,
    created_at: row.created_at.toISOString(),
    expires_at: row.expires_at?.toISOString() ?? null,
    last_used_at: row.last_used_at?.toISOString() ?? null,
  };
}

function tokenEvent(
  type: 'api_token.created' | 'api_token.revoked',
  row: { id: string; user_id: string; name: string; prefix: string },
  version: number,
): NewEvent {
  return {
    type,
    aggregateType: 'api_token',
    aggregateId: row.id,
    aggregateVersion: version,
    userId: row.user_id,
    data: { token_id: row.id, name: row.name, prefix: row.prefix },
  };
}
