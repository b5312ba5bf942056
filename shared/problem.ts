import type { APIGatewayProxyResult } from 'aws-lambda';
import type { z } from 'zod';

/**
 * RFC 9457 problem details. Throw a Problem anywhere below an HTTP handler; the HTTP stack turns it
 * into an `application/problem+json` response. `detail` and extension members are sent to the
 * client, so they must never contain input values (personal data) or internals.
 */

export const PROBLEM_TYPE_PREFIX = 'urn:zwfw-hub:problem:';
export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

/** One invalid member of a request, as a JSON Pointer (RFC 6901) and a message without its value. */
export interface FieldError {
  path: string;
  message: string;
}

/** One record of a batch refused while the rest is accepted. */
export interface RejectedRecord {
  index: number;
  reason: string;
}

export interface ProblemInit {
  status: number;
  slug: string;
  title: string;
  detail?: string;
  extensions?: Record<string, unknown>;
  headers?: Record<string, string>;
  cause?: unknown;
}

export class Problem extends Error {
  readonly status: number;
  readonly slug: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly extensions: Record<string, unknown>;
  readonly headers: Record<string, string>;

  constructor(init: ProblemInit) {
    super(init.detail ?? init.title, { cause: init.cause });
    this.name = 'Problem';
    this.status = init.status;
    this.slug = init.slug;
    this.title = init.title;
    this.detail = init.detail;
    this.extensions = init.extensions ?? {};
    this.headers = init.headers ?? {};
  }

  get type(): string {
    return `${PROBLEM_TYPE_PREFIX}${this.slug}`;
  }

  toJSON(instance?: string): Record<string, unknown> {
    return {
      // Extensions first so they can never overwrite the standard members.
      ...this.extensions,
      type: this.type,
      title: this.title,
      status: this.status,
      ...(this.detail === undefined ? {} : { detail: this.detail }),
      ...(instance === undefined ? {} : { instance }),
    };
  }
}

export const isProblem = (error: unknown): error is Problem => error instanceof Problem;

type Extras = Pick<ProblemInit, 'extensions' | 'headers' | 'cause'>;

/** `helper(slug, detail?, extras?)`: the slug names the problem type, stable for clients to branch on. */
const make =
  (status: number, title: string) =>
  (slug: string, detail?: string, extras: Extras = {}): Problem =>
    new Problem({ status, slug, title, detail, ...extras });

export const badRequest = make(400, 'Bad request');
export const unauthorized = make(401, 'Unauthorized');
export const forbidden = make(403, 'Forbidden');
export const notFound = make(404, 'Not found');
export const conflict = make(409, 'Conflict');
export const payloadTooLarge = make(413, 'Payload too large');
export const unsupportedMediaType = make(415, 'Unsupported media type');
export const unprocessable = make(422, 'Unprocessable content');
export const internalError = (): Problem =>
  new Problem({
    status: 500,
    slug: 'internal-error',
    title: 'Internal error',
    detail: 'The request could not be completed. Quote the correlation id when reporting it.',
  });

/** A dependency (DynamoDB, SQS…) throttled or failed after the SDK's own retries: worth a retry later. */
export const dependencyUnavailable = (retryAfterSeconds = 2): Problem =>
  new Problem({
    status: 503,
    slug: 'dependency-unavailable',
    title: 'Service unavailable',
    detail:
      'A service the hub depends on is busy or failing; send the request again after the Retry-After delay.',
    headers: { 'retry-after': String(retryAfterSeconds) },
  });

export const tooManyRequests = (retryAfterSeconds?: number): Problem =>
  new Problem({
    status: 429,
    slug: 'too-many-requests',
    title: 'Too many requests',
    detail: 'The client exceeded its rate limit.',
    headers: retryAfterSeconds === undefined ? {} : { 'retry-after': String(retryAfterSeconds) },
  });

export const malformedJson = (detail: string): Problem => badRequest('malformed-json', detail);

export const validationFailed = (
  errors: FieldError[],
  detail = 'The request does not match its schema.',
): Problem =>
  new Problem({
    status: 422,
    slug: 'validation-failed',
    title: 'Validation failed',
    detail,
    extensions: { errors },
  });

/** A batch refused as a whole; `rejected` says which records and why. */
export const batchRejected = (
  rejected: RejectedRecord[],
  detail = 'No record of the batch is acceptable.',
): Problem =>
  new Problem({
    status: 422,
    slug: 'batch-rejected',
    title: 'Batch rejected',
    detail,
    extensions: { rejected },
  });

/** RFC 6901 pointer for a zod path: `['records', 3, 'regionCode']` → `/records/3/regionCode`. */
export const toJsonPointer = (path: readonly PropertyKey[]): string =>
  path.map((segment) => `/${String(segment).replaceAll('~', '~0').replaceAll('/', '~1')}`).join('');

/**
 * zod issues as field errors. The issue's input is dropped, and a message is replaced when it
 * would echo the input (custom refinements could) or name unknown members (keys are input too).
 */
export function fieldErrors(
  issues: readonly z.core.$ZodIssue[],
  prefix: readonly PropertyKey[] = [],
): FieldError[] {
  return issues.map((issue) => ({
    path: toJsonPointer([...prefix, ...issue.path]),
    message: safeMessage(issue),
  }));
}

function safeMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'unrecognized_keys') return `Unrecognized member(s): ${issue.keys.length}`;
  const input = (issue as { input?: unknown }).input;
  if ((typeof input === 'string' || typeof input === 'number') && String(input).length >= 3) {
    if (issue.message.includes(String(input))) return 'Invalid value';
  }
  return issue.message;
}

export function toProblemResponse(problem: Problem, correlationId?: string): APIGatewayProxyResult {
  return {
    statusCode: problem.status,
    headers: {
      ...problem.headers,
      'content-type': PROBLEM_CONTENT_TYPE,
      ...(correlationId ? { 'x-correlation-id': correlationId } : {}),
    },
    body: JSON.stringify(problem.toJSON(correlationId ? `urn:zwfw-hub:request:${correlationId}` : undefined)),
  };
}
