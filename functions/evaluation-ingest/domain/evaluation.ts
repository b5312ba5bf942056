import { createHash } from 'node:crypto';
import * as z from 'zod';
import { citizenIdSchema, creditCodeSchema } from '../../../shared/identifiers';
import { ingestProvenanceFields } from '../../../shared/ingest-message';
import { type FieldError, fieldErrors } from '../../../shared/problem';
import { regionCodeSchema } from '../../../shared/regions';
import { SUBJECT_PATTERN } from '../../auth-verify/domain/subject';
import {
  CASE_ID_MISMATCH,
  CASE_NUMBER_PATTERN,
  caseIdMatchesParts,
  caseIdOf,
} from '../../case-aggregate/domain/change';
import { MAX_CLOCK_AHEAD_MS } from '../../case-aggregate/domain/record';
import { LEVEL_LEGEND, MAX_LEVEL, MIN_LEVEL } from './levels';

/**
 * An evaluation (好差评) as a platform pushes it, and the queue message the API makes of it: the evaluator's ID
 * number replaced by its keyed HMAC, masked form and pseudonymous subject, nothing else personal but the comment
 * (free text: stored, never logged nor emitted).
 */
export const MAX_EVALUATIONS_PER_BATCH = 500;
export const MAX_COMMENT_CHARACTERS = 500;

export const CHANNELS = ['pc', 'app', 'mini_program', 'window', 'hotline', 'terminal'] as const;
export type EvaluationChannel = (typeof CHANNELS)[number];
export const STAGES = ['accepted', 'completed'] as const;
export type EvaluationStage = (typeof STAGES)[number];
export const EVALUATOR_TYPES = ['person', 'legal_person'] as const;

/** GB/T 39734: online 一事一评 (PC, app, mini-program), on-site 一次一评 (window, terminal), and the hotline. */
export const DIMENSIONS_BY_FAMILY = {
  online: ['overall', 'efficiency', 'guideAccuracy', 'convenience', 'easeOfOperation'],
  on_site: ['overall', 'efficiency', 'serviceLevel', 'attitude'],
  hotline: ['overall'],
} as const;
export type ChannelFamily = keyof typeof DIMENSIONS_BY_FAMILY;

export const FAMILY_OF_CHANNEL: Record<EvaluationChannel, ChannelFamily> = {
  pc: 'online',
  app: 'online',
  mini_program: 'online',
  window: 'on_site',
  terminal: 'on_site',
  hotline: 'hotline',
};

const ALL_DIMENSIONS = [...new Set(Object.values(DIMENSIONS_BY_FAMILY).flat())];

export const levelSchema = z
  .number()
  .int()
  .min(MIN_LEVEL)
  .max(MAX_LEVEL)
  .describe(`Evaluation level: ${LEVEL_LEGEND}.`);

const score = z.number().int().min(MIN_LEVEL).max(MAX_LEVEL);
/** Every known dimension is optional here; which ones a channel may carry is checked against the record. */
const dimensionsSchema = z
  .strictObject(Object.fromEntries(ALL_DIMENSIONS.map((name) => [name, score.optional()])))
  .describe(
    'Dimension scores 1–5 of the channel family: online (pc, app, mini_program) overall, efficiency, guideAccuracy, convenience, easeOfOperation; on-site (window, terminal) overall, efficiency, serviceLevel, attitude; hotline overall only.',
  );
export type Dimensions = Partial<Record<(typeof ALL_DIMENSIONS)[number], number>>;

const commentSchema = z
  .string()
  .trim()
  .refine(
    (text) => [...text].length <= MAX_COMMENT_CHARACTERS,
    `At most ${MAX_COMMENT_CHARACTERS} characters.`,
  )
  .describe('Free-text comment, at most 500 characters. Stored; never logged nor put on an event.');

const isoInstant = z.iso.datetime({ offset: true });

/** The ID number is checked by the validator of its type; a person rates with a citizen ID, an organisation with its credit code. */
const evaluatorSchema = z.discriminatedUnion('idType', [
  z.object({ type: z.literal('person'), idType: z.literal('citizen_id'), idNumber: citizenIdSchema }),
  z.object({ type: z.literal('legal_person'), idType: z.literal('credit_code'), idNumber: creditCodeSchema }),
]);

/** The fields every evaluation carries, whoever the evaluator is (platform push or citizen app). */
const evaluationFields = {
  regionCode: regionCodeSchema,
  caseNumber: z.string().regex(CASE_NUMBER_PATTERN).describe('Platform case number, 1–64 of [A-Za-z0-9_-].'),
  level: levelSchema,
  channel: z.enum(CHANNELS).describe('Where the evaluation was given.'),
  stage: z.enum(STAGES).describe('Given at acceptance (evalProcess 1) or at completion (evalProcess 2).'),
  dimensions: dimensionsSchema.optional(),
  comment: commentSchema.optional(),
  evaluatedAt: isoInstant.describe('When the evaluator gave it, ISO 8601 with offset.'),
};

type DimensionsCarrier = { channel: EvaluationChannel; dimensions?: Dimensions | undefined };

/** A dimension outside the channel's family is refused by name, so the platform sees which one. */
function checkDimensionFamily(record: DimensionsCarrier, ctx: z.RefinementCtx): void {
  const allowed: readonly string[] = DIMENSIONS_BY_FAMILY[FAMILY_OF_CHANNEL[record.channel]];
  for (const [name, value] of Object.entries(record.dimensions ?? {})) {
    if (value !== undefined && !allowed.includes(name)) {
      ctx.addIssue({
        code: 'custom',
        path: ['dimensions', name],
        message: `Not a dimension of the ${FAMILY_OF_CHANNEL[record.channel]} channel family.`,
      });
    }
  }
}

/** One record of `POST /v1/evaluations:batch` (DESIGN.md §7). Unknown members are ignored. */
export const evaluationRecordSchema = z
  .object({ ...evaluationFields, evaluator: evaluatorSchema })
  .superRefine(checkDimensionFamily);
export type ValidEvaluationRecord = z.output<typeof evaluationRecordSchema>;

/** The body of `POST /v1/evaluations` (citizen app): the evaluator is the bearer token's subject. */
export const submittedEvaluationSchema = z.object(evaluationFields).superRefine(checkDimensionFamily);
export type ValidSubmittedEvaluation = z.output<typeof submittedEvaluationSchema>;

export type Validation<T> = { ok: true; record: T } | { ok: false; errors: FieldError[] };

/** Validates one record on its own; `now` refuses evaluation times in the future (beyond clock drift). */
export function validateRecord<S extends typeof evaluationRecordSchema | typeof submittedEvaluationSchema>(
  schema: S,
  input: unknown,
  now: Date,
): Validation<z.output<S>> {
  const parsed = schema.safeParse(input);
  // fieldErrors drops the input from every message: a rejected ID number must not come back in the reply.
  if (!parsed.success) return { ok: false, errors: fieldErrors(parsed.error.issues) };
  if (Date.parse(parsed.data.evaluatedAt) > now.getTime() + MAX_CLOCK_AHEAD_MS) {
    return {
      ok: false,
      errors: [{ path: '/evaluatedAt', message: 'The evaluation time lies in the future.' }],
    };
  }
  return { ok: true, record: parsed.data as z.output<S> };
}

// ---- The queue message -------------------------------------------------------------------------------------

const subjectSchema = z.string().regex(SUBJECT_PATTERN);

/**
 * The evaluator, pseudonymised. `sub` (the auth capability's subject, an HMAC of the idHmac) is present for
 * everyone and is the evaluator's key here, so a person who rates once at a window and once in the app is one
 * evaluator. Platform pushes also carry the idHmac and masked id; the app's evaluations know only the subject.
 */
export const maskedEvaluatorSchema = z.object({
  type: z.enum(EVALUATOR_TYPES),
  sub: subjectSchema,
  idType: z.enum(['citizen_id', 'credit_code']).optional(),
  idHmac: z
    .string()
    .regex(/^[A-Za-z0-9_-]{43}$/)
    .optional(),
  maskedId: z
    .string()
    .regex(/^[0-9A-Za-z*]{1,64}$/)
    .optional(),
});
export type MaskedEvaluator = z.infer<typeof maskedEvaluatorSchema>;

export const EVALUATION_ID_PATTERN = /^[A-Za-z0-9_-]{32}$/;

export const evaluationMessageSchema = z
  .object({
    version: z.literal(1),
    evaluationId: z.string().regex(EVALUATION_ID_PATTERN),
    caseId: z.string(),
    regionCode: z.string().regex(/^\d{6}$/),
    caseNumber: z.string().regex(CASE_NUMBER_PATTERN),
    level: levelSchema,
    channel: z.enum(CHANNELS),
    stage: z.enum(STAGES),
    evaluator: maskedEvaluatorSchema,
    dimensions: dimensionsSchema.optional(),
    comment: z
      .string()
      .max(4 * MAX_COMMENT_CHARACTERS)
      .optional(),
    evaluatedAt: isoInstant,
    /** The record's index in its pushed batch (absent for the app's single submissions): a rejection names it. */
    batchIndex: z
      .number()
      .int()
      .min(0)
      .max(MAX_EVALUATIONS_PER_BATCH - 1)
      .optional(),
    // receivedAt: when the hub first took it; the case wait is counted from there, also across re-checks.
    ...ingestProvenanceFields,
  })
  .refine(caseIdMatchesParts, CASE_ID_MISMATCH)
  .refine((m) => m.evaluationId === evaluationIdOf(m.caseId, m.stage, m.evaluator.sub), {
    path: ['evaluationId'],
    message: 'evaluationId must be derived from case, stage and evaluator',
  });
export type EvaluationMessage = z.infer<typeof evaluationMessageSchema>;

const digest = (parts: readonly string[]) =>
  createHash('sha256').update(parts.join('\n'), 'utf8').digest('base64url').slice(0, 32);

/**
 * One evaluation per case, stage and evaluator: the id is derived from the three, so every copy and every later
 * review of it lands on the same id, and replays need no lookup table.
 */
export const evaluationIdOf = (caseId: string, stage: EvaluationStage, evaluatorSub: string): string =>
  digest(['evaluation', caseId, stage, evaluatorSub]);

/**
 * What the evaluator said, as a stable id: a copy of the same submission (a retry, a replayed batch) has the same
 * id and changes nothing; a different one from the same evaluator is a review.
 */
export function submissionIdOf(message: EvaluationMessage): string {
  const dimensions = Object.entries(message.dimensions ?? {})
    .filter(([, value]) => value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([name, value]) => `${name}=${value}`)
    .join(',');
  return digest([
    'submission',
    message.evaluationId,
    String(message.level),
    message.channel,
    dimensions,
    message.comment ?? '',
    new Date(message.evaluatedAt).toISOString(),
  ]);
}

export interface MessageContext {
  clientId: string;
  batchId: string;
  correlationId: string;
  receivedAt: Date;
}

/** The queue message of a validated record; the evaluator comes already pseudonymised. */
export function toMessage(
  record: Omit<ValidSubmittedEvaluation, never>,
  evaluator: MaskedEvaluator,
  context: MessageContext,
): EvaluationMessage {
  const caseId = caseIdOf(record.regionCode, record.caseNumber);
  const comment = record.comment === undefined || record.comment === '' ? {} : { comment: record.comment };
  return {
    version: 1,
    evaluationId: evaluationIdOf(caseId, record.stage, evaluator.sub),
    caseId,
    regionCode: record.regionCode,
    caseNumber: record.caseNumber,
    level: record.level,
    channel: record.channel,
    stage: record.stage,
    evaluator,
    ...(record.dimensions === undefined ? {} : { dimensions: record.dimensions }),
    ...comment,
    evaluatedAt: record.evaluatedAt,
    clientId: context.clientId,
    batchId: context.batchId,
    correlationId: context.correlationId,
    receivedAt: context.receivedAt.toISOString(),
  };
}
