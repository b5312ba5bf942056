import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { Tracer } from '@aws-lambda-powertools/tracer';

/**
 * One Logger, Metrics and Tracer per function process, configured from the environment the CDK
 * constructs set (POWERTOOLS_SERVICE_NAME, POWERTOOLS_METRICS_NAMESPACE, LOG_LEVEL).
 *
 * The logger redacts NOTHING by itself: there is no reliable way to recognise a name or an ID number
 * in arbitrary text. Callers must never pass request bodies, records, names, ID numbers or phone
 * numbers to it — log ids, counts, zod paths and masked values (shared/masking) instead.
 */
const serviceName = process.env.POWERTOOLS_SERVICE_NAME ?? 'zwfw-hub';

export const logger = new Logger({
  serviceName,
  persistentKeys: { stage: process.env.HUB_STAGE ?? 'unknown' },
});

export const metrics = new Metrics({
  serviceName,
  namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'zwfw-hub',
});

// Outside Lambda (tests, the local runtime) the tracer disables itself; no X-Ray daemon is needed.
export const tracer = new Tracer({ serviceName });

export type HubLogger = Logger;
export type HubMetrics = Metrics;
