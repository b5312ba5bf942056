import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  badRequest,
  fieldErrors,
  notFound,
  PROBLEM_CONTENT_TYPE,
  Problem,
  toJsonPointer,
  tooManyRequests,
  toProblemResponse,
  validationFailed,
} from '../../../shared/problem';

describe('Problem', () => {
  it('serialises as RFC 9457 with a stable urn type', () => {
    const problem = notFound('case-not-found', 'No such case.');
    expect(problem).toBeInstanceOf(Error);
    expect(problem.toJSON()).toEqual({
      type: 'urn:zwfw-hub:problem:case-not-found',
      title: 'Not found',
      status: 404,
      detail: 'No such case.',
    });
  });

  it('keeps extension members but never lets them override the standard ones', () => {
    const problem = new Problem({
      status: 422,
      slug: 'batch-rejected',
      title: 'Batch rejected',
      extensions: { rejected: [{ index: 3, reason: 'bad region' }], status: 200, type: 'x' },
    });
    expect(problem.toJSON()).toMatchObject({ status: 422, type: 'urn:zwfw-hub:problem:batch-rejected' });
    expect(problem.toJSON().rejected).toEqual([{ index: 3, reason: 'bad region' }]);
  });

  it('becomes an API Gateway response with the problem media type and the correlation id', () => {
    const response = toProblemResponse(
      badRequest('malformed-json', 'The body is not valid JSON.'),
      'corr-12345678',
    );
    expect(response.statusCode).toBe(400);
    expect(response.headers).toMatchObject({
      'content-type': PROBLEM_CONTENT_TYPE,
      'x-correlation-id': 'corr-12345678',
    });
    expect(JSON.parse(response.body)).toMatchObject({
      type: 'urn:zwfw-hub:problem:malformed-json',
      instance: 'urn:zwfw-hub:request:corr-12345678',
    });
  });

  it('carries Retry-After on 429', () => {
    expect(toProblemResponse(tooManyRequests(2)).headers).toMatchObject({ 'retry-after': '2' });
  });
});

describe('fieldErrors', () => {
  const schema = z
    .object({
      records: z.array(
        z.object({
          regionCode: z.string().regex(/^[0-9]{6}$/),
          level: z.number().int().max(5),
          note: z
            .string()
            .refine((s) => s.length < 3, { error: (issue) => `bad value ${String(issue.input)}` }),
        }),
      ),
    })
    .strict();

  it('lists JSON pointers and messages without echoing input values or unknown member names', () => {
    const input = {
      records: [{ regionCode: '11010519491231002X', level: 9, note: 'Zhang San 13800138000' }],
      '440524188001010014': true,
    };
    const result = schema.safeParse(input, { reportInput: true });
    expect(result.success).toBe(false);
    const errors = fieldErrors(result.error?.issues ?? [], ['body']);
    expect(errors.map((e) => e.path).sort()).toEqual([
      '/body',
      '/body/records/0/level',
      '/body/records/0/note',
      '/body/records/0/regionCode',
    ]);
    const text = JSON.stringify(errors);
    for (const secret of ['11010519491231002X', '440524188001010014', 'Zhang San', '13800138000']) {
      expect(text).not.toContain(secret);
    }
    expect(JSON.stringify(validationFailed(errors).toJSON())).toContain('"errors"');
  });

  it('escapes pointer segments per RFC 6901', () => {
    expect(toJsonPointer(['a/b', 'c~d', 0])).toBe('/a~1b/c~0d/0');
  });
});
