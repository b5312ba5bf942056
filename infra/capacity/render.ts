import type { CapacityReport } from './model';

/** The capacity report as plain-text tables for a terminal (and the README). */

const compact = new Intl.NumberFormat('en-US', { notation: 'compact', maximumFractionDigits: 2 });
const whole = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const usd = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 0 });

/** Counts: compact (1.2M); rates and small numbers: up to two decimals. */
export function formatCount(n: number): string {
  if (Math.abs(n) >= 10_000) return compact.format(n);
  if (Math.abs(n) >= 100) return whole.format(n);
  return Number(n.toPrecision(3)).toString();
}

const percent = (share: number) => `${Number((share * 100).toPrecision(3))} %`;

function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === 0 ? c.padEnd(widths[i] ?? 0) : c.padStart(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return [line(header), line(widths.map((w) => '-'.repeat(w))), ...rows.map(line)];
}

export function renderReport(report: CapacityReport, header: string[] = []): string {
  const { options } = report;
  const exceeded = report.limits.filter((l) => l.exceeded);
  const lines = [
    ...header,
    `Capacity per month of ${options.days} days at scale ${options.scale} × the 2019 national figures, peak = ${options.peakFactor} × the average second.`,
    `On-demand prices: ${report.region}, ${report.pricesAsOf}.`,
    '',
    'Load',
    ...table(
      ['what', 'per month', 'peak /s'],
      report.load.map((l) => [l.name, formatCount(l.perMonth), formatCount(l.peakPerSecond)]),
    ),
    '',
    'Lambda',
    ...table(
      ['function', 'MB', 'invocations', 'GB-s', 'peak concurrency', 'USD'],
      report.lambda.map((l) => [
        l.function,
        String(l.memoryMb),
        formatCount(l.invocations),
        formatCount(l.gbSeconds),
        formatCount(l.peakConcurrency),
        usd.format(l.usd),
      ]),
    ),
    '',
    'DynamoDB (on-demand)',
    ...table(
      ['table', 'WCU', 'RCU', 'peak WCU/s', 'peak RCU/s', 'hottest partition', 'share', 'its WCU/s', 'USD'],
      report.dynamodb.map((t) => [
        t.table,
        formatCount(t.wcu),
        formatCount(t.rcu),
        formatCount(t.peakWcuPerSecond),
        formatCount(t.peakRcuPerSecond),
        t.hottestPartition.key,
        percent(t.hottestPartition.share),
        formatCount(t.hottestPartition.wcuPerSecond),
        usd.format(t.usd),
      ]),
    ),
    '',
    'SQS (standard queues)',
    ...table(
      ['queue', 'messages', 'requests', 'peak in flight', 'USD'],
      report.sqs.map((q) => [
        q.queue,
        formatCount(q.messages),
        formatCount(q.requests),
        formatCount(q.peakInFlight),
        usd.format(q.usd),
      ]),
    ),
    '',
    `API Gateway: ${formatCount(report.apiGateway.requests)} requests, peak ${formatCount(report.apiGateway.peakPerSecond)}/s, ${usd.format(report.apiGateway.usd)}`,
    `EventBridge: ${formatCount(report.eventBridge.customEvents)} custom events (+ ${formatCount(report.eventBridge.serviceEvents)} S3 events, free), peak ${formatCount(report.eventBridge.peakPutEventsPerSecond)} PutEvents/s, ${usd.format(report.eventBridge.usd)}`,
    `S3: ${formatCount(report.s3.putRequests)} PUT, ${formatCount(report.s3.getRequests)} GET, +${formatCount(report.s3.storageGbAddedPerMonth)} GB stored per month, ${usd.format(report.s3.usd)}`,
    '',
    'Cost per month (on demand)',
    ...table(
      ['service', 'USD'],
      [...report.cost.map((c) => [c.service, usd.format(c.usd)]), ['total', usd.format(report.totalUsd)]],
    ),
    '',
    'Limits',
    ...table(
      ['limit', 'peak', 'limit value', ''],
      report.limits.map((l) => [
        l.name,
        formatCount(l.peak),
        formatCount(l.limit),
        l.exceeded ? 'EXCEEDED' : 'ok',
      ]),
    ),
    '',
    exceeded.length === 0
      ? 'No limit exceeded.'
      : `${exceeded.length} limit(s) EXCEEDED: ${exceeded.map((l) => l.name).join('; ')}.`,
  ];
  return `${lines.join('\n')}\n`;
}
