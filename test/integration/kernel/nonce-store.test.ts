import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { startFaultProxy } from '../../../infra/local/fault-proxy';
import { NonceStore } from '../../../shared/nonce-store';
import { localAwsConfig } from '../../support/aws';
import { createTestTable, localDynamo, uniqueTableName } from '../../support/dynamo';

const { client, doc } = localDynamo();
const table = uniqueTableName('nonces');

beforeAll(async () => {
  await createTestTable(client, table);
});

describe('NonceStore against DynamoDB Local', () => {
  let nowMs = Date.parse('2026-11-21T10:00:00Z');
  const store = new NonceStore(doc, table, () => new Date(nowMs));

  it('records a nonce once and calls the second use a replay', async () => {
    expect(await store.recordNonce('AKDEVREGION330000', 'nonce-aaaaaaaaaaaaaaaa', 660)).toBe('recorded');
    expect(await store.recordNonce('AKDEVREGION330000', 'nonce-aaaaaaaaaaaaaaaa', 660)).toBe('replayed');
  });

  it('keeps nonces of different clients apart', async () => {
    expect(await store.recordNonce('AKDEVREGION110000', 'nonce-aaaaaaaaaaaaaaaa', 660)).toBe('recorded');
  });

  it('stores the expiry as epoch seconds in expiresAt', async () => {
    await store.recordNonce('AKDEVREGION120000', 'nonce-bbbbbbbbbbbbbbbb', 660);
    const item = await doc.send(
      new GetCommand({
        TableName: table,
        Key: { pk: 'nonce#AKDEVREGION120000#nonce-bbbbbbbbbbbbbbbb', sk: 'nonce' },
      }),
    );
    expect(item.Item?.expiresAt).toBe(Math.floor(nowMs / 1000) + 660);
  });

  it('lets an expired nonce be used again, since DynamoDB Local never deletes it', async () => {
    expect(await store.recordNonce('AKDEVREGION130000', 'nonce-cccccccccccccccc', 60)).toBe('recorded');
    nowMs += 59_000;
    expect(await store.recordNonce('AKDEVREGION130000', 'nonce-cccccccccccccccc', 60)).toBe('replayed');
    nowMs += 2_000;
    expect(await store.recordNonce('AKDEVREGION130000', 'nonce-cccccccccccccccc', 60)).toBe('recorded');
    expect(await store.recordNonce('AKDEVREGION130000', 'nonce-cccccccccccccccc', 60)).toBe('replayed');
  });

  it('records exactly one of many concurrent uses of the same nonce', async () => {
    const outcomes = await Promise.all(
      Array.from({ length: 10 }, () => store.recordNonce('AKDEVREGION140000', 'nonce-dddddddddddddddd', 660)),
    );
    expect(outcomes.filter((o) => o === 'recorded')).toHaveLength(1);
  });

  it('takes its own put, retried by the SDK after a lost answer, for recorded — and a later use for a replay', async () => {
    // The first put is applied by DynamoDB but answered with a throttle; the SDK's retry meets our own item.
    const proxy = await startFaultProxy(inject('dynamoEndpoint'), { throttleRate: 0, script: ['ambiguous'] });
    const viaProxy = DynamoDBDocumentClient.from(new DynamoDBClient(localAwsConfig(proxy.endpoint)));
    try {
      const flaky = new NonceStore(viaProxy, table, () => new Date(nowMs));
      expect(await flaky.recordNonce('AKDEVREGION150000', 'nonce-eeeeeeeeeeeeeeee', 660)).toBe('recorded');
      expect(proxy.counters()).toMatchObject({ requests: 2, ambiguous: 1 });
      expect(await flaky.recordNonce('AKDEVREGION150000', 'nonce-eeeeeeeeeeeeeeee', 660)).toBe('replayed');
    } finally {
      viaProxy.destroy();
      await proxy.stop();
    }
  });
});
