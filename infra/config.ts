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
  /** Alarm thresholds, per 5-minute period: what the on-call is woken for on this stage. */
  alarms: AlarmThresholds;
  /** Requests one client IP may make to the public API per 5 minutes before WAF blocks it. */
  wafRequestsPerIpPer5Minutes: number;
  /** Availability zones of the private cloud's VPC (isolated subnets and interface endpoints in each). */
  availabilityZones: number;
}

export interface AlarmThresholds {
  /** Invocations of one function that ended in an error. */
  functionErrors: number;
  /** Invocations of one function that Lambda refused for lack of concurrency. */
  functionThrottles: number;
  /** 5xx answers of one API (gateway or integration). */
  api5xx: number;
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
    // Developers break things on purpose in dev: only a sustained failure is worth a notification.
    alarms: { functionErrors: 10, functionThrottles: 10, api5xx: 20 },
    wafRequestsPerIpPer5Minutes: 2000,
    availabilityZones: 2,
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
    alarms: { functionErrors: 1, functionThrottles: 1, api5xx: 5 },
    wafRequestsPerIpPer5Minutes: 2000,
    availabilityZones: 2,
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
    // Any failed invocation in production is a lost or delayed government record until someone looks.
    alarms: { functionErrors: 1, functionThrottles: 1, api5xx: 5 },
    // A citizen app behind carrier NAT shares one IP with many users: generous, but bounded.
    wafRequestsPerIpPer5Minutes: 10000,
    availabilityZones: 3,
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
  /** `iss` of the hub's access tokens: auth verification signs them, both clouds accept only these. */
  tokenIssuer: string;
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
    tokenIssuer: `https://hub.zwfw.local/${stage}`,
  };
}
