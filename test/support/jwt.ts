// Hand-built JSON Web Tokens for the token-attack tests: unsigned (alg "none"), signed
// with a secret the server does not know, or a real token with its payload swapped.
import { SignJWT } from 'jose';

const encode = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/** The claims TaskFlow puts in an access token, valid for an hour from `now`. */
export function accessClaims(userId: string, now: Date = new Date()): Record<string, unknown> {
  const seconds = Math.floor(now.getTime() / 1000);
  return { sub: userId, typ: 'access', role: 'user', iss: 'taskflow', iat: seconds, exp: seconds + 3600 };
}

/** header.payload. with alg "none" and an empty signature. */
export function unsignedJwt(claims: Record<string, unknown>): string {
  return `${encode({ alg: 'none', typ: 'JWT' })}.${encode(claims)}.`;
}

/** A well-formed HS256 token signed with a secret of our own choosing. */
export function jwtSignedWith(secret: string, claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg: 'HS256', typ: 'JWT' }).sign(new TextEncoder().encode(secret));
}

export function jwtPayload(token: string): Record<string, unknown> {
  const [, payload = ''] = token.split('.');
  return JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
}

/** The same token with its payload replaced and the original header and signature kept. */
export function withTamperedPayload(token: string, change: (claims: Record<string, unknown>) => Record<string, unknown>): string {
  const [header, , signature] = token.split('.');
  return `${header}.${encode(change(jwtPayload(token)))}.${signature}`;
}
