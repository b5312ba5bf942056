import { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { generateCatalogue, ITEM_TEMPLATES } from '../../../functions/case-aggregate/catalogue-seed';
import {
  CATALOGUE_COLUMNS,
  type CatalogueItem,
  type CatalogueRow,
  catalogueRowOf,
  mayWriteItem,
  ownerOf,
  parseCatalogueRow,
} from '../../../functions/case-aggregate/domain/catalogue';
import { loadCatalogueCsv } from '../../../infra/cli/commands/items';
import { csvLine } from '../../../infra/cli/commands/registry-csv';
import { validateCreditCode, validateImplementationCode } from '../../../shared/identifiers';
import { PROVINCES, provinceOf } from '../../../shared/regions';
import { DEPARTMENT, ITEM } from './fixtures';

const item: CatalogueItem = {
  implementationCode: ITEM,
  name: '企业设立登记',
  departmentCode: DEPARTMENT,
  regionCode: '330106',
  promisedDays: 3,
  statutoryDays: 15,
  fullyOnlineCapable: true,
};
const rowOf = (entry: CatalogueItem, overrides: Partial<CatalogueRow> = {}): CatalogueRow => {
  const cells = catalogueRowOf(entry);
  return Object.fromEntries(
    CATALOGUE_COLUMNS.map((column, i) => [column, overrides[column] ?? cells[i] ?? '']),
  ) as CatalogueRow;
};
const row = (overrides: Partial<CatalogueRow> = {}) => rowOf(item, overrides);

describe('who may write an item', () => {
  const zhejiang = { kind: 'region' as const, regionCode: '330000' };
  const ministry = { kind: 'ministry' as const, departmentCode: DEPARTMENT };

  it('lets the platform of the item province write it, cities and counties included', () => {
    expect(mayWriteItem(zhejiang, item)).toBe(true);
    expect(mayWriteItem({ kind: 'region', regionCode: '330100' }, { ...item, regionCode: '331002' })).toBe(
      true,
    );
    expect(mayWriteItem({ kind: 'region', regionCode: '440000' }, item)).toBe(false);
  });

  it("lets a ministry write its own department's items anywhere, and no one else's", () => {
    expect(mayWriteItem(ministry, { ...item, regionCode: '440106' })).toBe(true);
    expect(mayWriteItem({ kind: 'ministry', departmentCode: '11100000000013338W' }, item)).toBe(false);
    expect(mayWriteItem({ kind: 'ministry' }, item)).toBe(false);
  });

  it('refuses issuers and apps', () => {
    expect(mayWriteItem({ kind: 'issuer', regionCode: '330000', departmentCode: DEPARTMENT }, item)).toBe(
      false,
    );
    expect(mayWriteItem({ kind: 'app' }, item)).toBe(false);
  });

  it('names what an existing item must belong to for the client to replace it', () => {
    expect(ownerOf({ kind: 'region', regionCode: '330100' })).toEqual({ province: '330000' });
    expect(ownerOf(ministry)).toEqual({ departmentCode: DEPARTMENT });
    expect(ownerOf({ kind: 'app' })).toBeUndefined();
  });
});

describe('catalogue rows', () => {
  it('reads a valid row, normalising the code and the flag', () => {
    expect(parseCatalogueRow(row())).toEqual({ ok: true, item });
    expect(
      parseCatalogueRow(row({ implementationCode: ITEM.toLowerCase(), fullyOnlineCapable: 'NO' })),
    ).toEqual({ ok: true, item: { ...item, fullyOnlineCapable: false } });
  });

  it.each([
    [{ implementationCode: `${ITEM}0` }, 'invalid_implementationCode'],
    [{ name: ' ' }, 'invalid_name'],
    [{ departmentCode: '91330106MA2K11111X' }, 'invalid_departmentCode'],
    [{ regionCode: '990000' }, 'invalid_regionCode'],
    [{ promisedDays: 'three' }, 'invalid_promisedDays'],
    [{ promisedDays: '-1' }, 'invalid_promisedDays'],
    [{ promisedDays: '20' }, 'invalid_statutoryDays'],
    [{ fullyOnlineCapable: 'maybe' }, 'invalid_fullyOnlineCapable'],
  ])('rejects %o as %s', (overrides, reason) => {
    expect(parseCatalogueRow(row(overrides))).toEqual({ ok: false, reason });
  });
});

describe('the synthetic catalogue', () => {
  const catalogue = generateCatalogue({ seed: 7, itemsPerRegion: 12 });

  it('is the same for the same seed and differs for another', () => {
    expect(generateCatalogue({ seed: 7, itemsPerRegion: 12 })).toEqual(catalogue);
    expect(generateCatalogue({ seed: 8, itemsPerRegion: 12 })).not.toEqual(catalogue);
  });

  it('covers all 32 regions with valid items led by their department', () => {
    expect(catalogue).toHaveLength(32 * 12);
    expect(new Set(catalogue.map((i) => provinceOf(i.regionCode)))).toEqual(
      new Set(PROVINCES.map((p) => p.code)),
    );
    expect(new Set(catalogue.map((i) => i.implementationCode)).size).toBe(catalogue.length);
    for (const entry of catalogue) {
      expect(parseCatalogueRow(rowOf(entry))).toEqual({ ok: true, item: entry });
      expect(validateImplementationCode(entry.implementationCode)).toMatchObject({
        ok: true,
        implementerCode: entry.departmentCode,
      });
      expect(validateCreditCode(entry.departmentCode).ok).toBe(true);
      expect(entry.departmentCode.slice(2, 8)).toBe(entry.regionCode);
    }
  });

  it('caps the items per region at the templates it knows', () => {
    expect(generateCatalogue({ itemsPerRegion: 1_000 })).toHaveLength(32 * ITEM_TEMPLATES.length);
  });
});

describe('loading a catalogue CSV', () => {
  const csv = (lines: string[]) => Readable.from([lines.join('\r\n')]);
  const header = csvLine(CATALOGUE_COLUMNS).trimEnd();
  const line = (overrides = {}) => csvLine(CATALOGUE_COLUMNS.map((c) => String(row(overrides)[c]))).trimEnd();

  it('writes valid rows in slices and reports rejected ones by line and reason, never by value', async () => {
    const written: CatalogueItem[][] = [];
    const report = await loadCatalogueCsv({
      input: csv([
        header,
        line(),
        '',
        line({ regionCode: '990000' }),
        'a,"b',
        line({ name: 'x,"y"' }),
        'a,b',
      ]),
      write: async (items) => written.push(items),
      sliceSize: 1,
    });
    expect(report).toEqual({
      rows: 5,
      valid: 2,
      rejectedCount: 3,
      rejected: [
        { line: 4, reason: 'invalid_regionCode' },
        { line: 5, reason: 'unterminated_quote' },
        { line: 7, reason: 'wrong_number_of_columns' },
      ],
    });
    expect(written).toEqual([[item], [{ ...item, name: 'x,"y"' }]]);
  });

  it('reads the columns in any order', async () => {
    const reversed = [...CATALOGUE_COLUMNS].reverse();
    const written: CatalogueItem[] = [];
    await loadCatalogueCsv({
      input: csv([reversed.join(','), reversed.map((c) => row()[c]).join(',')]),
      write: async (items) => written.push(...items),
    });
    expect(written).toEqual([item]);
  });

  it.each([
    ['an empty file', []],
    ['a header missing a column', [CATALOGUE_COLUMNS.slice(1).join(',')]],
    ['a header with an unknown column', [`${header},colour`]],
    ['a header repeating a column', [`${header},name`]],
  ])('refuses %s', async (_what, lines) => {
    await expect(loadCatalogueCsv({ input: csv(lines) })).rejects.toThrow(/header|empty/);
  });
});
