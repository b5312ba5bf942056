import { describe, expect, it } from 'vitest';
import {
  type EvaluationMessage,
  evaluationIdOf,
  evaluationMessageSchema,
  submissionIdOf,
  toMessage,
} from '../../../functions/evaluation-ingest/domain/evaluation';
import { triageEvaluations } from '../../../functions/evaluation-ingest/domain/ingest';
import { EVALUATION_LEVELS, LEVEL_LEGEND } from '../../../functions/evaluation-ingest/domain/levels';
import { rejectionOf } from '../../../functions/evaluation-ingest/domain/rules';
import { ENTERPRISE_CODE, EVALUATOR_ID, messageOf, pseudonymise, rawEvaluation } from './ingest-fixtures';

const NOW = new Date('2026-11-21T10:00:00+08:00');
const region = { clientId: 'region-330000', kind: 'region' as const, regionCode: '330000' };
const triage = (records: unknown[], client: Parameters<typeof triageEvaluations>[1]['client'] = region) =>
  triageEvaluations(records, { client, batchId: 'b-1', correlationId: 'c-1', receivedAt: NOW, pseudonymise });

describe('evaluation records', () => {
  it('accepts a valid record and queues it without the ID number', () => {
    const result = triage([rawEvaluation()]);
    expect(result.rejected).toEqual([]);
    const [queued] = result.messages;
    expect(queued?.index).toBe(0);
    expect(evaluationMessageSchema.parse(queued?.message)).toMatchObject({
      caseId: '330106:ZJ-2026-0001',
      level: 4,
      evaluator: { type: 'person', idType: 'citizen_id', maskedId: expect.stringContaining('****') },
      clientId: 'region-330000',
      receivedAt: NOW.toISOString(),
    });
    expect(JSON.stringify(queued)).not.toContain(EVALUATOR_ID);
  });

  it("carries each queued record's index in its batch, so a later rejection can name it", () => {
    const result = triage([rawEvaluation({ level: 0 }), rawEvaluation(), rawEvaluation({ level: 2 })]);
    expect(result.messages.map((m) => [m.index, m.message.batchIndex])).toEqual([
      [1, 1],
      [2, 2],
    ]);
    const queued = result.messages[1]?.message;
    expect(evaluationMessageSchema.parse(queued).batchIndex).toBe(2);
    expect(rejectionOf(queued as EvaluationMessage, 'sub-1', 'case_unknown', NOW)).toMatchObject({
      batchId: 'b-1',
      batchIndex: 2,
      reason: 'case_unknown',
    });
    // The app's single submissions have no batch index, and their rejections none either.
    expect(rejectionOf(messageOf(), 'sub-2', 'too_late', NOW)).not.toHaveProperty('batchIndex');
  });

  it('gives each bad record its own reason and field, never echoing the value', () => {
    const records = [
      rawEvaluation({ level: 0 }),
      rawEvaluation({ level: 6 }),
      rawEvaluation({ level: 4.5 }),
      rawEvaluation({ channel: 'fax' }),
      rawEvaluation({ channel: 'app', dimensions: { attitude: 5 } }),
      rawEvaluation({ channel: 'hotline', dimensions: { overall: 5, efficiency: 4 } }),
      rawEvaluation({ channel: 'window', dimensions: { guideAccuracy: 3 } }),
      rawEvaluation({ dimensions: { overall: 7 } }),
      rawEvaluation({ evaluator: { type: 'person', idType: 'citizen_id', idNumber: '110105194912310021' } }),
      rawEvaluation({ evaluator: { type: 'legal_person', idType: 'citizen_id', idNumber: EVALUATOR_ID } }),
      rawEvaluation({ stage: 'submitted' }),
      rawEvaluation({ comment: '好'.repeat(501) }),
      rawEvaluation({ evaluatedAt: '2026-11-22T10:00:00+08:00' }),
      rawEvaluation({ regionCode: '990000' }),
    ];
    const result = triage(records);
    expect(result.messages).toEqual([]);
    const pathsOf = (index: number) => result.rejected[index]?.errors?.map((e) => e.path);
    expect(result.rejected.map((r) => r.reason)).toEqual(records.map(() => 'invalid_record'));
    expect(pathsOf(0)).toEqual(['/level']);
    expect(pathsOf(1)).toEqual(['/level']);
    expect(pathsOf(2)).toEqual(['/level']);
    expect(pathsOf(3)).toEqual(['/channel']);
    expect(pathsOf(4)).toEqual(['/dimensions/attitude']);
    expect(pathsOf(5)).toEqual(['/dimensions/efficiency']);
    expect(pathsOf(6)).toEqual(['/dimensions/guideAccuracy']);
    expect(pathsOf(7)).toEqual(['/dimensions/overall']);
    expect(pathsOf(8)).toEqual(['/evaluator/idNumber']);
    expect(pathsOf(9)?.[0]).toMatch(/^\/evaluator/);
    expect(pathsOf(10)).toEqual(['/stage']);
    expect(pathsOf(11)).toEqual(['/comment']);
    expect(pathsOf(12)).toEqual(['/evaluatedAt']);
    expect(pathsOf(13)).toEqual(['/regionCode']);
    expect(JSON.stringify(result)).not.toContain('110105194912310021');
    expect(JSON.stringify(result)).not.toContain(EVALUATOR_ID);
  });

  it('accepts each channel family with its own dimensions, and a legal person with a credit code', () => {
    const result = triage([
      rawEvaluation({
        channel: 'mini_program',
        dimensions: { guideAccuracy: 3, easeOfOperation: 4, convenience: 5 },
      }),
      rawEvaluation({ channel: 'terminal', dimensions: { serviceLevel: 3, attitude: 4 } }),
      rawEvaluation({ channel: 'hotline', dimensions: { overall: 2 }, comment: undefined }),
      rawEvaluation({
        evaluator: { type: 'legal_person', idType: 'credit_code', idNumber: ENTERPRISE_CODE },
      }),
    ]);
    expect(result.rejected).toEqual([]);
    expect(result.messages).toHaveLength(4);
  });

  it('lets a region client write only its province, a ministry any', () => {
    const records = [rawEvaluation(), rawEvaluation({ regionCode: '440106' })];
    expect(triage(records).rejected).toEqual([{ index: 1, reason: 'out_of_scope' }]);
    expect(triage(records, { clientId: 'ministry-mps', kind: 'ministry' }).rejected).toEqual([]);
    expect(triage(records, { clientId: 'app-citizen', kind: 'app' }).rejected.map((r) => r.reason)).toEqual([
      'out_of_scope',
      'out_of_scope',
    ]);
  });
});

describe('evaluation identity', () => {
  it('derives one id per case, stage and evaluator, whatever else differs', () => {
    const first = messageOf({ level: 5, channel: 'window' });
    const later = messageOf({ level: 1, comment: '太慢', evaluatedAt: '2026-11-21T09:00:00+08:00' });
    expect(first.evaluationId).toBe(later.evaluationId);
    expect(messageOf({ stage: 'accepted' }).evaluationId).not.toBe(first.evaluationId);
    expect(messageOf({ caseNumber: 'OTHER' }).evaluationId).not.toBe(first.evaluationId);
    expect(messageOf({ evaluatorId: '11010519491231002X' }).evaluationId).not.toBe(first.evaluationId);
  });

  it('gives the app evaluation of a person the id of their platform evaluation (one evaluator, one vote)', () => {
    const platform = messageOf();
    const app = toMessage(
      {
        regionCode: '330106',
        caseNumber: 'ZJ-2026-0001',
        level: 4,
        channel: 'app',
        stage: 'completed',
        evaluatedAt: '2026-11-20T10:00:00+08:00',
      },
      { type: 'person', sub: platform.evaluator.sub },
      { clientId: 'app-citizen', batchId: 'x', correlationId: 'y', receivedAt: NOW },
    );
    expect(app.evaluationId).toBe(platform.evaluationId);
    expect(evaluationIdOf(platform.caseId, 'completed', platform.evaluator.sub)).toBe(platform.evaluationId);
  });

  it('names a submission by what was said: copies share it, any change makes another', () => {
    const base = messageOf({ comment: 'ok' });
    const copy = { ...messageOf({ comment: 'ok', receivedAt: '2026-11-21T00:00:00Z' }), batchId: 'another' };
    const sameInstantOtherOffset = messageOf({ comment: 'ok', evaluatedAt: '2026-11-20T02:00:00Z' });
    expect(submissionIdOf(copy)).toBe(submissionIdOf(base));
    expect(submissionIdOf(sameInstantOtherOffset)).toBe(submissionIdOf(base));
    expect(submissionIdOf(messageOf({ comment: 'ok!' }))).not.toBe(submissionIdOf(base));
    expect(submissionIdOf(messageOf({ comment: 'ok', level: 5 }))).not.toBe(submissionIdOf(base));
  });

  it('refuses a message whose evaluation id does not match its case, stage and evaluator', () => {
    const message = messageOf();
    expect(evaluationMessageSchema.safeParse({ ...message, stage: 'accepted' }).success).toBe(false);
  });
});

describe('levels', () => {
  it('names the five levels from 非常满意 5 down to 非常不满意 1', () => {
    expect(EVALUATION_LEVELS.map((l) => l.level)).toEqual([5, 4, 3, 2, 1]);
    expect(LEVEL_LEGEND).toContain('5 非常满意');
    expect(LEVEL_LEGEND).toContain('1 非常不满意');
  });
});
