import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import {
  citizenIdCheckCharacter,
  citizenIdSchema,
  citizenIdSchemaWith,
  creditCodeSchema,
  creditCodeSchemaWith,
  implementationCodeSchema,
  licenceIdSchema,
  regionCodeSchema,
} from '../../../shared/identifiers';
import { generateLicenceId, seededRandom } from '../../../shared/identifiers/generate';

const licenceId = generateLicenceId(seededRandom(5));

describe('identifier schemas', () => {
  it('return the normalised value', () => {
    expect(citizenIdSchema.parse('11010519491231002x')).toBe('11010519491231002X');
    expect(creditCodeSchema.parse(' 91350100m000100y43')).toBe('91350100M000100Y43');
    expect(implementationCodeSchema.parse('11440232mb2d06811w4000117051000')).toBe(
      '11440232MB2D06811W4000117051000',
    );
    expect(licenceIdSchema.parse(licenceId.toLowerCase())).toBe(licenceId);
  });

  it.each([
    [citizenIdSchema, '110105194912310021'],
    [creditCodeSchema, '91350100M000100Y44'],
    [implementationCodeSchema, '11440232MB2D06811X4000117051000'],
    [licenceIdSchema, `${licenceId.slice(0, -1)}${licenceId.endsWith('0') ? '1' : '0'}`],
    [regionCodeSchema, '990101'],
  ])('reject a wrong value with one issue that does not echo it (%#)', (schema: z.ZodType, input: string) => {
    const result = schema.safeParse(input);
    expect(result.success).toBe(false);
    expect(result.error?.issues).toHaveLength(1);
    expect(JSON.stringify(result.error)).not.toContain(input);
    expect(z.prettifyError(result.error as z.ZodError)).not.toContain(input);
  });

  it('take the setting for pilot codes and the clock', () => {
    expect(creditCodeSchemaWith({ allowPilotCodes: true }).parse('91350100M000100Y44')).toBe(
      '91350100M000100Y44',
    );
    const bornOn = (date: string) => `110105${date}002${citizenIdCheckCharacter(`110105${date}002`)}`;
    const newYear = citizenIdSchemaWith({ today: new Date('2020-01-01T00:00:00Z') });
    const nextYear = citizenIdSchemaWith({ today: new Date('2021-01-01T00:00:00Z') });
    expect(newYear.safeParse(bornOn('20200101')).success).toBe(true);
    expect(newYear.safeParse(bornOn('20200102')).success).toBe(false);
    expect(nextYear.safeParse(bornOn('20200102')).success).toBe(true);
  });

  it('validate inside an object and convert to JSON Schema', () => {
    const applicant = z.object({ idNumber: citizenIdSchema, creditCode: creditCodeSchema.optional() });
    expect(applicant.parse({ idNumber: '11010519491231002x' })).toEqual({ idNumber: '11010519491231002X' });
    const jsonSchema = z.toJSONSchema(applicant) as { properties: Record<string, { type: string }> };
    expect(jsonSchema.properties.idNumber).toMatchObject({ type: 'string' });
  });
});
