import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  ClientRegistry,
  hasScope,
  loadClientRegistry,
  loadIdHmacKey,
  withoutSecret,
} from '../../../shared/client-registry';

const devFile = join(import.meta.dirname, '../../../infra/local/clients.dev.json');

const client = (overrides: Record<string, unknown> = {}) => ({
  clientId: 'region-330000',
  accessKeyId: 'AKDEVREGION330000',
  secret: 's'.repeat(40),
  kind: 'region',
  name: 'Zhejiang provincial platform',
  regionCode: '330000',
  scopes: ['cases:write'],
  rateLimit: { perSecond: 10, burst: 20 },
  ...overrides,
});

describe('ClientRegistry', () => {
  it('reads the development registry and finds clients by access key', async () => {
    const registry = ClientRegistry.parse(await readFile(devFile, 'utf8'));
    expect(registry.size).toBeGreaterThanOrEqual(35);
    const beijing = registry.findByAccessKey('AKDEVREGION110000');
    expect(beijing).toMatchObject({ clientId: 'region-110000', kind: 'region', regionCode: '110000' });
    expect(beijing && hasScope(beijing, 'cases:write')).toBe(true);
    expect(beijing && hasScope(beijing, 'licences:issue')).toBe(false);
    expect(registry.findByAccessKey('AKUNKNOWN')).toBeUndefined();
  });

  it('refuses duplicate access keys and a region client without a region, naming no secret', () => {
    const secret = 'super-secret-value-that-must-not-leak';
    expect(() =>
      ClientRegistry.parse({ clients: [client({ secret }), client({ secret, clientId: 'other' })] }),
    ).toThrow(/unique/);
    expect(() => ClientRegistry.parse({ clients: [client({ regionCode: undefined })] })).toThrow(
      /regionCode/,
    );
    try {
      ClientRegistry.parse({ clients: [client({ secret, kind: 'robot' })] });
      expect.unreachable();
    } catch (error) {
      expect((error as Error).message).toContain('clients.0.kind');
      expect((error as Error).message).not.toContain(secret);
    }
  });

  it('hands handlers the client without its secret', () => {
    const found = ClientRegistry.parse({ clients: [client()] }).findByAccessKey('AKDEVREGION330000');
    if (!found) throw new Error('client not found');
    const view = withoutSecret(found);
    expect(view).not.toHaveProperty('secret');
    expect(view.regionCode).toBe('330000');
  });
});

describe('loadClientRegistry', () => {
  it('prefers HUB_CLIENTS_FILE and reads it once per path', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'registry-'));
    const file = join(dir, 'clients.json');
    await writeFile(file, JSON.stringify({ clients: [client()] }));
    const env = { HUB_CLIENTS_FILE: file, HUB_CLIENTS_SECRET_ID: 'never-read' };
    const first = await loadClientRegistry(env);
    await writeFile(file, JSON.stringify({ clients: [] }));
    expect(await loadClientRegistry(env)).toBe(first);
    expect(first.findByAccessKey('AKDEVREGION330000')?.clientId).toBe('region-330000');
  });

  it('fails clearly when no source is configured', async () => {
    await expect(loadClientRegistry({})).rejects.toThrow(/HUB_CLIENTS_FILE nor HUB_CLIENTS_SECRET_ID/);
  });
});

describe('loadIdHmacKey', () => {
  it('uses HUB_ID_HMAC_KEY when present', async () => {
    const key = await loadIdHmacKey({ HUB_ID_HMAC_KEY: 'k'.repeat(32), HUB_ID_HMAC_SECRET_ID: 'never-read' });
    expect(key.equals(Buffer.from('k'.repeat(32)))).toBe(true);
  });

  it('refuses a short key and a missing source', async () => {
    await expect(loadIdHmacKey({ HUB_ID_HMAC_KEY: 'short' })).rejects.toThrow(/at least 32/);
    await expect(loadIdHmacKey({})).rejects.toThrow(/HUB_ID_HMAC_SECRET_ID/);
  });
});
