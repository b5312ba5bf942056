import { mkdirSync } from 'node:fs';
import type { Server } from 'node:http';
import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import type { RunningEngine } from './dynamodb';

export interface S3Options {
  /** 0 picks a free port. */
  port: number;
  /** Objects live here and survive restarts. */
  directory: string;
}

interface S3rverInstance {
  run(): Promise<AddressInfo>;
  close(): Promise<void>;
  httpServer?: Server;
  // s3rver is a Koa application: its object controllers emit `event` with an S3 notification ({ Records }).
  on(name: 'event', listener: (notification: S3Notification) => void): unknown;
  off(name: 'event', listener: (notification: S3Notification) => void): unknown;
}

/** One record of an S3 event notification, as s3rver emits it (the shape S3 sends to SQS, SNS and Lambda). */
export interface S3NotificationRecord {
  eventName: string;
  eventTime: string;
  awsRegion: string;
  requestParameters?: { sourceIPAddress?: string };
  responseElements?: Record<string, string>;
  s3: {
    bucket: { name: string };
    object: { key: string; size?: number; eTag?: string; versionId?: string; sequencer?: string };
  };
}
export interface S3Notification {
  Records: S3NotificationRecord[];
}

/** The running engine, plus its object notifications: what S3 itself would send when an object is written or removed. */
export interface RunningS3 extends RunningEngine {
  /** Subscribes to every object notification; returns the unsubscribe. */
  onNotification(listener: (notification: S3Notification) => void): () => void;
}

type S3rverConstructor = new (options: Record<string, unknown>) => S3rverInstance;

const require = createRequire(import.meta.url);

/** The key pair every local client signs with (the SDK needs some credentials; s3rver checks them). */
export const LOCAL_S3_CREDENTIALS = { accessKeyId: 'test', secretAccessKey: 'test' } as const;

/**
 * s3rver on 127.0.0.1. It verifies SigV4 signatures against its own key registry, which only knows
 * S3RVER/S3RVER out of the box, so the `test` pair every local client uses is registered first.
 * Clients must set AWS_REQUEST_CHECKSUM_CALCULATION=WHEN_REQUIRED: s3rver does not decode the SDK's
 * aws-chunked uploads and would store the chunk framing as object content.
 */
export async function startS3(options: S3Options): Promise<RunningS3> {
  const S3rver = require('s3rver') as S3rverConstructor;
  const account = require('s3rver/lib/models/account') as {
    DUMMY_ACCOUNT: { createKeyPair(id: string, secret: string): void };
  };
  account.DUMMY_ACCOUNT.createKeyPair(LOCAL_S3_CREDENTIALS.accessKeyId, LOCAL_S3_CREDENTIALS.secretAccessKey);
  mkdirSync(options.directory, { recursive: true });
  const server = new S3rver({
    address: '127.0.0.1',
    port: options.port,
    directory: options.directory,
    silent: true,
    // Path-style only: virtual-host buckets would need DNS for <bucket>.127.0.0.1.
    vhostBuckets: false,
  });
  const address = await server.run();
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    onNotification: (listener) => {
      server.on('event', listener);
      return () => server.off('event', listener);
    },
    stop: async () => {
      server.httpServer?.closeAllConnections();
      await server.close();
    },
  };
}
