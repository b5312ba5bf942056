import { randomUUID } from 'node:crypto';
import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { createEventPublisher } from '../../shared/events';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { logger } from '../../shared/observability';
import { assuranceLevelSchema } from './domain/assurance';
import {
  type IdentityVerifiedDetail,
  identityVerifiedDetail,
  pseudonymiseClaim,
  replyOf,
  VERIFICATION_RESULTS,
  verificationRequestSchema,
  verify,
} from './domain/verification';
import { createRegistryStore, type RegistryStore } from './registry-store';

/**
 * Real-name verification, `POST /v1/identity/verifications` (scope identity:verify). Signature, scope, JSON
 * and the request schema are the HTTP stack's — so a wrong check character or an impossible birth date is a
 * 422 before anything is looked up; then one GetItem on the registry by the number's HMAC, the verdict from
 * domain/, an `IdentityVerified` event with the masked id, and a reply of three words at most.
 */
export const EVENT_SOURCE = 'zwfw.auth-verify';

export const verificationReplySchema = z.object({
  verificationId: z.uuid(),
  result: z.enum(VERIFICATION_RESULTS),
  assuranceLevel: assuranceLevelSchema.optional().describe('Present only on a match.'),
});

/** The identity API's route; `handler` below serves exactly this. */
export const IDENTITY_ROUTES = {
  verify: defineRoute({
    operation: 'identity.verify',
    method: 'POST',
    path: '/v1/identity/verifications',
    tag: 'auth verification',
    summary: 'Real-name verification (实名核验) of a person or an enterprise: match, mismatch or not_found.',
    description:
      'A number whose check character or birth date is wrong is a 422 before any lookup. The answer never ' +
      'carries stored data. Not idempotent on purpose: a stored body digest would keep personal data 24 h.',
    scope: 'identity:verify',
    authentication: 'signature',
    body: verificationRequestSchema,
    requestExample: { subject: 'person', name: '张三', idNumber: '11010519491231002X' },
    responses: {
      200: {
        description: 'The verdict.',
        schema: verificationReplySchema,
        example: {
          verificationId: '6f1c2b9e-7a44-4c1e-9f0e-2d1b5b8e4a10',
          result: 'match',
          assuranceLevel: 'L2',
        },
      },
    },
  }),
};

export interface IdentityApiDependencies {
  store: () => RegistryStore;
  idHmacKey: () => Promise<Uint8Array>;
  /** Resolves once the event is on the bus; a rejection fails the request (no unrecorded verification). */
  publish: (detail: IdentityVerifiedDetail) => Promise<void>;
  newVerificationId?: () => string;
  http?: HttpDependencyOverrides;
}

export function createIdentityApi(deps: IdentityApiDependencies) {
  const newVerificationId = deps.newVerificationId ?? randomUUID;
  return httpHandler(
    {
      // Not idempotent on purpose (the contract says so): the idempotency layer would keep an unkeyed digest of
      // the body (a name and an ID number) for 24 h, and repeating a verification adds only its audit event.
      contract: IDENTITY_ROUTES.verify,
      handle: async ({ body, client, correlationId, metrics }) => {
        const claim = pseudonymiseClaim(body, await deps.idHmacKey());
        const record = await deps.store().findRecord(claim.lookup);
        const outcome = verify(record, claim);
        const verificationId = newVerificationId();
        await deps.publish(
          identityVerifiedDetail({
            verificationId,
            correlationId,
            clientId: client.clientId,
            claim,
            outcome,
          }),
        );
        metrics.addMetric(`IdentityVerification_${outcome.result}`, MetricUnit.Count, 1);
        logger.info('identity verified', {
          verificationId,
          subject: claim.lookup.subject,
          result: outcome.result,
          assuranceLevel: outcome.assuranceLevel,
        });
        return { status: 200, body: replyOf(verificationId, outcome) };
      },
    },
    deps.http,
  );
}

const identityEnv = z.object({ REGISTRY_TABLE: tableName, EVENT_BUS_NAME: requiredString });

// Built on first use, so that importing the module (tests, synth) needs no environment.
const buildDefaultApi = async () => {
  const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
  const config = loadConfig(identityEnv);
  const store = createRegistryStore({ doc: aws.documentClient, table: config.REGISTRY_TABLE });
  const publisher = createEventPublisher({
    client: aws.eventBridge,
    busName: config.EVENT_BUS_NAME,
    source: EVENT_SOURCE,
  });
  return createIdentityApi({
    store: () => store,
    idHmacKey: once(() => loadIdHmacKey()),
    publish: async (detail) => {
      await publisher.publish([{ detailType: 'IdentityVerified', detail }]);
    },
  });
};

export const handler = routedHandler({
  name: 'identity API',
  contracts: IDENTITY_ROUTES,
  build: async () => ({ verify: await buildDefaultApi() }),
});
