import { existsSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { caseStatusChangedV1, changeIdOf } from '../../../events/case-status-changed.v1';
import { catalogue, exampleEnvelopeOf, findEvent, schemaKeyOf } from '../../../events/catalogue';
import { envelopeOf } from '../../../events/envelope';

const statusChangedExample = structuredClone(findEvent('CaseStatusChanged', 1)?.example) as Record<
  string,
  unknown
>;

describe('event catalogue', () => {
  it('holds one entry per detail type and version', () => {
    const keys = catalogue.map(schemaKeyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toEqual(expect.arrayContaining(['CaseReceived.v1', 'CaseStatusChanged.v1']));
  });

  it.each(catalogue.map((event) => [schemaKeyOf(event), event] as const))(
    '%s: example is valid',
    (_, event) => {
      expect(event.schema.safeParse(event.example).success).toBe(true);
      expect(event.example.version).toBe(event.version);
      const envelope = envelopeOf(event.detailType, event.schema, event.source);
      expect(envelope.safeParse(exampleEnvelopeOf(event)).success).toBe(true);
    },
  );

  it.each(catalogue.map((event) => [schemaKeyOf(event), event] as const))(
    '%s: source and live producers name existing capabilities',
    (_, event) => {
      expect(event.source).toMatch(/^zwfw\.[a-z-]+$/);
      const live = event.producers.filter((producer) => producer.status === 'live');
      expect(live.length).toBeGreaterThan(0);
      for (const producer of live) {
        expect(`zwfw.${producer.capability}`).toBe(event.source);
        expect(existsSync(new URL(`../../../functions/${producer.capability}`, import.meta.url))).toBe(true);
      }
    },
  );

  it('finds nothing for an unknown version or detail type', () => {
    expect(findEvent('CaseStatusChanged', 2)).toBeUndefined();
    expect(findEvent('CaseStatusChanged', '1')).toBeUndefined();
    expect(findEvent('NoSuchEvent', 1)).toBeUndefined();
  });
});

describe('envelope', () => {
  const event = catalogue[1];
  const envelope = envelopeOf(event.detailType, event.schema, event.source);

  it('rejects another detail type or source', () => {
    expect(envelope.safeParse({ ...exampleEnvelopeOf(event), 'detail-type': 'CaseReceived' }).success).toBe(
      false,
    );
    expect(envelope.safeParse({ ...exampleEnvelopeOf(event), source: 'zwfw.other' }).success).toBe(false);
  });

  it('accepts fields EventBridge adds, such as replay-name', () => {
    expect(envelope.safeParse({ ...exampleEnvelopeOf(event), 'replay-name': 'replay-1' }).success).toBe(true);
  });
});

describe('CaseStatusChanged v1 keeps personal data out', () => {
  const parse = (patch: (detail: Record<string, unknown>) => void) => {
    const detail = structuredClone(statusChangedExample);
    patch(detail);
    return caseStatusChangedV1.safeParse(detail);
  };

  it('rejects a clear ID number where the masked one belongs', () => {
    const result = parse((detail) => {
      (detail.applicant as Record<string, unknown>).maskedId = '11010519491231002X';
    });
    expect(result.success).toBe(false);
  });

  it('rejects any field the schema does not list, at any level', () => {
    expect(parse((detail) => Object.assign(detail, { applicantName: 'x' })).success).toBe(false);
    expect(
      parse((detail) => Object.assign(detail.applicant as object, { idNumber: '11010519491231002X' }))
        .success,
    ).toBe(false);
  });

  it('rejects a changeId that is not {caseId}#{status}', () => {
    expect(parse((detail) => Object.assign(detail, { status: 'completed' })).success).toBe(false);
    expect(parse((detail) => Object.assign(detail, { changeId: `${detail.caseId}#x` })).success).toBe(false);
  });

  it('rejects a regionCode that does not prefix the caseId', () => {
    expect(parse((detail) => Object.assign(detail, { regionCode: '440000' })).success).toBe(false);
  });

  it('accepts every case number and status combination the ingest accepts', () => {
    const status = fc.constantFrom(...caseStatusChangedV1.shape.status.options);
    const caseNumber = fc.stringMatching(/^[A-Za-z0-9_-]{1,64}$/);
    fc.assert(
      fc.property(caseNumber, status, (number, changed) => {
        const caseId = `330000:${number}`;
        return parse((detail) =>
          Object.assign(detail, { caseId, status: changed, changeId: changeIdOf(caseId, changed) }),
        ).success;
      }),
    );
  });
});
