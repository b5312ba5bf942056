import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'aws-cdk-lib/aws-sqs';
import { afterAll, describe, expect, it } from 'vitest';
import { createHubApp } from '../../infra/stacks/hub';
import { cdkJsonContext, NO_BUNDLING } from './synth';

const outdir = mkdtempSync(join(tmpdir(), 'zwfw-nag-'));
afterAll(() => rmSync(outdir, { recursive: true, force: true }));

describe('cdk-nag wiring of the app', () => {
  it('fails the synth on a finding nobody acknowledged', () => {
    const hub = createHubApp({ outdir, context: { ...cdkJsonContext(), ...NO_BUNDLING } });
    // A queue made without the hub's helpers: no DLQ, no TLS-only policy.
    new Queue(hub.privateCloud, 'Unwatched');
    expect(() => hub.app.synth()).toThrow(
      /AwsSolutions-SQS3[\s\S]*Unwatched|Unwatched[\s\S]*AwsSolutions-SQS3/,
    );
    // Synthesising both whole stacks with every cdk-nag rule takes ~25 s on two cores.
  }, 120_000);
});
