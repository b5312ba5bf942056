import { timingSafeEqual } from 'node:crypto';
import * as z from 'zod';
import type { IdentityVerifiedV1 } from '../../../events/identity-verified.v1';
import { citizenIdSchema, creditCodeSchema } from '../../../shared/identifiers';
import { maskIdNumber } from '../../../shared/masking';
import { type AssuranceLevel, assuranceOfRegistryCheck, secondFactorSchema } from './assurance';
import {
  creditCodeHmac,
  nameHmac,
  personIdHmac,
  personNameSchema,
  type RegistryLookup,
  type RegistryRecord,
} from './registry-record';

/**
 * Real-name verification (实名核验): is this name registered under this number? The answer is one of
 * three words and, on a match, the assurance it earns — never anything the registry holds.
 */

export const personVerificationSchema = z
  .strictObject({
    subject: z.literal('person'),
    name: personNameSchema,
    idNumber: citizenIdSchema,
    secondFactor: secondFactorSchema
      .optional()
      .describe('A second factor the caller checked itself (face or e-ID); raises a match to L3.'),
  })
  .describe('A natural person: name and citizen ID number.');

export const enterpriseVerificationSchema = z
  .strictObject({
    subject: z.literal('enterprise'),
    creditCode: creditCodeSchema,
    legalRepresentative: personNameSchema.describe("The legal representative's name as registered."),
  })
  .describe('An enterprise or other organisation: unified social credit code and legal representative.');

/** The request body. Identifier check characters and birth dates are checked here, before any lookup. */
export const verificationRequestSchema = z.discriminatedUnion('subject', [
  personVerificationSchema,
  enterpriseVerificationSchema,
]);
export type VerificationRequest = z.output<typeof verificationRequestSchema>;

export const VERIFICATION_RESULTS = ['match', 'mismatch', 'not_found'] as const;
export type VerificationResult = (typeof VERIFICATION_RESULTS)[number];

export interface VerificationReply {
  verificationId: string;
  result: VerificationResult;
  /** Present only on a match. */
  assuranceLevel?: AssuranceLevel;
}

/** The request with its identifiers replaced by HMACs and a masked id: all the rest of the flow needs. */
export interface PseudonymisedClaim {
  lookup: RegistryLookup;
  presentedNameHmac: string;
  maskedId: string;
  secondFactor?: z.output<typeof secondFactorSchema>;
}

export function pseudonymiseClaim(
  request: VerificationRequest,
  key: Uint8Array | string,
): PseudonymisedClaim {
  if (request.subject === 'person') {
    return {
      lookup: { subject: 'person', idHmac: personIdHmac(key, request.idNumber) },
      presentedNameHmac: nameHmac(key, request.name),
      maskedId: maskIdNumber(request.idNumber),
      ...(request.secondFactor ? { secondFactor: request.secondFactor } : {}),
    };
  }
  return {
    lookup: { subject: 'enterprise', creditCodeHmac: creditCodeHmac(key, request.creditCode) },
    presentedNameHmac: nameHmac(key, request.legalRepresentative),
    maskedId: maskIdNumber(request.creditCode),
  };
}

/**
 * A number the registry does not hold, or holds as cancelled, is `not_found`: no live identity answers to
 * it. Otherwise the presented name's HMAC must equal the registered one (compared in constant time).
 */
export function judge(record: RegistryRecord | undefined, presentedNameHmac: string): VerificationResult {
  if (record?.status !== 'active') return 'not_found';
  const registered = record.subject === 'person' ? record.nameHmac : record.legalRepresentativeNameHmac;
  return sameHmac(registered, presentedNameHmac) ? 'match' : 'mismatch';
}

function sameHmac(a: string, b: string): boolean {
  const left = Buffer.from(a, 'utf8');
  const right = Buffer.from(b, 'utf8');
  return left.length === right.length && timingSafeEqual(left, right);
}

export interface VerificationOutcome {
  result: VerificationResult;
  /** What the verification established: L2/L3 on a match, L1 (self-asserted) otherwise. */
  assuranceLevel: AssuranceLevel;
}

export function verify(record: RegistryRecord | undefined, claim: PseudonymisedClaim): VerificationOutcome {
  const result = judge(record, claim.presentedNameHmac);
  return { result, assuranceLevel: assuranceOfRegistryCheck(result === 'match', claim.secondFactor) };
}

/** The reply: the level appears only on a match, so a failed check cannot be mistaken for any assurance. */
export function replyOf(verificationId: string, outcome: VerificationOutcome): VerificationReply {
  return outcome.result === 'match'
    ? { verificationId, result: outcome.result, assuranceLevel: outcome.assuranceLevel }
    : { verificationId, result: outcome.result };
}

/** The detail of `IdentityVerified` v1: masked id only, never a number, a name or an HMAC of either. */
export type IdentityVerifiedDetail = IdentityVerifiedV1;

export function identityVerifiedDetail(input: {
  verificationId: string;
  correlationId: string;
  clientId: string;
  claim: PseudonymisedClaim;
  outcome: VerificationOutcome;
}): IdentityVerifiedDetail {
  return {
    version: 1,
    correlationId: input.correlationId,
    verificationId: input.verificationId,
    subject: input.claim.lookup.subject,
    result: input.outcome.result,
    maskedId: input.claim.maskedId,
    clientId: input.clientId,
    assuranceLevel: input.outcome.assuranceLevel,
  };
}
