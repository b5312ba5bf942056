import { afterAll } from 'vitest';
import { describeFindings, findPersonalData, recordFindings, takeUnreportedFindings } from './pii-scan';

/**
 * A vitest setup file: every chunk a test process writes to stdout or stderr — the structured logs of the
 * handlers that integration tests run in-process included — is scanned for personal data in clear before it
 * is written. The file's own findings (a test hub's logs included, scanned when it stops) fail the file in
 * its last hook, so a leak fails the run like any test.
 */
for (const [name, stream] of [
  ['stdout', process.stdout],
  ['stderr', process.stderr],
] as const) {
  const write = stream.write.bind(stream) as (...args: unknown[]) => boolean;
  stream.write = ((chunk: unknown, ...rest: unknown[]) => {
    const text = typeof chunk === 'string' ? chunk : Buffer.isBuffer(chunk) ? chunk.toString('utf8') : '';
    if (text.length > 0) recordFindings(findPersonalData(text, `${name} of ${testFile()}`));
    return write(chunk, ...rest);
  }) as typeof stream.write;
}

function testFile(): string {
  const state = (globalThis as { __vitest_worker__?: { filepath?: string } }).__vitest_worker__;
  return state?.filepath?.replace(`${process.cwd()}/`, '') ?? 'a test process';
}

// Registered first, so it runs after the file's own afterAll hooks (which stop its hubs).
afterAll(() => {
  const findings = takeUnreportedFindings();
  if (findings.length > 0) throw new Error(describeFindings(findings));
});
