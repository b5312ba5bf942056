import { MetricUnit } from '@aws-lambda-powertools/metrics';
import { KMSClient } from '@aws-sdk/client-kms';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { type AuthenticatedClient, loadClientRegistry, loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, positiveInt, requiredString, stageName, tableName } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { createEventPublisher, type PublishEntry } from '../../shared/events';
import { type HttpDependencyOverrides, type HttpLambdaHandler, httpHandler } from '../../shared/http';
import { citizenIdSchema } from '../../shared/identifiers';
import { maskName } from '../../shared/masking';
import { logger } from '../../shared/observability';
import { forbidden, notFound, Problem, unprocessable } from '../../shared/problem';
import { assuranceLevelSchema, secondFactorSchema } from './domain/assurance';
import { introspectToken } from './domain/introspection';
import { personNameSchema } from './domain/registry-record';
import {
  DEFAULT_REVOCATION_REFRESH_MS,
  RevocationCache,
  RevocationsUnavailableError,
} from './domain/revocations';
import { subjectOf } from './domain/subject';
import {
  authMethodSchema,
  DEFAULT_TICKET_TTL_SECONDS,
  grantTicket,
  identityOf,
  isRegisteredRedirect,
  judgeRedemption,
  newTicket,
  redirectWithTicket,
  type SignedInPerson,
  ticketIdOf,
  ticketSchema,
} from './domain/tickets';
import {
  accessTokenClaims,
  createTokenVerifier,
  DEFAULT_ACCESS_TOKEN_TTL_SECONDS,
  type TokenSigner,
  type TokenVerifier,
} from './domain/tokens';
import { pseudonymiseClaim, verify } from './domain/verification';
import { createRegistryStore, type RegistryStore } from './registry-store';
import { createKmsTokenSigner, createLocalTokenSigner, kmsSigningPort } from './signing-key';
import { createTokenStore, type TokenStore } from './token-store';

/**
 * Single sign-on and tokens (one function, five routes):
 *   POST /v1/tickets/validate   sso:validate       ticket → identity + access token (ticket spent atomically)
 *   POST /v1/tokens/introspect  tokens:introspect  RFC 7662; `{ active: false }` for any bad token
 *   POST /v1/tokens/revoke      tokens:revoke      RFC 7009; only the token's audience may revoke it
 *   GET  /.well-known/jwks.json public             the token verification keys
 *   POST /v1/dev/sign-in        sso:dev-sign-in    dev stage only: signs a registry person in, issues a ticket
 * Signature, scope, JSON and schemas are the HTTP stack's; the rules are in domain/.
 */
export const EVENT_SOURCE = 'zwfw.auth-verify';

export interface TokensApiSettings {
  issuer: string;
  accessTokenTtlSeconds: number;
  ticketTtlSeconds: number;
  /** The dev sign-in route answers only on the dev stage (the CDK stage also leaves the route out elsewhere). */
  devSignIn: boolean;
}

/** A registered client as far as sign-in needs it: where its tickets may be sent. */
export type ClientLookup = (
  clientId: string,
) => Promise<Pick<AuthenticatedClient, 'redirectUris'> | undefined>;

export interface TokensApiDependencies {
  tokens: () => TokenStore;
  registry: () => Pick<RegistryStore, 'findRecord'>;
  signer: () => TokenSigner;
  verifier: () => TokenVerifier;
  /** This instance's revocation set: see domain/revocations.ts. */
  revocations: () => RevocationCache;
  findClient: ClientLookup;
  idHmacKey: () => Promise<Uint8Array>;
  /** Resolves once the events are on the bus; a rejection fails the request. */
  publish: (entries: PublishEntry[]) => Promise<void>;
  clock: () => Date;
  settings: TokensApiSettings;
  http?: HttpDependencyOverrides;
}

const redirectUriSchema = z.string().min(1).max(2048);

export const validateTicketBodySchema = z.object({ ticket: ticketSchema, redirectUri: redirectUriSchema });

/** RFC 7662 / 7009 bodies. The token is any string: a malformed token is an answer (`active: false`), not an error. */
export const tokenBodySchema = z.object({
  token: z.string(),
  token_type_hint: z.string().max(64).optional(),
});

export const devSignInBodySchema = z.strictObject({
  clientId: z.string().min(1).max(128),
  redirectUri: redirectUriSchema,
  idNumber: citizenIdSchema,
  name: personNameSchema,
  secondFactor: secondFactorSchema
    .optional()
    .describe('A second factor the sign-in checked (face or e-ID): the person signs in at L3.'),
});

const identitySchema = z.object({
  sub: z.string().describe("The person's pairwise subject: the same at every call, never an ID number."),
  maskedId: z.string(),
  maskedName: z.string(),
  assuranceLevel: assuranceLevelSchema,
  authMethod: authMethodSchema,
});

export const ticketValidationReplySchema = z.object({
  identity: identitySchema,
  accessToken: z.string().describe('An ES256 JWT (typ at+jwt) whose audience is the calling client.'),
  tokenType: z.literal('Bearer'),
  expiresIn: z.number().int().describe('Seconds.'),
});

/** RFC 7662: any token that is not valid now is `{ active: false }` and nothing else. */
export const introspectionReplySchema = z.union([
  z.object({
    active: z.literal(true),
    iss: z.string(),
    sub: z.string(),
    aud: z.string(),
    exp: z.number().int(),
    iat: z.number().int(),
    nbf: z.number().int(),
    jti: z.string(),
    client_id: z.string(),
    token_type: z.literal('Bearer'),
    assurance_level: assuranceLevelSchema,
    auth_method: authMethodSchema,
  }),
  z.object({ active: z.literal(false) }),
]);

export const jwksSchema = z.object({
  // Typed loosely, as jose's JWK is: every key the hub publishes is an EC P-256 key with kid and alg ES256.
  keys: z.array(
    z.looseObject({ kty: z.string().optional(), kid: z.string().optional(), alg: z.string().optional() }),
  ),
});

const TOKEN_EXAMPLE = 'eyJhbGciOiJFUzI1NiIsInR5cCI6ImF0K2p3dCIsImtpZCI6Ii4uLiJ9.e30.c2lnbmF0dXJl';

/** The tokens API's routes; `handler` below serves exactly these. */
export const TOKEN_ROUTES = {
  validateTicket: defineRoute({
    operation: 'sso.validateTicket',
    method: 'POST',
    path: '/v1/tickets/validate',
    tag: 'auth verification',
    summary: 'Redeem a one-time sign-in ticket (一次登录、全网通办) for the identity and an access token.',
    scope: 'sso:validate',
    authentication: 'signature',
    body: validateTicketBodySchema,
    requestExample: {
      ticket: 'cC3hvLJfB2Ib6U_XtZSSUxIuFGUXNzJs3JX4QpKasvQ',
      redirectUri: 'https://zwfw.example.gov.cn/sso/callback',
    },
    responses: {
      200: {
        description: 'The ticket was spent; the identity (masked) and an access token.',
        schema: ticketValidationReplySchema,
        headers: { 'Cache-Control': 'no-store' },
      },
    },
    problems: [
      {
        status: 410,
        slug: 'ticket-invalid',
        when: 'Unknown, expired, already used, or issued for another client or redirect (one answer for all).',
      },
    ],
  }),
  introspect: defineRoute({
    operation: 'tokens.introspect',
    method: 'POST',
    path: '/v1/tokens/introspect',
    tag: 'auth verification',
    summary: 'RFC 7662 token introspection.',
    scope: 'tokens:introspect',
    authentication: 'signature',
    body: tokenBodySchema,
    requestExample: { token: TOKEN_EXAMPLE },
    responses: {
      200: {
        description: 'Whether the token is active, with its claims when it is.',
        schema: introspectionReplySchema,
        example: { active: false },
      },
    },
    problems: [
      { status: 503, slug: 'revocations-unavailable', when: 'The revocation set cannot be read right now.' },
    ],
  }),
  revoke: defineRoute({
    operation: 'tokens.revoke',
    method: 'POST',
    path: '/v1/tokens/revoke',
    tag: 'auth verification',
    summary: 'RFC 7009 revocation (single logout); announced as TokenRevoked.',
    scope: 'tokens:revoke',
    authentication: 'signature',
    body: tokenBodySchema,
    requestExample: { token: TOKEN_EXAMPLE },
    responses: { 200: { description: 'Revoked, or nothing to revoke (an invalid token).' } },
    problems: [{ status: 403, slug: 'token-not-yours', when: 'The token was issued to another client.' }],
  }),
  jwks: defineRoute({
    operation: 'tokens.jwks',
    method: 'GET',
    path: '/.well-known/jwks.json',
    tag: 'auth verification',
    summary: 'The public keys that verify hub access tokens.',
    authentication: 'public',
    responses: {
      200: {
        description: 'The JSON Web Key Set.',
        schema: jwksSchema,
        headers: { 'Cache-Control': 'public, max-age=300' },
      },
    },
  }),
  devSignIn: defineRoute({
    operation: 'sso.devSignIn',
    method: 'POST',
    path: '/v1/dev/sign-in',
    tag: 'auth verification',
    summary: 'Development stage only: sign a registry person in and issue a one-time ticket.',
    scope: 'sso:dev-sign-in',
    authentication: 'signature',
    body: devSignInBodySchema,
    requestExample: {
      clientId: 'dev-region-330000',
      redirectUri: 'https://zwfw.example.gov.cn/sso/callback',
      idNumber: '11010519491231002X',
      name: '张三',
    },
    responses: {
      200: {
        description: 'The ticket and the redirect that carries it.',
        schema: z.object({ ticket: z.string(), redirect: z.string() }),
      },
    },
    problems: [
      { status: 404, slug: 'route-not-found', when: 'The stage is not dev.' },
      {
        status: 422,
        slug: 'redirect-not-registered',
        when: 'The redirect is not registered for the client.',
      },
      { status: 422, slug: 'sign-in-refused', when: 'No registered person has this name and ID number.' },
    ],
  }),
};

/** One answer for every refused ticket: which check failed would help whoever is guessing or replaying. */
const ticketInvalid = () =>
  new Problem({
    status: 410,
    slug: 'ticket-invalid',
    title: 'Gone',
    detail: 'The ticket is unknown, expired, already used, or was not issued for this client and redirect.',
  });

const revocationsUnavailable = () =>
  new Problem({
    status: 503,
    slug: 'revocations-unavailable',
    title: 'Service unavailable',
    detail: 'Whether the token is revoked cannot be established right now. Try again shortly.',
    headers: { 'retry-after': '1' },
  });

export interface TokensApi {
  validateTicket: HttpLambdaHandler;
  introspect: HttpLambdaHandler;
  revoke: HttpLambdaHandler;
  jwks: HttpLambdaHandler;
  devSignIn: HttpLambdaHandler;
}

export function createTokensApi(deps: TokensApiDependencies): TokensApi {
  const { settings } = deps;

  const devSignIn = httpHandler(
    {
      contract: TOKEN_ROUTES.devSignIn,
      handle: async ({ body, correlationId, metrics }) => {
        if (!settings.devSignIn) throw notFound('route-not-found', 'No such route.');
        const target = await deps.findClient(body.clientId);
        if (!target || !isRegisteredRedirect(target, body.redirectUri)) {
          throw unprocessable('redirect-not-registered', 'The redirect is not registered for this client.');
        }
        const key = await deps.idHmacKey();
        const claim = pseudonymiseClaim({ subject: 'person', ...body }, key);
        const outcome = verify(await deps.registry().findRecord(claim.lookup), claim);
        if (outcome.result !== 'match' || claim.lookup.subject !== 'person') {
          throw unprocessable('sign-in-refused', 'No registered person has this name and ID number.');
        }
        const person: SignedInPerson = {
          idHmac: claim.lookup.idHmac,
          sub: subjectOf(claim.lookup.idHmac, key),
          maskedId: claim.maskedId,
          maskedName: maskName(body.name),
          assuranceLevel: outcome.assuranceLevel,
          authMethod: 'dev',
        };
        const ticket = newTicket();
        const grant = grantTicket({
          ticket,
          person,
          clientId: body.clientId,
          redirectUri: body.redirectUri,
          now: deps.clock(),
          ttlSeconds: settings.ticketTtlSeconds,
        });
        await deps.tokens().putTicket(grant);
        await deps.publish([
          {
            detailType: 'TicketIssued',
            detail: {
              version: 1,
              correlationId,
              ticketId: grant.ticketId,
              clientId: grant.clientId,
              sub: grant.sub,
              assuranceLevel: grant.assuranceLevel,
              authMethod: grant.authMethod,
              expiresAt: new Date(grant.expiresAt * 1000).toISOString(),
            },
          },
        ]);
        metrics.addMetric('TicketsIssued', MetricUnit.Count, 1);
        logger.info('ticket issued', {
          ticketId: grant.ticketId,
          sub: grant.sub,
          targetClientId: grant.clientId,
        });
        return { status: 200, body: { ticket, redirect: redirectWithTicket(body.redirectUri, ticket) } };
      },
    },
    deps.http,
  );

  const validateTicket = httpHandler(
    {
      contract: TOKEN_ROUTES.validateTicket,
      handle: async ({ body, client, metrics }) => {
        const now = deps.clock();
        const ticketId = ticketIdOf(body.ticket);
        const consumed = await deps.tokens().consumeTicket(ticketId, now);
        const redemption = judgeRedemption(consumed, {
          clientId: client.clientId,
          redirectUri: body.redirectUri,
        });
        if (!redemption.ok) {
          metrics.addMetric('TicketsRefused', MetricUnit.Count, 1);
          // The reason is for operators only; the caller gets the one uniform answer.
          logger.warn('ticket refused', { ticketId, reason: redemption.reason });
          throw ticketInvalid();
        }
        const claims = accessTokenClaims({
          issuer: settings.issuer,
          audience: client.clientId,
          person: redemption.grant,
          now,
          ttlSeconds: settings.accessTokenTtlSeconds,
        });
        const accessToken = await deps.signer().sign(claims);
        metrics.addMetric('TicketsValidated', MetricUnit.Count, 1);
        logger.info('ticket validated', { ticketId, jti: claims.jti, sub: claims.sub });
        return {
          status: 200,
          // The reply carries a bearer token: no cache may keep it (RFC 6749 §5.1).
          headers: { 'cache-control': 'no-store' },
          body: {
            identity: identityOf(redemption.grant),
            accessToken,
            tokenType: 'Bearer' as const,
            expiresIn: settings.accessTokenTtlSeconds,
          },
        };
      },
    },
    deps.http,
  );

  const introspect = httpHandler(
    {
      contract: TOKEN_ROUTES.introspect,
      handle: async ({ body, metrics }) => {
        let answer: Awaited<ReturnType<typeof introspectToken>>;
        try {
          answer = await introspectToken(body.token, {
            verifier: deps.verifier(),
            revocations: deps.revocations(),
          });
        } catch (error) {
          if (error instanceof RevocationsUnavailableError) {
            logger.error('revocations unavailable', error);
            throw revocationsUnavailable();
          }
          throw error;
        }
        metrics.addMetric(answer.active ? 'TokensActive' : 'TokensInactive', MetricUnit.Count, 1);
        return { status: 200, headers: { 'cache-control': 'no-store' }, body: answer };
      },
    },
    deps.http,
  );

  const revoke = httpHandler(
    {
      contract: TOKEN_ROUTES.revoke,
      handle: async ({ body, client, correlationId, metrics }) => {
        const claims = await deps.verifier().verify(body.token);
        // RFC 7009 §2.2: an invalid, expired or unknown token needs no revocation, and is no error.
        if (!claims) return { status: 200 };
        if (claims.aud !== client.clientId) {
          throw forbidden('token-not-yours', 'Only the client a token was issued to may revoke it.');
        }
        const recorded = await deps.tokens().recordRevocation({
          jti: claims.jti,
          sub: claims.sub,
          clientId: claims.aud,
          revokedBy: client.clientId,
          revokedAt: deps.clock(),
          expiresAt: claims.exp,
        });
        deps.revocations().add({ jti: claims.jti, expiresAt: claims.exp });
        // Announced on every revocation request, also a repeated one: if an earlier announcement failed after
        // the record was written, the retry is what reaches subscribers (they dedupe on jti).
        await deps.publish([
          {
            detailType: 'TokenRevoked',
            detail: {
              version: 1,
              correlationId,
              jti: claims.jti,
              sub: claims.sub,
              clientId: claims.aud,
              revokedBy: client.clientId,
              expiresAt: new Date(claims.exp * 1000).toISOString(),
            },
          },
        ]);
        metrics.addMetric('TokensRevoked', MetricUnit.Count, 1);
        logger.info('token revoked', { jti: claims.jti, sub: claims.sub, recorded });
        return { status: 200 };
      },
    },
    deps.http,
  );

  const jwks = httpHandler(
    {
      contract: TOKEN_ROUTES.jwks,
      handle: async () => ({
        status: 200,
        headers: { 'cache-control': 'public, max-age=300' },
        body: await deps.signer().publicJwks(),
      }),
    },
    deps.http,
  );

  return { validateTicket, introspect, revoke, jwks, devSignIn };
}

const tokensEnv = z
  .object({
    HUB_STAGE: stageName,
    TOKENS_TABLE: tableName,
    REGISTRY_TABLE: tableName,
    EVENT_BUS_NAME: requiredString,
    TOKEN_ISSUER: z.url(),
    ACCESS_TOKEN_TTL_SECONDS: positiveInt(DEFAULT_ACCESS_TOKEN_TTL_SECONDS),
    TICKET_TTL_SECONDS: positiveInt(DEFAULT_TICKET_TTL_SECONDS),
    REVOCATION_REFRESH_MS: positiveInt(DEFAULT_REVOCATION_REFRESH_MS),
    TOKEN_SIGNING_KEY_ARN: requiredString.optional(),
    /** Local runtime only: the private JWK file; preferred when present. */
    HUB_SIGNING_KEY_FILE: requiredString.optional(),
  })
  .refine((env) => env.HUB_SIGNING_KEY_FILE ?? env.TOKEN_SIGNING_KEY_ARN, {
    path: ['TOKEN_SIGNING_KEY_ARN'],
    message: 'TOKEN_SIGNING_KEY_ARN or HUB_SIGNING_KEY_FILE is required',
  });

async function signerFromConfig(config: z.output<typeof tokensEnv>): Promise<TokenSigner> {
  if (config.HUB_SIGNING_KEY_FILE) return createLocalTokenSigner(config.HUB_SIGNING_KEY_FILE);
  const { tracer } = await import('../../shared/observability');
  const kms = tracer.captureAWSv3Client(new KMSClient({}));
  return createKmsTokenSigner(kmsSigningPort(kms, config.TOKEN_SIGNING_KEY_ARN ?? ''));
}

// Built on first use, so that importing the module (tests, synth) needs no environment. Module scope keeps one
// verifier and one revocation set per instance, warm across invocations.
const buildDefaultApi = async () => {
  const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
  const config = loadConfig(tokensEnv);
  const clock = () => new Date();
  const tokens = createTokenStore({ doc: aws.documentClient, tableName: config.TOKENS_TABLE });
  const registry = createRegistryStore({ doc: aws.documentClient, table: config.REGISTRY_TABLE });
  const signer = await signerFromConfig(config);
  const verifier = createTokenVerifier({
    issuer: config.TOKEN_ISSUER,
    jwks: () => signer.publicJwks(),
    clock,
  });
  const revocations = new RevocationCache({
    feed: tokens,
    clock,
    refreshIntervalMs: config.REVOCATION_REFRESH_MS,
    lookbackMs: config.ACCESS_TOKEN_TTL_SECONDS * 1000,
  });
  const publisher = createEventPublisher({
    client: aws.eventBridge,
    busName: config.EVENT_BUS_NAME,
    source: EVENT_SOURCE,
  });
  return createTokensApi({
    tokens: () => tokens,
    registry: () => registry,
    signer: () => signer,
    verifier: () => verifier,
    revocations: () => revocations,
    findClient: async (clientId) => (await loadClientRegistry()).findByClientId(clientId),
    idHmacKey: once(() => loadIdHmacKey()),
    publish: async (entries) => {
      await publisher.publish(entries);
    },
    clock,
    settings: {
      issuer: config.TOKEN_ISSUER,
      accessTokenTtlSeconds: config.ACCESS_TOKEN_TTL_SECONDS,
      ticketTtlSeconds: config.TICKET_TTL_SECONDS,
      devSignIn: config.HUB_STAGE === 'dev',
    },
  });
};

export const handler = routedHandler({
  name: 'tokens API',
  contracts: TOKEN_ROUTES,
  build: buildDefaultApi,
});
