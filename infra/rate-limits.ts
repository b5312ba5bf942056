import type { ClientKind } from '../shared/client-registry';

/**
 * Requests per second each connected platform may make, by client kind: the ONE place these numbers live.
 * CDK turns each entry into an API Gateway usage plan (steady rate and burst, per API key, i.e. per client);
 * the local gateway reads the same plans back out of the synthesised template and enforces them with a token
 * bucket per client. Regions and ministries push cases and evaluations in bulk; issuers register licences now
 * and then; citizen apps sit behind their own throttling and call mostly SSO and introspection.
 */
export interface ClientRateLimit {
  /** Steady state, requests per second (the usage plan's `rateLimit`). */
  rateLimit: number;
  /** Requests that may arrive at once after a quiet period (the bucket size, `burstLimit`). */
  burstLimit: number;
}

export const RATE_LIMITS: Readonly<Record<ClientKind, ClientRateLimit>> = {
  region: { rateLimit: 200, burstLimit: 400 },
  ministry: { rateLimit: 200, burstLimit: 400 },
  issuer: { rateLimit: 50, burstLimit: 100 },
  app: { rateLimit: 100, burstLimit: 200 },
};

/** The tag that names the client kind of a usage plan; the local gateway finds a client's plan by it. */
export const CLIENT_KIND_TAG = 'zwfw:client-kind';
