// The one error hierarchy. Services throw these; src/http/problem.ts maps them to RFC 9457
// problem+json in one place. `code` is the stable, documented identifier clients branch on.

export interface FieldProblem {
  /** JSON pointer-ish path of the offending field, e.g. "title" or "tags.2". */
  field: string;
  message: string;
}

export abstract class AppError extends Error {
  abstract readonly status: number;
  abstract readonly code: string;
  readonly title: string = 'Error';
  readonly errors: FieldProblem[] | undefined;
  readonly extra: Record<string, unknown> | undefined;

  constructor(message: string, options: { errors?: FieldProblem[]; extra?: Record<string, unknown>; cause?: unknown } = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.errors = options.errors;
    this.extra = options.extra;
  }
}

export class ValidationFailed extends AppError {
  readonly status = 422;
  readonly code = 'validation_failed';
  override readonly title = 'Validation failed';
}

export class BadRequest extends AppError {
  readonly status = 400;
  readonly code = 'bad_request';
  override readonly title = 'Bad request';
}

export class Unauthorized extends AppError {
  readonly status = 401;
  readonly code = 'unauthorized';
  override readonly title = 'Unauthorized';
}

export class Forbidden extends AppError {
  readonly status = 403;
  readonly code = 'forbidden';
  override readonly title = 'Forbidden';
}

/** Also what another user's resource looks like: indistinguishable from a missing one. */
export class NotFound extends AppError {
  readonly status = 404;
  readonly code = 'not_found';
  override readonly title = 'Not found';
}

export class Conflict extends AppError {
  readonly status = 409;
  readonly code: string = 'conflict';
  override readonly title = 'Conflict';
}

export class EmailTaken extends Conflict {
  override readonly code = 'email_taken';
}

/** Undoing a change whose fields have changed again since; `errors` names those fields. */
export class RevertConflict extends Conflict {
  override readonly code = 'revert_conflict';
}

/** Only some events can be undone (today: task.updated). */
export class NotRevertible extends AppError {
  readonly status = 422;
  readonly code = 'not_revertible';
  override readonly title = 'Event cannot be reverted';
}

export class IdempotencyKeyReused extends AppError {
  readonly status = 422;
  readonly code = 'idempotency_key_reused';
  override readonly title = 'Idempotency key reused with a different request';
}

/** If-Match named a version that is no longer current. */
export class VersionConflict extends AppError {
  readonly status = 412;
  readonly code = 'version_conflict';
  override readonly title = 'Precondition failed';
}

export class PayloadTooLarge extends AppError {
  readonly status = 413;
  readonly code = 'payload_too_large';
  override readonly title = 'Payload too large';
}

export class RateLimited extends AppError {
  readonly status = 429;
  readonly code = 'rate_limited';
  override readonly title = 'Too many requests';
}

export class ServiceUnavailable extends AppError {
  readonly status = 503;
  readonly code = 'unavailable';
  override readonly title = 'Service unavailable';
}
