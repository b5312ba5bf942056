import type { AttributeValue } from '@aws-sdk/client-dynamodb';

/**
 * What DynamoDB bills, from measured item sizes (DynamoDB Developer Guide: "Item sizes and formats", "Capacity
 * management for transactions", "Global secondary indexes: provisioned throughput considerations"). DynamoDB Local
 * answers ReturnConsumedCapacity like the service outside transactions, but undercounts TransactWriteItems (items of
 * equal size collapse; see capacity.bench.ts), so transactions are priced from these sizes instead.
 */

export const KB = 1024;

/**
 * The size DynamoDB bills an item at: UTF-8 bytes of every attribute name plus its value — a string its UTF-8
 * bytes, a number 1 byte per two significant digits plus 1, a boolean or null 1 byte, a list or map 3 bytes plus
 * 1 byte per element plus the elements (a map's member names included).
 */
export function itemSize(item: Record<string, AttributeValue>): number {
  return Object.entries(item).reduce((sum, [name, value]) => sum + utf8(name) + valueSize(value), 0);
}

const utf8 = (text: string) => Buffer.byteLength(text, 'utf8');

function numberSize(text: string): number {
  const digits = text.replace(/^-/, '').replace('.', '').replace(/^0+/, '').replace(/0+$/, '');
  return Math.ceil(Math.max(digits.length, 1) / 2) + 1;
}

function valueSize(value: AttributeValue): number {
  if (value.S !== undefined) return utf8(value.S);
  if (value.N !== undefined) return numberSize(value.N);
  if (value.BOOL !== undefined || value.NULL !== undefined) return 1;
  if (value.B !== undefined) return value.B.length;
  if (value.SS) return value.SS.reduce((sum, v) => sum + utf8(v), 0);
  if (value.NS) return value.NS.reduce((sum, v) => sum + numberSize(v), 0);
  if (value.L) return 3 + value.L.reduce((sum, v) => sum + 1 + valueSize(v), 0);
  if (value.M)
    return 3 + Object.entries(value.M).reduce((sum, [k, v]) => sum + 1 + utf8(k) + valueSize(v), 0);
  throw new Error(`no size rule for ${Object.keys(value).join(',')}`);
}

/** Write units of one item in a transaction: 2 per started KB of the larger of its sizes before and after. */
export const transactionalWriteUnits = (before: number, after: number) =>
  2 * Math.max(1, Math.ceil(Math.max(before, after) / KB));
