import { Stack } from 'aws-cdk-lib';
import { Construct } from 'constructs';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import type { FunctionPlatform } from './platform';

/** Where a hub API publishes its token keys. */
export const JWKS_PATH = '/.well-known/jwks.json';

export interface PublicEvaluationSubmissionProps {
  /** The public cloud: its bus, its HTTP-stack tables and client registry. */
  platform: FunctionPlatform;
  api: HubRestApi;
}

/**
 * `POST /v1/evaluations` (the citizen app) in the public cloud: checks the app's signature and the person's bearer
 * token, validates the record, and publishes `EvaluationSubmitted` on the public bus — nothing is stored here. The
 * forwarding rule carries the event to the private cloud, where evaluation ingest's rule puts it on its queue.
 */
export class PublicEvaluationSubmission extends Construct {
  readonly submitFunction: HubFunction;

  constructor(scope: Construct, id: string, props: PublicEvaluationSubmissionProps) {
    super(scope, id);
    const { platform, api } = props;
    const { config } = platform;
    this.submitFunction = new HubFunction(this, 'SubmitFunction', {
      platform,
      entry: 'functions/evaluation-ingest/public-submit.ts',
      serviceName: 'evaluation-ingest',
      description: "One citizen's evaluation from the hub app, bearer token verified: POST /v1/evaluations",
      memorySize: 512,
    });
    this.submitFunction
      .bindTable(platform.noncesTable, 'NONCES_TABLE', 'readWrite')
      .bindTable(platform.idempotencyTable, 'IDEMPOTENCY_TABLE', 'readWrite')
      .bindSecretRead(platform.clientsSecret, 'HUB_CLIENTS_SECRET_ID')
      .bindEventBus(platform.eventBus, 'EVENT_BUS_NAME');
    // The public API's own JWKS route (see README "Tokens in the public cloud"). Built from the API id, not
    // api.url: the URL names the deployment stage, which depends on this function's route — a cycle.
    // The local hub points it at its gateway.
    const stack = Stack.of(this);
    this.submitFunction.addEnvironment(
      'TOKEN_JWKS_URL',
      `https://${api.api.restApiId}.execute-api.${stack.region}.${stack.urlSuffix}/${config.stage}${JWKS_PATH}`,
    );
    this.submitFunction.addEnvironment('TOKEN_ISSUER', config.tokenIssuer);
    api.addRoute('POST', '/v1/evaluations', this.submitFunction);
  }
}
