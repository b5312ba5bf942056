import { MetricUnit } from '@aws-lambda-powertools/metrics';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import { caseIdField } from '../../events/fields';
import { maskedHolderField } from '../../events/licence-fields';
import { dynamoDbClients } from '../../shared/aws/dynamodb';
import { eventBridgeClients } from '../../shared/aws/eventbridge';
import { type AuthenticatedClient, loadIdHmacKey } from '../../shared/client-registry';
import { loadConfig, requiredString, tableName } from '../../shared/config';
import { defineRoute, pageOf } from '../../shared/contract';
import { once, routedHandler } from '../../shared/entry';
import { createEventPublisher, type PublishEntry } from '../../shared/events';
import { type HttpDependencyOverrides, httpHandler } from '../../shared/http';
import { licenceIdSchema, validateCitizenId, validateCreditCode } from '../../shared/identifiers';
import { withCursorCheck } from '../../shared/page-cursor';
import { hmacIdentifier } from '../../shared/pii';
import { notFound, Problem, validationFailed } from '../../shared/problem';
import { type BearerVerifier, bearerVerifierFromEnvironment, personOf } from '../../shared/user-token';
import { subjectOf } from '../auth-verify/domain/subject';
import { licenceSettingsEnv } from './config';
import {
  type Authorisation,
  type HolderKeys,
  missingAuthorisation,
  missingReason,
  refusalBeforeLookup,
  refusalForHolder,
  useReasonSchema,
} from './domain/authorisation';
import {
  algorithmsOf,
  assertProfileSupported,
  type CryptoProfile,
  type DigestAlgorithm,
  digestsOf,
  isDigestHex,
} from './domain/file';
import {
  HOLDER_CODE_TYPES,
  type HolderIdType,
  LICENCE_MEDIA_TYPES,
  type Licence,
  parseQrPayload,
  statusOf,
  toLicenceSummary,
  toLicenceView,
} from './domain/licence';
import { accessedEventOf, type UseOperation, usesOf } from './domain/uses';
import { verify } from './domain/verification';
import { createFileStore, createLicenceS3Client, type FileStore } from './file-store';
import { LICENCE_EVENT_SOURCE, parsedLicenceId } from './issuing-api';
import { createLicenceStore, type LicenceStore } from './store';

/**
 * Licence use by departments (scope licences:read, region and ministry clients):
 *   GET  /v1/licences?holder=&holderIdType=&type=&reason=&caseId=&limit=&cursor=   a holder's licences
 *   GET  /v1/licences/{licenceId}?reason=&caseId=                                  one licence + download URL
 *   GET  /v1/licences:by-qr?payload=&reason=&caseId=                               the same, from a QR payload
 *   POST /v1/licences/{licenceId}/verification                                     证照核验: digest or file
 * Every use needs a reason (用证事由) and an authorisation — the holder's token (Authorization: Bearer, issued to the
 * calling platform) or `caseId`, a case of the caller in which the holder applied — and is recorded for the holder
 * and announced as `LicenceAccessed` before any data is returned. Identifiers are validated first (422), before any
 * authorisation or lookup. The holder's ID number travels only in the signed query; it is never logged.
 */
export interface RetrievalApiDependencies {
  store: () => LicenceStore;
  files: () => FileStore;
  idHmacKey: () => Promise<Uint8Array>;
  verifyBearer: () => BearerVerifier;
  publish: (entries: PublishEntry[]) => Promise<unknown>;
  cryptoProfile: CryptoProfile;
  clock: () => Date;
  http?: HttpDependencyOverrides;
}

export const MAX_PAGE_SIZE = 100;
const DEFAULT_PAGE_SIZE = 50;

const useQuery = {
  reason: useReasonSchema.optional(),
  caseId: caseIdField.optional(),
};

export const listQuerySchema = z.object({
  ...useQuery,
  holder: z.string().trim().min(1).max(64),
  holderIdType: z.enum(['citizen_id', 'credit_code']).optional(),
  type: z
    .string()
    .regex(/^[0-9A-HJ-NPQRTUWXY]{18}\d{3}$/, 'A licence type code is a credit code followed by 3 digits.')
    .optional(),
  limit: z.coerce.number().int().min(1).max(MAX_PAGE_SIZE).default(DEFAULT_PAGE_SIZE),
  cursor: z.string().min(1).max(2048).optional(),
});
const fetchQuerySchema = z.object(useQuery);
const qrQuerySchema = z.object({ ...useQuery, payload: z.string().min(1).max(256) });
const licencePathSchema = z.object({ licenceId: licenceIdSchema });

/** A digest to compare, or the file itself (base64, within the 1 MiB request limit): exactly one. */
export const verificationBodySchema = z
  .strictObject({
    digest: z
      .strictObject({ algorithm: z.enum(['sha256', 'sm3']), value: z.string().max(128) })
      .refine((d) => isDigestHex(d.algorithm, d.value), 'A digest is the hash in hexadecimal.')
      .optional(),
    content: z.base64().max(1_400_000).optional(),
  })
  .refine(
    (body) => (body.digest === undefined) !== (body.content === undefined),
    'Send either digest or content.',
  );

/** The holder as every answer shows it: the event's masked holder, its GB/T 36903 code type and masked name. */
const maskedHolderViewSchema = maskedHolderField.extend({
  holderCodeType: z
    .enum([HOLDER_CODE_TYPES.citizen_id, HOLDER_CODE_TYPES.credit_code])
    .describe('GB/T 36903 holder code type: 111 citizen ID number, 001 unified social credit code.'),
  maskedName: z.string().describe("The holder's name, masked."),
});

/** What is known of the licence's file (domain/licence.ts `fileViewOf`). */
const licenceFileViewSchema = z
  .object({
    mediaType: z.enum(LICENCE_MEDIA_TYPES),
    state: z.enum(['awaiting_upload', 'recorded', 'rejected']),
    size: z.number().int().optional().describe('Size in bytes; when recorded.'),
    digests: z
      .object({ sha256: z.string(), sm3: z.string().optional() })
      .optional()
      .describe(
        'Hexadecimal digests of the stored file (SM3 under the national crypto profile); when recorded.',
      ),
    rejection: z
      .enum(['size_mismatch', 'media_type_mismatch'])
      .optional()
      .describe('Why the uploaded file was refused; when rejected.'),
  })
  .describe('Media type, state and, once recorded, size and digests.');

export const licenceSummarySchema = z.object({
  licenceId: z.string(),
  name: z.string(),
  typeCode: z.string(),
  typeName: z.string(),
  licenceNumber: z.string(),
  status: z.enum(['valid', 'not_yet_valid', 'revoked', 'expired']),
  holder: maskedHolderViewSchema,
  issuer: z.object({ authorityCode: z.string(), authorityName: z.string(), jurisdictionCode: z.string() }),
  issuedOn: z.string(),
  validFrom: z.string(),
  validTo: z.string().optional(),
  revokedAt: z.string().optional(),
  qrPayload: z.string(),
});

const licenceViewSchema = licenceSummarySchema.extend({
  surface: z.record(z.string(), z.string()).describe('Surface data (照面信息) as registered: field → value.'),
  file: licenceFileViewSchema,
  download: z.object({ url: z.string(), expiresAt: z.string() }).optional(),
});

const USE_PROBLEMS = [
  { status: 403, slug: 'use-reason-missing', when: 'No reason for use (用证事由) was stated.' },
  {
    status: 403,
    slug: 'licence-use-refused',
    when: "Neither the holder's token nor a case of the caller's authorises this use.",
  },
  {
    status: 503,
    slug: 'licence-audit-unavailable',
    when: 'The use could not be recorded, so nothing is disclosed.',
  },
] as const;

/** The retrieval routes; `handler` below serves exactly these. */
export const RETRIEVAL_ROUTES = {
  list: defineRoute({
    operation: 'licences.list',
    method: 'GET',
    path: '/v1/licences',
    tag: 'licence retrieval',
    summary: "A holder's licences (电子证照), authorised by the holder's token or a case, audited as a use.",
    scope: 'licences:read',
    authentication: 'signature+optional-bearer',
    query: listQuerySchema,
    responses: { 200: { description: 'A page of licence summaries.', schema: pageOf(licenceSummarySchema) } },
    problems: USE_PROBLEMS,
  }),
  get: defineRoute({
    operation: 'licences.get',
    method: 'GET',
    path: '/v1/licences/{licenceId}',
    tag: 'licence retrieval',
    summary: 'A licence with its surface data and a presigned download URL (≤ 300 s), audited as a use.',
    scope: 'licences:read',
    authentication: 'signature+optional-bearer',
    params: licencePathSchema,
    query: fetchQuerySchema,
    responses: { 200: { description: 'The licence.', schema: licenceViewSchema } },
    problems: [...USE_PROBLEMS, { status: 404, slug: 'licence-not-found', when: 'No such licence.' }],
  }),
  byQr: defineRoute({
    operation: 'licences.getByQr',
    method: 'GET',
    path: '/v1/licences:by-qr',
    tag: 'licence retrieval',
    summary: 'A licence by the payload of its QR code, as GET /v1/licences/{licenceId}.',
    scope: 'licences:read',
    authentication: 'signature+optional-bearer',
    query: qrQuerySchema,
    responses: { 200: { description: 'The licence.', schema: licenceViewSchema } },
    problems: [...USE_PROBLEMS, { status: 404, slug: 'licence-not-found', when: 'No such licence.' }],
  }),
  verification: defineRoute({
    operation: 'licences.verify',
    method: 'POST',
    path: '/v1/licences/{licenceId}/verification',
    tag: 'licence retrieval',
    summary: 'Verify a licence file (证照核验) by digest or content: authentic, tampered, revoked, expired.',
    scope: 'licences:read',
    authentication: 'signature',
    params: licencePathSchema,
    body: verificationBodySchema,
    idempotent: true,
    requestExample: {
      digest: {
        algorithm: 'sha256',
        value: 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      },
    },
    responses: {
      200: {
        description: 'The verdict.',
        schema: z.object({
          licenceId: z.string(),
          result: z.string().describe('authentic, tampered, revoked, expired, not_found'),
          algorithm: z.enum(['sha256', 'sm3']),
          checkedAt: z.string(),
        }),
      },
    },
  }),
};

/** The holder's identifier as an ID type, checked before anything else; messages never repeat the value. */
function holderIdentity(
  holder: string,
  idType: HolderIdType | undefined,
): { idType: HolderIdType; idNumber: string } {
  const asCitizen = idType !== 'credit_code' ? validateCitizenId(holder) : undefined;
  if (asCitizen?.ok) return { idType: 'citizen_id', idNumber: asCitizen.value };
  const asCredit = idType !== 'citizen_id' ? validateCreditCode(holder) : undefined;
  if (asCredit?.ok) return { idType: 'credit_code', idNumber: asCredit.value };
  throw validationFailed([
    {
      path: '/query/holder',
      message: 'The holder is not a valid citizen ID number or unified social credit code.',
    },
  ]);
}

const auditUnavailable = () =>
  new Problem({
    status: 503,
    slug: 'licence-audit-unavailable',
    title: 'Service unavailable',
    detail: 'The use could not be recorded, so the licence is not disclosed; try again.',
    headers: { 'retry-after': '5' },
  });

export function createRetrievalApi(deps: RetrievalApiDependencies) {
  /** Reason first, then the authorisation: a token is verified (401 when invalid), a case is looked up. */
  async function authorisationOf(
    event: APIGatewayProxyEvent,
    client: AuthenticatedClient,
    query: { reason?: string; caseId?: string },
  ): Promise<{ authorisation: Authorisation; reason: string }> {
    if (query.reason === undefined) throw missingReason();
    let authorisation: Authorisation;
    if (event.headers?.authorization !== undefined) {
      const person = await personOf(event, client, deps.verifyBearer());
      authorisation = { kind: 'holder_token', sub: person.sub, jti: person.jti };
    } else if (query.caseId !== undefined) {
      authorisation = { kind: 'case', caseId: query.caseId, known: await deps.store().getCase(query.caseId) };
    } else {
      throw missingAuthorisation();
    }
    const refusal = refusalBeforeLookup(authorisation, client);
    if (refusal) throw refusal;
    return { authorisation, reason: query.reason };
  }

  /** Stores the use records, then announces them; a use that cannot be recorded is not served. */
  async function audit(input: {
    licences: readonly Licence[];
    operations: (licence: Licence) => UseOperation[];
    client: AuthenticatedClient;
    authorisation: Authorisation;
    reason: string;
    correlationId: string;
  }): Promise<void> {
    const now = deps.clock();
    const uses = input.licences.flatMap((licence) =>
      usesOf({
        licences: [licence],
        operations: input.operations(licence),
        client: { clientId: input.client.clientId, name: input.client.name },
        authorisation: input.authorisation,
        reason: input.reason,
        now,
        correlationId: input.correlationId,
      }),
    );
    if (uses.length === 0) return;
    try {
      await deps.store().recordUses(uses);
      await deps.publish(
        uses.map((use) => ({ detailType: 'LicenceAccessed', detail: accessedEventOf(use) })),
      );
    } catch {
      throw auditUnavailable();
    }
  }

  async function fetchOne(input: {
    licenceId: string;
    event: APIGatewayProxyEvent;
    client: AuthenticatedClient;
    query: { reason?: string; caseId?: string };
    correlationId: string;
  }) {
    const { authorisation, reason } = await authorisationOf(input.event, input.client, input.query);
    const licence = await deps.store().getLicence(input.licenceId);
    if (!licence) throw notFound('licence-not-found', 'No licence with this identifier is registered.');
    const refusal = refusalForHolder(authorisation, licence.holder);
    if (refusal) throw refusal;
    const now = deps.clock();
    const downloadable = licence.file.state === 'recorded' && statusOf(licence, now) !== 'revoked';
    await audit({
      licences: [licence],
      operations: () => (downloadable ? ['fetch', 'download_url'] : ['fetch']),
      client: input.client,
      authorisation,
      reason,
      correlationId: input.correlationId,
    });
    const download = downloadable ? await presignDownload(licence, now) : undefined;
    return {
      status: 200 as const,
      body: toLicenceView(licence, now, download && { url: download.url, expiresAt: download.expiresAt }),
    };
  }

  function presignDownload(licence: Licence, now: Date) {
    const extension = licence.mediaType === 'application/pdf' ? 'pdf' : 'ofd';
    const versionId = licence.file.state === 'recorded' ? licence.file.versionId : undefined;
    return deps.files().presignDownload(
      licence.objectKey,
      {
        mediaType: licence.mediaType,
        fileName: `${licence.licenceId}.${extension}`,
        ...(versionId === undefined ? {} : { versionId }),
      },
      now,
    );
  }

  const list = httpHandler(
    {
      contract: RETRIEVAL_ROUTES.list,
      handle: async ({ query, client, event, correlationId, metrics }) => {
        const identity = holderIdentity(query.holder, query.holderIdType);
        const { authorisation, reason } = await authorisationOf(event, client, query);
        const key = await deps.idHmacKey();
        const idHmac = hmacIdentifier(key, identity.idType, identity.idNumber);
        const holder: HolderKeys = { idHmac, sub: subjectOf(idHmac, key) };
        const refusal = refusalForHolder(authorisation, holder);
        if (refusal) throw refusal;
        const page = await withCursorCheck(() =>
          deps.store().listByHolder(holder.sub, {
            limit: query.limit,
            ...(query.cursor === undefined ? {} : { cursor: query.cursor }),
            ...(query.type === undefined ? {} : { typeCode: query.type }),
          }),
        );
        await audit({
          licences: page.items,
          operations: () => ['list'],
          client,
          authorisation,
          reason,
          correlationId,
        });
        metrics.addMetric('LicenceListings', MetricUnit.Count, 1);
        const now = deps.clock();
        return {
          status: 200,
          body: {
            items: page.items.map((licence) => toLicenceSummary(licence, now)),
            ...(page.cursor ? { cursor: page.cursor } : {}),
          },
        };
      },
    },
    deps.http,
  );

  const get = httpHandler(
    {
      contract: RETRIEVAL_ROUTES.get,
      handle: async ({ path, query, client, event, correlationId, metrics }) => {
        const result = await fetchOne({ licenceId: path.licenceId, event, client, query, correlationId });
        metrics.addMetric('LicenceFetches', MetricUnit.Count, 1);
        return result;
      },
    },
    deps.http,
  );

  const byQr = httpHandler(
    {
      contract: RETRIEVAL_ROUTES.byQr,
      handle: async ({ query, client, event, correlationId, metrics }) => {
        const parsed = parseQrPayload(query.payload);
        if (!parsed.ok) throw validationFailed([{ path: '/query/payload', message: parsed.reason }]);
        const result = await fetchOne({ licenceId: parsed.id.value, event, client, query, correlationId });
        metrics.addMetric('LicenceFetches', MetricUnit.Count, 1);
        return result;
      },
    },
    deps.http,
  );

  const verification = httpHandler(
    {
      contract: RETRIEVAL_ROUTES.verification,
      maxBodyBytes: 1_500_000,
      handle: async ({ path, body, logger, metrics }) => {
        const id = parsedLicenceId(path.licenceId);
        const presented = presentedDigest(body, deps.cryptoProfile);
        const now = deps.clock();
        const result = verify(await deps.store().getLicence(id.value), presented, now);
        metrics.addMetric(`LicenceVerifications_${result}`, MetricUnit.Count, 1);
        logger.info('licence verified', { licenceId: id.value, result });
        return {
          status: 200,
          body: { licenceId: id.value, result, algorithm: presented.algorithm, checkedAt: now.toISOString() },
        };
      },
    },
    deps.http,
  );

  return { list, get, byQr, verification };
}

/** The digest to compare: the one sent, or SM3 (national profile) / SHA-256 of the file sent. */
function presentedDigest(
  body: z.output<typeof verificationBodySchema>,
  profile: CryptoProfile,
): { algorithm: DigestAlgorithm; value: string } {
  if (body.digest) return body.digest;
  const algorithm: DigestAlgorithm = profile === 'national' ? 'sm3' : 'sha256';
  const digests = digestsOf(Buffer.from(body.content ?? '', 'base64'), algorithmsOf(profile));
  return { algorithm, value: digests[algorithm] ?? digests.sha256 };
}

// ---- The Lambda entry point --------------------------------------------------------------------------------

const retrievalEnv = licenceSettingsEnv.extend({
  LICENCES_TABLE: tableName,
  LICENCE_FILES_BUCKET: requiredString,
  EVENT_BUS_NAME: requiredString,
});

export const handler = routedHandler({
  name: 'licence retrieval API',
  contracts: RETRIEVAL_ROUTES,
  // Built on first use, so that importing the module (tests, synth) needs no environment.
  build: async () => {
    const aws = { ...dynamoDbClients(), ...eventBridgeClients() };
    const config = loadConfig(retrievalEnv);
    assertProfileSupported(config.CRYPTO_PROFILE);
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
    // The key set is fetched on the first token, not here (jose createRemoteJWKSet).
    const verifier = bearerVerifierFromEnvironment();
    return createRetrievalApi({
      store: () => store,
      files: () => files,
      idHmacKey: once(() => loadIdHmacKey()),
      verifyBearer: () => verifier,
      publish: (entries) => publisher.publish(entries),
      cryptoProfile: config.CRYPTO_PROFILE,
      clock: () => new Date(),
    });
  },
});
