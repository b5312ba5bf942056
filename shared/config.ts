import * as z from 'zod';

/**
 * Configuration comes from the environment the CDK constructs set (the local runtime sets the
 * same names). A function declares the variables it needs as a zod object keyed by variable name
 * and reads them once per process through loadConfig.
 */

export class ConfigError extends Error {
  constructor(readonly variables: string[]) {
    // Names only: values may be secrets or personal data.
    super(`Invalid or missing environment variables: ${variables.join(', ')}`);
    this.name = 'ConfigError';
  }
}

const cache = new WeakMap<z.ZodType, WeakMap<object, unknown>>();

export function loadConfig<S extends z.ZodType>(
  schema: S,
  env: NodeJS.ProcessEnv = process.env,
): z.output<S> {
  let perEnv = cache.get(schema);
  if (!perEnv) {
    perEnv = new WeakMap();
    cache.set(schema, perEnv);
  }
  if (perEnv.has(env)) return perEnv.get(env) as z.output<S>;

  const result = schema.safeParse(env);
  if (!result.success) {
    const names = result.error.issues.map((issue) => String(issue.path[0] ?? '(environment)'));
    throw new ConfigError([...new Set(names)].sort());
  }
  perEnv.set(env, result.data);
  return result.data;
}

// Building blocks for configuration schemas.
export const requiredString = z.string().trim().min(1);
/** DynamoDB table names: 3–255 of [A-Za-z0-9_.-]. */
export const tableName = z.string().regex(/^[A-Za-z0-9_.-]{3,255}$/);
export const stageName = z.string().regex(/^[a-z][a-z0-9-]{0,31}$/);
export const positiveInt = (fallback: number) => z.coerce.number().int().positive().default(fallback);
export const logLevel = z
  .string()
  .transform((level) => level.toUpperCase())
  .pipe(z.enum(['TRACE', 'DEBUG', 'INFO', 'WARN', 'ERROR', 'SILENT', 'CRITICAL']))
  .default('INFO');

/** Variables every function receives (see the project conventions). */
export const commonEnv = z.object({
  HUB_STAGE: stageName,
  POWERTOOLS_SERVICE_NAME: requiredString,
  POWERTOOLS_METRICS_NAMESPACE: requiredString.default('zwfw-hub'),
  LOG_LEVEL: logLevel,
  EVENT_BUS_NAME: requiredString,
  NONCES_TABLE: tableName,
  IDEMPOTENCY_TABLE: tableName,
  HUB_CLIENTS_SECRET_ID: requiredString.optional(),
  HUB_ID_HMAC_SECRET_ID: requiredString.optional(),
  /** Local runtime only: the dev client registry file and ID HMAC key, preferred when present. */
  HUB_CLIENTS_FILE: requiredString.optional(),
  HUB_ID_HMAC_KEY: requiredString.optional(),
});
export type CommonConfig = z.output<typeof commonEnv>;

/** What the HTTP stack needs: where clients, nonces and idempotency records live. */
export const httpEnv = z
  .object({
    NONCES_TABLE: tableName,
    IDEMPOTENCY_TABLE: tableName,
    HUB_CLIENTS_SECRET_ID: requiredString.optional(),
    HUB_CLIENTS_FILE: requiredString.optional(),
  })
  .refine((env) => env.HUB_CLIENTS_FILE ?? env.HUB_CLIENTS_SECRET_ID, {
    path: ['HUB_CLIENTS_SECRET_ID'],
    message: 'HUB_CLIENTS_SECRET_ID or HUB_CLIENTS_FILE is required',
  });
export type HttpConfig = z.output<typeof httpEnv>;
