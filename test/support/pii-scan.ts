import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { DEMO_PERSONS } from '../../functions/auth-verify/registry-seed';
import { validateCitizenId } from '../../shared/identifiers/citizen-id';
import { validateCreditCode } from '../../shared/identifiers/credit-code';
import { maskIdNumber, maskName, maskPhone } from '../../shared/masking';

/**
 * The personal-data scan of the whole test run (issue 9): everything the hub printed — function logs, the
 * local bus's event log, the hub's own lines, and whatever test processes wrote to stdout/stderr — is
 * searched for personal data in clear. A finding is reported masked (never the value itself) and fails
 * the test file it was seen in (pii-guard.ts), so a leak fails the run like any test.
 */

export type PersonalDataKind = 'citizen-id' | 'person-credit-code' | 'mobile-phone' | 'registry-name';

export interface Finding {
  kind: PersonalDataKind;
  /** The value as it may be shown: masked. */
  masked: string;
  /** Where it was seen: a file or a stream. */
  source: string;
  /** A few masked characters of context. */
  context: string;
}

// Bounded by anything but letters, digits, `-` and `_`, so that runs inside UUIDs and base64url tokens are not read.
const CITIZEN_ID = /(?<![0-9A-Za-z_-])\d{17}[\dXx](?![0-9A-Za-z_-])/g;
// Individual businesses (registering department 9, category 2) are natural persons: their code is personal data.
const PERSON_CREDIT_CODE = /(?<![0-9A-Za-z_-])92[0-9A-HJ-NP-RTUWXY]{16}(?![0-9A-Za-z_-])/g;
const MOBILE_PHONE = /(?<![0-9A-Za-z_-])1[3-9]\d{9}(?![0-9A-Za-z_-])/g;

/** Names of the demo registry and of the generated test traffic: seeing one in clear means a leak. */
export const REGISTRY_NAMES: readonly string[] = [
  ...DEMO_PERSONS.map((p) => p.name),
  '王五',
  '王小明',
  '欧阳娜娜',
];

export function findPersonalData(text: string, source: string): Finding[] {
  const findings: Finding[] = [];
  const add = (kind: PersonalDataKind, index: number, masked: string) =>
    findings.push({ kind, masked, source, context: contextAround(text, index) });
  for (const match of text.matchAll(CITIZEN_ID)) {
    if (validateCitizenId(match[0]).ok) add('citizen-id', match.index, maskIdNumber(match[0]));
  }
  for (const match of text.matchAll(PERSON_CREDIT_CODE)) {
    if (validateCreditCode(match[0]).ok) add('person-credit-code', match.index, maskIdNumber(match[0]));
  }
  for (const match of text.matchAll(MOBILE_PHONE)) add('mobile-phone', match.index, maskPhone(match[0]));
  for (const name of REGISTRY_NAMES) {
    for (let at = text.indexOf(name); at >= 0; at = text.indexOf(name, at + name.length)) {
      add('registry-name', at, maskName(name));
    }
  }
  return findings;
}

/** Surrounding characters with every digit and CJK character replaced, so the report itself leaks nothing. */
function contextAround(text: string, index: number): string {
  return text
    .slice(Math.max(0, index - 40), index + 60)
    .replace(/[0-9]/g, '#')
    .replace(/[\u3400-\u9fff]/g, '*')
    .replace(/\s+/g, ' ');
}

/** Findings of this test file's process not yet reported as a failure (pii-guard.ts reports them). */
const unreported: Finding[] = [];

export function takeUnreportedFindings(): Finding[] {
  return unreported.splice(0);
}

export function describeFindings(findings: readonly Finding[]): string {
  const lines = findings.slice(0, 20).map((f) => `  ${f.kind} ${f.masked} in ${f.source}: …${f.context}…`);
  return `Personal data in clear in ${findings.length} places of logs or events (shown masked):\n${lines.join('\n')}`;
}

export function recordFindings(findings: readonly Finding[]): void {
  unreported.push(...findings);
}

/** Scans every file under a folder (a hub's state: function logs, events.jsonl) and records what it finds. */
export function scanFolder(dir: string, label: string): Finding[] {
  const findings: Finding[] = [];
  const walk = (path: string) => {
    for (const entry of readdirSync(path)) {
      const full = join(path, entry);
      const stats = statSync(full);
      if (stats.isDirectory()) walk(full);
      else if (/\.(log|jsonl)$/.test(entry)) {
        findings.push(...findPersonalData(readFileSync(full, 'utf8'), `${label}/${entry}`));
      }
    }
  };
  try {
    walk(dir);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  recordFindings(findings);
  return findings;
}
