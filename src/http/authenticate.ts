// Bearer authentication as an onRequest hook for route plugins that need a user. The
// principal comes only from the verified token, never from the request body.
import type { FastifyRequest } from 'fastify';
import type { AuthService, Principal } from '../auth/service.js';
import { Unauthorized } from '../errors.js';
import type { Actor } from '../events/types.js';

declare module 'fastify' {
  interface FastifyRequest {
    principal: Principal | null;
  }
}

export function bearerToken(request: FastifyRequest): string | null {
  const header = request.headers.authorization;
  if (!header) return null;
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) throw new Unauthorized('Authorization header must be "Bearer <token>"');
  return match[1];
}

export function authenticateHook(auth: AuthService) {
  return async function authenticate(request: FastifyRequest): Promise<void> {
    const token = bearerToken(request);
    if (!token) throw new Unauthorized('Authentication required: send "Authorization: Bearer <token>"');
    request.principal = await auth.authenticate(token);
  };
}

/** The authenticated caller as the services see it: who acts, and which request. */
export function actorOf(request: FastifyRequest): Actor {
  if (!request.principal) throw new Unauthorized('Authentication required');
  return { userId: request.principal.userId, correlationId: request.id };
}
