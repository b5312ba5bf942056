import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { RetentionDays } from 'aws-cdk-lib/aws-logs';
import type { Node } from 'constructs';
import { z } from 'zod';
import { holidayCalendarSchema } from '../shared/calendar';

export const STAGES = ['dev', 'staging', 'prod'] as const;
export type Stage = (typeof STAGES)[number];

export const CONTEXT_KEYS = {
  stage: 'zwfw:stage',
  account: 'zwfw:account',
  region: 'zwfw:region',
  publicAccount: 'zwfw:publicAccount',
  holidayCalendar: 'zwfw:holidayCalendar',
} as const;

const accountId = z.string().regex(/^\d{12}$/, 'an AWS account id has 12 digits');
const regionName = z.string().regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'not an AWS region name');

const contextSchema = z.object({
  stage: z.enum(STAGES),
  account: accountId.optional(),
  region: regionName.optional(),
  /** Production runs the public cloud in its own account; unset means the private account. */
  publicAccount: accountId.optional(),
  /**
   * Statutory holidays and make-up working days (`{ holidays, workdays }`), copied by the operator from the
   * State Council's yearly notice. JSON text (`-c zwfw:holidayCalendar='{…}'`) or an object (cdk.json);
   * checked by the very schema the functions parse HOLIDAY_CALENDAR with, so a typo fails the synth instead
   * of a cold start. Absent: weekends only.
   */
  holidayCalendar: z
    .unknown()
    .optional()
    .transform((value, ctx) => {
      if (typeof value !== 'string') return value;
      try {
        return JSON.parse(value) as unknown;
      } catch {
        ctx.addIssue({ code: 'custom', message: 'zwfw:holidayCalendar is not JSON.' });
        return z.NEVER;
      }
    })
    .pipe(holidayCalendarSchema.optional()),
});

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

/** What differs between stages; everything else is the same code and the same template shape. */
interface StageSettings {
  removalPolicy: RemovalPolicy;
  deletionProtection: boolean;
  logRetention: RetentionDays;
  /** Messages visible in a DLQ at which its alarm fires. */
  dlqAlarmThreshold: number;
  statsShards: number;
  logLevel: LogLevel;
  apiThrottle: { rateLimit: number; burstLimit: number };
  eventArchiveRetention: Duration;
}

const SETTINGS: Record<Stage, StageSettings> = {
  dev: {
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_WEEK,
    dlqAlarmThreshold: 1,
    statsShards: 8,
    logLevel: 'INFO',
    // The stage limit is shared by all clients: never below one client's plan (infra/rate-limits.ts).
    apiThrottle: { rateLimit: 400, burstLimit: 800 },
    eventArchiveRetention: Duration.days(7),
  },
  staging: {
    removalPolicy: RemovalPolicy.DESTROY,
    deletionProtection: false,
    logRetention: RetentionDays.ONE_MONTH,
    dlqAlarmThreshold: 1,
    statsShards: 8,
    logLevel: 'INFO',
    apiThrottle: { rateLimit: 1000, burstLimit: 2000 },
    eventArchiveRetention: Duration.days(30),
  },
  prod: {
    // Personal data and national statistics: never lost to a stack deletion.
    removalPolicy: RemovalPolicy.RETAIN,
    deletionProtection: true,
    // Operational logs only (no personal data); six months covers an assessment cycle.
    logRetention: RetentionDays.SIX_MONTHS,
    dlqAlarmThreshold: 1,
    // Sized for ~50 M cases a month landing on a few hot provincial day buckets.
    statsShards: 16,
    logLevel: 'INFO',
    apiThrottle: { rateLimit: 2000, burstLimit: 4000 },
    eventArchiveRetention: Duration.days(365),
  },
};

export interface StageConfig extends StageSettings {
  stage: Stage;
  account?: string;
  region?: string;
  publicAccount?: string;
  /** HOLIDAY_CALENDAR of the functions that judge working days: normalised JSON, weekends only when empty. */
  holidayCalendar: string;
  privateStackName: string;
  publicStackName: string;
  eventBusName: string;
  publicEventBusName: string;
}

/** Reads and validates the stage from CDK context (`-c zwfw:stage=prod` or cdk.json). */
export function readStageConfig(node: Node): StageConfig {
  const parsed = contextSchema.safeParse({
    stage: node.tryGetContext(CONTEXT_KEYS.stage) ?? 'dev',
    account: node.tryGetContext(CONTEXT_KEYS.account),
    region: node.tryGetContext(CONTEXT_KEYS.region),
    publicAccount: node.tryGetContext(CONTEXT_KEYS.publicAccount),
    holidayCalendar: node.tryGetContext(CONTEXT_KEYS.holidayCalendar),
  });
  if (!parsed.success) {
    throw new Error(`Invalid zwfw context: ${z.prettifyError(parsed.error)}`);
  }
  return configOf(parsed.data);
}

/** The configuration of a stage from context values as CDK would hand them over (validated here too). */
export function stageConfig(context: z.input<typeof contextSchema>): StageConfig {
  return configOf(contextSchema.parse(context));
}

function configOf(context: z.output<typeof contextSchema>): StageConfig {
  const { stage, holidayCalendar, ...rest } = context;
  return {
    ...SETTINGS[stage],
    ...rest,
    stage,
    holidayCalendar: JSON.stringify(holidayCalendar ?? holidayCalendarSchema.parse({})),
    privateStackName: `zwfw-${stage}-private`,
    publicStackName: `zwfw-${stage}-public`,
    eventBusName: `zwfw-${stage}-bus`,
    publicEventBusName: `zwfw-${stage}-public-bus`,
  };
}
