import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Machine } from './machine';
import { formatRate } from './measure';
import type { BenchOutcome, Figure } from './types';

export type BenchResult = { name: string; description: string; seconds: number } & (
  | BenchOutcome
  | { status: 'failed'; error: string }
);

export interface BenchReport {
  startedAt: string;
  seconds: number;
  machine: Machine;
  benchmarks: BenchResult[];
}

const BIOME = join(import.meta.dirname, '../../../node_modules/.bin/biome');

/** Four significant digits: more would only be noise, and the file stays readable in review. */
const significant = (_key: string, value: unknown) =>
  typeof value === 'number' && !Number.isInteger(value) ? Number(value.toPrecision(4)) : value;

export function writeReport(
  report: BenchReport,
  files: { json: string; markdown: string },
  { committed }: { committed: boolean },
): void {
  writeFileSync(files.json, `${JSON.stringify(report, significant, 2)}\n`);
  // Committed results are formatted by the project's formatter, so they pass `npm test`'s biome check.
  if (committed) execFileSync(BIOME, ['format', '--write', files.json], { stdio: 'ignore' });
  writeFileSync(files.markdown, toMarkdown(report));
}

const ratioText = (f: Figure) => f.ratio.toFixed(f.ratio < 0.1 ? 3 : 2);
function goalText(f: Figure): string {
  if (!f.goal) return '—';
  const bound = 'atLeast' in f.goal ? `≥ ${f.goal.atLeast}` : `≤ ${f.goal.atMost}`;
  const of = f.goal.of === 'subject' ? `subject ${f.subject.unit} ` : '';
  return `${of}${bound} (${f.goal.met ? 'met' : 'not met'})`;
}
const perText = (rate: Figure['subject']) => (rate.per ? ` ${rate.unit} per ${rate.per}` : ` ${rate.unit}/s`);
const rateText = (rate: Figure['subject']) => `${formatRate(rate.perSecond)}${perText(rate)}`;

export function toMarkdown(report: BenchReport): string {
  const { machine } = report;
  const lines = [
    '# Benchmarks',
    '',
    'Written by `npm run bench` (test/bench/run.ts); every run overwrites it. Each figure is the RATIO of a',
    "subject's rate to a baseline measured in the same run on the same machine (median of the rounds after a",
    'warm-up); the raw rates are beside it and only mean something on this machine. Goals are informative:',
    'nothing here is a test.',
    '',
    `Run ${report.startedAt}, ${Math.round(report.seconds)} s — ${machine.cores} cores, ${machine.cpuModel}, ` +
      `Node ${machine.node}, ${machine.platform}, ${machine.memoryGiB} GiB.`,
    '',
    '| benchmark | figure | ratio | goal | subject | baseline |',
    '| --- | --- | --- | --- | --- | --- |',
  ];
  for (const result of report.benchmarks) {
    if (result.status !== 'ok') continue;
    for (const f of result.figures) {
      lines.push(
        `| ${result.name} | ${f.name} | **${ratioText(f)}** | ${goalText(f)} | ${f.subject.label}: ${rateText(f.subject)} | ${f.baseline.label}: ${rateText(f.baseline)} |`,
      );
    }
  }
  const notOk = report.benchmarks.filter((r) => r.status !== 'ok');
  if (notOk.length > 0) {
    lines.push('', '## Not measured', '');
    for (const result of notOk) {
      const why =
        result.status === 'skipped' ? result.reason : result.status === 'failed' ? result.error : '';
      lines.push(`- **${result.name}** — ${result.status}: ${why}`);
    }
  }
  const capacity = report.benchmarks.flatMap((r) => (r.status === 'ok' ? (r.capacity ?? []) : []));
  if (capacity.length > 0) {
    lines.push(
      '',
      '## Consumed capacity per operation',
      '',
      'Read by the capacity model (`npm run hub -- capacity`).',
      '',
      '| operation | WCU | RCU | per table | basis |',
      '| --- | --- | --- | --- | --- |',
    );
    for (const c of capacity) {
      const tables = Object.entries(c.tables)
        .map(([table, t]) => `${table} ${t.wcu.toPrecision(3)} W / ${t.rcu.toPrecision(3)} R`)
        .join('; ');
      lines.push(
        `| ${c.operation} | ${c.wcu.toPrecision(3)} | ${c.rcu.toPrecision(3)} | ${tables} | ${c.basis} |`,
      );
    }
  }
  const quantities = report.benchmarks.flatMap((r) => (r.status === 'ok' ? (r.quantities ?? []) : []));
  for (const q of quantities) lines.push('', `- ${q.name} = ${q.value.toPrecision(4)} (${q.basis})`);
  lines.push('', '## How each figure was measured', '');
  for (const result of report.benchmarks) {
    lines.push(`### ${result.name}`, '', result.description, '');
    if (result.status !== 'ok') continue;
    for (const f of result.figures) {
      lines.push(`- ${f.name}`);
      for (const rate of [f.subject, f.baseline]) {
        const rounds = rate.rounds.map(formatRate).join(', ');
        lines.push(`  - ${rate.label}: ${rate.method}; rounds ${rounds}${perText(rate)}`);
      }
      for (const note of f.notes ?? []) lines.push(`  - ${note}`);
    }
    for (const note of result.notes ?? []) lines.push(`- ${note}`);
    lines.push('');
  }
  return `${lines.join('\n').trimEnd()}\n`;
}
