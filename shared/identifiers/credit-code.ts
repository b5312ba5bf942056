export interface CreditCode {
  /** Normalised: upper-case, no surrounding blanks. */
  value: string;
  /** Position 1: the registering department (1 staffing office, 5 civil affairs, 9 market regulation, Y other …). */
  registrationDepartment: string;
  /** Position 2: the category within that department. */
  category: string;
  /** Positions 3–8: division code of the registering authority. */
  divisionCode: string;
  /** Positions 9–17: organisation code (GB 11714). */
  organisationCode: string;
  /** Set when a pilot code was accepted although its check character is wrong. */
  warning?: 'pilot_code_check_failed';
}

export type CreditCodeErrorCode =
  | 'invalid_type'
  | 'invalid_length'
  | 'invalid_characters'
  | 'check_character_mismatch';

export type CreditCodeResult =
  | ({ ok: true } & CreditCode)
  | { ok: false; code: CreditCodeErrorCode; reason: string };

export interface CreditCodeOptions {
  /** Accept early (Fujian) pilot codes whose check character fails, flagging them with a warning. */
  allowPilotCodes?: boolean;
}

/** GB 32100 alphabet; a character's value is its index. I, O, S, V and Z are left out. */
export const CREDIT_CODE_ALPHABET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
export const CREDIT_CODE_LENGTH = 18;
const SHAPE = new RegExp(`^[${CREDIT_CODE_ALPHABET}]{${CREDIT_CODE_LENGTH}}$`);
// 3^(i-1) mod 31 for positions 1..17.
const WEIGHTS = [1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28] as const;

/** The GB 32100 check character of the first 17 characters (which must be in the alphabet). */
export function creditCodeCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i++) {
    sum += CREDIT_CODE_ALPHABET.indexOf(first17[i] ?? '') * (WEIGHTS[i] ?? 0);
  }
  return CREDIT_CODE_ALPHABET[(31 - (sum % 31)) % 31] ?? '';
}

export function validateCreditCode(input: unknown, options: CreditCodeOptions = {}): CreditCodeResult {
  if (typeof input !== 'string')
    return reject('invalid_type', 'A unified social credit code must be a string.');
  const value = input.trim().toUpperCase();
  if (value.length !== CREDIT_CODE_LENGTH) {
    return reject('invalid_length', 'A unified social credit code has 18 characters.');
  }
  if (!SHAPE.test(value)) {
    return reject(
      'invalid_characters',
      'A unified social credit code uses only digits and upper-case letters other than I, O, S, V and Z.',
    );
  }
  const checkFails = creditCodeCheckCharacter(value) !== value[17];
  if (checkFails && !options.allowPilotCodes) {
    return reject(
      'check_character_mismatch',
      'The check character of the unified social credit code is wrong.',
    );
  }
  return {
    ok: true,
    value,
    registrationDepartment: value.slice(0, 1),
    category: value.slice(1, 2),
    divisionCode: value.slice(2, 8),
    organisationCode: value.slice(8, 17),
    ...(checkFails ? { warning: 'pilot_code_check_failed' as const } : {}),
  };
}

function reject(code: CreditCodeErrorCode, reason: string): CreditCodeResult {
  return { ok: false, code, reason };
}
