import { describe, expect, it } from 'vitest';
import { rollUp } from '../../../functions/case-aggregate/domain/rollup';
import { CSV_HEADER, renderCsv, renderJson, snapshotOf } from '../../../functions/case-aggregate/snapshot';
import { DAY_CELLS, DEPT_HANGZHOU } from './rollup-fixtures';

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
    expect(parsed.notes.join(' ')).toMatch(/satisfactionRate and rectificationRate are null/);
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
});
