import * as z from 'zod';

/**
 * The contract of one API route: what the HTTP stack enforces (scope, request schemas, idempotency), what the
 * OpenAPI document publishes (paths, responses, problems, examples) and what the typed client sends and reads.
 * It is written once, with `defineRoute`, next to the route's handler; `httpHandler({ contract, handle })` and
 * `routedHandler({ contracts })` take it from there, so a route cannot be served without one, and a handler's
 * result must have one of the shapes its contract declares (checked by the compiler).
 */

export type HttpMethod = 'GET' | 'POST' | 'PUT' | 'DELETE' | 'PATCH';

/**
 * How a caller proves who it is (DESIGN §3): the four signature headers; those plus a person's hub access token
 * (`Authorization: Bearer`, the user space and citizens' routes); the signature with the token as one of two
 * authorisations (licence uses: the holder's token, or a case of the caller's); or nothing (documents anyone
 * may fetch).
 */
export type Authentication = 'signature' | 'signature+bearer' | 'signature+optional-bearer' | 'public';

export interface ResponseContract {
  description: string;
  /** The JSON body; omitted for an empty one. */
  schema?: z.ZodType;
  example?: unknown;
  /** Response headers worth documenting, by name. */
  headers?: Record<string, string>;
}

/** A problem type the route's own rules may answer (the HTTP stack's are added by the generator). */
export interface ProblemContract {
  status: number;
  slug: string;
  /** When it happens, in one sentence. */
  when: string;
}

export interface RouteContract<
  B extends z.ZodType | undefined = z.ZodType | undefined,
  P extends z.ZodType | undefined = z.ZodType | undefined,
  Q extends z.ZodType | undefined = z.ZodType | undefined,
  R extends Record<number, ResponseContract> = Record<number, ResponseContract>,
  A extends Authentication = Authentication,
> {
  /** Stable name (`cases.ingestBatch`): OpenAPI operationId, every log line, the idempotency key prefix. */
  operation: string;
  method: HttpMethod;
  /** API Gateway resource path, e.g. `/v1/cases/{caseId}`. */
  path: string;
  summary: string;
  description?: string;
  /** The capability the route belongs to (an OpenAPI tag). */
  tag: string;
  /** The scope the client must hold; omitted when any authenticated client may call. */
  scope?: string;
  authentication: A;
  body?: B;
  /**
   * Published in place of `body` where the stack checks only an envelope and the route judges the rest itself
   * (a batch rejects bad records one by one instead of refusing the batch): what a caller should send.
   */
  documentedBody?: z.ZodType;
  /** Path parameters, validated after percent-decoding each once. */
  params?: P;
  query?: Q;
  /** Honours `Idempotency-Key` (POST): a retry with the same key gets the stored response. */
  idempotent?: boolean;
  requestExample?: unknown;
  responses: R;
  problems?: readonly ProblemContract[];
}

/** Declares a route contract, keeping its literal types (status codes, schemas) for handlers and clients. */
export function defineRoute<
  const B extends z.ZodType | undefined = undefined,
  const P extends z.ZodType | undefined = undefined,
  const Q extends z.ZodType | undefined = undefined,
  const R extends Record<number, ResponseContract> = Record<number, ResponseContract>,
  const A extends Authentication = Authentication,
>(contract: RouteContract<B, P, Q, R, A>): RouteContract<B, P, Q, R, A> {
  if (contract.authentication === 'public' && (contract.scope || contract.idempotent)) {
    throw new Error(`${contract.operation}: a public route has neither a scope nor idempotency`);
  }
  return contract;
}

/** Any route contract, whatever its schemas. */
// biome-ignore lint/suspicious/noExplicitAny: the widest contract, for registries and generators
export type AnyRouteContract = RouteContract<any, any, any, Record<number, ResponseContract>, Authentication>;

type BodyOf<Rc> = Rc extends { schema: infer S extends z.ZodType } ? z.input<S> : undefined;

/** What a handler may return for a contract: one of its declared statuses with that status's body. */
export type ContractResult<R extends Record<number, ResponseContract>> = {
  [S in keyof R & number]: BodyOf<R[S]> extends undefined
    ? { status: S; body?: undefined; headers?: Record<string, string> }
    : { status: S; body: BodyOf<R[S]>; headers?: Record<string, string> };
}[keyof R & number];

/** The parsed body a caller reads for a contract, by status. */
export type ContractResponse<R extends Record<number, ResponseContract>> = {
  [S in keyof R & number]: {
    status: S;
    body: R[S] extends { schema: infer Sc extends z.ZodType } ? z.output<Sc> : undefined;
    headers: Headers;
  };
}[keyof R & number];

export const routeKey = (contract: Pick<AnyRouteContract, 'method' | 'path'>): string =>
  `${contract.method} ${contract.path}`;

/** Items of a page and the cursor of the next one; the shape every list route answers. */
export const pageOf = <T extends z.ZodType>(item: T) =>
  z.object({
    items: z.array(item),
    cursor: z.string().optional().describe('Pass as `cursor` to read the next page; absent on the last.'),
  });

/** A batch record refused on its own, by its index in `records`. */
export const rejectedRecordSchema = z.object({
  index: z.number().int().min(0),
  reason: z.string(),
});
