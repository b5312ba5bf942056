import { describe, expect, it } from 'vitest';
import { rollUp } from '../../../functions/case-aggregate/domain/rollup';
import {
  PUBLICATION_LEDGER_KEY,
  type PublisherStore,
  publishSnapshot,
} from '../../../functions/case-aggregate/publish-snapshot';
import { judgeSnapshot, withPeriod } from '../../../functions/case-aggregate/published-snapshot';
import { renderCsv, renderJson, snapshotOf } from '../../../functions/case-aggregate/snapshot';
import { DAY_CELLS } from './rollup-fixtures';

/** What leaves the private cloud: the guard before a snapshot is copied to the public bucket (issue 7). */
const PERIOD = '2026-11-20';
const snapshot = () =>
  snapshotOf({
    period: PERIOD,
    periodType: 'day',
    generatedAt: '2026-11-21T01:00:02.000Z',
    coverage: { days: 1, daysInPeriod: 1, firstDay: PERIOD, lastDay: PERIOD },
    scopes: rollUp(DAY_CELLS),
  });
const published = () => {
  const value = snapshot();
  return { json: renderJson(value), csv: renderCsv(value) };
};

/** The rendered snapshot with one scope changed by `edit` (the CSV rendered from the edited JSON, so it agrees). */
function tampered(edit: (scope: Record<string, unknown>) => void): { json: string; csv: string } {
  const value = JSON.parse(renderJson(snapshot()));
  edit(value.scopes[1]);
  return { json: JSON.stringify(value), csv: renderCsv(value) };
}

describe('the snapshot guard', () => {
  it('lets the rollup’s own snapshot through', () => {
    const { json, csv } = published();
    const judgement = judgeSnapshot(PERIOD, json, csv);
    expect(judgement.publishable).toBe(true);
    if (judgement.publishable) expect(judgement.snapshot.scopes.length).toBeGreaterThan(3);
  });

  it.each([
    [
      'idNumber',
      (scope: Record<string, unknown>) => Object.assign(scope, { idNumber: '11010519491231002X' }),
    ],
    ['name', (scope: Record<string, unknown>) => Object.assign(scope, { name: '张三' })],
    ['phone', (scope: Record<string, unknown>) => Object.assign(scope, { phone: '13800138000' })],
    // Deep inside a record of numbers, where no schema would look for a name.
    [
      'applicant',
      (scope: Record<string, unknown>) => Object.assign(scope.counters as object, { applicant: 1 }),
    ],
  ])('refuses a snapshot with a personal field (%s), naming the field and never its value', (field, edit) => {
    const { json, csv } = tampered(edit);
    const judgement = judgeSnapshot(PERIOD, json, csv);
    expect(judgement).toEqual({ publishable: false, refusal: { reason: 'personal-field', fields: [field] } });
    expect(JSON.stringify(judgement)).not.toMatch(/11010519491231002X|张三|13800138000/);
  });

  it('refuses a field the public bucket does not declare it keeps', () => {
    const { json, csv } = tampered((scope) => Object.assign(scope, { remark: 'x' }));
    expect(judgeSnapshot(PERIOD, json, csv)).toEqual({
      publishable: false,
      refusal: { reason: 'undeclared-field', fields: ['remark'] },
    });
  });

  it('refuses a broken shape, another period, a CSV that is not the JSON’s rendering, and non-JSON', () => {
    const { json, csv } = published();
    const broken = JSON.parse(json);
    broken.scopes[0].counters.received = 'many';
    expect(judgeSnapshot(PERIOD, JSON.stringify(broken), csv)).toMatchObject({
      publishable: false,
      refusal: { reason: 'schema', paths: ['scopes.0.counters.received'] },
    });
    expect(judgeSnapshot('2026-11-21', json, csv)).toMatchObject({ refusal: { reason: 'wrong-period' } });
    expect(judgeSnapshot(PERIOD, json, `${csv}extra,row\r\n`)).toMatchObject({
      refusal: { reason: 'csv-differs' },
    });
    expect(judgeSnapshot(PERIOD, '{"period":', csv)).toMatchObject({ refusal: { reason: 'not-json' } });
  });

  it('keeps the index newest first, each period once', () => {
    let index = { periods: [] as string[] };
    for (const period of ['2026-11-19', '2026-11', '2026-11-20', '2026-11-19', '2026-10']) {
      index = withPeriod(index, period);
    }
    expect(index.periods).toEqual(['2026-11-20', '2026-11-19', '2026-11', '2026-10']);
  });
});

/** An in-memory pair of buckets: the private one (with the publisher's ledger) and the public one. */
function memoryStore(privateObjects: Record<string, string>) {
  const publicObjects = new Map<string, { body: string; contentType: string }>();
  const store: PublisherStore = {
    readPrivate: async (key) => privateObjects[key],
    writeLedger: async (index) => {
      privateObjects[PUBLICATION_LEDGER_KEY] = JSON.stringify(index);
    },
    putPublic: async (key, body, contentType) => void publicObjects.set(key, { body, contentType }),
  };
  return { store, publicObjects };
}

describe('publishing a snapshot', () => {
  const keys = { json: `assessments/${PERIOD}.json`, csv: `assessments/${PERIOD}.csv` };

  it('copies the JSON and CSV unchanged and adds the period to the index', async () => {
    const { json, csv } = published();
    const { store, publicObjects } = memoryStore({
      [keys.json]: json,
      [keys.csv]: csv,
      [PUBLICATION_LEDGER_KEY]: JSON.stringify({ periods: ['2026-11-19'] }),
    });
    expect(await publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).toEqual({
      published: true,
      period: PERIOD,
      periods: 2,
    });
    expect(publicObjects.get(keys.json)?.body).toBe(json);
    expect(publicObjects.get(keys.csv)?.body).toBe(csv);
    expect(JSON.parse(publicObjects.get('assessments/index.json')?.body ?? '')).toEqual({
      periods: [PERIOD, '2026-11-19'],
    });
  });

  it('copies nothing of a refused snapshot', async () => {
    const { json, csv } = tampered((scope) => Object.assign(scope, { maskedName: '张*' }));
    const { store, publicObjects } = memoryStore({ [keys.json]: json, [keys.csv]: csv });
    const outcome = await publishSnapshot(store, { period: PERIOD, snapshotKeys: keys });
    expect(outcome).toMatchObject({
      published: false,
      refusal: { reason: 'personal-field', fields: ['maskedName'] },
    });
    expect(publicObjects.size).toBe(0);
  });

  it('fails (to be retried) while the snapshot is not readable yet', async () => {
    const { store } = memoryStore({});
    await expect(publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).rejects.toThrow(
      /not in the/,
    );
  });
});
