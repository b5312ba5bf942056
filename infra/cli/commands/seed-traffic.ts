import { generateCatalogue } from '../../../functions/case-aggregate/catalogue-seed';
import type { CatalogueItem } from '../../../functions/case-aggregate/domain/catalogue';
import { generateCitizenId, type Random, seededRandom } from '../../../shared/identifiers/generate';
import { PROVINCES } from '../../../shared/regions';

/**
 * Synthetic traffic for the seed command: for each region (provincial-level platform) its catalogue items, case
 * status records (accepted, then mostly completed: on time, late, or still open) and evaluations of completed
 * cases, deterministic for a seed. Every time lies between `from` and `now`; no real person is in it.
 */
export interface SeedTrafficOptions {
  regions: number;
  cases: number;
  /** Share of completed cases that get an evaluation (0–1). */
  evaluationShare: number;
  seed: number;
  /** First and last day (Asia/Shanghai) cases are accepted on. */
  from: string;
  to: string;
  now: Date;
}

export interface SeedCaseRecord {
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
  status: 'accepted' | 'completed';
  statusAt: string;
}

export interface SeedEvaluation {
  regionCode: string;
  caseNumber: string;
  level: number;
  channel: 'pc' | 'app' | 'mini_program' | 'window' | 'hotline' | 'terminal';
  stage: 'completed';
  evaluator: { type: 'person'; idType: 'citizen_id'; idNumber: string };
  evaluatedAt: string;
}

export interface RegionTraffic {
  province: string;
  items: CatalogueItem[];
  cases: SeedCaseRecord[];
  evaluations: SeedEvaluation[];
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const SHANGHAI_OFFSET = 8 * HOUR;
const NAMES = ['张伟', '王芳', '李娜', '刘洋', '陈静', '杨磊', '赵敏', '黄强'];
/** Mostly satisfied, as real 好差评 data is, with a tail of bad reviews. */
const LEVELS = [5, 5, 5, 5, 4, 4, 4, 3, 2, 1];
const EVALUATION_CHANNELS = ['pc', 'app', 'mini_program', 'window'] as const;

const pick = <T>(random: Random, list: readonly T[]): T => list[Math.floor(random() * list.length)] as T;

/** `2026-11-21T10:00:00+08:00` for an instant. */
export function shanghaiIso(ms: number): string {
  return `${new Date(ms + SHANGHAI_OFFSET).toISOString().slice(0, 19)}+08:00`;
}

const dayStartMs = (day: string) => Date.parse(`${day}T00:00:00+08:00`);

export function generateSeedTraffic(options: SeedTrafficOptions): RegionTraffic[] {
  const random = seededRandom(options.seed);
  const catalogue = generateCatalogue();
  const provinces = PROVINCES.slice(0, options.regions);
  const first = dayStartMs(options.from);
  const span = Math.max(1, Math.round((dayStartMs(options.to) - first) / DAY) + 1);
  const nowMs = options.now.getTime();
  return provinces.map((province, regionIndex) => {
    const items = catalogue.filter((item) => item.regionCode.slice(0, 2) === province.code.slice(0, 2));
    const count =
      Math.floor(options.cases / provinces.length) + (regionIndex < options.cases % provinces.length ? 1 : 0);
    // Each region has its own punctuality, so the ranking has something to rank.
    const onTimeShare = 0.6 + random() * 0.38;
    const cases: SeedCaseRecord[] = [];
    const evaluations: SeedEvaluation[] = [];
    for (let i = 0; i < count; i++) {
      const item = pick(random, items);
      const acceptedAt = first + Math.floor(random() * span) * DAY + (9 + Math.floor(random() * 8)) * HOUR;
      const caseNumber = `SEED${options.seed}${province.code.slice(0, 2)}${String(i).padStart(7, '0')}`;
      const idNumber = generateCitizenId(random, { regionCode: `${province.code.slice(0, 2)}0102` });
      const channel = pick(random, ['online', 'window', 'mobile', 'terminal'] as const);
      const base = {
        regionCode: item.regionCode,
        caseNumber,
        itemCode: item.implementationCode,
        itemName: item.name,
        departmentCode: item.departmentCode,
        applicant: {
          type: 'person' as const,
          idType: 'citizen_id' as const,
          idNumber,
          name: pick(random, NAMES),
        },
        channel,
        fullyOnline: item.fullyOnlineCapable && channel !== 'window' && random() < 0.8,
        promisedDays: item.promisedDays,
        statutoryDays: item.statutoryDays,
      };
      if (acceptedAt > nowMs) continue;
      cases.push({ ...base, status: 'accepted', statusAt: shanghaiIso(acceptedAt) });
      // On time: within a day or two; late: well past the promised limit (2 calendar days per working day, + 3).
      const completedAt =
        random() < onTimeShare
          ? acceptedAt + (2 + Math.floor(random() * 30)) * HOUR
          : acceptedAt + (item.promisedDays * 2 + 3) * DAY;
      if (completedAt > nowMs || random() < 0.08) continue; // still open
      cases.push({ ...base, status: 'completed', statusAt: shanghaiIso(completedAt) });
      const evaluatedAt = completedAt + (1 + Math.floor(random() * 24)) * HOUR;
      if (evaluatedAt <= nowMs && random() < options.evaluationShare) {
        evaluations.push({
          regionCode: item.regionCode,
          caseNumber,
          level: pick(random, LEVELS),
          channel: pick(random, EVALUATION_CHANNELS),
          stage: 'completed',
          evaluator: { type: 'person', idType: 'citizen_id', idNumber },
          evaluatedAt: shanghaiIso(evaluatedAt),
        });
      }
    }
    return { province: province.code, items, cases, evaluations };
  });
}
