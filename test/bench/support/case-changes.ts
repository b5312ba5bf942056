import { subjectOf } from '../../../functions/auth-verify/domain/subject';
import type { ReceivedChange } from '../../../functions/case-aggregate/domain/batching';
import { triageRecords } from '../../../functions/case-aggregate/domain/ingest';
import { type Random, seededRandom } from '../../../shared/identifiers/generate';
import { maskIdNumber, maskName } from '../../../shared/masking';
import { hmacIdentifier } from '../../../shared/pii';
import { PROVINCES } from '../../../shared/regions';
import { buildCases, recordsOf } from '../../e2e/case-scenario';

/** Case status changes as the ingest API queues them, for benchmarks that drive the case consumer directly. */

const HMAC_KEY = 'bench-only-id-hmac-key-0123456789abcdef';

function shuffle<T>(random: Random, items: T[]): T[] {
  for (let i = items.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [items[i], items[j]] = [items[j] as T, items[i] as T];
  }
  return items;
}

/**
 * Queue messages as the ingest API makes them (validated, pseudonymised, stamped) for `cases` generated cases of all
 * 32 provinces, each change delivered `deliveriesPerChange` times in shuffled order.
 */
export function caseChangeDeliveries(options: {
  round: number;
  cases: number;
  deliveriesPerChange: number;
  now: Date;
}): { deliveries: ReceivedChange[]; changes: number } {
  const { round, now } = options;
  const random = seededRandom(6_000 + round);
  const regions = PROVINCES.map((p) => p.code);
  const records = buildCases(random, regions, options.cases).flatMap(recordsOf);
  const triage = triageRecords(records, {
    client: { clientId: 'bench-ministry', kind: 'ministry' },
    batchId: `bench-${round}`,
    correlationId: `bench-capacity-${round}`,
    now,
    pseudonymise: (applicant) => {
      const idHmac = hmacIdentifier(HMAC_KEY, applicant.idType, applicant.idNumber);
      return {
        type: applicant.type,
        idType: applicant.idType,
        idHmac,
        maskedId: maskIdNumber(applicant.idNumber),
        maskedName: maskName(applicant.name),
        sub: subjectOf(idHmac, HMAC_KEY),
      };
    },
  });
  if (triage.rejected.length > 0) {
    throw new Error(
      `${triage.rejected.length} generated records were rejected: ${triage.rejected[0]?.reason}`,
    );
  }
  const deliveries = triage.changes.flatMap(({ index, change }) =>
    Array.from({ length: options.deliveriesPerChange }, (_, copy) => ({
      messageId: `r${round}-${index}-${copy}`,
      change,
    })),
  );
  return { deliveries: shuffle(random, deliveries), changes: triage.changes.length };
}
