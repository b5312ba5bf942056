import type { PutEventsRequestEntry, PutEventsResultEntry } from '@aws-sdk/client-eventbridge';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { catalogue } from '../../../events/catalogue';
import {
  backoffDelay,
  chunkBySizeAndCount,
  EventPublishError,
  EventValidationError,
  PUT_EVENTS_MAX_BYTES,
  PUT_EVENTS_MAX_ENTRIES,
  type PublishEntry,
  putEventsEntrySize,
  putEventsWithRetries,
  type RetryOptions,
  type SendPutEvents,
  validatePublishEntry,
} from '../../../shared/events';

const clearIdNumber = '11010519491231002X';
const statusChanged = () => structuredClone(catalogue[1].example);

describe('chunkBySizeAndCount', () => {
  const limits = { maxEntries: PUT_EVENTS_MAX_ENTRIES, maxBytes: PUT_EVENTS_MAX_BYTES };

  it('cuts 25 small entries into 10, 10 and 5', () => {
    const chunks = chunkBySizeAndCount(
      Array.from({ length: 25 }, (_, i) => i),
      () => 100,
      limits,
    );
    expect(chunks.map((chunk) => chunk.length)).toEqual([10, 10, 5]);
  });

  it('starts a new chunk before the byte limit is passed', () => {
    const sizes = [100_000, 100_000, 62_144, 1];
    expect(chunkBySizeAndCount(sizes, (size) => size, limits)).toEqual([[100_000, 100_000, 62_144], [1]]);
  });

  it('returns nothing for nothing', () => {
    expect(chunkBySizeAndCount([], () => 1, limits)).toEqual([]);
  });

  it('refuses an entry that alone exceeds the byte limit', () => {
    expect(() => chunkBySizeAndCount([PUT_EVENTS_MAX_BYTES + 1], (size) => size, limits)).toThrow(RangeError);
  });

  it('keeps order, respects both limits and fills each chunk greedily', () => {
    const sizes = fc.array(fc.integer({ min: 1, max: 1_000 }), { maxLength: 200 });
    const smallLimits = fc.record({
      maxEntries: fc.integer({ min: 1, max: 12 }),
      maxBytes: fc.constant(1_000),
    });
    fc.assert(
      fc.property(sizes, smallLimits, (items, limit) => {
        const chunks = chunkBySizeAndCount(items, (size) => size, limit);
        expect(chunks.flat()).toEqual(items);
        chunks.forEach((chunk, index) => {
          const bytes = chunk.reduce((sum, size) => sum + size, 0);
          expect(chunk.length).toBeGreaterThan(0);
          expect(chunk.length).toBeLessThanOrEqual(limit.maxEntries);
          expect(bytes).toBeLessThanOrEqual(limit.maxBytes);
          const next = chunks[index + 1]?.[0];
          if (next !== undefined) {
            expect(chunk.length === limit.maxEntries || bytes + next > limit.maxBytes).toBe(true);
          }
        });
      }),
    );
  });
});

describe('putEventsEntrySize', () => {
  it('counts UTF-8 bytes of source, detail type, detail and resources', () => {
    const entry: PutEventsRequestEntry = {
      Source: 'zwfw.case-aggregate', // 19
      DetailType: 'CaseReceived', // 12
      Detail: '{"n":"浙江"}', // 8 ASCII + 2 × 3
      Resources: ['arn:x'], // 5
      EventBusName: 'not-counted',
    };
    expect(putEventsEntrySize(entry)).toBe(19 + 12 + 14 + 5);
  });
});

describe('validatePublishEntry', () => {
  const source = 'zwfw.case-aggregate';

  it.each(catalogue.map((event) => [event.detailType, event] as const))(
    'accepts the %s example',
    (_, event) => {
      expect(() =>
        validatePublishEntry(
          { detailType: event.detailType, detail: event.example } as PublishEntry,
          event.source,
        ),
      ).not.toThrow();
    },
  );

  it('names the detail type and field, never the value', () => {
    const detail = statusChanged();
    detail.applicant.maskedId = clearIdNumber;
    const attempt = () => validatePublishEntry({ detailType: 'CaseStatusChanged', detail }, source);
    expect(attempt).toThrow(EventValidationError);
    expect(attempt).toThrow(/CaseStatusChanged.*detail\.applicant\.maskedId/);
    expect(attempt).not.toThrow(new RegExp(clearIdNumber));
  });

  it('rejects a version the catalogue does not hold', () => {
    const detail = { ...statusChanged(), version: 2 } as unknown as PublishEntry['detail'];
    expect(() =>
      validatePublishEntry({ detailType: 'CaseStatusChanged', detail } as PublishEntry, source),
    ).toThrow(/CaseStatusChanged: no catalogued schema/);
  });

  it('rejects an event published under another source', () => {
    expect(() =>
      validatePublishEntry(
        { detailType: 'CaseStatusChanged', detail: statusChanged() },
        'zwfw.licence-retrieve',
      ),
    ).toThrow(/catalogued for source zwfw\.case-aggregate/);
  });
});

describe('putEventsWithRetries', () => {
  const requests = (count: number): PutEventsRequestEntry[] =>
    Array.from({ length: count }, (_, i) => ({ Source: 's', DetailType: `T${i}`, Detail: `{"i":${i}}` }));

  /** An in-memory stand-in for one PutEvents call: fails entries by detail type, `failures` times each. */
  function flakyBus(failures: Record<string, { times: number; code: string }>) {
    const calls: string[][] = [];
    let nextId = 0;
    const send: SendPutEvents = async (entries) => {
      calls.push(entries.map((entry) => entry.DetailType as string));
      return entries.map((entry): PutEventsResultEntry => {
        const failure = failures[entry.DetailType as string];
        if (failure !== undefined && failure.times > 0) {
          failure.times--;
          return { ErrorCode: failure.code, ErrorMessage: 'injected' };
        }
        return { EventId: `id-${entry.DetailType}-${nextId++}` };
      });
    };
    return { send, calls };
  }

  const retry = (sleeps: number[] = []): RetryOptions => ({
    maxAttempts: 4,
    baseDelayMs: 100,
    random: () => 0.5,
    sleep: async (ms) => {
      sleeps.push(ms);
    },
  });

  it('sends in chunks of ten and returns the event ids in input order', async () => {
    const bus = flakyBus({});
    const ids = await putEventsWithRetries(requests(23), bus.send, retry());
    expect(bus.calls.map((call) => call.length)).toEqual([10, 10, 3]);
    expect(ids.map((id) => id.split('-')[1])).toEqual(requests(23).map((r) => r.DetailType));
  });

  it('re-sends only the entries that failed, after a jittered wait', async () => {
    const sleeps: number[] = [];
    const bus = flakyBus({
      T3: { times: 2, code: 'ThrottlingException' },
      T7: { times: 1, code: 'InternalFailure' },
    });
    const ids = await putEventsWithRetries(requests(10), bus.send, retry(sleeps));
    expect(bus.calls).toEqual([requests(10).map((r) => r.DetailType), ['T3', 'T7'], ['T3']]);
    expect(ids).toHaveLength(10);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    expect(sleeps).toEqual([backoffDelay(1, 100, () => 0.5), backoffDelay(2, 100, () => 0.5)]);
  });

  it('gives up after the last attempt and says which detail types failed with which code', async () => {
    const bus = flakyBus({ T1: { times: 99, code: 'InternalFailure' } });
    const attempt = putEventsWithRetries(requests(3), bus.send, retry());
    await expect(attempt).rejects.toThrow(EventPublishError);
    await expect(attempt).rejects.toThrow('1 of 3 events were not published: T1 (InternalFailure)');
    expect(bus.calls.filter((call) => call.includes('T1'))).toHaveLength(4);
  });

  it('does not retry an entry the bus rejected as malformed', async () => {
    const bus = flakyBus({
      T0: { times: 1, code: 'MalformedDetail' },
      T1: { times: 1, code: 'InternalFailure' },
    });
    const attempt = putEventsWithRetries(requests(2), bus.send, retry());
    await expect(attempt).rejects.toMatchObject({
      failures: [{ detailType: 'T0', errorCode: 'MalformedDetail' }],
    });
    expect(bus.calls).toEqual([['T0', 'T1'], ['T1']]);
  });

  it('refuses an entry over 256 KB before sending anything', async () => {
    const bus = flakyBus({});
    const huge = [{ Source: 's', DetailType: 'Big', Detail: 'x'.repeat(PUT_EVENTS_MAX_BYTES) }];
    await expect(putEventsWithRetries(huge, bus.send, retry())).rejects.toThrow(/Big entry is \d+ bytes/);
    expect(bus.calls).toEqual([]);
  });
});

describe('backoffDelay', () => {
  it('stays within [0, base · 2^attempt) and under the cap', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 20 }),
        fc.double({ min: 0, max: 0.999_999, noNaN: true }),
        (n, r) => {
          const delay = backoffDelay(n, 100, () => r, 5_000);
          return delay >= 0 && delay < Math.min(5_000, 100 * 2 ** n);
        },
      ),
    );
  });
});
