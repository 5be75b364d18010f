// Assertions on RFC 9457 error replies, shared by the HTTP suites: every error leaves as
// application/problem+json with type, title, status, code and request_id.
import { expect } from 'vitest';
import type { Reply } from './app.js';

export function expectProblem(res: Reply, status: number, code: string): void {
  expect({ status: res.status, code: res.body?.code }).toEqual({ status, code });
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({
    type: expect.stringContaining(code),
    title: expect.any(String),
    status,
    code,
    request_id: expect.any(String),
  });
}

/** The `field` of each entry in a problem's `errors`. */
export function problemFields(res: Reply): string[] {
  return (res.body?.errors ?? []).map((e: { field: string }) => e.field);
}

/** A problem body without what differs per request, for comparing two replies. */
export function problemShape(res: Reply): Record<string, unknown> {
  const { request_id: _requestId, instance: _instance, detail: _detail, ...rest } = res.body ?? {};
  return { httpStatus: res.status, contentType: res.headers['content-type'], ...rest };
}
