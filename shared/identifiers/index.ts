import * as z from 'zod';
import { type CitizenIdOptions, validateCitizenId } from './citizen-id';
import { type CreditCodeOptions, validateCreditCode } from './credit-code';
import { validateImplementationCode } from './implementation-code';
import { validateLicenceId } from './licence-id';

export { regionCodeSchema } from '../regions';
export * from './citizen-id';
export * from './credit-code';
export * from './implementation-code';
export * from './licence-id';

type Validator = (input: string) => { ok: true; value: string } | { ok: false; reason: string };

/**
 * A string schema that normalises to the validator's value. Issue messages are the validator's
 * reasons, which never contain the input, so a rejected ID number cannot leak through a problem body.
 * `overwrite` (not `transform`) keeps the schema representable in JSON Schema.
 */
function identifierSchema(validate: Validator, description: string) {
  return z
    .string()
    .check((ctx) => {
      const result = validate(ctx.value);
      if (!result.ok) ctx.issues.push({ code: 'custom', message: result.reason, input: ctx.value });
    })
    .overwrite((value) => {
      const result = validate(value);
      return result.ok ? result.value : value;
    })
    .describe(description);
}

export function citizenIdSchemaWith(options: CitizenIdOptions = {}) {
  return identifierSchema(
    (s) => validateCitizenId(s, options),
    'Citizen ID number (GB 11643, 18 characters)',
  );
}

export function creditCodeSchemaWith(options: CreditCodeOptions = {}) {
  return identifierSchema(
    (s) => validateCreditCode(s, options),
    'Unified social credit code (GB 32100, 18 characters)',
  );
}

export function implementationCodeSchemaWith(options: CreditCodeOptions = {}) {
  return identifierSchema(
    (s) => validateImplementationCode(s, options),
    'Service item implementation code (31 characters, starting with a credit code)',
  );
}

export const citizenIdSchema = citizenIdSchemaWith();
export const creditCodeSchema = creditCodeSchemaWith();
export const implementationCodeSchema = implementationCodeSchemaWith();
export const licenceIdSchema = identifierSchema(
  validateLicenceId,
  'Electronic licence identifier (GB/T 36904): 1.2.156.3005.2.{type}.{authority}.{serial}.{version}.{check}',
);
