import { CREDIT_CODE_LENGTH, type CreditCodeOptions, validateCreditCode } from './credit-code';

export interface ImplementationCode {
  /** Normalised: upper-case, no surrounding blanks. */
  value: string;
  /** Credit code of the implementing body (the first 18 characters). */
  implementerCode: string;
  /** The remaining 13 characters (item basic code and handling-item code, GB/T 39554.1). */
  itemPart: string;
  warning?: 'pilot_code_check_failed';
}

export type ImplementationCodeErrorCode =
  | 'invalid_type'
  | 'invalid_length'
  | 'invalid_characters'
  | 'invalid_implementer_code';

export type ImplementationCodeResult =
  | ({ ok: true } & ImplementationCode)
  | { ok: false; code: ImplementationCodeErrorCode; reason: string };

export const IMPLEMENTATION_CODE_LENGTH = 31;
const SHAPE = /^[0-9A-Z]{31}$/;

export function validateImplementationCode(
  input: unknown,
  options: CreditCodeOptions = {},
): ImplementationCodeResult {
  if (typeof input !== 'string') return reject('invalid_type', 'An implementation code must be a string.');
  const value = input.trim().toUpperCase();
  if (value.length !== IMPLEMENTATION_CODE_LENGTH) {
    return reject('invalid_length', 'An implementation code has 31 characters.');
  }
  if (!SHAPE.test(value)) {
    return reject('invalid_characters', 'An implementation code uses only digits and upper-case letters.');
  }
  const implementer = validateCreditCode(value.slice(0, CREDIT_CODE_LENGTH), options);
  if (!implementer.ok) {
    return reject(
      'invalid_implementer_code',
      'An implementation code must begin with a valid unified social credit code.',
    );
  }
  return {
    ok: true,
    value,
    implementerCode: implementer.value,
    itemPart: value.slice(CREDIT_CODE_LENGTH),
    ...(implementer.warning ? { warning: implementer.warning } : {}),
  };
}

function reject(code: ImplementationCodeErrorCode, reason: string): ImplementationCodeResult {
  return { ok: false, code, reason };
}
