import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { importJWK, type JSONWebKeySet, jwtVerify } from 'jose';
import {
  type IntrospectionDependencies,
  introspectToken,
} from '../../functions/auth-verify/domain/introspection';
import { RevocationCache } from '../../functions/auth-verify/domain/revocations';
import { subjectOf } from '../../functions/auth-verify/domain/subject';
import {
  accessTokenClaims,
  createTokenVerifier,
  newJti,
  SIGNING_ALGORITHM,
} from '../../functions/auth-verify/domain/tokens';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { createLocalTokenSigner, ensureLocalSigningKey } from '../../functions/auth-verify/signing-key';
import type { RunningHub } from '../../infra/local/hub';
import { clientsWithScope, devClients } from '../e2e/support/dev-clients';
import { seedHubRegistry } from '../e2e/support/registry';
import { signInThroughHub } from '../e2e/support/sign-in';
import { postJson } from '../e2e/support/signed-fetch';
import { type Measurement, measurePair, timedOperations } from './support/measure';
import { type Benchmark, type Figure, figure, type UnmeasuredFigure } from './support/types';

/**
 * Token introspection, the hub's hottest path: every connected platform asks it on every request it serves.
 * In process, `introspectToken` (signature, claims, revocation set) against bare `jose.jwtVerify` on the same
 * ES256 key — the ratio is what the hub's checks cost on top of the cryptography. Through the hub, signed
 * POST /v1/tokens/introspect over loopback against the in-process rate — what HTTP, the signature stack and
 * the function worker cost.
 */

const ROUNDS = 5;
const IN_PROCESS_OPS = 5_000;
const DISTINCT_TOKENS = 250;
/** Revocations another instance recorded: the set introspection consults on every active token. */
const REVOKED_ELSEWHERE = 200;
const HTTP_OPS = 500;
const HTTP_CONCURRENCY = 8;
const ISSUER = 'https://hub.zwfw.local/bench';
const IN_PROCESS_GOAL = 0.7;

interface Keys {
  jwks: JSONWebKeySet;
  tokens: string[];
  cleanup: () => void;
}

/** A fresh ES256 key, made and used by the capability's own signer, and distinct tokens signed with it. */
async function signedTokens(): Promise<Keys> {
  const dir = mkdtempSync(join(tmpdir(), 'zwfw-bench-key-'));
  const keyFile = join(dir, 'signing-key.json');
  await ensureLocalSigningKey(keyFile);
  const signer = createLocalTokenSigner(keyFile);
  const now = new Date();
  const tokens = await Promise.all(
    Array.from({ length: DISTINCT_TOKENS }, (_, i) =>
      signer.sign(
        accessTokenClaims({
          issuer: ISSUER,
          audience: 'app-citizen',
          person: {
            sub: subjectOf(`bench-id-hmac-${i}`, 'bench-subject-key-of-at-least-32-chars'),
            assuranceLevel: 'L2',
            authMethod: 'dev',
          },
          now,
          ttlSeconds: 3600,
        }),
      ),
    ),
  );
  return {
    jwks: await signer.publicJwks(),
    tokens,
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

function introspectionDependencies(jwks: JSONWebKeySet): IntrospectionDependencies {
  const expiresAt = Math.floor(Date.now() / 1000) + 3600;
  const revoked = Array.from({ length: REVOKED_ELSEWHERE }, () => ({ jti: newJti(), expiresAt }));
  return {
    verifier: createTokenVerifier({ issuer: ISSUER, jwks: async () => jwks }),
    // The feed stands where the tokens table's revocation index would: refreshed every 500 ms as deployed.
    revocations: new RevocationCache({
      feed: { revokedBetween: async () => revoked },
      lookbackMs: 3_600_000,
    }),
  };
}

function inProcessIntrospection(keys: Keys, deps: IntrospectionDependencies): Measurement {
  return {
    label: 'introspectToken in process',
    unit: 'tokens',
    method: `${IN_PROCESS_OPS} introspections per round, one at a time, over ${DISTINCT_TOKENS} distinct tokens, ${REVOKED_ELSEWHERE} revocations in the set`,
    round: () =>
      timedOperations(IN_PROCESS_OPS, 1, async (i) => {
        const answer = await introspectToken(keys.tokens[i % keys.tokens.length] as string, deps);
        if (!answer.active) throw new Error('a valid token was introspected as inactive');
      }),
  };
}

async function rawJwtVerify(keys: Keys): Promise<Measurement> {
  const key = await importJWK(keys.jwks.keys[0] as Parameters<typeof importJWK>[0], SIGNING_ALGORITHM);
  return {
    label: 'jose.jwtVerify in process',
    unit: 'tokens',
    method: `${IN_PROCESS_OPS} verifications per round, one at a time, same tokens and key, algorithm pinned`,
    round: () =>
      timedOperations(IN_PROCESS_OPS, 1, async (i) => {
        await jwtVerify(keys.tokens[i % keys.tokens.length] as string, key, {
          algorithms: [SIGNING_ALGORITHM],
        });
      }),
  };
}

const REQUIRED_ROUTES = ['POST /v1/dev/sign-in', 'POST /v1/tickets/validate', 'POST /v1/tokens/introspect'];

function missingRoutes(hub: RunningHub): string[] {
  const present = new Set(hub.model.routes.map((r) => `${r.method.toUpperCase()} ${r.resourcePath}`));
  return REQUIRED_ROUTES.filter((route) => !present.has(route));
}

/** Signed introspections spread over every client allowed to introspect, each under its own rate limit. */
async function httpIntrospection(hub: RunningHub): Promise<Measurement> {
  const platform = devClients().find(
    (c) =>
      c.scopes.includes('sso:dev-sign-in') && c.scopes.includes('sso:validate') && c.redirectUris?.length,
  );
  if (!platform) throw new Error('no dev client may both sign people in and validate tickets');
  // Sign-in needs the person in the registry: the demo identities, written as the local hub's seed writes them.
  await seedHubRegistry(hub, { persons: 0 });
  const { accessToken } = await signInThroughHub(
    hub.port,
    platform,
    DEMO_PERSONS[0] as (typeof DEMO_PERSONS)[0],
  );
  const introspectors = clientsWithScope('tokens:introspect');
  return {
    label: 'POST /v1/tokens/introspect through the hub',
    unit: 'tokens',
    method: `${HTTP_OPS} signed requests per round over loopback, ${HTTP_CONCURRENCY} in flight, spread over ${introspectors.length} clients`,
    round: () =>
      timedOperations(HTTP_OPS, HTTP_CONCURRENCY, async (i) => {
        const client = introspectors[i % introspectors.length] as (typeof introspectors)[number];
        const response = await postJson(hub.port, client, '/v1/tokens/introspect', { token: accessToken });
        const answer = (await response.json()) as { active?: boolean; type?: string };
        if (response.status !== 200 || answer.active !== true) {
          throw new Error(
            `introspection answered ${response.status} ${answer.type ?? `active=${answer.active}`}`,
          );
        }
      }),
  };
}

const benchmark: Benchmark = {
  name: 'introspection',
  description:
    'Access-token introspection. In process: functions/auth-verify/domain/introspection.ts `introspectToken` ' +
    '(ES256 signature, typ, issuer, times, claim shapes, revocation set) vs bare `jose.jwtVerify` on the same ' +
    `key and tokens; goal ≥ ${IN_PROCESS_GOAL}. Through the hub: signed POST /v1/tokens/introspect over loopback ` +
    'vs the in-process rate, reported without a goal. Rounds of subject and baseline alternate.',
  async run({ hub: sharedHub, progress }) {
    const keys = await signedTokens();
    try {
      const deps = introspectionDependencies(keys.jwks);
      const inProcess = inProcessIntrospection(keys, deps);
      const [introspected, verified] = await measurePair(
        inProcess,
        await rawJwtVerify(keys),
        ROUNDS,
        progress,
      );
      const figures: Figure[] = [
        figure('introspection in process vs jose.jwtVerify', introspected, verified, {
          goalAtLeast: IN_PROCESS_GOAL,
        }),
      ];
      const unmeasured: UnmeasuredFigure[] = [];
      const name = 'introspection through the hub vs in process';
      const hub = await sharedHub();
      const missing = missingRoutes(hub);
      if (missing.length > 0) {
        unmeasured.push({
          name,
          status: 'skipped',
          reason: `the synthesised template has no ${missing.join(', ')} yet`,
        });
      } else {
        try {
          const [overHttp, local] = await measurePair(
            await httpIntrospection(hub),
            inProcess,
            ROUNDS,
            progress,
          );
          figures.push(figure(name, overHttp, local));
        } catch (error) {
          unmeasured.push({
            name,
            status: 'failed',
            reason: error instanceof Error ? error.message : String(error),
          });
        }
      }
      return { status: 'ok', figures, unmeasured };
    } finally {
      keys.cleanup();
    }
  },
};

export default benchmark;
