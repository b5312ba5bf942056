import { readFile } from 'node:fs/promises';
import { getSecret } from '@aws-lambda-powertools/parameters/secrets';
import * as z from 'zod';

/**
 * The registry of connected platforms (接入方). Locally it is infra/local/clients.dev.json
 * (HUB_CLIENTS_FILE); in the cloud the same JSON lives in the Secrets Manager secret
 * HUB_CLIENTS_SECRET_ID, read through Powertools parameters with a cache so a rotated or
 * extended registry is picked up within SECRET_MAX_AGE_SECONDS without a redeploy.
 */

export const SECRET_MAX_AGE_SECONDS = 300;

/** Kinds of connected platform; each kind has its scopes and its API Gateway usage plan (infra/rate-limits.ts). */
export const CLIENT_KINDS = ['region', 'ministry', 'issuer', 'app'] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

const code = (digits: number) => z.string().regex(new RegExp(`^[0-9A-Z]{${digits}}$`));

export const hubClientSchema = z.object({
  clientId: z.string().min(1),
  accessKeyId: z.string().regex(/^[A-Za-z0-9_-]{1,128}$/),
  secret: z.string().min(32),
  kind: z.enum(CLIENT_KINDS),
  name: z.string().min(1),
  regionCode: z
    .string()
    .regex(/^[0-9]{6}$/)
    .optional(),
  departmentCode: code(18).optional(),
  scopes: z.array(z.string().min(1)),
  redirectUris: z.array(z.url()).optional(),
  /**
   * The client's API Gateway API key value: the authorizer hands it back as `usageIdentifierKey`, so API
   * Gateway meters the client under the usage plan of its kind (the key is associated with that plan when the
   * client is onboarded). Not a credential: requests are still signed with the secret. A client without one
   * is refused by the authorizer. Rate limits are per kind (infra/rate-limits.ts), never per registry entry.
   */
  apiKey: z
    .string()
    .regex(/^[A-Za-z0-9_-]{20,128}$/)
    .optional(),
});

export const clientRegistrySchema = z
  .object({ clients: z.array(hubClientSchema) })
  .refine(
    (registry) => new Set(registry.clients.map((c) => c.accessKeyId)).size === registry.clients.length,
    {
      message: 'access key ids must be unique',
    },
  )
  .refine((registry) => isUnique(registry.clients.map((c) => c.clientId)), {
    message: 'client ids must be unique',
  })
  .refine((registry) => registry.clients.every((c) => c.kind !== 'region' || c.regionCode), {
    message: 'a region client needs a regionCode',
  })
  .refine((registry) => isUnique(registry.clients.flatMap((c) => (c.apiKey ? [c.apiKey] : []))), {
    message: 'API keys must be unique',
  });

function isUnique(values: readonly string[]): boolean {
  return new Set(values).size === values.length;
}

export type HubClient = z.output<typeof hubClientSchema>;
/** What handlers see of the calling client: never its secret. */
export type AuthenticatedClient = Omit<HubClient, 'secret'>;

export class ClientRegistry {
  readonly #byAccessKey: ReadonlyMap<string, HubClient>;
  readonly #byClientId: ReadonlyMap<string, HubClient>;

  constructor(clients: readonly HubClient[]) {
    this.#byAccessKey = new Map(clients.map((client) => [client.accessKeyId, client]));
    this.#byClientId = new Map(clients.map((client) => [client.clientId, client]));
  }

  /** Validates raw registry JSON (text or parsed). Errors name paths only, never secrets. */
  static parse(json: unknown): ClientRegistry {
    const data = typeof json === 'string' ? JSON.parse(json) : json;
    const result = clientRegistrySchema.safeParse(data);
    if (!result.success) {
      const where = result.error.issues
        .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
        .join('; ');
      throw new Error(`Invalid client registry: ${where}`);
    }
    return new ClientRegistry(result.data.clients);
  }

  findByAccessKey(accessKeyId: string): HubClient | undefined {
    return this.#byAccessKey.get(accessKeyId);
  }

  /** The client a ticket or token is for (its audience), by its id. */
  findByClientId(clientId: string): HubClient | undefined {
    return this.#byClientId.get(clientId);
  }

  get size(): number {
    return this.#byAccessKey.size;
  }
}

export const hasScope = (client: Pick<HubClient, 'scopes'>, scope: string): boolean =>
  client.scopes.includes(scope);

export const withoutSecret = ({ secret: _secret, ...client }: HubClient): AuthenticatedClient => client;

type Env = Record<string, string | undefined>;

const fromFile = new Map<string, Promise<ClientRegistry>>();
let lastSecretText: string | undefined;
let lastSecretRegistry: ClientRegistry | undefined;

/**
 * The registry for this process: HUB_CLIENTS_FILE when set (local runtime only), else the secret
 * HUB_CLIENTS_SECRET_ID. Cheap to call per request: the file is read once, the secret is cached.
 */
export async function loadClientRegistry(env: Env = process.env): Promise<ClientRegistry> {
  const file = env.HUB_CLIENTS_FILE;
  if (file) {
    let loading = fromFile.get(file);
    if (!loading) {
      loading = readFile(file, 'utf8').then((text) => ClientRegistry.parse(text));
      // A failed read must not be cached forever.
      loading.catch(() => fromFile.delete(file));
      fromFile.set(file, loading);
    }
    return loading;
  }
  const secretId = env.HUB_CLIENTS_SECRET_ID;
  if (!secretId) throw new Error('Neither HUB_CLIENTS_FILE nor HUB_CLIENTS_SECRET_ID is set');
  const text = await readSecretText(secretId);
  if (text !== lastSecretText || !lastSecretRegistry) {
    lastSecretRegistry = ClientRegistry.parse(text);
    lastSecretText = text;
  }
  return lastSecretRegistry;
}

async function readSecretText(secretId: string): Promise<string> {
  const value = await getSecret(secretId, { maxAge: SECRET_MAX_AGE_SECONDS });
  if (value === undefined) throw new Error(`Secret ${secretId} has no value`);
  return typeof value === 'string' ? value : Buffer.from(value).toString('utf8');
}

/**
 * The key that HMACs ID numbers before they are stored or compared. HUB_ID_HMAC_KEY (local
 * runtime only) wins over the secret HUB_ID_HMAC_SECRET_ID. Returned as bytes of the UTF-8 text.
 */
export async function loadIdHmacKey(env: Env = process.env): Promise<Buffer> {
  const text = env.HUB_ID_HMAC_KEY ?? (await secretFromEnv(env.HUB_ID_HMAC_SECRET_ID));
  if (text.length < 32) throw new Error('The ID HMAC key must be at least 32 characters');
  return Buffer.from(text, 'utf8');
}

async function secretFromEnv(secretId: string | undefined): Promise<string> {
  if (!secretId) throw new Error('Neither HUB_ID_HMAC_KEY nor HUB_ID_HMAC_SECRET_ID is set');
  return readSecretText(secretId);
}
