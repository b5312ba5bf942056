import { expect } from 'vitest';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../../shared/problem';

/**
 * Assertions on the hub's answers: a refusal is an RFC 9457 problem with the expected status and a stable
 * `type`, and no answer — refusal or not — carries back any of the personal values the request held.
 */

export interface ProblemBody {
  type: string;
  title: string;
  status: number;
  detail?: string;
  [member: string]: unknown;
}

/** Reads the response and checks nothing in its headers or body repeats one of `secrets`. */
export async function readWithoutEcho(response: Response, secrets: readonly string[]): Promise<string> {
  const text = await response.text();
  const headers = [...response.headers.entries()].map(([name, value]) => `${name}: ${value}`).join('\n');
  for (const secret of secrets) {
    expect(text, 'a personal value came back in the body').not.toContain(secret);
    expect(headers, 'a personal value came back in a header').not.toContain(secret);
  }
  return text;
}

export async function expectProblem(
  response: Response,
  status: number,
  slug: string,
  secrets: readonly string[] = [],
): Promise<ProblemBody> {
  const text = await readWithoutEcho(response, secrets);
  expect({ status: response.status, body: text }).toMatchObject({ status });
  expect(response.headers.get('content-type')).toMatch(
    new RegExp(`^${PROBLEM_CONTENT_TYPE.replace('+', '\\+')}\\b`),
  );
  const body = JSON.parse(text) as ProblemBody;
  expect(body.type).toBe(`${PROBLEM_TYPE_PREFIX}${slug}`);
  expect(body.status).toBe(status);
  expect(body.title).toEqual(expect.any(String));
  return body;
}

/** A successful JSON answer with this status, checked for echoes like a refusal. */
export async function expectJson<T = unknown>(
  response: Response,
  status: number,
  secrets: readonly string[] = [],
): Promise<T> {
  const text = await readWithoutEcho(response, secrets);
  expect({ status: response.status, body: text }).toMatchObject({ status });
  return JSON.parse(text) as T;
}
