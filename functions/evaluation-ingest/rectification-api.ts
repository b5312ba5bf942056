import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { evaluationIdField, rectificationStatusField } from '../../events/rectification-transitioned.v1';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import type { AuthenticatedClient } from '../../shared/client-registry';
import { loadConfig, requiredString } from '../../shared/config';
import { defineRoute, pageOf } from '../../shared/contract';
import { routedHandler } from '../../shared/entry';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { pageBody } from '../../shared/page-cursor';
import { conflict, forbidden, notFound, validationFailed } from '../../shared/problem';
import { inRegionScope, PROVINCES, provinceOf, regionCodeSchema } from '../../shared/regions';
import type { DeadlineSettings } from './domain/deadlines';
import { isResponsiblePlatform, toTicketView } from './domain/ticket';
import { applyTransition, transitionRequestSchema } from './domain/transitions';
import {
  CursorError,
  createTicketStore,
  flushOutbox,
  loadTicketSettings,
  type PublishRectificationEvents,
  type TicketStore,
} from './ticket-store';

/**
 * The rectification API (差评整改):
 *   POST /v1/rectifications/{evaluationId}/transitions   scope evaluations:write, the responsible platform only
 *   GET  /v1/rectifications?status=&region=&overdue=&limit=&cursor=   scope cases:read, a region client its province
 * Signature, scope, JSON, validation and Idempotency-Key are the HTTP stack's; the rules are in domain/.
 */
export interface RectificationApiDependencies {
  store: () => TicketStore;
  publish: () => PublishRectificationEvents;
  deadlines: () => DeadlineSettings;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

export const MAX_LIST_LIMIT = 100;

const evaluationPathSchema = z.object({ evaluationId: evaluationIdField });

export const listQuerySchema = z.object({
  status: rectificationStatusField.optional(),
  region: regionCodeSchema.optional(),
  overdue: z
    .enum(['true', 'false'])
    .transform((flag) => flag === 'true')
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_LIST_LIMIT).default(50),
  cursor: z.string().min(1).max(2048).optional(),
});

/** A stage's deadline (domain/deadlines.ts `StageDeadline`). */
const stageDeadlineSchema = z.object({
  startDay: z.string().describe('The Asia/Shanghai day the stage started on (not counted).'),
  dueDay: z.string().describe('The last day of the limit: a transition on or before it is in time.'),
  metAt: z.string().optional().describe('When the transition that ended the stage was made.'),
  cancelledAt: z.string().optional().describe('When the stage ended without it (the ticket was dismissed).'),
  overdueDay: z.string().optional().describe('The day the miss was recorded on.'),
});

const ticketViewSchema = z.object({
  evaluationId: z.string(),
  caseId: z.string(),
  regionCode: z.string(),
  departmentCode: z.string(),
  itemCode: z.string(),
  level: z.number().int(),
  status: rectificationStatusField,
  openedAt: z.string(),
  deadlines: z
    .object({
      verify: stageDeadlineSchema,
      rectify: stageDeadlineSchema.optional(),
      revisit: stageDeadlineSchema.optional(),
    })
    .describe('Each started stage with its deadline.'),
  overdue: z
    .object({ verify: z.boolean(), rectify: z.boolean(), revisit: z.boolean() })
    .describe('Which stages missed their deadline.'),
  appealedFrom: z.enum(['open', 'verified']).optional(),
  revisit: z
    .object({ reached: z.boolean(), satisfaction: z.enum(['satisfied', 'unsatisfied']).optional() })
    .optional()
    .describe('The revisit of the evaluator, once made.'),
  dismissal: z
    .object({ finding: z.enum(['mistaken', 'malicious']), by: z.string(), at: z.string() })
    .optional()
    .describe('The decision that dismissed the bad review, kept for good.'),
  transitions: z
    .array(
      z.object({
        sequence: z.number().int(),
        from: rectificationStatusField,
        to: rectificationStatusField,
        by: z.string().describe('Client id of the platform that made it.'),
        at: z.string(),
      }),
    )
    .describe('Every transition (notes are never shown).'),
  version: z.number().int(),
});

/** The rectification routes; `handler` below serves exactly these. */
export const RECTIFICATION_ROUTES = {
  transition: defineRoute({
    operation: 'rectifications.transition',
    method: 'POST',
    path: '/v1/rectifications/{evaluationId}/transitions',
    tag: 'evaluation ingest',
    summary:
      "Move a bad review's rectification ticket (差评整改) on: verified, rectified, revisited, appealed, dismissed.",
    scope: 'evaluations:write',
    authentication: 'signature',
    params: evaluationPathSchema,
    body: transitionRequestSchema,
    idempotent: true,
    responses: { 200: { description: 'The ticket after the transition.', schema: ticketViewSchema } },
    problems: [
      {
        status: 404,
        slug: 'rectification-not-found',
        when: "This platform has no ticket for the evaluation (another platform's ticket looks missing too).",
      },
      {
        status: 409,
        slug: 'rectification-transition-not-allowed',
        when: "The ticket's status does not allow this transition.",
      },
      { status: 409, slug: 'rectification-changed', when: 'The ticket changed meanwhile; read it again.' },
    ],
  }),
  list: defineRoute({
    operation: 'rectifications.list',
    method: 'GET',
    path: '/v1/rectifications',
    tag: 'evaluation ingest',
    summary: "Rectification tickets of the caller's province (a ministry: the nation), filtered.",
    scope: 'cases:read',
    authentication: 'signature',
    query: listQuerySchema,
    responses: { 200: { description: 'A page of tickets.', schema: pageOf(ticketViewSchema) } },
    problems: [
      {
        status: 403,
        slug: 'rectification-out-of-scope',
        when: "A region client asked for another province's tickets.",
      },
    ],
  }),
};

const ALL_PROVINCES = PROVINCES.map((province) => province.code);

/** The province partitions a client may list: a region client its own province, a ministry the nation. */
function provincesFor(client: AuthenticatedClient, region: string | undefined): readonly string[] {
  const outOfScope = forbidden(
    'rectification-out-of-scope',
    "This client may list only its own province's rectifications.",
  );
  if (client.kind === 'ministry') return region === undefined ? ALL_PROVINCES : [provinceOf(region)];
  if (client.kind !== 'region' || client.regionCode === undefined) throw outOfScope;
  if (region !== undefined && !inRegionScope(client.regionCode, region)) throw outOfScope;
  return [provinceOf(region ?? client.regionCode)];
}

export function createRectificationApi(deps: RectificationApiDependencies) {
  const transition = httpHandler(
    {
      contract: RECTIFICATION_ROUTES.transition,
      handle: async ({ path, body, client, correlationId, logger, metrics }) => {
        const store = deps.store();
        const ticket = await store.get(path.evaluationId);
        // Another platform's ticket is answered as missing: whether a case got a bad review is not its business.
        if (!ticket || !isResponsiblePlatform(client, ticket)) {
          throw notFound(
            'rectification-not-found',
            'This platform has no rectification ticket for this evaluation.',
          );
        }
        const outcome = applyTransition(ticket, body, {
          by: client.clientId,
          at: deps.clock().toISOString(),
          correlationId,
          settings: deps.deadlines(),
        });
        if (!outcome.ok) {
          throw conflict(
            'rectification-transition-not-allowed',
            `A ticket in status ${outcome.from} cannot become ${outcome.to}.`,
            { extensions: { status: outcome.from, to: outcome.to } },
          );
        }
        const saved = await store.save(outcome.ticket, ticket.version);
        if (!saved) {
          throw conflict(
            'rectification-changed',
            'The ticket changed while this transition was made; read it again.',
          );
        }
        // Ids and statuses only: the note is free text and never logged.
        logger.info('rectification transitioned', {
          evaluationId: ticket.evaluationId,
          from: ticket.status,
          to: body.to,
        });
        metrics.addMetric('RectificationTransitions', MetricUnit.Count, 1);
        try {
          await flushOutbox(store, deps.publish(), saved);
        } catch (error) {
          // The transition is stored and its events wait in the ticket's outbox: the next sweep sends them.
          logger.warn('rectification events left for the sweep', {
            evaluationId: ticket.evaluationId,
            error: (error as Error).name,
          });
          metrics.addMetric('RectificationEventsDeferred', MetricUnit.Count, saved.outbox.length);
        }
        return { status: 200, body: toTicketView(saved) };
      },
    },
    deps.http,
  );

  const list = httpHandler(
    {
      contract: RECTIFICATION_ROUTES.list,
      handle: async ({ query, client }) => {
        const provinces = provincesFor(client, query.region);
        // A city or county platform sees its own division only, not its whole province's partition.
        const region = query.region ?? (client.kind === 'region' ? client.regionCode : undefined);
        try {
          const page = await deps.store().list({ ...query, region, provinces });
          return {
            status: 200,
            body: pageBody(page.tickets.map(toTicketView), page.cursor),
          };
        } catch (error) {
          if (error instanceof CursorError)
            throw validationFailed([{ path: '/query/cursor', message: error.message }]);
          throw error;
        }
      },
    },
    deps.http,
  );

  return { transition, list };
}

const apiEnv = z.object({ EVENT_BUS_NAME: requiredString });

export const handler = routedHandler({
  name: 'rectification API',
  contracts: RECTIFICATION_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
    const { createEventPublisher } = await import('../../shared/events');
    const settings = loadTicketSettings();
    const store = createTicketStore({ doc: aws.documentClient, tableName: settings.tableName });
    const publisher = createEventPublisher({
      client: aws.eventBridge,
      busName: loadConfig(apiEnv).EVENT_BUS_NAME,
      source: 'zwfw.evaluation-ingest',
    });
    // The cast goes once RectificationTransitioned and RectificationOverdue are in events/catalogue.ts.
    const publish: PublishRectificationEvents = async (events) => {
      await publisher.publish(events);
    };
    return createRectificationApi({
      store: () => store,
      publish: () => publish,
      deadlines: () => settings.deadlines,
      clock: () => new Date(),
    });
  },
});
