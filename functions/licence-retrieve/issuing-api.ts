import { MetricUnit } from '@aws-lambda-powertools/metrics';
import * as z from 'zod';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import type { AuthenticatedClient } from '../../shared/client-registry';
import { loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { defineRoute } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { createEventPublisher, type PublishEntry } from '../../shared/events';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { type LicenceId, licenceIdSchema, validateLicenceId } from '../../shared/identifiers';
import { maskIdNumber, maskName } from '../../shared/masking';
import { hmacIdentifier } from '../../shared/pii';
import { conflict, forbidden, notFound, Problem, unprocessable } from '../../shared/problem';
import { subjectOf } from '../auth-verify/domain/subject';
import { licenceSettingsEnv } from './config';
import {
  type IssueRequest,
  issueRequestSchema,
  type Licence,
  newLicence,
  type PseudonymisedHolder,
  qrPayloadOf,
  statusOf,
} from './domain/licence';
import { createFileStore, createLicenceS3Client, type FileStore } from './file-store';
import { createLicenceStore, type LicenceStore } from './store';

/**
 * The issuing side (scope licences:issue, issuer clients):
 *   POST /v1/licences                             register a licence, answer 201 with a presigned PUT for its file
 *   POST /v1/licences/{licenceId}/revocation      revoke it
 * An issuer acts only for its own authority: the identifier's issuing-authority part must be its credit code.
 */
export const LICENCE_EVENT_SOURCE = 'zwfw.licence-retrieve';

export interface IssuingApiDependencies {
  store: () => LicenceStore;
  files: () => FileStore;
  idHmacKey: () => Promise<Uint8Array>;
  publish: (entries: PublishEntry[]) => Promise<unknown>;
  maxFileBytes: number;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

const revocationBodySchema = z.strictObject({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .refine((value) => !/\p{Cc}/u.test(value), 'Control characters are not allowed.')
    .describe('Why the licence is revoked: kept with the licence, never logged nor announced.'),
});

const licencePathSchema = z.object({ licenceId: licenceIdSchema });

const UNAVAILABLE = {
  status: 503,
  slug: 'event-publish-failed',
  when: 'Stored but not yet announced: send the same request again.',
} as const;
const AUTHORITY_MISMATCH = {
  status: 403,
  slug: 'issuing-authority-mismatch',
  when: "The identifier's issuing-authority code is not this issuer's credit code.",
} as const;

/** The issuing routes; `handler` below serves exactly these. */
export const ISSUING_ROUTES = {
  issue: defineRoute({
    operation: 'licences.issue',
    method: 'POST',
    path: '/v1/licences',
    tag: 'licence retrieval',
    summary: 'Register a licence of this issuer; answers a presigned PUT for its file (OFD or PDF).',
    scope: 'licences:issue',
    authentication: 'signature',
    body: issueRequestSchema,
    idempotent: true,
    responses: {
      201: {
        description: 'Registered (or already registered with the same content).',
        headers: { Location: "The licence's URL." },
        schema: z.object({
          licenceId: z.string(),
          status: z.enum(['valid', 'not_yet_valid', 'revoked', 'expired']),
          fileState: z.string().describe('awaiting_upload, recorded, rejected'),
          qrPayload: z.string(),
          upload: z
            .object({
              method: z.literal('PUT'),
              url: z.string(),
              headers: z
                .record(z.string(), z.string())
                .describe('Send exactly these headers: they are part of the signature.'),
              expiresAt: z.string(),
            })
            .optional()
            .describe('The presigned PUT for the file, until it is recorded.'),
        }),
      },
    },
    problems: [
      AUTHORITY_MISMATCH,
      { status: 409, slug: 'licence-exists', when: 'Another licence with this identifier is registered.' },
      UNAVAILABLE,
    ],
  }),
  revoke: defineRoute({
    operation: 'licences.revoke',
    method: 'POST',
    path: '/v1/licences/{licenceId}/revocation',
    tag: 'licence retrieval',
    summary: 'Revoke a licence of this issuer; announced as LicenceRevoked.',
    scope: 'licences:issue',
    authentication: 'signature',
    params: licencePathSchema,
    body: revocationBodySchema,
    idempotent: true,
    requestExample: { reason: '证照信息有误，已重新核发' },
    responses: {
      200: {
        description: 'Revoked (a repeated revocation keeps the first).',
        schema: z.object({ licenceId: z.string(), status: z.literal('revoked'), revokedAt: z.string() }),
      },
    },
    problems: [
      AUTHORITY_MISMATCH,
      { status: 404, slug: 'licence-not-found', when: 'No such licence.' },
      UNAVAILABLE,
    ],
  }),
};

export const parsedLicenceId = (value: string): LicenceId => {
  const result = validateLicenceId(value);
  if (!result.ok) throw new Error('licence id passed validation but does not parse');
  return result;
};

/** Decided on the identifier alone, before any lookup. */
function assertOwnAuthority(client: AuthenticatedClient, id: LicenceId): void {
  if (client.departmentCode !== id.authorityCode) {
    throw forbidden(
      'issuing-authority-mismatch',
      "The identifier's issuing-authority code is not this issuer's credit code.",
    );
  }
}

function pseudonymiseHolder(holder: IssueRequest['holder'], key: Uint8Array): PseudonymisedHolder {
  const idHmac = hmacIdentifier(key, holder.idType, holder.idNumber);
  return {
    type: holder.type,
    idType: holder.idType,
    idHmac,
    sub: subjectOf(idHmac, key),
    maskedId: maskIdNumber(holder.idNumber),
    maskedName: maskName(holder.name),
  };
}

const eventHolder = (licence: Licence) => ({
  type: licence.holder.type,
  idType: licence.holder.idType,
  maskedId: licence.holder.maskedId,
});

const unavailable = (slug: string, detail: string) =>
  new Problem({ status: 503, slug, title: 'Service unavailable', detail, headers: { 'retry-after': '5' } });

export function createIssuingApi(deps: IssuingApiDependencies) {
  async function announce(entries: PublishEntry[]): Promise<void> {
    try {
      await deps.publish(entries);
    } catch {
      // Stored, not announced: a retry of the same request (it is idempotent) announces again.
      throw unavailable(
        'event-publish-failed',
        'The change is stored but not yet announced; send the request again.',
      );
    }
  }

  const issue = httpHandler(
    {
      contract: ISSUING_ROUTES.issue,
      handle: async ({ body, client, correlationId, logger, metrics }) => {
        const id = parsedLicenceId(body.licenceId);
        assertOwnAuthority(client, id);
        if (body.file.size > deps.maxFileBytes) {
          throw unprocessable(
            'licence-file-too-large',
            `A licence file may have at most ${deps.maxFileBytes} bytes.`,
          );
        }
        const now = deps.clock();
        const holder = pseudonymiseHolder(body.holder, await deps.idHmacKey());
        const candidate = newLicence({ request: body, id, holder, issuerClientId: client.clientId, now });
        const licence = await registerOrRecognise(deps.store(), candidate);
        await announce([
          {
            detailType: 'LicenceIssued',
            detail: {
              version: 1,
              correlationId,
              licenceId: licence.licenceId,
              typeCode: licence.typeCode,
              authorityCode: licence.authorityCode,
              issuerClientId: licence.issuerClientId,
              jurisdictionCode: licence.jurisdictionCode,
              holder: eventHolder(licence),
              issuedOn: licence.issuedOn,
              validFrom: licence.validFrom,
              ...(licence.validTo === undefined ? {} : { validTo: licence.validTo }),
              registeredAt: licence.registeredAt,
            },
          },
        ]);
        // Until the file is recorded the issuer may upload (again, after a rejected file) with a fresh URL.
        const upload =
          licence.file.state === 'recorded'
            ? undefined
            : await deps
                .files()
                .presignUpload(
                  licence.objectKey,
                  { mediaType: licence.mediaType, size: licence.declaredSize },
                  now,
                );
        metrics.addMetric('LicencesIssued', MetricUnit.Count, 1);
        logger.info('licence registered', { licenceId: licence.licenceId });
        return {
          status: 201,
          headers: { location: `/v1/licences/${encodeURIComponent(licence.licenceId)}` },
          body: {
            licenceId: licence.licenceId,
            status: statusOf(licence, now),
            fileState: licence.file.state,
            qrPayload: qrPayloadOf(licence.licenceId),
            // presignUpload signs PUTs only; the contract says so to callers.
            ...(upload ? { upload: { ...upload, method: 'PUT' as const } } : {}),
          },
        };
      },
    },
    deps.http,
  );

  const revoke = httpHandler(
    {
      contract: ISSUING_ROUTES.revoke,
      handle: async ({ path, body, client, correlationId, logger, metrics }) => {
        const id = parsedLicenceId(path.licenceId);
        assertOwnAuthority(client, id);
        const store = deps.store();
        const outcome = await store.revoke(id.value, {
          at: deps.clock().toISOString(),
          by: client.clientId,
          reason: body.reason,
        });
        if (outcome === 'missing')
          throw notFound('licence-not-found', 'No licence with this identifier is registered.');
        const licence = await store.getLicence(id.value);
        if (!licence?.revocation) throw new Error('revoked licence not readable');
        // A repeated revocation keeps the first one and announces it again (at least once; dedupe on licenceId).
        await announce([
          {
            detailType: 'LicenceRevoked',
            detail: {
              version: 1,
              correlationId,
              licenceId: licence.licenceId,
              typeCode: licence.typeCode,
              authorityCode: licence.authorityCode,
              holder: eventHolder(licence),
              revokedBy: licence.revocation.by,
              revokedAt: licence.revocation.at,
            },
          },
        ]);
        if (outcome === 'revoked') metrics.addMetric('LicencesRevoked', MetricUnit.Count, 1);
        logger.info('licence revoked', { licenceId: licence.licenceId, repeated: outcome === 'already' });
        return {
          status: 200,
          body: {
            licenceId: licence.licenceId,
            status: 'revoked' as const,
            revokedAt: licence.revocation.at,
          },
        };
      },
    },
    deps.http,
  );

  return { issue, revoke };
}

/**
 * The licence as registered: the candidate when new; the stored one when this is a retry of the same request by the
 * same issuer (its answer or its event was lost); otherwise the identifier is taken — 409.
 */
async function registerOrRecognise(store: LicenceStore, candidate: Licence): Promise<Licence> {
  if ((await store.putLicence(candidate)) === 'created') return candidate;
  const existing = await store.getLicence(candidate.licenceId);
  if (
    existing &&
    existing.issuerClientId === candidate.issuerClientId &&
    existing.requestDigest === candidate.requestDigest &&
    !existing.revocation
  ) {
    return existing;
  }
  throw conflict('licence-exists', 'A licence with this identifier is already registered.');
}

// ---- The Lambda entry point --------------------------------------------------------------------------------

const issuingEnv = licenceSettingsEnv.extend({
  LICENCES_TABLE: tableName,
  LICENCE_FILES_BUCKET: requiredString,
  EVENT_BUS_NAME: requiredString,
});

export const handler = routedHandler({
  name: 'licence issuing API',
  contracts: ISSUING_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
    const config = loadConfig(issuingEnv);
    const store = createLicenceStore({ doc: aws.documentClient, table: config.LICENCES_TABLE });
    const files = createFileStore({
      s3: createLicenceS3Client(),
      bucket: config.LICENCE_FILES_BUCKET,
      uploadSeconds: config.UPLOAD_URL_SECONDS,
      downloadSeconds: config.DOWNLOAD_URL_SECONDS,
    });
    const publisher = createEventPublisher({
      client: aws.eventBridge,
      busName: config.EVENT_BUS_NAME,
      source: LICENCE_EVENT_SOURCE,
    });
    return createIssuingApi({
      store: () => store,
      files: () => files,
      idHmacKey: once(() => loadIdHmacKey()),
      publish: (entries) => publisher.publish(entries),
      maxFileBytes: config.MAX_LICENCE_FILE_BYTES,
      clock: () => new Date(),
    });
  },
});
