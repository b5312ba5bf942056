import { z } from 'zod';
import type { AnyRouteContract, ProblemContract } from '../../shared/contract';
import { PROBLEM_CONTENT_TYPE, PROBLEM_TYPE_PREFIX } from '../../shared/problem';
import { MAX_CLOCK_SKEW_SECONDS } from '../../shared/signing';
import { allRouteContracts } from './routes';

/**
 * The hub's OpenAPI 3.1 document, generated from the route contracts (never written by hand): zod 4's own
 * `z.toJSONSchema` turns each request and response schema into JSON Schema 2020-12, the dialect OpenAPI 3.1
 * uses. The problems the HTTP stack answers for every route (signature, scope, media type, JSON, validation,
 * idempotency) are added here from what the route declares, so no route lists them by hand.
 */

type JsonObject = Record<string, unknown>;

const VERSION = '1.0.0';

/** JSON Schema of a zod schema, for a request (`input`: what may be sent) or a response (`output`). */
export function jsonSchemaOf(schema: z.ZodType, io: 'input' | 'output'): JsonObject {
  // Refinements and transforms have no JSON Schema: they are documented by their messages and descriptions.
  const { $schema: _dialect, ...body } = z.toJSONSchema(schema, {
    target: 'draft-2020-12',
    io,
    unrepresentable: 'any',
  }) as JsonObject;
  if ('$defs' in body) throw new Error('a contract schema needs $defs: give it a component instead');
  return body;
}

const SIGNATURE_SCHEMES = ['HubKey', 'HubTimestamp', 'HubNonce', 'HubSignature'] as const;

const securitySchemes = {
  HubKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Key',
    description: 'The access key id of the registered client (接入方).',
  },
  HubTimestamp: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Timestamp',
    description: `Unix seconds; more than ${MAX_CLOCK_SKEW_SECONDS} s off the hub's clock is refused.`,
  },
  HubNonce: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Nonce',
    description: '16–64 characters of [A-Za-z0-9_-], used once.',
  },
  HubSignature: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Hub-Signature',
    description:
      'base64 of HMAC-SHA256(secret, canonical); canonical is the lines METHOD, PATH as sent (percent-encoded), ' +
      'the query sorted by name then value (RFC 3986-encoded; empty line if none), the timestamp, the nonce and ' +
      'the lowercase hex SHA-256 of the raw body, joined by \\n. All four headers are required together.',
  },
  PersonToken: {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description:
      "A person's hub access token (ES256, typ at+jwt), issued to the calling platform by ticket validation; " +
      'sent on top of the signature.',
  },
} as const;

const signature = Object.fromEntries(SIGNATURE_SCHEMES.map((name) => [name, []]));

function securityOf(contract: AnyRouteContract): JsonObject[] {
  switch (contract.authentication) {
    case 'public':
      return [];
    case 'signature':
      return [signature];
    case 'signature+bearer':
      return [{ ...signature, PersonToken: [] }];
    case 'signature+optional-bearer':
      return [signature, { ...signature, PersonToken: [] }];
  }
}

/** The problems the HTTP stack and the gateway may answer for a route, from what the route declares. */
export function stackProblemsOf(contract: AnyRouteContract): ProblemContract[] {
  const problems: ProblemContract[] = [];
  const signed = contract.authentication !== 'public';
  if (signed) {
    problems.push(
      { status: 401, slug: 'signature-missing', when: 'A signature header is missing.' },
      { status: 401, slug: 'signature-malformed', when: 'A signature header is malformed.' },
      {
        status: 401,
        slug: 'signature-stale',
        when: `The timestamp is more than ${MAX_CLOCK_SKEW_SECONDS} s off.`,
      },
      { status: 401, slug: 'signature-invalid', when: 'The key is unknown or the signature is wrong.' },
      { status: 401, slug: 'signature-replayed', when: 'The nonce was used before.' },
      { status: 429, slug: 'too-many-requests', when: "Over the client kind's rate limit (Retry-After)." },
    );
  }
  if (contract.scope) {
    problems.push({
      status: 403,
      slug: 'scope-missing',
      when: `The client lacks the scope ${contract.scope}.`,
    });
  }
  if (contract.authentication === 'signature+bearer') {
    problems.push(
      { status: 401, slug: 'bearer-token-missing', when: "No person's access token was sent." },
      { status: 401, slug: 'bearer-token-invalid', when: 'The token is not valid for this client.' },
      {
        status: 503,
        slug: 'token-keys-unavailable',
        when: 'The token keys could not be read (Retry-After).',
      },
    );
  }
  if (contract.authentication === 'signature+optional-bearer') {
    problems.push({ status: 401, slug: 'bearer-token-invalid', when: 'A token was sent and is not valid.' });
  }
  problems.push({ status: 413, slug: 'payload-too-large', when: 'The body is over the size limit.' });
  if (contract.body) {
    problems.push(
      { status: 415, slug: 'unsupported-media-type', when: 'The body is not application/json in UTF-8.' },
      { status: 400, slug: 'malformed-json', when: 'The body is not JSON, too deep, or repeats a member.' },
    );
  }
  if (contract.body || contract.params || contract.query) {
    problems.push({
      status: 422,
      slug: 'validation-failed',
      when: 'The request does not match its schema; `errors` lists JSON Pointers and messages.',
    });
  }
  if (contract.idempotent) {
    problems.push(
      { status: 400, slug: 'idempotency-key-malformed', when: 'The Idempotency-Key header is malformed.' },
      { status: 409, slug: 'idempotency-request-in-progress', when: 'The same key is being processed.' },
      { status: 422, slug: 'idempotency-key-reused', when: 'The key was used with another body.' },
    );
  }
  problems.push(
    {
      status: 503,
      slug: 'dependency-unavailable',
      when: 'A dependency is throttling or failing (Retry-After).',
    },
    { status: 500, slug: 'internal-error', when: 'An unexpected failure (no detail is given).' },
  );
  return problems;
}

const problemSchema = {
  type: 'object',
  description: 'RFC 9457 problem details.',
  properties: {
    type: { type: 'string', description: `\`${PROBLEM_TYPE_PREFIX}<slug>\`, stable.` },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string', description: "The request's correlation id." },
    errors: {
      type: 'array',
      description: 'validation-failed: where and why.',
      items: {
        type: 'object',
        properties: { path: { type: 'string' }, message: { type: 'string' } },
        required: ['path', 'message'],
      },
    },
    rejected: {
      type: 'array',
      description: 'batch-rejected: each record by index and reason.',
      items: {
        type: 'object',
        properties: { index: { type: 'integer' }, reason: { type: 'string' } },
        required: ['index', 'reason'],
      },
    },
  },
  required: ['type', 'title', 'status'],
};

function problemResponse(problems: ProblemContract[]): JsonObject {
  const lines = problems.map((p) => `- \`${p.slug}\`: ${p.when}`);
  return {
    description: `Problem (RFC 9457):\n${lines.join('\n')}`,
    content: {
      [PROBLEM_CONTENT_TYPE]: {
        schema: { $ref: '#/components/schemas/Problem' },
        examples: Object.fromEntries(
          problems.map((p) => [
            p.slug,
            {
              summary: p.when,
              value: { type: `${PROBLEM_TYPE_PREFIX}${p.slug}`, title: titleOf(p.status), status: p.status },
            },
          ]),
        ),
      },
    },
  };
}

const TITLES: Record<number, string> = {
  400: 'Bad request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not found',
  409: 'Conflict',
  410: 'Gone',
  413: 'Payload too large',
  415: 'Unsupported media type',
  422: 'Unprocessable content',
  429: 'Too many requests',
  500: 'Internal server error',
  503: 'Service unavailable',
};
const titleOf = (status: number) => TITLES[status] ?? 'Error';

function parametersOf(contract: AnyRouteContract): JsonObject[] {
  const parameters: JsonObject[] = [];
  const add = (schema: z.ZodType | undefined, where: 'path' | 'query') => {
    if (!schema) return;
    const json = jsonSchemaOf(schema, 'input');
    const properties = (json.properties ?? {}) as Record<string, JsonObject>;
    const required = new Set((json.required ?? []) as string[]);
    for (const [name, property] of Object.entries(properties)) {
      const { description, ...propertySchema } = property;
      parameters.push({
        name,
        in: where,
        required: where === 'path' || required.has(name),
        ...(description ? { description } : {}),
        schema: propertySchema,
      });
    }
  };
  add(contract.params, 'path');
  add(contract.query, 'query');
  if (contract.idempotent) {
    parameters.push({
      name: 'Idempotency-Key',
      in: 'header',
      required: false,
      description:
        'A retry with the same key within 24 h gets the stored response (header `idempotent-replayed: true`).',
      schema: { type: 'string', minLength: 1, maxLength: 255 },
    });
  }
  parameters.push({ $ref: '#/components/parameters/CorrelationId' });
  return parameters;
}

function responsesOf(contract: AnyRouteContract): JsonObject {
  const responses: JsonObject = {};
  for (const [status, response] of Object.entries(contract.responses)) {
    const headers = Object.fromEntries(
      Object.entries(response.headers ?? {}).map(([name, description]) => [
        name,
        { description, schema: { type: 'string' } },
      ]),
    );
    responses[status] = {
      description: response.description,
      ...(Object.keys(headers).length > 0 ? { headers } : {}),
      ...(response.schema
        ? {
            content: {
              'application/json': {
                schema: jsonSchemaOf(response.schema, 'output'),
                ...(response.example === undefined ? {} : { example: response.example }),
              },
            },
          }
        : {}),
    };
  }
  const problems = [...(contract.problems ?? []), ...stackProblemsOf(contract)];
  const byStatus = new Map<number, ProblemContract[]>();
  for (const problem of problems) {
    const list = byStatus.get(problem.status) ?? [];
    if (!list.some((known) => known.slug === problem.slug)) list.push(problem);
    byStatus.set(problem.status, list);
  }
  for (const [status, list] of [...byStatus].sort(([a], [b]) => a - b)) {
    responses[String(status)] = problemResponse(list);
  }
  return responses;
}

function operationOf(contract: AnyRouteContract): JsonObject {
  const body = contract.documentedBody ?? contract.body;
  const scopeLine = contract.scope ? `\n\nScope: \`${contract.scope}\`.` : '';
  return {
    operationId: contract.operation,
    summary: contract.summary,
    description: `${contract.description ?? contract.summary}${scopeLine}`,
    tags: [contract.tag],
    security: securityOf(contract),
    ...(contract.scope ? { 'x-zwfw-scope': contract.scope } : {}),
    parameters: parametersOf(contract),
    ...(body
      ? {
          requestBody: {
            required: true,
            content: {
              'application/json': {
                schema: jsonSchemaOf(body, 'input'),
                ...(contract.requestExample === undefined ? {} : { example: contract.requestExample }),
              },
            },
          },
        }
      : {}),
    responses: responsesOf(contract),
  };
}

const TAGS = [
  { name: 'auth verification', description: '统一身份认证 / 实名核验: tickets, tokens, real-name checks.' },
  {
    name: 'licence retrieval',
    description: '电子证照共享: issuing, authorised and audited use, verification.',
  },
  { name: 'case aggregation', description: '办件汇聚: case ingest, catalogue, statistics, assessments.' },
  { name: 'evaluation ingest', description: '好差评: evaluations and the rectification of bad reviews.' },
  { name: 'user space', description: "用户空间: a signed-in person's own cases, evaluations and licences." },
];

export function openApiDocument(contracts: AnyRouteContract[] = allRouteContracts()): JsonObject {
  const paths: Record<string, JsonObject> = {};
  for (const contract of contracts) {
    paths[contract.path] = {
      ...paths[contract.path],
      [contract.method.toLowerCase()]: operationOf(contract),
    };
  }
  return {
    openapi: '3.1.1',
    info: {
      title: 'zwfw-hub API',
      version: VERSION,
      summary: 'The national government-service hub: auth verification, licences, cases and evaluations.',
      description:
        'Every call but the JWKS is signed (X-Hub-* headers, see the security schemes). Errors are RFC 9457 ' +
        '`application/problem+json` documents with a stable `type`. Every POST marked so honours ' +
        '`Idempotency-Key`. Generated from the zod route contracts: `npm run api:openapi`.',
      license: { name: 'Proprietary', identifier: 'LicenseRef-zwfw-hub' },
    },
    servers: [
      { url: 'http://127.0.0.1:3000', description: 'The local hub (npm start; HUB_PORT)' },
      {
        url: 'https://{apiId}.execute-api.{region}.amazonaws.com/{stage}',
        description:
          'A deployed stage (private cloud through its VPC endpoint; public cloud on the internet)',
        variables: {
          apiId: { default: 'api', description: 'The REST API id.' },
          region: { default: 'cn-north-1' },
          stage: { default: 'dev', enum: ['dev', 'staging', 'prod'] },
        },
      },
    ],
    tags: TAGS,
    paths,
    components: {
      schemas: { Problem: problemSchema },
      parameters: {
        CorrelationId: {
          name: 'X-Correlation-Id',
          in: 'header',
          required: false,
          description: 'Carried through queues and events and echoed back; 8–128 of [A-Za-z0-9._:-].',
          schema: { type: 'string', pattern: '^[A-Za-z0-9._:-]{8,128}$' },
        },
      },
      securitySchemes,
    },
  };
}

export const renderOpenApi = (): string => `${JSON.stringify(openApiDocument(), null, 2)}\n`;
