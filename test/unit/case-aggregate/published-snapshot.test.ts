import { describe, expect, it } from 'vitest';
import { rollUp, rollUpItems } from '../../../functions/case-aggregate/domain/rollup';
import {
  PUBLICATION_LEDGER_KEY,
  type PublisherStore,
  publishSnapshot,
} from '../../../functions/case-aggregate/publish-snapshot';
import {
  judgeItemSnapshot,
  judgeSnapshot,
  provincesOf,
  withPeriod,
} from '../../../functions/case-aggregate/published-snapshot';
import {
  itemSnapshotKeysOf,
  renderCsv,
  renderJson,
  snapshotOf,
} from '../../../functions/case-aggregate/snapshot';
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
/** Each province's item snapshot as the rollup writes it (rollup.ts `publishItems`), rendered. */
const itemFiles = () =>
  new Map(
    [...rollUpItems(DAY_CELLS)].map(([province, scopes]) => {
      const value = snapshotOf({ ...snapshot(), scopes });
      return [province, { json: renderJson(value), csv: renderCsv(value) }];
    }),
  );
const PROVINCES = ['330000', '440000'];

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

  it('names the provinces of a snapshot, whose item snapshots it then asks for', () => {
    const judgement = judgeSnapshot(PERIOD, published().json, published().csv);
    if (!judgement.publishable) throw new Error('the rollup’s snapshot was refused');
    expect(provincesOf(judgement.snapshot)).toEqual(PROVINCES);
    expect([...itemFiles().keys()].sort()).toEqual(PROVINCES);
  });

  it('lets a province’s item snapshot through, item codes included', () => {
    const files = itemFiles().get('330000');
    const judgement = judgeItemSnapshot(PERIOD, '330000', files?.json ?? '', files?.csv ?? '');
    expect(judgement.publishable).toBe(true);
    if (judgement.publishable) {
      expect(judgement.snapshot.scopes.map((scope) => scope.level)).toEqual(['item', 'item', 'item']);
      expect(judgement.snapshot.scopes.every((scope) => typeof scope.itemCode === 'string')).toBe(true);
    }
  });

  it('refuses an item snapshot carrying another province’s or a non-item scope, or a personal field', () => {
    const zhejiang = itemFiles().get('330000');
    expect(judgeItemSnapshot(PERIOD, '440000', zhejiang?.json ?? '', zhejiang?.csv ?? '')).toEqual({
      publishable: false,
      refusal: { reason: 'wrong-scope', expected: 'item scopes of province 440000' },
    });
    const { json, csv } = published();
    expect(judgeItemSnapshot(PERIOD, '330000', json, csv)).toMatchObject({
      refusal: { reason: 'wrong-scope' },
    });
    const withName = JSON.parse(zhejiang?.json ?? '');
    withName.scopes[0].itemName = '个体工商户设立登记';
    withName.scopes[0].name = '张三';
    const judgement = judgeItemSnapshot(PERIOD, '330000', JSON.stringify(withName), renderCsv(withName));
    expect(judgement).toEqual({
      publishable: false,
      refusal: { reason: 'personal-field', fields: ['name'] },
    });
    delete withName.scopes[0].name;
    expect(judgeItemSnapshot(PERIOD, '330000', JSON.stringify(withName), renderCsv(withName))).toEqual({
      publishable: false,
      refusal: { reason: 'undeclared-field', fields: ['itemName'] },
    });
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

/** The private objects of the period as the rollup leaves them: its snapshot and each province's item snapshot. */
function privateObjectsOfPeriod(): Record<string, string> {
  const { json, csv } = published();
  const objects: Record<string, string> = { [keys.json]: json, [keys.csv]: csv };
  for (const [province, files] of itemFiles()) {
    const itemKeys = itemSnapshotKeysOf(PERIOD, province);
    objects[itemKeys.json] = files.json;
    objects[itemKeys.csv] = files.csv;
  }
  return objects;
}
const keys = { json: `assessments/${PERIOD}.json`, csv: `assessments/${PERIOD}.csv` };

describe('publishing a snapshot', () => {
  it('copies the JSON and CSV and every province’s item snapshot unchanged, and adds the period to the index', async () => {
    const objects = privateObjectsOfPeriod();
    const { store, publicObjects } = memoryStore({
      ...objects,
      [PUBLICATION_LEDGER_KEY]: JSON.stringify({ periods: ['2026-11-19'] }),
    });
    expect(await publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).toEqual({
      published: true,
      period: PERIOD,
      periods: 2,
      itemSnapshots: 2,
    });
    for (const [key, body] of Object.entries(objects)) {
      expect(publicObjects.get(key)?.body, key).toBe(body);
      expect(publicObjects.get(key)?.contentType, key).toMatch(
        key.endsWith('.csv') ? /^text\/csv/ : /^application\/json/,
      );
    }
    expect(publicObjects.get('assessments/2026-11-20/items-330000.json')).toBeDefined();
    expect(JSON.parse(publicObjects.get('assessments/index.json')?.body ?? '')).toEqual({
      periods: [PERIOD, '2026-11-19'],
    });
  });

  it('copies nothing of a refused snapshot', async () => {
    const { json, csv } = tampered((scope) => Object.assign(scope, { maskedName: '张*' }));
    const { store, publicObjects } = memoryStore({
      ...privateObjectsOfPeriod(),
      [keys.json]: json,
      [keys.csv]: csv,
    });
    const outcome = await publishSnapshot(store, { period: PERIOD, snapshotKeys: keys });
    expect(outcome).toMatchObject({
      published: false,
      refusal: { reason: 'personal-field', fields: ['maskedName'] },
    });
    expect(publicObjects.size).toBe(0);
  });

  it('copies nothing of the period when one province’s item snapshot is refused, and names that file', async () => {
    const objects = privateObjectsOfPeriod();
    const itemKeys = itemSnapshotKeysOf(PERIOD, '440000');
    const item = JSON.parse(objects[itemKeys.json] ?? '');
    item.scopes[0].applicant = { type: 'person' };
    objects[itemKeys.json] = JSON.stringify(item);
    const { store, publicObjects } = memoryStore(objects);
    expect(await publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).toEqual({
      published: false,
      period: PERIOD,
      key: itemKeys.json,
      refusal: { reason: 'personal-field', fields: ['applicant'] },
    });
    expect(publicObjects.size).toBe(0);
  });

  it('fails (to be retried) while a province’s item snapshot is not readable yet, copying nothing', async () => {
    const objects = privateObjectsOfPeriod();
    delete objects[itemSnapshotKeysOf(PERIOD, '330000').csv];
    const { store, publicObjects } = memoryStore(objects);
    await expect(publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).rejects.toThrow(
      /items-330000\.json of 2026-11-20 is not in the/,
    );
    expect(publicObjects.size).toBe(0);
  });

  it('fails (to be retried) while the snapshot is not readable yet', async () => {
    const { store } = memoryStore({});
    await expect(publishSnapshot(store, { period: PERIOD, snapshotKeys: keys })).rejects.toThrow(
      /not in the/,
    );
  });
});
