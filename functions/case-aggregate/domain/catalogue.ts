import * as z from 'zod';
import type { AuthenticatedClient } from '../../../shared/client-registry';
import { creditCodeSchema, implementationCodeSchema } from '../../../shared/identifiers';
import { fieldErrors } from '../../../shared/problem';
import { provinceOf, regionCodeSchema } from '../../../shared/regions';
import { MAX_TIME_LIMIT_DAYS } from './record';

/**
 * The item catalogue (事项实施清单): the service items each region and department implements, with their time
 * limits in working days. Reference data: written by the owning platform (PUT /v1/items/{code}) or loaded by
 * an operator (npm run hub -- items load), read by anyone who reads cases.
 */

const timeLimit = z.number().int().min(0).max(MAX_TIME_LIMIT_DAYS);

/** What a platform sends for one item; the implementation code comes from the path. */
export const catalogueEntrySchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    departmentCode: creditCodeSchema,
    regionCode: regionCodeSchema,
    promisedDays: timeLimit.describe('Promised time limit in working days (承诺时限).'),
    statutoryDays: timeLimit.describe(
      'Statutory time limit in working days (法定时限), at least the promised one.',
    ),
    fullyOnlineCapable: z.boolean().describe('Whether the item can be handled entirely online (全程网办).'),
  })
  .refine((entry) => entry.statutoryDays >= entry.promisedDays, {
    path: ['statutoryDays'],
    message: 'The statutory time limit must not be shorter than the promised one.',
  });
export type CatalogueEntry = z.output<typeof catalogueEntrySchema>;

export interface CatalogueItem extends CatalogueEntry {
  /** 31 characters, normalised (upper case). */
  implementationCode: string;
}

export const catalogueItemSchema = z
  .object({ implementationCode: implementationCodeSchema })
  .and(catalogueEntrySchema);

/**
 * Who may write an item: the platform of the item's province (a provincial platform covers its cities and
 * counties), or the ministry whose department implements it. Judged on the item as sent and, when it exists,
 * on the item as stored — otherwise a platform could take over another province's item by re-sending it.
 */
export function mayWriteItem(
  client: Pick<AuthenticatedClient, 'kind' | 'regionCode' | 'departmentCode'>,
  item: Pick<CatalogueEntry, 'regionCode' | 'departmentCode'>,
): boolean {
  if (client.kind === 'ministry') {
    return client.departmentCode !== undefined && client.departmentCode === item.departmentCode;
  }
  if (client.kind !== 'region' || client.regionCode === undefined) return false;
  return provinceOf(client.regionCode) === provinceOf(item.regionCode);
}

/** Whose existing item a write may replace: its province's platform, or its department's ministry. */
export type ItemOwner = { province: string } | { departmentCode: string };

/** What a client may replace, checked against the stored item in the same write. */
export function ownerOf(
  client: Pick<AuthenticatedClient, 'kind' | 'regionCode' | 'departmentCode'>,
): ItemOwner | undefined {
  if (client.kind === 'ministry' && client.departmentCode) return { departmentCode: client.departmentCode };
  if (client.kind === 'region' && client.regionCode) return { province: provinceOf(client.regionCode) };
  return undefined;
}

/** The columns of a catalogue CSV, in the order `items seed --out` writes them. */
export const CATALOGUE_COLUMNS = [
  'implementationCode',
  'name',
  'departmentCode',
  'regionCode',
  'promisedDays',
  'statutoryDays',
  'fullyOnlineCapable',
] as const;
export type CatalogueRow = Record<(typeof CATALOGUE_COLUMNS)[number], string>;

const wholeNumber = (text: string): number | string => (/^\d{1,6}$/.test(text.trim()) ? Number(text) : text);
const BOOLEANS: Record<string, boolean> = {
  true: true,
  false: false,
  yes: true,
  no: false,
  '1': true,
  '0': false,
};

export type CatalogueRowResult =
  | { ok: true; item: CatalogueItem }
  /** `reason` names the first failing column and why, never its value. */
  | { ok: false; reason: string };

/** Judges one CSV row: a catalogue item, or a reason such as `invalid_promisedDays`. */
export function parseCatalogueRow(row: CatalogueRow): CatalogueRowResult {
  const flag = BOOLEANS[row.fullyOnlineCapable.trim().toLowerCase()];
  const parsed = catalogueItemSchema.safeParse({
    implementationCode: row.implementationCode,
    name: row.name,
    departmentCode: row.departmentCode.trim(),
    regionCode: row.regionCode.trim(),
    promisedDays: wholeNumber(row.promisedDays),
    statutoryDays: wholeNumber(row.statutoryDays),
    fullyOnlineCapable: flag ?? row.fullyOnlineCapable,
  });
  if (parsed.success) return { ok: true, item: parsed.data };
  const first = fieldErrors(parsed.error.issues)[0];
  return { ok: false, reason: `invalid_${first?.path.slice(1).split('/')[0] || 'row'}` };
}

/** The row `items seed --out` writes for an item: what parseCatalogueRow reads back. */
export function catalogueRowOf(item: CatalogueItem): string[] {
  return CATALOGUE_COLUMNS.map((column) => String(item[column]));
}

/** The catalogue attributes of an item and nothing else: what is stored and shown, whatever the item carries. */
export function catalogueFieldsOf(item: CatalogueItem): CatalogueItem {
  const {
    implementationCode,
    name,
    departmentCode,
    regionCode,
    promisedDays,
    statutoryDays,
    fullyOnlineCapable,
  } = item;
  return {
    implementationCode,
    name,
    departmentCode,
    regionCode,
    promisedDays,
    statutoryDays,
    fullyOnlineCapable,
  };
}
