import type { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import * as z from 'zod';
import { evaluationSubmittedV1Event } from '../../events/catalogue';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { loadConfig, requiredString } from '../../shared/config';
import { once, routedHandler } from '../../shared/entry';
import { createEventPublisher, type EventPublisher } from '../../shared/events';
import { logger } from '../../shared/observability';
import { kmsPublicKeySpki } from '../../shared/published-token-key';
import { bearerVerifierFromEnvironment } from '../../shared/user-token';
import type { IndexedEvaluation } from './domain/ingest';
import { createSubmission, EVALUATION_ROUTES, type EvaluationQueue } from './evaluation-routes';

/**
 * `POST /v1/evaluations` in the public cloud (DESIGN §4): the route and checks of evaluation-routes.ts
 * `createSubmission`, but the accepted evaluation leaves as an `EvaluationSubmitted` event on the public bus instead of a message on a
 * queue the public cloud does not have. The bus's one forwarding rule (infra/cross-cloud.ts) carries it to the
 * private bus, whose rule puts the detail — the very queue message — on evaluation ingest's queue.
 */
export function createBusQueue(publisher: EventPublisher): EvaluationQueue {
  return {
    enqueue: async (messages: readonly IndexedEvaluation[]) => {
      const failed: number[] = [];
      for (const { index, message } of messages) {
        const { evaluator } = message;
        try {
          // The citizen route knows the subject only; anything more would be personal data leaving the request.
          await publisher.publish([
            {
              detailType: 'EvaluationSubmitted',
              detail: { ...message, evaluator: { type: 'person', sub: evaluator.sub } },
            },
          ]);
        } catch (error) {
          logger.error('evaluation not published', {
            evaluationId: message.evaluationId,
            error: (error as Error).name,
          });
          failed.push(index);
        }
      }
      return failed;
    },
  };
}

const submitEnv = z.object({ EVENT_BUS_NAME: requiredString });

const eventBridgeClient = once(async (): Promise<EventBridgeClient> => eventBridgeClients().eventBridge);

export const handler = routedHandler({
  name: 'public evaluation submission API',
  contracts: { submit: EVALUATION_ROUTES.submit },
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const config = loadConfig(submitEnv);
    const publisher = createEventPublisher({
      client: await eventBridgeClient(),
      busName: config.EVENT_BUS_NAME,
      source: evaluationSubmittedV1Event.source,
    });
    const queue = createBusQueue(publisher);
    // The public cloud reads the token key from KMS (TOKEN_SIGNING_KEY_ARN); the local hub gives a JWKS URL.
    const verifier = bearerVerifierFromEnvironment(kmsPublicKeySpki);
    const submit = createSubmission({
      queue: () => queue,
      verifyBearer: () => verifier,
      clock: () => new Date(),
    });
    return { submit };
  },
});
