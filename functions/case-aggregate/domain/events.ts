import type { CaseReceivedV1 } from '../../../events/case-received.v1';
import type { CaseStatusChangedV1 } from '../../../events/case-status-changed.v1';
import type { CaseRecord, ChangeOutcome } from './case';

export type CaseEvent =
  | { detailType: 'CaseReceived'; detail: CaseReceivedV1 }
  | { detailType: 'CaseStatusChanged'; detail: CaseStatusChangedV1 };

/** An event with the messages it answers for: if it is not published, they are redelivered. */
export interface PendingEvent {
  /** Deduplication key within one batch. */
  key: string;
  event: CaseEvent;
  messageIds: string[];
}

type Announced = Extract<ChangeOutcome, { kind: 'applied' | 'duplicate' }>;

function statusChanged(record: CaseRecord, { entry, currentStatus }: Announced): CaseEvent {
  const { type, idType, idHmac, maskedId } = record.applicant;
  return {
    detailType: 'CaseStatusChanged',
    detail: {
      version: 1,
      // The event of a change is the same event however often it is re-sent: it keeps its own correlation id.
      correlationId: entry.correlationId,
      changeId: entry.changeId,
      caseId: record.caseId,
      regionCode: record.regionCode,
      departmentCode: record.departmentCode,
      itemCode: record.itemCode,
      status: entry.status,
      currentStatus,
      statusAt: entry.at,
      applicant: { type, idType, idHmac, maskedId },
      channel: record.channel,
      fullyOnline: record.fullyOnline,
    },
  };
}

function received(record: CaseRecord, correlationId: string): CaseEvent {
  return {
    detailType: 'CaseReceived',
    detail: {
      version: 1,
      correlationId,
      caseId: record.caseId,
      regionCode: record.regionCode,
      departmentCode: record.departmentCode,
      itemCode: record.itemCode,
      channel: record.channel,
      fullyOnline: record.fullyOnline,
      receivedAt: record.firstSeenAt,
    },
  };
}

/**
 * Events owed for the outcomes of one case after its commit. A duplicate re-announces its change (and the
 * case's first sight, if it is the change that created the case): the first announcement may have been lost
 * to a crash between commit and publish, and subscribers deduplicate. Conflicts announce nothing.
 */
export function eventsFor(
  record: CaseRecord,
  outcomes: readonly { messageId: string; outcome: ChangeOutcome }[],
): PendingEvent[] {
  const pending = new Map<string, PendingEvent>();
  const owe = (key: string, event: () => CaseEvent, messageId: string) => {
    const known = pending.get(key);
    if (known) known.messageIds.push(messageId);
    else pending.set(key, { key, event: event(), messageIds: [messageId] });
  };
  for (const { messageId, outcome } of outcomes) {
    if (outcome.kind === 'conflict') continue;
    const { entry } = outcome;
    if (outcome.createsCase)
      owe(`received:${record.caseId}`, () => received(record, entry.correlationId), messageId);
    owe(`changed:${entry.changeId}`, () => statusChanged(record, outcome), messageId);
  }
  return [...pending.values()];
}

/** Publish calls of at most `maxEvents`: a failed call fails only the messages its events answer for. */
export function chunkEvents(events: readonly PendingEvent[], maxEvents: number): PendingEvent[][] {
  const chunks: PendingEvent[][] = [];
  for (const event of events) {
    const last = chunks.at(-1);
    if (last && last.length < maxEvents) last.push(event);
    else chunks.push([event]);
  }
  return chunks;
}
