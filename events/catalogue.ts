import type { z } from 'zod';
import { evaluationIdOf } from '../functions/evaluation-ingest/domain/evaluation';
import { buildAssessmentPublishedV1 } from './assessment-published.v1';
import { buildBadReviewOpenedV1 } from './bad-review-opened.v1';
import { buildCaseReceivedV1 } from './case-received.v1';
import { buildCaseStatusChangedV1 } from './case-status-changed.v1';
import type { EventEnvelope } from './envelope';
import { buildEvaluationReceivedV1 } from './evaluation-received.v1';
import { buildEvaluationSubmittedV1 } from './evaluation-submitted.v1';
import { buildIdentityVerifiedV1 } from './identity-verified.v1';
import { buildLicenceAccessedV1 } from './licence-accessed.v1';
import { buildLicenceIssuedV1 } from './licence-issued.v1';
import { buildLicenceRevokedV1 } from './licence-revoked.v1';
import { buildRectificationOverdueV1 } from './rectification-overdue.v1';
import { buildRectificationTransitionedV1 } from './rectification-transitioned.v1';
import { buildTicketIssuedV1 } from './ticket-issued.v1';
import { buildTokenRevokedV1 } from './token-revoked.v1';

export interface EventParty {
  /** Capability folder under functions/. */
  capability: string;
  /** What it does with the event, or why it emits it. */
  purpose: string;
  /** `planned` until the issue that builds the subscriber lands. */
  status: 'live' | 'planned';
}

export interface EventDefinition<TDetailType extends string = string, TSchema extends z.ZodType = z.ZodType> {
  detailType: TDetailType;
  version: number;
  source: string;
  description: string;
  schema: TSchema;
  producers: EventParty[];
  consumers: EventParty[];
  /** Documents the shape and is validated by a test; doubles as a fixture. */
  example: z.input<TSchema>;
}

/**
 * An event definition whose schema is built on first read of `schema`, then kept: a function imports the whole
 * catalogue to validate what it publishes (shared/events.ts) but needs the schemas of its own one or two events
 * only, so it never builds the others (building every schema at import cost a measurable share of cold init).
 */
const defineEvent = <const TDetailType extends string, TSchema extends z.ZodType>({
  buildSchema,
  ...definition
}: Omit<EventDefinition<TDetailType, TSchema>, 'schema'> & {
  buildSchema: () => TSchema;
}): EventDefinition<TDetailType, TSchema> => {
  let schema: TSchema | undefined;
  return {
    ...definition,
    get schema() {
      schema ??= buildSchema();
      return schema;
    },
  };
};

const exampleCaseId = '330000:11330000002593947X4000117051000202611210001';

export const caseReceivedV1Event = defineEvent({
  detailType: 'CaseReceived',
  version: 1,
  source: 'zwfw.case-aggregate',
  description: 'A case (办件) seen by the hub for the first time.',
  buildSchema: buildCaseReceivedV1,
  producers: [
    {
      capability: 'case-aggregate',
      purpose: 'The consumer stores the first change of a case.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'evaluation-ingest',
      purpose: 'Takes region, department and item of an evaluated case from it.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    caseId: exampleCaseId,
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
    channel: 'online',
    fullyOnline: true,
    receivedAt: '2026-11-21T02:00:03Z',
  },
});

export const caseStatusChangedV1Event = defineEvent({
  detailType: 'CaseStatusChanged',
  version: 1,
  source: 'zwfw.case-aggregate',
  description: 'A status change applied to a case, at most once per case and status.',
  buildSchema: buildCaseStatusChangedV1,
  producers: [
    {
      capability: 'case-aggregate',
      purpose: 'The consumer applies a change and commits its statistics in one transaction.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'licence-retrieve',
      purpose: "Authorises use of a holder's licence by a case in which the holder applied (by idHmac).",
      status: 'planned',
    },
    {
      capability: 'evaluation-ingest',
      purpose: 'Opens the evaluation window when a case is completed.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    changeId: `${exampleCaseId}#accepted`,
    caseId: exampleCaseId,
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
    status: 'accepted',
    currentStatus: 'accepted',
    statusAt: '2026-11-21T10:00:00+08:00',
    applicant: {
      type: 'person',
      idType: 'citizen_id',
      idHmac: 'Bf2XpYAItYlScow_VT59ac340hW9EPy0SrvIORmdzYg',
      maskedId: '110105********002X',
    },
    channel: 'online',
    fullyOnline: true,
  },
});

const exampleSub = 'u_8Jq2vXbN0kTq4yR7wLm3sA';

export const ticketIssuedV1Event = defineEvent({
  detailType: 'TicketIssued',
  version: 1,
  source: 'zwfw.auth-verify',
  description: 'A single-use sign-on ticket (一次登录、全网通办) was issued to a connected platform.',
  buildSchema: buildTicketIssuedV1,
  producers: [
    {
      capability: 'auth-verify',
      purpose:
        'The sign-in (POST /v1/dev/sign-in on the dev stage) issues a ticket bound to a client and redirect.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'auth-verify',
      purpose: 'Sign-in audit and anomaly metrics per client (bursts of tickets never validated).',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    ticketId: 'n4bQgYhMfWWaL-qgxVrQFaO_TxsrC4Is0V1sFbDwCgg',
    clientId: 'app-citizen',
    sub: exampleSub,
    assuranceLevel: 'L2',
    authMethod: 'dev',
    expiresAt: '2026-11-21T02:01:03Z',
  },
});

export const tokenRevokedV1Event = defineEvent({
  detailType: 'TokenRevoked',
  version: 1,
  source: 'zwfw.auth-verify',
  description: 'An access token was revoked before its expiry (single logout).',
  buildSchema: buildTokenRevokedV1,
  producers: [
    {
      capability: 'auth-verify',
      purpose: 'POST /v1/tokens/revoke records the jti and announces it.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'licence-retrieve',
      purpose: "Stops honouring the holder's token for licence use before its expiry.",
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    jti: 'Qm9xY2VkLXRva2VuLWlkLTE',
    sub: exampleSub,
    clientId: 'app-citizen',
    revokedBy: 'app-citizen',
    expiresAt: '2026-11-21T03:00:03Z',
  },
});

export const identityVerifiedV1Event = defineEvent({
  detailType: 'IdentityVerified',
  version: 1,
  source: 'zwfw.auth-verify',
  description: 'A real-name verification (实名核验) was answered: match, mismatch or not found.',
  buildSchema: buildIdentityVerifiedV1,
  producers: [
    {
      capability: 'auth-verify',
      purpose: 'POST /v1/identity/verifications answers against the population or legal-person registry.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Counts verifications served per client for the assessment statistics.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    verificationId: '0b6f1c2e-6a1d-4c39-9d0e-5b7a8c9d1e2f',
    subject: 'person',
    result: 'match',
    maskedId: '110105********002X',
    clientId: 'region-110000',
    assuranceLevel: 'L2',
  },
});

export const assessmentPublishedV1Event = defineEvent({
  detailType: 'AssessmentPublished',
  version: 1,
  source: 'zwfw.case-aggregate',
  description: 'The assessment snapshot (考评快照) of a day or a month was written to S3 as JSON and CSV.',
  buildSchema: buildAssessmentPublishedV1,
  producers: [
    {
      capability: 'case-aggregate',
      purpose:
        'The daily rollup (01:00 Asia/Shanghai) and the backfill publish each rolled-up day and month.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'evaluation-ingest',
      purpose: 'Joins satisfaction and rectification rates to the period once evaluations are counted.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    period: '2026-11-20',
    periodType: 'day',
    snapshotKeys: { json: 'assessments/2026-11-20.json', csv: 'assessments/2026-11-20.csv' },
    scopes: 412,
    generatedAt: '2026-11-20T17:00:04.512Z',
  },
});

const exampleEvaluationId = 'Zq3n0cM2wLk8pV1xR7tY4uB6hJ9dF2sA';

export const evaluationReceivedV1Event = defineEvent({
  detailType: 'EvaluationReceived',
  version: 1,
  source: 'zwfw.evaluation-ingest',
  description:
    'An evaluation (好差评) was accepted: the vote of its case, stage and evaluator, or a later review that is not counted again.',
  buildSchema: buildEvaluationReceivedV1,
  producers: [
    {
      capability: 'evaluation-ingest',
      purpose:
        'The consumer records a vote or a review after the case checks; a vote is announced again when a burst it belongs to is flagged later.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose:
        'Satisfaction (满意率) per region, department, item and day: counts votes (isReview false) once per evaluationId, keeps the union of flags.',
      status: 'live',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    evaluationId: exampleEvaluationId,
    caseId: exampleCaseId,
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
    level: 2,
    channel: 'app',
    stage: 'completed',
    flags: [],
    isReview: false,
    evaluatedAt: '2026-11-21T10:00:00+08:00',
  },
});

export const evaluationSubmittedV1Event = defineEvent({
  detailType: 'EvaluationSubmitted',
  version: 1,
  source: 'zwfw.evaluation-ingest',
  description:
    'A citizen submitted an evaluation from the app through the public cloud; crosses to the private cloud (infra/cross-cloud.ts).',
  buildSchema: buildEvaluationSubmittedV1,
  producers: [
    {
      capability: 'evaluation-ingest',
      purpose:
        'POST /v1/evaluations on the public API (public-submit.ts) publishes it on the public bus after checking the token and the record.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'evaluation-ingest',
      purpose:
        'A private-bus rule puts the detail on the evaluation queue; the consumer judges it like any pushed evaluation.',
      status: 'live',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    evaluationId: evaluationIdOf(exampleCaseId, 'completed', exampleSub),
    caseId: exampleCaseId,
    regionCode: '330000',
    caseNumber: '11330000002593947X4000117051000202611210001',
    level: 2,
    channel: 'app',
    stage: 'completed',
    evaluator: { type: 'person', sub: exampleSub },
    dimensions: { overall: 2, efficiency: 1 },
    evaluatedAt: '2026-11-21T10:00:00+08:00',
    clientId: 'app-citizen',
    batchId: '0b6f1c2e-6a1d-4c39-9d0e-5b7a8c9d1e2f',
    receivedAt: '2026-11-21T02:00:01.000Z',
  },
});

export const badReviewOpenedV1Event = defineEvent({
  detailType: 'BadReviewOpened',
  version: 1,
  source: 'zwfw.evaluation-ingest',
  description:
    'A bad review (差评, level 1–2) was counted and its rectification ticket opened, exactly once per evaluation.',
  buildSchema: buildBadReviewOpenedV1,
  producers: [
    {
      capability: 'evaluation-ingest',
      purpose: 'The consumer stores a level 1–2 vote and its ticket in one transaction.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Bad reviews opened per region, department, item and day: the base of the rectification rate.',
      status: 'live',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    evaluationId: exampleEvaluationId,
    caseId: exampleCaseId,
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
    level: 2,
    channel: 'app',
    stage: 'completed',
    evaluatedAt: '2026-11-21T10:00:00+08:00',
    openedAt: '2026-11-21T02:00:04.120Z',
  },
});

export const rectificationTransitionedV1Event = defineEvent({
  detailType: 'RectificationTransitioned',
  version: 1,
  source: 'zwfw.evaluation-ingest',
  description: 'A bad-review rectification ticket (差评整改) changed status.',
  buildSchema: buildRectificationTransitionedV1,
  producers: [
    {
      capability: 'evaluation-ingest',
      purpose:
        'POST /v1/rectifications/{evaluationId}/transitions; events a failed publication left are re-sent by the daily sweep.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose:
        'Rectification rate (差评整改率) and revisit satisfaction; a dismissed review leaves the satisfaction statistics.',
      status: 'live',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    transitionId: `${exampleEvaluationId}#2`,
    evaluationId: exampleEvaluationId,
    caseId: exampleCaseId,
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
    level: 2,
    from: 'verified',
    to: 'rectified',
    by: 'region-330000',
    at: '2026-11-25T02:00:00.000Z',
    overdue: { verify: false, rectify: false, revisit: false },
  },
});

export const rectificationOverdueV1Event = defineEvent({
  detailType: 'RectificationOverdue',
  version: 1,
  source: 'zwfw.evaluation-ingest',
  description:
    'A rectification deadline (verify, rectify or revisit) was missed; raised once per ticket and stage.',
  buildSchema: buildRectificationOverdueV1,
  producers: [
    {
      capability: 'evaluation-ingest',
      purpose: 'The daily sweep (or the transition that closes the stage late) marks the missed deadline.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Counts overdue rectifications per region and department for the assessment.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: 'rectification-sweep:2026-11-24:0b6f1c2e-6a1d-4c39-9d0e-5b7a8c9d1e2f',
    overdueId: `${exampleEvaluationId}#verify`,
    evaluationId: exampleEvaluationId,
    caseId: exampleCaseId,
    stage: 'verify',
    dueDay: '2026-11-23',
    regionCode: '330000',
    departmentCode: '11330000002593947X',
    itemCode: '11330000002593947X4000117051000',
  },
});

const exampleLicenceId = '1.2.156.3005.2.11100000000013338W032.11330000002593947X.ZJ2026000001.001.V';
const exampleLicenceHolder = {
  type: 'person',
  idType: 'citizen_id',
  maskedId: '110105********002X',
} as const;

export const licenceIssuedV1Event = defineEvent({
  detailType: 'LicenceIssued',
  version: 1,
  source: 'zwfw.licence-retrieve',
  description: 'A licence (电子证照) was registered by its issuing authority.',
  buildSchema: buildLicenceIssuedV1,
  producers: [
    {
      capability: 'licence-retrieve',
      purpose: 'POST /v1/licences registers the licence (a repeated identical request announces again).',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Licences issued per region and type for the assessment statistics.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    licenceId: exampleLicenceId,
    typeCode: '11100000000013338W032',
    authorityCode: '11330000002593947X',
    issuerClientId: 'issuer-330000-amr',
    jurisdictionCode: '330106',
    holder: exampleLicenceHolder,
    issuedOn: '2026-11-20',
    validFrom: '2026-11-20',
    validTo: '2031-11-19',
    registeredAt: '2026-11-21T02:00:00.000Z',
  },
});

export const licenceRevokedV1Event = defineEvent({
  detailType: 'LicenceRevoked',
  version: 1,
  source: 'zwfw.licence-retrieve',
  description: 'A licence was revoked by its issuing authority.',
  buildSchema: buildLicenceRevokedV1,
  producers: [
    {
      capability: 'licence-retrieve',
      purpose: 'POST /v1/licences/{licenceId}/revocation records it (a repeated revocation announces again).',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Platforms holding a copy of the licence learn it is no longer valid.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    licenceId: exampleLicenceId,
    typeCode: '11100000000013338W032',
    authorityCode: '11330000002593947X',
    holder: exampleLicenceHolder,
    revokedBy: 'issuer-330000-amr',
    revokedAt: '2026-12-01T02:00:00.000Z',
  },
});

export const licenceAccessedV1Event = defineEvent({
  detailType: 'LicenceAccessed',
  version: 1,
  source: 'zwfw.licence-retrieve',
  description: 'One use of a licence (用证记录): a listing, a fetch or a download URL issued.',
  buildSchema: buildLicenceAccessedV1,
  producers: [
    {
      capability: 'licence-retrieve',
      purpose: 'Every list, fetch and download URL of GET /v1/licences…, after its use record is stored.',
      status: 'live',
    },
  ],
  consumers: [
    {
      capability: 'case-aggregate',
      purpose: 'Licence-sharing calls per client and region for the assessment statistics.',
      status: 'planned',
    },
  ],
  example: {
    version: 1,
    correlationId: '4f1c2b9e-0d6a-4a8e-9b6f-2f8e1c7d5a30',
    useId: 'Ul9zZTJfbGljZW5jZV91c2U',
    licenceId: exampleLicenceId,
    typeCode: '11100000000013338W032',
    operation: 'fetch',
    clientId: 'region-330000',
    authorisation: { kind: 'case', caseId: exampleCaseId },
    reason: '办理企业变更登记',
    accessedAt: '2026-11-21T02:00:05.000Z',
  },
});

/** Every event the hub emits. Later issues append here; `npm run events:schemas` regenerates events/schemas/. */
export const catalogue = [
  caseReceivedV1Event,
  caseStatusChangedV1Event,
  ticketIssuedV1Event,
  tokenRevokedV1Event,
  identityVerifiedV1Event,
  assessmentPublishedV1Event,
  evaluationReceivedV1Event,
  evaluationSubmittedV1Event,
  badReviewOpenedV1Event,
  rectificationTransitionedV1Event,
  rectificationOverdueV1Event,
  licenceIssuedV1Event,
  licenceRevokedV1Event,
  licenceAccessedV1Event,
] as const;

export type CatalogueEvent = (typeof catalogue)[number];
export type DetailType = CatalogueEvent['detailType'];
/** The detail a producer passes for a detail type (any of its catalogued versions). */
export type DetailOf<T extends DetailType> = z.input<Extract<CatalogueEvent, { detailType: T }>['schema']>;

export const schemaKeyOf = (event: Pick<EventDefinition, 'detailType' | 'version'>) =>
  `${event.detailType}.v${event.version}`;

export function findEvent(detailType: string, version: unknown): EventDefinition | undefined {
  return catalogue.find((event) => event.detailType === detailType && event.version === version);
}

/** A whole envelope around an event's example detail, as EventBridge would deliver it in the local account. */
export function exampleEnvelopeOf<TEvent extends EventDefinition>(
  event: TEvent,
): EventEnvelope<TEvent['example']> {
  return {
    version: '0',
    id: '6a7e8feb-b491-4cf7-a9f1-bf3703467718',
    'detail-type': event.detailType,
    source: event.source,
    account: '000000000000',
    time: '2026-11-21T02:00:05Z',
    region: 'us-east-1',
    resources: [],
    detail: event.example,
  };
}
