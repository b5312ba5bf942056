import { subjectOf } from '../../../functions/auth-verify/domain/subject';
import type {
  EvaluationProcessorDependencies,
  TicketOpening,
} from '../../../functions/evaluation-ingest/consumer';
import type { EvaluationEvent } from '../../../functions/evaluation-ingest/domain/announcements';
import type {
  CaseKnowledge,
  CaseStatusObservation,
} from '../../../functions/evaluation-ingest/domain/case-knowledge';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import { type EvaluationMessage, toMessage } from '../../../functions/evaluation-ingest/domain/evaluation';
import type { PseudonymiseEvaluator } from '../../../functions/evaluation-ingest/domain/ingest';
import type { RuleSettings } from '../../../functions/evaluation-ingest/domain/rules';
import { openTicketItem } from '../../../functions/evaluation-ingest/ticket-store';
import { weekendsOffCalendar } from '../../../shared/calendar';
import { generateCitizenId, generateCreditCode, seededRandom } from '../../../shared/identifiers/generate';
import { maskIdNumber } from '../../../shared/masking';
import { hmacIdentifier } from '../../../shared/pii';
import { DEPARTMENT, ITEM, TEST_HMAC_KEY } from '../case-aggregate/fixtures';

export { DEPARTMENT, ITEM, TEST_HMAC_KEY };

const random = seededRandom(20261205);
/** Distinct valid citizen ID numbers: evaluator `n` of a test. */
export const EVALUATOR_IDS = Array.from({ length: 80 }, () =>
  generateCitizenId(random, { regionCode: '330106' }),
);
export const EVALUATOR_ID = EVALUATOR_IDS[0] as string;
export const ENTERPRISE_CODE = generateCreditCode(random);

export const CASE_NUMBER = 'ZJ-2026-0001';
export const CASE_ID = `330106:${CASE_NUMBER}`;
/** Thursday 2026-11-19, 16:00 in Shanghai. */
export const COMPLETED_AT = '2026-11-19T08:00:00.000Z';

/** A raw record as a platform pushes it (clear ID number). */
export function rawEvaluation(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    regionCode: '330106',
    caseNumber: CASE_NUMBER,
    level: 4,
    channel: 'app',
    stage: 'completed',
    evaluator: { type: 'person', idType: 'citizen_id', idNumber: EVALUATOR_ID },
    dimensions: { overall: 4, efficiency: 5 },
    comment: '办理很快',
    evaluatedAt: '2026-11-20T10:00:00+08:00',
    ...overrides,
  };
}

export const pseudonymise: PseudonymiseEvaluator = ({ type, idType, idNumber }) => {
  const idHmac = hmacIdentifier(TEST_HMAC_KEY, idType, idNumber);
  return { type, idType, idHmac, maskedId: maskIdNumber(idNumber), sub: subjectOf(idHmac, TEST_HMAC_KEY) };
};

export interface MessageSpec {
  evaluatorId?: string;
  caseNumber?: string;
  level?: number;
  channel?: EvaluationMessage['channel'];
  stage?: EvaluationMessage['stage'];
  comment?: string;
  evaluatedAt?: string;
  clientId?: string;
  receivedAt?: string;
}

/** A queue message as the batch API would produce it. */
export function messageOf(spec: MessageSpec = {}): EvaluationMessage {
  return toMessage(
    {
      regionCode: '330106',
      caseNumber: spec.caseNumber ?? CASE_NUMBER,
      level: spec.level ?? 4,
      channel: spec.channel ?? 'app',
      stage: spec.stage ?? 'completed',
      ...(spec.comment === undefined ? {} : { comment: spec.comment }),
      evaluatedAt: spec.evaluatedAt ?? '2026-11-20T10:00:00+08:00',
    },
    pseudonymise({ type: 'person', idType: 'citizen_id', idNumber: spec.evaluatorId ?? EVALUATOR_ID }),
    {
      clientId: spec.clientId ?? 'region-330000',
      batchId: 'batch-1',
      correlationId: 'corr-0001',
      receivedAt: new Date(spec.receivedAt ?? '2026-11-20T03:00:00.000Z'),
    },
  );
}

export function knownCase(overrides: Partial<CaseKnowledge> = {}): CaseKnowledge {
  return {
    caseId: CASE_ID,
    regionCode: '330106',
    departmentCode: DEPARTMENT,
    itemCode: ITEM,
    statuses: ['submitted', 'accepted', 'completed'],
    completedAt: COMPLETED_AT,
    ...overrides,
  };
}

export function observation(
  status: CaseStatusObservation['status'],
  statusAt: string,
  caseNumber = CASE_NUMBER,
): CaseStatusObservation {
  return {
    caseId: `330106:${caseNumber}`,
    regionCode: '330106',
    departmentCode: DEPARTMENT,
    itemCode: ITEM,
    status,
    statusAt,
  };
}

export const ruleSettings: RuleSettings = {
  caseWaitSeconds: 24 * 60 * 60,
  recheckSeconds: 900,
  lateWorkingDays: 5,
  calendar: weekendsOffCalendar,
};

/** Collects what a processor publishes; the kernel publisher refuses these detail types until they are catalogued. */
export function inMemoryBus() {
  const events: EvaluationEvent[] = [];
  return {
    events,
    publish: async (batch: EvaluationEvent[]) => {
      events.push(...batch);
    },
    received: () => events.flatMap((e) => (e.detailType === 'EvaluationReceived' ? [e.detail] : [])),
    badReviews: () => events.flatMap((e) => (e.detailType === 'BadReviewOpened' ? [e.detail] : [])),
  };
}

/** Part B's ticket Put against a real tickets table, with the default deadlines. */
export const ticketOpener = (ticketsTable: string) => (opening: TicketOpening) =>
  openTicketItem(opening, { tableName: ticketsTable, deadlines: defaultDeadlineSettings });

export function processorDeps(
  overrides: Partial<EvaluationProcessorDependencies> &
    Pick<EvaluationProcessorDependencies, 'store' | 'publish' | 'openTicket' | 'clock'>,
): EvaluationProcessorDependencies {
  return {
    park: async () => {
      throw new Error('this test expects no evaluation to wait');
    },
    rules: ruleSettings,
    abuse: { windowSeconds: 600, threshold: 20 },
    ...overrides,
  };
}

/** Queue deliveries of messages, with fresh message ids (a redelivery or a re-push gets another id). */
export const deliveries = (messages: readonly EvaluationMessage[], tag = 'm') =>
  messages.map((message, i) => ({
    messageId: `${tag}-${i}-${Math.random().toString(36).slice(2, 8)}`,
    message,
  }));
