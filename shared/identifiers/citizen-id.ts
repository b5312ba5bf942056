import { findProvince } from '../regions';

export type Sex = 'male' | 'female';

export interface CitizenId {
  /** Normalised: upper-case check character, no surrounding blanks. */
  value: string;
  addressCode: string;
  provinceCode: string;
  /** Calendar date `yyyy-MM-dd`. */
  birthDate: string;
  sex: Sex;
}

export type CitizenIdErrorCode =
  | 'invalid_type'
  | 'invalid_length'
  | 'invalid_characters'
  | 'check_character_mismatch'
  | 'unknown_province'
  | 'invalid_birth_date'
  | 'birth_date_in_future';

export type CitizenIdResult =
  | ({ ok: true } & CitizenId)
  | { ok: false; code: CitizenIdErrorCode; reason: string };

export interface CitizenIdOptions {
  /** The clock used to reject future birth dates; defaults to now. */
  today?: Date;
}

const LENGTH = 18;
const SHAPE = /^\d{17}[\dX]$/;
const CHECK_CHARACTERS = '10X98765432';
// 2^(18-i) mod 11 for positions 1..17 (ISO 7064 MOD 11-2).
const WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;
// Nobody born earlier can hold a number issued since 1984; anything older is a typing error.
const EARLIEST_BIRTH_YEAR = 1800;
const CHINA_UTC_OFFSET_MS = 8 * 60 * 60 * 1000;

/** The GB 11643 check character of the first 17 digits. */
export function citizenIdCheckCharacter(first17: string): string {
  let sum = 0;
  for (let i = 0; i < WEIGHTS.length; i++) sum += Number(first17[i]) * (WEIGHTS[i] ?? 0);
  return CHECK_CHARACTERS[sum % 11] ?? '';
}

export function validateCitizenId(input: unknown, options: CitizenIdOptions = {}): CitizenIdResult {
  if (typeof input !== 'string') return reject('invalid_type', 'A citizen ID number must be a string.');
  const value = input.trim().toUpperCase();
  if (value.length !== LENGTH) return reject('invalid_length', 'A citizen ID number has 18 characters.');
  if (!SHAPE.test(value)) {
    return reject('invalid_characters', 'A citizen ID number is 17 digits followed by a digit or X.');
  }
  if (citizenIdCheckCharacter(value) !== value[17]) {
    return reject('check_character_mismatch', 'The check character of the citizen ID number is wrong.');
  }
  const addressCode = value.slice(0, 6);
  const province = findProvince(addressCode);
  if (!province) {
    return reject('unknown_province', 'The address code of the citizen ID number names no known province.');
  }
  const birthDate = parseBirthDate(value.slice(6, 14));
  if (!birthDate)
    return reject('invalid_birth_date', 'The birth date in the citizen ID number is impossible.');
  if (birthDate > chinaCalendarDate(options.today ?? new Date())) {
    return reject('birth_date_in_future', 'The birth date in the citizen ID number lies in the future.');
  }
  const sex: Sex = Number(value[16]) % 2 === 1 ? 'male' : 'female';
  return { ok: true, value, addressCode, provinceCode: province.code, birthDate, sex };
}

function parseBirthDate(yyyymmdd: string): string | undefined {
  const year = Number(yyyymmdd.slice(0, 4));
  const month = Number(yyyymmdd.slice(4, 6));
  const day = Number(yyyymmdd.slice(6, 8));
  if (year < EARLIEST_BIRTH_YEAR) return undefined;
  const date = new Date(Date.UTC(year, month - 1, day));
  const roundTrips =
    date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day;
  return roundTrips ? date.toISOString().slice(0, 10) : undefined;
}

// Birth dates are Chinese calendar dates, so "today" is taken in China Standard Time (UTC+8, no DST).
function chinaCalendarDate(now: Date): string {
  return new Date(now.getTime() + CHINA_UTC_OFFSET_MS).toISOString().slice(0, 10);
}

function reject(code: CitizenIdErrorCode, reason: string): CitizenIdResult {
  return { ok: false, code, reason };
}
