import * as z from 'zod';

/**
 * Every detail carries its schema version (consumers branch on it) and the correlation id of the request
 * that caused it, so one id follows a change from HTTP through SQS and EventBridge.
 */
export const baseDetailSchema = z.strictObject({
  version: z
    .number()
    .int()
    .positive()
    .describe('Version of this detail schema; a breaking change is a new version.'),
  correlationId: z
    .string()
    .min(1)
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/)
    .describe(
      'Correlation id of the request that caused this event; flows from HTTP through SQS and EventBridge.',
    ),
});

/** An event source of this hub: `zwfw.<capability>`. */
export const eventSourceSchema = z
  .string()
  .regex(/^zwfw\.[a-z][a-z0-9-]*$/)
  .describe('Producing capability, `zwfw.<capability>`.');

/**
 * The envelope EventBridge wraps around every detail. Loose on purpose: EventBridge adds fields of its own
 * (e.g. `replay-name` on replayed archive events) and a consumer must not reject those.
 */
const envelopeShape = {
  version: z.string().describe('Envelope version set by EventBridge, currently "0".'),
  id: z.string().min(1).describe('Unique id EventBridge assigns to the event.'),
  source: eventSourceSchema,
  account: z
    .string()
    .regex(/^\d{12}$/)
    .describe('AWS account that put the event.'),
  time: z.iso.datetime({ offset: true }).describe('When the event was put, ISO 8601.'),
  region: z.string().min(1).describe('AWS region of the bus.'),
  resources: z.array(z.string()).describe('ARNs of resources the event concerns; usually empty here.'),
};

/** The envelope of one detail type, with the detail validated by its own schema. */
export function envelopeOf<TDetailType extends string, TDetail extends z.ZodType>(
  detailType: TDetailType,
  detailSchema: TDetail,
  source?: string,
) {
  return z.looseObject({
    ...envelopeShape,
    'detail-type': z.literal(detailType).describe('Event name; one schema per name and version.'),
    source: source === undefined ? eventSourceSchema : z.literal(source).describe('Producing capability.'),
    detail: detailSchema,
  });
}

export type EventEnvelope<TDetail> = {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  account: string;
  time: string;
  region: string;
  resources: string[];
  detail: TDetail;
};
