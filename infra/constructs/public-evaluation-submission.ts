import { Construct } from 'constructs';
import { HubFunction } from './hub-function';
import type { HubRestApi } from './hub-rest-api';
import type { FunctionPlatform } from './platform';
import { bindPublishedSigningKey } from './user-tokens';

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
    // The person's token is verified against the signing key's public half, read from KMS: nothing crosses from
    // the private cloud and nothing is stored here. The local hub points TOKEN_JWKS_URL at its gateway instead.
    bindPublishedSigningKey(this.submitFunction, { config, tokenIssuer: config.tokenIssuer });
    api.addRoute('POST', '/v1/evaluations', this.submitFunction);
  }
}
