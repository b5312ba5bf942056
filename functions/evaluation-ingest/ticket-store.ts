import { createHash } from 'node:crypto';
import {
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  type QueryCommandOutput,
} from '@aws-sdk/lib-dynamodb';
import * as z from 'zod';
import type { Day } from '../../shared/calendar';
import { loadConfig, tableName } from '../../shared/config';
import { inRegionScope, provinceOf } from '../../shared/regions';
import { type DeadlineSettings, deadlineEnv, deadlineSettingsOf } from './domain/deadlines';
import {
  isOverdue,
  type OpenTicketInput,
  openTicket,
  type RectificationEvent,
  sweepIndexDay,
  type Ticket,
  type TicketStatus,
  withoutPublished,
} from './domain/ticket';

/**
 * The only code that touches the tickets table.
 *
 * Ticket item: pk `TICKET#{evaluationId}`, sk `TICKET`, the Ticket attributes (domain/ticket.ts), and
 *   - gsi1pk `RECT#{province}`, gsi1sk `{status}#{openedAt UTC}#{evaluationId}`: the list index (`gsi1`, all
 *     attributes) behind `GET /v1/rectifications`, one partition per province;
 *   - `overdue` (boolean): some deadline was missed, for the list's filter;
 *   - duepk `RDUE#{shard}`, duesk `{day}#{evaluationId}`: the sparse `due` index (keys only) of the sweep,
 *     present only while the ticket has a running deadline not yet marked overdue or unpublished events
 *     (`sweepIndexDay`). A marked, closed and published ticket leaves it by the same Put.
 * Every write is a whole-item Put conditioned on the version read (a new ticket: on its absence).
 */

/** The environment variable naming the tickets table (part A's ingest sets the same name). */
export const TICKETS_TABLE = 'TICKETS_TABLE';
export const ticketsTableEnv = TICKETS_TABLE;

export interface TicketSettings {
  tableName: string;
  deadlines: DeadlineSettings;
}

export const ticketSettingsEnv = deadlineEnv.extend({ [TICKETS_TABLE]: tableName });

/** Table name and deadlines from the environment (memoised by loadConfig; a bad value names the variable). */
export function loadTicketSettings(env: NodeJS.ProcessEnv = process.env): TicketSettings {
  const config = loadConfig(ticketSettingsEnv, env);
  return { tableName: config.TICKETS_TABLE, deadlines: deadlineSettingsOf(config) };
}

/** The sparse index of tickets the sweep must look at (CDK: partition duepk, sort duesk, keys only). */
export const DUE_INDEX = { indexName: 'due', partitionKey: 'duepk', sortKey: 'duesk' } as const;
/** The list index (CDK: partition gsi1pk, sort gsi1sk, all attributes). */
export const LIST_INDEX = { indexName: 'gsi1', partitionKey: 'gsi1pk', sortKey: 'gsi1sk' } as const;
/** Partitions of the due index; the sweep queries each. Changing it re-shards the index. */
export const DUE_INDEX_SHARDS = 8;

const TICKET_SK = 'TICKET';
const PAGE_SIZE = 100;
/**
 * Queries one list request may spend before answering with a cursor: enough to visit every province partition
 * of a national listing once (mostly empty), plus a few pages of tickets filtered out by region or overdue.
 */
const MAX_LIST_READS = 48;

export const ticketKey = (evaluationId: string) => ({ pk: `TICKET#${evaluationId}`, sk: TICKET_SK });

export function dueShardOf(evaluationId: string): number {
  return createHash('sha256').update(evaluationId).digest().readUInt32BE(0) % DUE_INDEX_SHARDS;
}

function toTicketItem(ticket: Ticket): Record<string, unknown> {
  const dueDay = sweepIndexDay(ticket);
  return {
    ...ticketKey(ticket.evaluationId),
    [LIST_INDEX.partitionKey]: `RECT#${provinceOf(ticket.regionCode)}`,
    [LIST_INDEX.sortKey]: `${ticket.status}#${new Date(ticket.openedAt).toISOString()}#${ticket.evaluationId}`,
    ...(dueDay === undefined
      ? {}
      : {
          [DUE_INDEX.partitionKey]: `RDUE#${dueShardOf(ticket.evaluationId)}`,
          [DUE_INDEX.sortKey]: `${dueDay}#${ticket.evaluationId}`,
        }),
    entity: 'rectification-ticket',
    overdue: isOverdue(ticket),
    ...ticket,
  };
}

function fromTicketItem(item: Record<string, unknown>): Ticket {
  const {
    pk: _pk,
    sk: _sk,
    gsi1pk: _g1,
    gsi1sk: _g2,
    duepk: _d1,
    duesk: _d2,
    entity: _e,
    overdue: _o,
    ...ticket
  } = item;
  return ticket as unknown as Ticket;
}

/**
 * The Put that opens a bad review's ticket, for the evaluation's own TransactWriteItems: the ticket exists if and
 * only if the evaluation was stored, and a replayed evaluation cannot open a second one.
 */
export function openTicketItem(input: OpenTicketInput, settings: TicketSettings) {
  return {
    Put: {
      TableName: settings.tableName,
      Item: toTicketItem(openTicket(input, settings.deadlines)),
      ConditionExpression: 'attribute_not_exists(pk)',
    },
  };
}

export interface DuePage {
  evaluationIds: string[];
  cursor?: Record<string, unknown>;
}

export interface ListQuery {
  /** The province partitions to read, in order: one for a region client, all 32 for the nation. */
  provinces: readonly string[];
  status?: TicketStatus;
  /** A province, city or county code: tickets of the divisions it covers. */
  region?: string;
  overdue?: boolean;
  limit: number;
  cursor?: string;
}

export interface ListPage {
  tickets: Ticket[];
  /** Opaque; absent after the last page. */
  cursor?: string;
}

/** A cursor this store did not hand out for this query (tampered, or from another client's listing). */
export class CursorError extends Error {
  override readonly name = 'CursorError';
}

export interface TicketStore {
  get(evaluationId: string): Promise<Ticket | undefined>;
  /** Writes the ticket over `expectedVersion`; undefined when someone else wrote it since (stale). */
  save(ticket: Ticket, expectedVersion: number): Promise<Ticket | undefined>;
  /** Tickets of a due-index shard filed under a day before `beforeDay`. Eventually consistent: reload them. */
  queryDue(shard: number, beforeDay: Day, cursor?: Record<string, unknown>): Promise<DuePage>;
  list(query: ListQuery): Promise<ListPage>;
}

const isConditionFailure = (error: unknown) =>
  error instanceof Error && error.name === 'ConditionalCheckFailedException';

const cursorSchema = z.strictObject({
  /** The index of the province partition to resume in. */
  p: z.number().int().nonnegative(),
  /** The last item read in it; absent to start the partition from its beginning. */
  k: z.strictObject({ pk: z.string(), sk: z.string(), gsi1pk: z.string(), gsi1sk: z.string() }).optional(),
});
type ListCursor = z.output<typeof cursorSchema>;

const encodeCursor = (cursor: ListCursor) => Buffer.from(JSON.stringify(cursor)).toString('base64url');

function parseCursorText(text: string): unknown {
  try {
    return JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    return undefined;
  }
}

function decodeCursor(text: string, provinces: readonly string[]): ListCursor {
  const parsed = cursorSchema.safeParse(parseCursorText(text));
  // A cursor only resumes a partition this query may read: it cannot widen a region client's view.
  const province = parsed.success ? provinces[parsed.data.p] : undefined;
  if (
    !parsed.success ||
    province === undefined ||
    (parsed.data.k && parsed.data.k.gsi1pk !== `RECT#${province}`)
  ) {
    throw new CursorError('The cursor is not one this listing handed out.');
  }
  return parsed.data;
}

const listKeysOf = (item: Record<string, unknown>): NonNullable<ListCursor['k']> => ({
  pk: String(item.pk),
  sk: String(item.sk),
  gsi1pk: String(item.gsi1pk),
  gsi1sk: String(item.gsi1sk),
});

export function createTicketStore({
  doc,
  tableName: table,
}: {
  doc: DynamoDBDocumentClient;
  tableName: string;
}) {
  const matches = (query: ListQuery) => (ticket: Ticket) =>
    (query.region === undefined || inRegionScope(query.region, ticket.regionCode)) &&
    (query.overdue === undefined || isOverdue(ticket) === query.overdue);

  const store: TicketStore = {
    async get(evaluationId) {
      const result = await doc.send(
        new GetCommand({ TableName: table, Key: ticketKey(evaluationId), ConsistentRead: true }),
      );
      return result.Item ? fromTicketItem(result.Item) : undefined;
    },

    async save(ticket, expectedVersion) {
      const next = { ...ticket, version: expectedVersion + 1 };
      try {
        await doc.send(
          new PutCommand({
            TableName: table,
            Item: toTicketItem(next),
            ConditionExpression: 'version = :expected',
            ExpressionAttributeValues: { ':expected': expectedVersion },
          }),
        );
        return next;
      } catch (error) {
        if (isConditionFailure(error)) return undefined;
        throw error;
      }
    },

    async queryDue(shard, beforeDay, cursor) {
      const result = await doc.send(
        new QueryCommand({
          TableName: table,
          IndexName: DUE_INDEX.indexName,
          // `{day}#…` sorts below the bare `beforeDay` exactly when day < beforeDay.
          KeyConditionExpression: '#pk = :pk AND #sk < :before',
          ExpressionAttributeNames: { '#pk': DUE_INDEX.partitionKey, '#sk': DUE_INDEX.sortKey },
          ExpressionAttributeValues: { ':pk': `RDUE#${shard}`, ':before': beforeDay },
          ExclusiveStartKey: cursor,
          Limit: PAGE_SIZE,
        }),
      );
      return {
        evaluationIds: (result.Items ?? []).map((item) => String(item.pk).slice('TICKET#'.length)),
        cursor: result.LastEvaluatedKey,
      };
    },

    async list(query) {
      const resume = query.cursor === undefined ? undefined : decodeCursor(query.cursor, query.provinces);
      const tickets: Ticket[] = [];
      let partition = resume?.p ?? 0;
      let startKey: Record<string, unknown> | undefined = resume?.k;
      const accept = matches(query);
      for (let reads = 0; partition < query.provinces.length && reads < MAX_LIST_READS; reads += 1) {
        const page = await queryPartition(query, query.provinces[partition] as string, startKey);
        for (const item of page.Items ?? []) {
          const ticket = fromTicketItem(item);
          if (!accept(ticket)) continue;
          tickets.push(ticket);
          if (tickets.length === query.limit) {
            return { tickets, cursor: encodeCursor({ p: partition, k: listKeysOf(item) }) };
          }
        }
        startKey = page.LastEvaluatedKey;
        if (startKey === undefined) partition += 1;
      }
      if (partition >= query.provinces.length) return { tickets };
      const cursor = { p: partition, ...(startKey === undefined ? {} : { k: listKeysOf(startKey) }) };
      return { tickets, cursor: encodeCursor(cursor) };
    },
  };

  function queryPartition(
    query: ListQuery,
    province: string,
    startKey: Record<string, unknown> | undefined,
  ): Promise<QueryCommandOutput> {
    const names: Record<string, string> = { '#pk': LIST_INDEX.partitionKey };
    const values: Record<string, unknown> = { ':pk': `RECT#${province}` };
    let condition = '#pk = :pk';
    if (query.status !== undefined) {
      names['#sk'] = LIST_INDEX.sortKey;
      values[':status'] = `${query.status}#`;
      condition += ' AND begins_with(#sk, :status)';
    }
    return doc.send(
      new QueryCommand({
        TableName: table,
        IndexName: LIST_INDEX.indexName,
        KeyConditionExpression: condition,
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ExclusiveStartKey: startKey,
        Limit: PAGE_SIZE,
      }),
    );
  }

  return store;
}

/** Puts events on the bus; resolves once all are there. */
export type PublishRectificationEvents = (events: RectificationEvent[]) => Promise<void>;

const OUTBOX_CLEAR_ATTEMPTS = 3;

/**
 * Publishes the ticket's outbox and removes what was published. A publish failure leaves the outbox as it is
 * (the sweep sends it later) and is thrown; a ticket changed meanwhile is reloaded so that its newer events stay.
 * Resolves with the number of events published.
 */
export async function flushOutbox(
  store: TicketStore,
  publish: PublishRectificationEvents,
  ticket: Ticket,
): Promise<number> {
  if (ticket.outbox.length === 0) return 0;
  await publish(ticket.outbox.map((entry) => entry.event));
  const published = new Set(ticket.outbox.map((entry) => entry.key));
  let current: Ticket | undefined = ticket;
  for (let attempt = 0; current && attempt < OUTBOX_CLEAR_ATTEMPTS; attempt += 1) {
    if (await store.save(withoutPublished(current, published), current.version)) break;
    current = await store.get(ticket.evaluationId);
  }
  // Not cleared after every attempt: the sweep publishes these again, and consumers dedupe on their ids.
  return published.size;
}
