import { describe, expect, it } from 'vitest';
import { caseReceivedV1 } from '../../../events/case-received.v1';
import { caseStatusChangedV1 } from '../../../events/case-status-changed.v1';
import {
  applyChanges,
  type CaseRecord,
  type ChangeOutcome,
} from '../../../functions/case-aggregate/domain/case';
import type { CaseChange } from '../../../functions/case-aggregate/domain/change';
import { chunkEvents, eventsFor } from '../../../functions/case-aggregate/domain/events';
import { changeOf } from './fixtures';

const NOW = '2026-11-21T03:00:00.000Z';

function run(record: CaseRecord | undefined, changes: CaseChange[]) {
  const result = applyChanges(record, changes, NOW);
  const tagged = result.outcomes.map((outcome: ChangeOutcome, i) => ({ messageId: `m${i}`, outcome }));
  return { record: result.record as CaseRecord, events: eventsFor(result.record as CaseRecord, tagged) };
}

const submitted = changeOf({
  status: 'submitted',
  statusAt: '2026-11-20T09:00:00+08:00',
  correlationId: 'corr-a',
});
const accepted = changeOf({
  status: 'accepted',
  statusAt: '2026-11-20T10:00:00+08:00',
  correlationId: 'corr-b',
});

describe('eventsFor', () => {
  it('announces a new case and each applied change, with details valid against the catalogue', () => {
    const { events } = run(undefined, [submitted, accepted]);
    expect(events.map((e) => [e.key, e.messageIds])).toEqual([
      ['received:330106:ZJ-2026-0001', ['m0']],
      ['changed:330106:ZJ-2026-0001#submitted', ['m0']],
      ['changed:330106:ZJ-2026-0001#accepted', ['m1']],
    ]);
    for (const { event } of events) {
      const schema = event.detailType === 'CaseReceived' ? caseReceivedV1 : caseStatusChangedV1;
      expect(schema.safeParse(event.detail).success).toBe(true);
    }
    expect(events[1]?.event.detail).toMatchObject({ status: 'submitted', currentStatus: 'submitted' });
    expect(events[2]?.event.detail).toMatchObject({
      status: 'accepted',
      currentStatus: 'accepted',
      correlationId: 'corr-b',
    });
  });

  it('carries no name or clear ID number', () => {
    const { events } = run(undefined, [accepted]);
    const text = JSON.stringify(events);
    expect(text).not.toContain('张');
    expect(text).not.toContain('maskedName');
  });

  it('re-announces a duplicate with the original correlation id, and the case if it created it', () => {
    const { record } = run(undefined, [submitted, accepted]);
    const again = run(record, [
      { ...submitted, correlationId: 'corr-redelivered' },
      { ...accepted, correlationId: 'corr-redelivered' },
    ]);
    expect(again.events.map((e) => e.key)).toEqual([
      'received:330106:ZJ-2026-0001',
      'changed:330106:ZJ-2026-0001#submitted',
      'changed:330106:ZJ-2026-0001#accepted',
    ]);
    expect(again.events.map((e) => e.event.detail.correlationId)).toEqual(['corr-a', 'corr-a', 'corr-b']);
  });

  it('announces a change once per batch however many messages carry it, and conflicts not at all', () => {
    const rejected = changeOf({ status: 'rejected', statusAt: '2026-11-20T11:00:00+08:00' });
    const { events } = run(undefined, [accepted, accepted, rejected]);
    expect(events.map((e) => [e.key, e.messageIds])).toEqual([
      ['received:330106:ZJ-2026-0001', ['m0', 'm1']],
      ['changed:330106:ZJ-2026-0001#accepted', ['m0', 'm1']],
    ]);
  });
});

describe('chunkEvents', () => {
  it('cuts publish calls at the limit', () => {
    const { events } = run(undefined, [submitted, accepted]);
    expect(chunkEvents(events, 2).map((c) => c.length)).toEqual([2, 1]);
  });
});
