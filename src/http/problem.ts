// The one place errors become HTTP: AppError subclasses, schema validation failures and
// Fastify's own errors all leave as RFC 9457 problem+json with a stable `code`. Anything
// unexpected is logged with its stack and answered as a bare 500: internals never leak.
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, type FieldProblem, ValidationFailed } from '../errors.js';

export const problemSchema = z
  .object({
    type: z.string(),
    title: z.string(),
    status: z.number().int(),
    code: z.string().meta({ description: 'Stable machine-readable error code' }),
    detail: z.string().optional(),
    instance: z.string().optional(),
    request_id: z.string().optional(),
    errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
  })
  .passthrough()
  .meta({ id: 'Problem' });

interface Problem {
  status: number;
  code: string;
  title: string;
  detail?: string;
  errors?: FieldProblem[] | undefined;
  [extra: string]: unknown;
}

// Fastify's own error codes that are the client's fault, with the code we expose.
const FASTIFY_CLIENT_ERRORS: Record<string, { status: number; code: string; title: string }> = {
  FST_ERR_CTP_BODY_TOO_LARGE: { status: 413, code: 'payload_too_large', title: 'Payload too large' },
  FST_ERR_CTP_INVALID_MEDIA_TYPE: { status: 415, code: 'unsupported_media_type', title: 'Unsupported media type' },
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: { status: 400, code: 'bad_request', title: 'Bad request' },
  FST_ERR_CTP_EMPTY_JSON_BODY: { status: 400, code: 'malformed_json', title: 'Malformed JSON body' },
  FST_ERR_CTP_INVALID_JSON_BODY: { status: 400, code: 'malformed_json', title: 'Malformed JSON body' },
  // Router errors (frameworkErrors in server.ts): a path segment over maxParamLength, bad URL encoding.
  FST_ERR_MAX_PARAM_LENGTH: { status: 414, code: 'uri_too_long', title: 'URI too long' },
  FST_ERR_BAD_URL: { status: 400, code: 'bad_url', title: 'Malformed URL' },
};

const CONTEXT_PREFIX: Record<string, string> = { body: '', querystring: 'query.', params: 'path.', headers: 'header.' };

function toProblem(error: FastifyError | AppError | Error): Problem {
  if (error instanceof AppError) {
    return {
      status: error.status,
      code: error.code,
      title: error.title,
      detail: error.message,
      errors: error.errors,
      ...error.extra,
    };
  }
  if (hasZodFastifySchemaValidationErrors(error)) {
    const prefix = CONTEXT_PREFIX[(error as FastifyError).validationContext ?? 'body'] ?? '';
    const errors = error.validation.flatMap((v): FieldProblem[] => {
      const keys = (v.params as { keys?: string[] }).keys;
      if (v.keyword === 'unrecognized_keys' && keys)
        return keys.map((k) => ({ field: prefix + k, message: 'is not a known field' }));
      const field = v.instancePath.replace(/^\//, '').replaceAll('/', '.');
      return [{ field: prefix + field || prefix.replace(/\.$/, '') || '(root)', message: v.message ?? 'is invalid' }];
    });
    return {
      status: 422,
      code: 'validation_failed',
      title: 'Validation failed',
      detail: errors.map((e) => `${e.field} ${e.message}`).join('; '),
      errors,
    };
  }
  const fastifyError = error as FastifyError;
  const known = fastifyError.code ? FASTIFY_CLIENT_ERRORS[fastifyError.code] : undefined;
  if (known) return { ...known, detail: fastifyError.message };
  if (fastifyError.statusCode === 429) {
    return { status: 429, code: 'rate_limited', title: 'Too many requests', detail: fastifyError.message };
  }
  if (fastifyError.statusCode && fastifyError.statusCode >= 400 && fastifyError.statusCode < 500) {
    return { status: fastifyError.statusCode, code: 'bad_request', title: 'Bad request', detail: fastifyError.message };
  }
  return { status: 500, code: 'internal_error', title: 'Internal server error', detail: 'Something went wrong on our side' };
}

export function sendProblem(request: FastifyRequest, reply: FastifyReply, problem: Problem) {
  const { status, code, title, ...rest } = problem;
  return reply
    .code(status)
    .type('application/problem+json')
    .send({
      type: `/problems/${code}`,
      title,
      status,
      code,
      ...rest,
      instance: request.url.split('?')[0],
      request_id: request.id,
    });
}

export function errorHandler(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  const problem = toProblem(error);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ code: problem.code, status: problem.status }, 'request rejected');
  return sendProblem(request, reply, problem);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply) {
  return sendProblem(request, reply, {
    status: 404,
    code: 'route_not_found',
    title: 'Not found',
    detail: `No route ${request.method} ${request.url.split('?')[0]}`,
  });
}

/**
 * The NUL character cannot be stored in PostgreSQL text (the statement fails with 22021 or
 * 22P05, a 500 if it got that far): refused up front, in any path, query or body string, as
 * a 422 naming the field.
 */
export function rejectNulCharacters(request: FastifyRequest): void {
  const found: FieldProblem[] = [];
  const walk = (value: unknown, path: string, depth: number): void => {
    if (found.length > 0 || depth > 32) return;
    if (typeof value === 'string') {
      if (value.includes('\u0000')) found.push({ field: path || '(root)', message: 'must not contain the NUL character' });
    } else if (Array.isArray(value)) {
      for (const [i, v] of value.entries()) walk(v, path ? `${path}.${i}` : String(i), depth + 1);
    } else if (value !== null && typeof value === 'object') {
      for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, depth + 1);
    }
  };
  walk(request.params, 'path', 0);
  walk(request.query, 'query', 0);
  walk(request.body, '', 0);
  if (found.length > 0) throw new ValidationFailed(`${found[0]?.field} must not contain the NUL character`, { errors: found });
}
