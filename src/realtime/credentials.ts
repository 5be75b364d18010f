// Where a real-time client's token may come from, and what a failure is called. Browsers
// cannot set headers on a WebSocket or an EventSource, so besides `Authorization: Bearer`
// the WebSocket accepts the token as a subprotocol (`bearer.<token>`, next to `taskflow`)
// and both accept `?access_token=` — the logger never writes query strings or these headers.
import type { FastifyRequest } from 'fastify';
import { decodeJwt } from 'jose';
import type { Principal } from '../auth/service.js';
import { Unauthorized } from '../errors.js';

/** The subprotocol the server selects; a client offering a bearer token must offer it too. */
export const WS_PROTOCOL = 'taskflow';
const BEARER_PROTOCOL = 'bearer.';

/** Unauthorized reasons, as close reasons (4401) and problem `reason`s. */
export type AuthFailure = 'auth_required' | 'auth_timeout' | 'token_expired' | 'token_invalid';

/** The token from the Authorization header, a `bearer.` subprotocol or `?access_token=`; null if none. */
export function requestToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (header) {
    const match = /^Bearer\s+(\S+)$/i.exec(header);
    if (!match?.[1])
      throw new Unauthorized('Authorization header must be "Bearer <token>"', { extra: { reason: 'token_invalid' } });
    return match[1];
  }
  const protocols = request.headers['sec-websocket-protocol'];
  if (typeof protocols === 'string') {
    const offered = protocols.split(',').map((p) => p.trim());
    const bearer = offered.find((p) => p.startsWith(BEARER_PROTOCOL));
    if (bearer) return bearer.slice(BEARER_PROTOCOL.length);
  }
  const query = request.query as Record<string, unknown> | undefined;
  const token = query?.access_token;
  return typeof token === 'string' && token.length > 0 ? token : null;
}

/** Picks our subprotocol during the WebSocket handshake (never echoes the token). */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(WS_PROTOCOL) ? WS_PROTOCOL : false;
}

/** When an access token (a JWT) stops being valid, in epoch ms; null for API tokens. */
export function tokenExpiry(token: string, principal: Principal): number | null {
  if (principal.via !== 'access_token') return null;
  try {
    const { exp } = decodeJwt(token);
    return typeof exp === 'number' ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** The reason of an authentication failure, or null if `err` is not one. */
export function authFailure(err: unknown): AuthFailure | null {
  if (!(err instanceof Unauthorized)) return null;
  return err.extra?.reason === 'token_expired' ? 'token_expired' : 'token_invalid';
}
