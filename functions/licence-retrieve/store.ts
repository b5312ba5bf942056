import { ConditionalCheckFailedException } from '@aws-sdk/client-dynamodb';
import {
  BatchWriteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { decodePageCursor, encodePageCursor, ListCursorError } from '../../shared/page-cursor';
import type { CaseObservation, KnownCase } from './domain/authorisation';
import type { FileState, Licence } from './domain/licence';
import type { LicenceUse } from './domain/uses';

/**
 * The only code touching the licences table. One table, four kinds of item:
 *
 * | item    | pk                   | sk                       | gsi1 (gsi1pk / gsi1sk)                         |
 * | licence | `LIC#{licenceId}`    | `LICENCE`                | `HOLDER#{holder sub}` / `{registeredAt}#{id}`  |
 * | use     | `USES#{holder sub}`  | `{accessedAt}#{useId}`   | —                                              |
 * | case    | `CASE#{caseId}`      | `CASE`                   | —                                              |
 *
 * A holder is found by their subject (auth-verify's pseudonym of the ID HMAC): a token carries it, and an ID number
 * or a case applicant's ID HMAC is turned into it with the HMAC key, so one partition serves all three.
 */
export interface PageRequest {
  limit: number;
  /** Opaque, as a previous page of the same listing handed it out. */
  cursor?: string;
}

export interface Page<T> {
  items: T[];
  /** Absent after the last page. */
  cursor?: string;
}

/** A cursor this store did not hand out for this listing (tampered, or another holder's). */
export { ListCursorError };

export interface LicenceStore {
  /** `exists` when a licence with this identifier is already registered (nothing written). */
  putLicence(licence: Licence): Promise<'created' | 'exists'>;
  getLicence(licenceId: string): Promise<Licence | undefined>;
  /** A holder's licences, newest registration first, of one type when `typeCode` is given. */
  listByHolder(sub: string, page: PageRequest & { typeCode?: string }): Promise<Page<Licence>>;
  /** `already` when it was revoked before (the first revocation stays); `missing` when there is no such licence. */
  revoke(
    licenceId: string,
    revocation: NonNullable<Licence['revocation']>,
  ): Promise<'revoked' | 'already' | 'missing'>;
  /** Records the uploaded file's outcome once: a file already recorded is never replaced. */
  recordFile(
    licenceId: string,
    file: Exclude<FileState, { state: 'awaiting_upload' }>,
  ): Promise<'recorded' | 'already'>;
  recordUses(uses: readonly LicenceUse[]): Promise<void>;
  /** A holder's use records, newest first. */
  listUses(sub: string, page: PageRequest): Promise<Page<LicenceUse>>;
  /** Merges one `CaseStatusChanged` into what is known of the case; commutative and idempotent. */
  recordCaseStatus(observation: CaseObservation, now: Date): Promise<void>;
  getCase(caseId: string): Promise<KnownCase | undefined>;
}

const LICENCE_SK = 'LICENCE';
const CASE_SK = 'CASE';
const LIST_INDEX = 'gsi1';
/** Index pages one listing may read before it answers with a cursor (a type filter may skip many items). */
const MAX_LIST_READS = 10;
const BATCH_WRITE_MAX = 25;
const BATCH_WRITE_ATTEMPTS = 5;

export const licenceKey = (licenceId: string) => ({ pk: `LIC#${licenceId}`, sk: LICENCE_SK });
export const caseKey = (caseId: string) => ({ pk: `CASE#${caseId}`, sk: CASE_SK });
const holderPartition = (sub: string) => `HOLDER#${sub}`;
const usesPartition = (sub: string) => `USES#${sub}`;

const isConditionFailure = (error: unknown) =>
  error instanceof ConditionalCheckFailedException ||
  (error as { name?: string } | undefined)?.name === 'ConditionalCheckFailedException';

function withoutKeys<T>(item: Record<string, unknown>): T {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g2, ...rest } = item;
  return rest as T;
}

export function createLicenceStore(deps: { doc: DynamoDBDocumentClient; table: string }): LicenceStore {
  const { doc, table } = deps;

  async function queryPage(
    partition: { attribute: 'pk' | 'gsi1pk'; value: string },
    page: PageRequest & { filter?: { expression: string; values: Record<string, unknown> } },
  ): Promise<Page<Record<string, unknown>>> {
    const items: Record<string, unknown>[] = [];
    let startKey: Record<string, unknown> | undefined =
      page.cursor === undefined ? undefined : decodePageCursor(page.cursor, partition);
    for (let reads = 0; reads < MAX_LIST_READS; reads += 1) {
      const result: QueryCommandOutput = await doc.send(
        new QueryCommand({
          TableName: table,
          ...(partition.attribute === 'gsi1pk' ? { IndexName: LIST_INDEX } : {}),
          KeyConditionExpression: `${partition.attribute} = :partition`,
          ...(page.filter ? { FilterExpression: page.filter.expression } : {}),
          ExpressionAttributeValues: { ':partition': partition.value, ...page.filter?.values },
          ScanIndexForward: false,
          ExclusiveStartKey: startKey,
          Limit: page.limit - items.length,
        }),
      );
      items.push(...(result.Items ?? []));
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) return { items };
      if (items.length >= page.limit) break;
    }
    return { items, cursor: encodePageCursor(startKey as Record<string, unknown>) };
  }

  return {
    async putLicence(licence) {
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: {
              ...licenceKey(licence.licenceId),
              gsi1pk: holderPartition(licence.holder.sub),
              gsi1sk: `${licence.registeredAt}#${licence.licenceId}`,
              ...licence,
            },
            ConditionExpression: 'attribute_not_exists(pk)',
          }),
        );
        return 'created';
      } catch (error) {
        if (isConditionFailure(error)) return 'exists';
        throw error;
      }
    },

    async getLicence(licenceId) {
      const result = await doc.send(
        new GetCommand({ TableName: table, Key: licenceKey(licenceId), ConsistentRead: true }),
      );
      return result.Item ? withoutKeys<Licence>(result.Item) : undefined;
    },

    async listByHolder(sub, page) {
      const result = await queryPage(
        { attribute: 'gsi1pk', value: holderPartition(sub) },
        {
          ...page,
          ...(page.typeCode === undefined
            ? {}
            : { filter: { expression: 'typeCode = :type', values: { ':type': page.typeCode } } }),
        },
      );
      return { ...result, items: result.items.map((item) => withoutKeys<Licence>(item)) };
    },

    async revoke(licenceId, revocation) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: licenceKey(licenceId),
            UpdateExpression: 'SET revocation = :revocation',
            ConditionExpression: 'attribute_exists(pk) AND attribute_not_exists(revocation)',
            ExpressionAttributeValues: { ':revocation': revocation },
          }),
        );
        return 'revoked';
      } catch (error) {
        if (!isConditionFailure(error)) throw error;
        return (await this.getLicence(licenceId)) ? 'already' : 'missing';
      }
    },

    async recordFile(licenceId, file) {
      try {
        await doc.send(
          new UpdateCommand({
            TableName: table,
            Key: licenceKey(licenceId),
            UpdateExpression: 'SET #file = :file',
            ConditionExpression: 'attribute_exists(pk) AND #file.#state <> :recorded',
            ExpressionAttributeNames: { '#file': 'file', '#state': 'state' },
            ExpressionAttributeValues: { ':file': file, ':recorded': 'recorded' },
          }),
        );
        return 'recorded';
      } catch (error) {
        if (isConditionFailure(error)) return 'already';
        throw error;
      }
    },

    async recordUses(uses) {
      for (let start = 0; start < uses.length; start += BATCH_WRITE_MAX) {
        let requests = uses.slice(start, start + BATCH_WRITE_MAX).map((use) => ({
          PutRequest: {
            Item: { pk: usesPartition(use.holderSub), sk: `${use.accessedAt}#${use.useId}`, ...use },
          },
        }));
        for (let attempt = 0; requests.length > 0; attempt += 1) {
          if (attempt === BATCH_WRITE_ATTEMPTS) throw new Error('licence use records were not all written');
          if (attempt > 0) await new Promise((resolve) => setTimeout(resolve, 50 * 2 ** attempt));
          const result = await doc.send(new BatchWriteCommand({ RequestItems: { [table]: requests } }));
          requests = (result.UnprocessedItems?.[table] ?? []) as typeof requests;
        }
      }
    },

    async listUses(sub, page) {
      const result = await queryPage({ attribute: 'pk', value: usesPartition(sub) }, page);
      return { ...result, items: result.items.map((item) => withoutKeys<LicenceUse>(item)) };
    },

    async recordCaseStatus(observation, now) {
      await doc.send(
        new UpdateCommand({
          TableName: table,
          Key: caseKey(observation.caseId),
          UpdateExpression:
            'SET caseId = :caseId, regionCode = :region, departmentCode = :department, applicantIdHmac = if_not_exists(applicantIdHmac, :applicant), updatedAt = :now ADD statuses :status',
          ExpressionAttributeValues: {
            ':caseId': observation.caseId,
            ':region': observation.regionCode,
            ':department': observation.departmentCode,
            ':applicant': observation.applicantIdHmac,
            ':status': new Set([observation.status]),
            ':now': now.toISOString(),
          },
        }),
      );
    },

    async getCase(caseId) {
      const result = await doc.send(
        new GetCommand({ TableName: table, Key: caseKey(caseId), ConsistentRead: true }),
      );
      if (!result.Item) return undefined;
      const item = result.Item;
      return {
        caseId: String(item.caseId),
        regionCode: String(item.regionCode),
        departmentCode: String(item.departmentCode),
        applicantIdHmac: String(item.applicantIdHmac),
        statuses: [...((item.statuses as Set<string> | undefined) ?? [])] as KnownCase['statuses'],
      };
    },
  };
}
