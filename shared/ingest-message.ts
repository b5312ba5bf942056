import * as z from 'zod';

/**
 * The provenance every ingest queue message carries after its own fields: which connected platform sent the
 * record, in which batch and request, and when the hub first took it. Checked again by the consumer, since a
 * queue message is only as trustworthy as the code that wrote it.
 */
export const ingestProvenanceFields = {
  clientId: z.string().min(1),
  batchId: z.string().min(1),
  correlationId: z
    .string()
    .max(128)
    .regex(/^[A-Za-z0-9._:-]+$/),
  receivedAt: z.iso.datetime({ offset: true }),
};
