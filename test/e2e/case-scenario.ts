import {
  generateAuthorityCode,
  generateCitizenId,
  generateImplementationCode,
  type Random,
} from '../../shared/identifiers/generate';

/**
 * Synthetic case traffic with its ground truth, computed here from first principles (not with the
 * capability's own domain code), so the end-to-end test can compare what the hub stored exactly.
 */

export type Status = 'submitted' | 'accepted' | 'rejected' | 'in_progress' | 'completed' | 'terminated';

export interface CaseRecord {
  regionCode: string;
  caseNumber: string;
  itemCode: string;
  itemName: string;
  departmentCode: string;
  applicant: { type: 'person'; idType: 'citizen_id'; idNumber: string; name: string };
  channel: 'online' | 'window' | 'mobile' | 'terminal';
  fullyOnline: boolean;
  promisedDays: number;
  statutoryDays: number;
  status: Status;
  statusAt: string;
}

export interface ScenarioCase {
  caseId: string;
  timeline: { status: Status; at: Date }[];
  base: Omit<CaseRecord, 'status' | 'statusAt'>;
}

export interface Counters {
  received: number;
  accepted: number;
  rejected: number;
  completed: number;
  terminated: number;
  completedOnTime: number;
  online: number;
  fullyOnline: number;
  processingHours: number;
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

const PATHS: Status[][] = [
  ['submitted', 'accepted', 'in_progress', 'completed'],
  ['submitted', 'accepted', 'completed'],
  ['submitted', 'rejected'],
  ['accepted', 'in_progress', 'terminated'],
  ['submitted', 'accepted', 'in_progress'],
];

const NAMES = ['张三', '李四', '王小明', '欧阳娜娜', 'Li Lei'];

function pick<T>(random: Random, items: readonly T[]): T {
  return items[Math.floor(random() * items.length)] as T;
}

/** Cases for the given regions, each with a realistic timeline in whole hours (no rounding questions). */
export function buildCases(random: Random, regions: string[], count: number): ScenarioCase[] {
  // Departments are government organs (registering department 1, category 1), as implementing bodies are.
  const departments = regions.map((region) => generateAuthorityCode(random, region));
  const items = departments.map((dept) => [
    generateImplementationCode(random, dept),
    generateImplementationCode(random, dept),
  ]);
  const start = Date.UTC(2026, 7, 3, 1, 0, 0); // 2026-08-03 09:00 Asia/Shanghai: every time lies in the past
  const cases: ScenarioCase[] = [];
  for (let i = 0; i < count; i++) {
    const r = i % regions.length;
    const regionCode = regions[r] as string;
    const path = pick(random, PATHS);
    let at = start + Math.floor(random() * 20) * DAY + Math.floor(random() * 8) * HOUR;
    const timeline = path.map((status) => {
      // Completion either the next working hours (on time) or five weeks later (late whatever the calendar).
      const step =
        status === 'completed' && random() < 0.4 ? 35 * DAY : (1 + Math.floor(random() * 5)) * HOUR;
      at += step;
      return { status, at: new Date(at) };
    });
    const channel = pick(random, ['online', 'window', 'mobile', 'terminal'] as const);
    const departmentCode = departments[r] as string;
    const caseNumber = `E2E${String(i).padStart(6, '0')}${Math.floor(random() * 1e6)}`;
    cases.push({
      caseId: `${regionCode}:${caseNumber}`,
      timeline,
      base: {
        regionCode,
        caseNumber,
        itemCode: pick(random, items[r] as string[]),
        itemName: 'Business licence registration',
        departmentCode,
        applicant: {
          type: 'person',
          idType: 'citizen_id',
          idNumber: generateCitizenId(random, { regionCode: `${regionCode.slice(0, 2)}0102` }),
          name: pick(random, NAMES),
        },
        channel,
        fullyOnline: channel !== 'window' && random() < 0.5,
        promisedDays: 3 + Math.floor(random() * 5),
        statutoryDays: 20,
      },
    });
  }
  return cases;
}

export function recordsOf(c: ScenarioCase): CaseRecord[] {
  return c.timeline.map((t) => ({ ...c.base, status: t.status, statusAt: toShanghaiIso(t.at) }));
}

export function toShanghaiIso(d: Date): string {
  return `${new Date(d.getTime() + 8 * HOUR).toISOString().slice(0, 19)}+08:00`;
}

/** Calendar day in Asia/Shanghai (UTC+8, no daylight saving). */
export const shanghaiDay = (d: Date): string => new Date(d.getTime() + 8 * HOUR).toISOString().slice(0, 10);

const empty = (): Counters => ({
  received: 0,
  accepted: 0,
  rejected: 0,
  completed: 0,
  terminated: 0,
  completedOnTime: 0,
  online: 0,
  fullyOnline: 0,
  processingHours: 0,
});

/** Expected counters per `{day}|{regionCode}|{departmentCode}|{itemCode}`, summed over shards. */
export function expectedStatistics(cases: ScenarioCase[]): Map<string, Counters> {
  const out = new Map<string, Counters>();
  const bump = (at: Date, c: ScenarioCase, field: keyof Counters, by = 1) => {
    const key = `${shanghaiDay(at)}|${c.base.regionCode}|${c.base.departmentCode}|${c.base.itemCode}`;
    const counters = out.get(key) ?? empty();
    counters[field] += by;
    out.set(key, counters);
  };
  for (const c of cases) {
    const first = c.timeline[0] as { at: Date };
    bump(first.at, c, 'received');
    if (c.base.channel === 'online' || c.base.channel === 'mobile') bump(first.at, c, 'online');
    if (c.base.fullyOnline) bump(first.at, c, 'fullyOnline');
    const at = (s: Status) => c.timeline.find((t) => t.status === s)?.at;
    for (const s of ['accepted', 'rejected', 'completed', 'terminated'] as const) {
      const when = at(s);
      if (when) bump(when, c, s);
    }
    const accepted = at('accepted');
    const completed = at('completed');
    if (accepted && completed) {
      bump(completed, c, 'processingHours', (completed.getTime() - accepted.getTime()) / HOUR);
      // Generated completions are either within hours (on time) or 35 days later (late).
      if (completed.getTime() - accepted.getTime() < 2 * DAY) bump(completed, c, 'completedOnTime');
    }
  }
  return out;
}

/** Fisher–Yates with the scenario's random source. */
export function shuffle<T>(random: Random, items: T[]): T[] {
  const copy = [...items];
  for (let i = copy.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [copy[i], copy[j]] = [copy[j] as T, copy[i] as T];
  }
  return copy;
}
