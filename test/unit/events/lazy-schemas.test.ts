import { describe, expect, it } from 'vitest';
import * as z from 'zod';
import { buildCaseStatusChangedV1, caseStatusChangedV1 } from '../../../events/case-status-changed.v1';
import { catalogue } from '../../../events/catalogue';

/**
 * The catalogue builds each event's schema on the first read of `schema` and keeps it (events/catalogue.ts), so a
 * function pays only for the events it publishes; the built schema is the one its module defines.
 */
describe('lazily built event schemas', () => {
  it('builds each schema once and hands the same one out afterwards', () => {
    for (const event of catalogue) {
      const first = event.schema;
      expect(first).toBeInstanceOf(z.ZodType);
      expect(event.schema).toBe(first);
    }
  });

  it("builds the same schema as the event module's own", () => {
    const caseStatusChanged = catalogue.find((event) => event.detailType === 'CaseStatusChanged');
    if (!caseStatusChanged) throw new Error('CaseStatusChanged is not catalogued');
    const json = (schema: z.ZodType) => z.toJSONSchema(schema, { io: 'output' });
    expect(json(caseStatusChanged.schema)).toEqual(json(caseStatusChangedV1));
    expect(json(buildCaseStatusChangedV1())).toEqual(json(caseStatusChangedV1));
    // A fresh build, not a shared instance: the catalogue's copy is its own.
    expect(caseStatusChanged.schema).not.toBe(caseStatusChangedV1);
  });
});
