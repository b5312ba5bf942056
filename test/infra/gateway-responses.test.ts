import { describe, expect, it } from 'vitest';
import { GATEWAY_PROBLEMS, gatewayProblemBody } from '../../infra/gateway-responses';
import { isProblem, tooManyRequests } from '../../shared/problem';
import { signRequest, verifySignature } from '../../shared/signing';

/** What a function answers to a request signed with an access key nobody registered. */
function kernelAnswerToUnknownKey(): Record<string, unknown> {
  const request = { method: 'GET', path: '/v1/cases/330000%3A1' };
  const signed = signRequest({ ...request, accessKeyId: 'AKNOBODY', secret: 'x'.repeat(40) });
  // The HTTP stack lower-cases header names before verifying.
  const headers = Object.fromEntries(
    Object.entries(signed).map(([name, value]) => [name.toLowerCase(), value]),
  );
  try {
    verifySignature({ headers, method: 'GET', paths: [request.path], body: '', secretFor: () => undefined });
  } catch (error) {
    if (isProblem(error)) return error.toJSON();
    throw error;
  }
  throw new Error('an unknown key was accepted');
}

describe('gateway problems', () => {
  it('answer an unknown access key at the gateway exactly as the functions answer a wrong signature', () => {
    expect(JSON.parse(gatewayProblemBody('UNAUTHORIZED'))).toEqual(kernelAnswerToUnknownKey());
  });

  it('throttle with the kernel’s too-many-requests problem', () => {
    const kernel = tooManyRequests().toJSON();
    expect(JSON.parse(gatewayProblemBody('THROTTLED'))).toEqual(kernel);
    expect(GATEWAY_PROBLEMS.THROTTLED.headers).toEqual({ 'Retry-After': '1' });
  });

  it('have one stable slug per response type', () => {
    const slugs = Object.values(GATEWAY_PROBLEMS).map((problem) => problem.slug);
    expect(new Set(slugs).size).toBe(slugs.length);
    for (const type of Object.keys(GATEWAY_PROBLEMS) as (keyof typeof GATEWAY_PROBLEMS)[]) {
      expect(JSON.parse(gatewayProblemBody(type))).toMatchObject({ status: GATEWAY_PROBLEMS[type].status });
    }
  });
});
