import { PROBLEM_TYPE_PREFIX } from '../shared/problem';

/**
 * The errors API Gateway answers itself once a Lambda authorizer and usage plans guard the API, as RFC 9457
 * problems. CDK renders them as gateway responses; the local gateway answers with the same documents, so a
 * client sees one error contract locally and in the cloud.
 */

export type GatewayResponseType =
  | 'UNAUTHORIZED'
  | 'ACCESS_DENIED'
  | 'INVALID_API_KEY'
  | 'THROTTLED'
  | 'QUOTA_EXCEEDED';

export interface GatewayProblem {
  status: number;
  slug: string;
  title: string;
  detail: string;
  /** Static headers: a gateway response cannot compute them per request. */
  headers?: Record<string, string>;
}

/**
 * UNAUTHORIZED covers a missing X-Hub-Key (API Gateway refuses before calling the authorizer) and an access key
 * the authorizer does not know. It repeats, word for word, what the functions answer to a wrong signature
 * (shared/signing.ts), so a caller cannot tell a registered access key from an invented one by the answer.
 */
export const GATEWAY_PROBLEMS: Readonly<Record<GatewayResponseType, GatewayProblem>> = {
  UNAUTHORIZED: {
    status: 401,
    slug: 'signature-invalid',
    title: 'Unauthorized',
    detail: 'The signature does not match the request or the access key is unknown.',
  },
  ACCESS_DENIED: {
    status: 403,
    slug: 'access-denied',
    title: 'Forbidden',
    detail: 'This client may not call this API.',
  },
  // The client is registered but not (yet) metered under the usage plan of its kind: an onboarding gap.
  INVALID_API_KEY: {
    status: 403,
    slug: 'usage-plan-missing',
    title: 'Forbidden',
    detail: 'This client has no usage plan on this API; ask the hub operators to complete its onboarding.',
  },
  THROTTLED: {
    status: 429,
    slug: 'too-many-requests',
    title: 'Too many requests',
    detail: 'The client exceeded its rate limit.',
    headers: { 'Retry-After': '1' },
  },
  QUOTA_EXCEEDED: {
    status: 429,
    slug: 'quota-exceeded',
    title: 'Too many requests',
    detail: 'The client used up its request quota for the period.',
  },
};

/** The problem document of a gateway response, as JSON text. */
export function gatewayProblemBody(type: GatewayResponseType): string {
  const { status, slug, title, detail } = GATEWAY_PROBLEMS[type];
  return JSON.stringify({ type: `${PROBLEM_TYPE_PREFIX}${slug}`, title, status, detail });
}
