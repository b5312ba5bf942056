import { describe, expect, it } from 'vitest';
import { rollUp, rollUpItems } from '../../../functions/case-aggregate/domain/rollup';
import {
  CSV_HEADER,
  itemSnapshotKeysOf,
  renderCsv,
  renderJson,
  snapshotOf,
} from '../../../functions/case-aggregate/snapshot';
import {
  cell,
  DAY_CELLS,
  DEPT_GUANGZHOU,
  DEPT_HANGZHOU,
  ITEM_A,
  ITEM_C,
  ITEM_CELLS,
  ITEM_D,
} from './rollup-fixtures';

const snapshot = snapshotOf({
  period: '2026-11-20',
  periodType: 'day',
  generatedAt: '2026-11-21T01:00:02.000Z',
  coverage: { days: 1, daysInPeriod: 1, firstDay: '2026-11-20', lastDay: '2026-11-20' },
  scopes: rollUp(DAY_CELLS),
});

describe('assessment snapshot', () => {
  it('JSON: counters as stored, rates exact and rounded, notes on rounding and missing rates', () => {
    const parsed = JSON.parse(renderJson(snapshot));
    expect(parsed.scopes).toHaveLength(8);
    const zhejiang = parsed.scopes.find((s: { scope: string }) => s.scope === 'province#330000');
    expect(zhejiang).toMatchObject({
      level: 'province',
      province: '330000',
      provinceName: '浙江',
      counters: { received: 6, completed: 3, completedOnTime: 2, processingHours: 34.75, overdue: 0 },
      rates: {
        onTimeCompletionRate: { numerator: 2, denominator: 3, value: 66.67 },
        fullyOnlineRate: { numerator: 2, denominator: 6, value: 33.33 },
        onlineRate: { numerator: 3, denominator: 6, value: 50 },
        averageProcessingHours: { numerator: 34.75, denominator: 3, value: 11.58 },
        satisfactionRate: null,
        rectificationRate: null,
      },
    });
    expect(parsed.rounding).toMatch(/half up/);
    expect(parsed.notes.join(' ')).toMatch(/satisfactionRate \(满意率\) = satisfied \/ evaluations/);
    expect(parsed.notes.join(' ')).toMatch(/rectificationRate \(差评整改率\) = rectified \/ badReviews/);
  });

  it('evaluation counters: columns after the case counters, 满意率 and 差评整改率 from them', () => {
    // By hand: 330106 has 4 votes (3 satisfied), 330102 has 3 (2 satisfied) → province 5/7 = 71.43 %;
    // bad reviews 2 + 1 = 3, rectified 1 → 33.33 %; 440106 has no vote → both rates null (empty cells).
    const withEvaluations = snapshotOf({
      period: '2026-11',
      periodType: 'month',
      generatedAt: '2026-12-01T01:00:02.000Z',
      coverage: { days: 30, daysInPeriod: 30, firstDay: '2026-11-01', lastDay: '2026-11-30' },
      scopes: rollUp([
        cell('330106', DEPT_HANGZHOU, ITEM_A, {
          evaluations: 4,
          satisfied: 3,
          flagged: 1,
          badReviews: 1,
          dismissed: 1,
        }),
        cell('330102', DEPT_HANGZHOU, ITEM_C, { evaluations: 3, satisfied: 2, badReviews: 2, rectified: 1 }),
        cell('440106', DEPT_GUANGZHOU, ITEM_D, { received: 1 }),
      ]),
    });
    const zhejiang = withEvaluations.scopes.find((s) => s.scope === 'province#330000');
    expect(zhejiang?.counters).toMatchObject({
      evaluations: 7,
      satisfied: 5,
      flagged: 1,
      badReviews: 3,
      rectified: 1,
      dismissed: 1,
    });
    expect(zhejiang?.rates.satisfactionRate).toEqual({ numerator: 5, denominator: 7, value: 71.43 });
    expect(zhejiang?.rates.rectificationRate).toEqual({ numerator: 1, denominator: 3, value: 33.33 });

    const lines = renderCsv(withEvaluations).slice(1).split('\r\n');
    const row = (scope: string) => {
      const line = lines.find((l) => l.split(',')[1] === scope);
      return Object.fromEntries(CSV_HEADER.map((name, i) => [name, line?.split(',')[i]]));
    };
    expect(CSV_HEADER.slice(16, 22)).toEqual([
      'evaluations',
      'satisfied',
      'flagged',
      'badReviews',
      'rectified',
      'dismissed',
    ]);
    expect(row('province#330000')).toMatchObject({
      evaluations: '7',
      satisfied: '5',
      badReviews: '3',
      rectified: '1',
      satisfactionRate: '71.43',
      rectificationRate: '33.33',
    });
    expect(row('region#330102')).toMatchObject({ satisfactionRate: '66.67', rectificationRate: '50.00' });
    expect(row('province#440000')).toMatchObject({
      evaluations: '0',
      satisfactionRate: '',
      rectificationRate: '',
    });
  });

  it('CSV: BOM, header, one CRLF row per scope; null rates are empty cells', () => {
    const csv = renderCsv(snapshot);
    expect(csv.startsWith('\uFEFF')).toBe(true);
    const lines = csv.slice(1).split('\r\n');
    expect(lines.at(-1)).toBe('');
    expect(lines[0]).toBe(CSV_HEADER.join(','));
    expect(lines).toHaveLength(1 + 8 + 1);
    const row = (scope: string) => {
      const line = lines.find((l) => l.split(',')[1] === scope);
      return Object.fromEntries(CSV_HEADER.map((name, i) => [name, line?.split(',')[i]]));
    };
    expect(row('nation')).toMatchObject({
      period: '2026-11-20',
      level: 'nation',
      received: '6',
      completed: '4',
      processingHours: '44.75',
      onTimeCompletionRate: '50.00',
      fullyOnlineRate: '33.33',
      onlineRate: '50.00',
      averageProcessingHours: '11.19',
      satisfactionRate: '',
      rectificationRate: '',
    });
    expect(row('province#440000')).toMatchObject({
      provinceName: '广东',
      onTimeCompletionRate: '0.00',
      onlineRate: '',
      fullyOnlineRate: '',
      averageProcessingHours: '10.00',
    });
    expect(row(`dept#330000#${DEPT_HANGZHOU}`)).toMatchObject({
      departmentCode: DEPT_HANGZHOU,
      regionCode: '',
    });
  });

  it('item snapshot of a province: one scope per item with the hand-computed rates, in JSON and CSV', () => {
    const itemSnapshot = snapshotOf({
      period: '2026-11-20',
      periodType: 'day',
      generatedAt: '2026-11-21T01:00:02.000Z',
      coverage: { days: 1, daysInPeriod: 1, firstDay: '2026-11-20', lastDay: '2026-11-20' },
      scopes: rollUpItems(ITEM_CELLS).get('330000') ?? [],
    });
    expect(itemSnapshotKeysOf('2026-11', '330000')).toEqual({
      json: 'assessments/2026-11/items-330000.json',
      csv: 'assessments/2026-11/items-330000.csv',
    });
    const parsed = JSON.parse(renderJson(itemSnapshot));
    expect(parsed.scopes).toHaveLength(3);
    const itemA = parsed.scopes.find((s: { itemCode?: string }) => s.itemCode === ITEM_A);
    expect(itemA).toMatchObject({
      scope: `item#330000#${DEPT_HANGZHOU}#${ITEM_A}`,
      level: 'item',
      province: '330000',
      provinceName: '浙江',
      departmentCode: DEPT_HANGZHOU,
      counters: { received: 4, completed: 3, completedOnTime: 2, processingHours: 32.5 },
      rates: {
        onTimeCompletionRate: { numerator: 2, denominator: 3, value: 66.67 },
        fullyOnlineRate: { numerator: 2, denominator: 4, value: 50 },
        satisfactionRate: { numerator: 2, denominator: 3, value: 66.67 },
        averageProcessingHours: { numerator: 32.5, denominator: 3, value: 10.83 },
      },
    });
    const lines = renderCsv(itemSnapshot).slice(1).split('\r\n');
    expect(lines).toHaveLength(1 + 3 + 1);
    const line = lines.find((l) => l.split(',')[1] === itemA.scope);
    const row = Object.fromEntries(CSV_HEADER.map((name, i) => [name, line?.split(',')[i]]));
    expect(row).toMatchObject({
      level: 'item',
      province: '330000',
      departmentCode: DEPT_HANGZHOU,
      itemCode: ITEM_A,
      received: '4',
      onTimeCompletionRate: '66.67',
      fullyOnlineRate: '50.00',
      satisfactionRate: '66.67',
    });
  });
});
