import { PassThrough } from 'node:stream';
import { GetObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { runCli } from '../../infra/cli/cli';
import { REPO_ROOT } from '../../infra/local/workers';
import { seededRandom } from '../../shared/identifiers/generate';
import { buildCases, recordsOf, shanghaiDay } from './case-scenario';
import { hubClient } from './hub-client';
import { devClient } from './support/dev-clients';
import { signInThroughHub } from './support/sign-in';
import { postJson } from './support/signed-fetch';
import { type E2eTarget, startTarget } from './support/target';

/**
 * Issue 7, private → public, end to end on any target (test/e2e/support/target.ts): cases go in through the private
 * API, a day is rolled up, and the PUBLIC API then lists the period and serves the very snapshot the private cloud
 * wrote — copied by the snapshot publisher, nothing else crossing. And the public cloud's stateless introspection.
 */
let target: E2eTarget;

beforeAll(async () => {
  target = await startTarget('public-cloud', { maxVisibilityTimeoutSeconds: 2 });
}, 300_000);

afterAll(async () => {
  await target?.stop();
});

async function cli(...argv: string[]): Promise<{ status: number; output: string }> {
  const sink = new PassThrough();
  let output = '';
  sink.on('data', (chunk) => {
    output += String(chunk);
  });
  const status = await runCli([...argv, ...target.cliTargetArgs()], {
    stdout: sink,
    stderr: sink,
    env: { ...process.env, HUB_URL: '' },
    cwd: REPO_ROOT,
  });
  return { status, output };
}

async function until<T>(
  probe: () => Promise<T>,
  done: (value: T) => boolean,
  timeoutMs = 60_000,
): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (done(value) || Date.now() > deadline) return value;
    await new Promise((resolve) => setTimeout(resolve, 200));
  }
}

/** The provinces a snapshot has a scope of: those the rollup wrote an item snapshot for. */
const provincesIn = (snapshot: Record<string, unknown>): string[] =>
  ((snapshot.scopes ?? []) as { level: string; province?: string }[])
    .filter((scope) => scope.level === 'province')
    .map((scope) => scope.province as string);

const getJson = async (url: string) => {
  const response = await fetch(url);
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
};

describe('the public cloud', () => {
  const cases = buildCases(seededRandom(20261123), ['330000', '440000'], 24);
  const day = shanghaiDay(cases[0]?.timeline[0]?.at ?? new Date());

  it('lists a rolled-up day and serves exactly the snapshot the private cloud wrote', async () => {
    for (const province of ['330000', '440000']) {
      const records = cases.filter((c) => c.base.regionCode === province).flatMap(recordsOf);
      const response = await hubClient(target.apiUrl, `region-${province}`).post('/v1/cases:batch', {
        records,
      });
      expect(response.status).toBe(202);
    }
    await target.drained({ timeoutMs: 120_000 });
    const rolled = await cli('rollup', '--from', day, '--to', day);
    expect(rolled.status, rolled.output).toBe(0);
    await target.drained({ timeoutMs: 120_000 });

    const month = day.slice(0, 7);
    const index = await until(
      () => getJson(`${target.publicApiUrl}/v1/public/assessments`),
      (answer) => [day, month].every((p) => (answer.body.periods as string[] | undefined)?.includes(p)),
    );
    expect(index.status).toBe(200);
    expect(index.body.periods).toEqual(expect.arrayContaining([day, month]));
    // Newest first: the day sorts before its own month.
    const periods = index.body.periods as string[];
    expect(periods.indexOf(day)).toBeLessThan(periods.indexOf(month));

    const published = await getJson(`${target.publicApiUrl}/v1/public/assessments/${day}`);
    expect(published.status).toBe(200);
    const s3 = new S3Client(target.aws('s3'));
    try {
      const read = async (bucket: string, key: string) =>
        (await s3.send(new GetObjectCommand({ Bucket: bucket, Key: key }))).Body?.transformToString('utf-8');
      const privateBucket = target.output('private', 'AssessmentsBucketName');
      const publicBucket = target.output('public', 'SnapshotsBucketName');
      const privateJson = await read(privateBucket, `assessments/${day}.json`);
      expect(published.body).toEqual(JSON.parse(privateJson ?? 'null'));
      expect(published.body).toMatchObject({ period: day, periodType: 'day' });
      // The copies are byte for byte the private objects, CSV included.
      expect(await read(publicBucket, `assessments/${day}.json`)).toBe(privateJson);
      expect(await read(publicBucket, `assessments/${day}.csv`)).toBe(
        await read(privateBucket, `assessments/${day}.csv`),
      );
      // Each province's item snapshot (the dashboard's drill-down) crossed with it, of the day and of its month.
      for (const period of [day, month]) {
        const snapshot = JSON.parse((await read(privateBucket, `assessments/${period}.json`)) ?? '{}');
        const provinces = provincesIn(snapshot);
        expect(provinces.length, period).toBeGreaterThan(0);
        for (const province of provinces) {
          for (const key of [
            `assessments/${period}/items-${province}.json`,
            `assessments/${period}/items-${province}.csv`,
          ]) {
            const privateCopy = await read(privateBucket, key);
            expect(privateCopy, key).toBeDefined();
            expect(await read(publicBucket, key), key).toBe(privateCopy);
          }
        }
      }
      const [province] = provincesIn(published.body);
      const items = JSON.parse(
        (await read(publicBucket, `assessments/${day}/items-${province}.json`)) ?? '{}',
      );
      expect(items.scopes.length).toBeGreaterThan(0);
      for (const scope of items.scopes) {
        expect(scope).toMatchObject({ level: 'item', province });
        expect(scope.itemCode).toEqual(expect.any(String));
      }
    } finally {
      s3.destroy();
    }
  }, 300_000);

  it('answers an unpublished or malformed period with a problem, and serves no private route', async () => {
    const missing = await fetch(`${target.publicApiUrl}/v1/public/assessments/1999-01-01`);
    expect(missing.status).toBe(404);
    expect(((await missing.json()) as { type: string }).type).toBe(
      'urn:zwfw-hub:problem:assessment-not-published',
    );
    const malformed = await fetch(`${target.publicApiUrl}/v1/public/assessments/yesterday`);
    expect(malformed.status).toBe(422);
    // The public API is the public cloud's alone: case ingest lives on the private API.
    const ingest = await hubClient(target.publicApiUrl, 'region-330000').post('/v1/cases:batch', {
      records: [],
    });
    expect([403, 404]).toContain(ingest.status);
  });

  it('serves the dashboard’s snapshots and item drill-downs from the published copies on the public port (local hub)', async (ctx) => {
    const hub = target.local?.hub;
    if (!hub) return ctx.skip();
    const dashboard = `http://127.0.0.1:${hub.publicPort}/dashboard`;
    const index = await getJson(`${dashboard}/snapshots/index.json`);
    expect(index.body.periods).toEqual(expect.arrayContaining([day]));
    // A province's drill-down, as the page fetches it (relative to /dashboard/), from the published copy.
    const [province] = provincesIn((await getJson(`${dashboard}/snapshots/${day}.json`)).body);
    expect(province).toBeDefined();
    const s3 = new S3Client(target.aws('s3'));
    try {
      const published = await s3.send(
        new GetObjectCommand({
          Bucket: target.output('public', 'SnapshotsBucketName'),
          Key: `assessments/${day}/items-${province}.json`,
        }),
      );
      const served = await fetch(`${dashboard}/snapshots/${day}/items-${province}.json`);
      expect(served.status).toBe(200);
      expect(served.headers.get('content-type')).toMatch(/^application\/json/);
      expect(await served.text()).toBe(await published.Body?.transformToString('utf-8'));
    } finally {
      s3.destroy();
    }
    const missing = await fetch(`${dashboard}/snapshots/${day}/items-650000.json`);
    expect(missing.status).toBe(404);
  });

  it('introspects tokens statelessly on the public API: revocations are not seen there', async () => {
    const app = devClient('app-citizen');
    const person = DEMO_PERSONS[0] as { idNumber: string; name: string };
    const { accessToken, identity } = await signInThroughHub(target.apiUrl, app, person);
    const introspect = async (url: string, token: string) => {
      const response = await postJson(url, app, '/v1/tokens/introspect', { token });
      expect(response.status).toBe(200);
      return (await response.json()) as Record<string, unknown>;
    };
    expect(await introspect(target.publicApiUrl, accessToken)).toMatchObject({
      active: true,
      aud: app.clientId,
      client_id: app.clientId,
    });
    expect(identity.sub).toBeDefined();
    expect(await introspect(target.publicApiUrl, `${accessToken}x`)).toEqual({ active: false });

    const revoked = await postJson(target.apiUrl, app, '/v1/tokens/revoke', { token: accessToken });
    expect(revoked.status).toBe(200);
    await until(
      () => introspect(target.apiUrl, accessToken),
      (answer) => answer.active === false,
      10_000,
    );
    expect(await introspect(target.apiUrl, accessToken)).toEqual({ active: false });
    // The documented limit: the public cloud keeps no revocations, so the token stays active there until it expires.
    expect(await introspect(target.publicApiUrl, accessToken)).toMatchObject({ active: true });
  }, 60_000);
});
