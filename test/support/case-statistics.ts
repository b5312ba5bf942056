import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, paginateScan } from '@aws-sdk/lib-dynamodb';
import type { Counters } from '../e2e/case-scenario';
import { localAwsConfig } from './aws';

const FIELDS: readonly (keyof Counters)[] = [
  'received',
  'accepted',
  'rejected',
  'completed',
  'terminated',
  'completedOnTime',
  'online',
  'fullyOnline',
  'processingHours',
];

/**
 * A hub's case statistics as stored, summed over write shards, keyed `{day}|{region}|{department}|{item}` like
 * the scenario's ground truth (test/e2e/case-scenario.ts `expectedStatistics`).
 */
export async function storedCaseStatistics(
  endpoint: string,
  statsTable: string,
): Promise<Map<string, Counters>> {
  const doc = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsConfig(endpoint)));
  const totals = new Map<string, Counters>();
  try {
    for await (const page of paginateScan({ client: doc }, { TableName: statsTable })) {
      for (const item of page.Items ?? []) {
        const key = `${item.day}|${item.regionCode}|${item.departmentCode}|${item.itemCode}`;
        const sum = totals.get(key) ?? (Object.fromEntries(FIELDS.map((f) => [f, 0])) as unknown as Counters);
        for (const f of FIELDS) sum[f] += Number(item[f] ?? 0);
        totals.set(key, sum);
      }
    }
  } finally {
    doc.destroy();
  }
  // Buckets whose counters all moved back to zero (a received count that moved days) are not facts.
  for (const [key, counters] of totals) if (Object.values(counters).every((v) => v === 0)) totals.delete(key);
  return totals;
}
