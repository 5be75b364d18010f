// Opaque secrets (refresh tokens, personal API tokens) and the JWT signing key.
// Only a SHA-256 of an opaque secret is stored: a database leak reveals no usable token.
import { createHash, randomBytes } from 'node:crypto';
import type { Kysely } from 'kysely';
import type { DB } from '../db/tables.js';

export const API_TOKEN_PREFIX = 'tf_pat_';

export function newOpaqueToken(prefix = ''): string {
  return prefix + randomBytes(32).toString('base64url');
}

export function hashToken(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

/**
 * JWT_SECRET when configured; otherwise a secret generated on first start and kept in
 * app_settings, so every instance on one database signs and verifies alike.
 */
export async function loadSigningSecret(db: Kysely<DB>, configured: string | undefined): Promise<Uint8Array> {
  if (configured) return new TextEncoder().encode(configured);
  await db
    .insertInto('app_settings')
    .values({ key: 'jwt_secret', value: randomBytes(48).toString('base64url') })
    .onConflict((oc) => oc.column('key').doNothing())
    .execute();
  const row = await db.selectFrom('app_settings').select('value').where('key', '=', 'jwt_secret').executeTakeFirstOrThrow();
  return new TextEncoder().encode(row.value);
}
