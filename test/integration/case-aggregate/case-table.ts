import { CASES_TABLE_INDEXES } from '../../../functions/case-aggregate/store';
import type { TestIndex } from '../../support/dynamo';

/** The cases table's indexes as CDK declares them (CaseAggregation): every one keys only. */
export const caseTableIndexes: TestIndex[] = CASES_TABLE_INDEXES.map((index) => ({
  ...index,
  projection: 'KEYS_ONLY',
}));
