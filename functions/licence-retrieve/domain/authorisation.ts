import * as z from 'zod';
import type { CaseStatusChangedV1 } from '../../../events/case-status-changed.v1';
import type { LicenceAccessedV1 } from '../../../events/licence-accessed.v1';
import type { AuthenticatedClient } from '../../../shared/client-registry';
import { forbidden, type Problem } from '../../../shared/problem';
import { provinceOf } from '../../../shared/regions';

/**
 * Who may use a holder's licence (DESIGN §1.2): a platform acting with the holder's own access token, or a platform
 * handling a case (办件) in which the holder is the applicant — and, either way, only for a stated reason (用证事由).
 * Pure: the handler resolves the token and loads the case, this decides.
 */

/** The reason for use: the platform's own words, kept in the audit and shown to the holder. */
export const useReasonSchema = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .refine((value) => !/\p{Cc}/u.test(value), 'Control characters are not allowed.');

/** What the hub knows of a case, learnt only from `CaseStatusChanged` (never from case aggregation's table). */
export interface KnownCase {
  caseId: string;
  regionCode: string;
  departmentCode: string;
  applicantIdHmac: string;
  statuses: CaseStatusChangedV1['status'][];
}

export const caseObservationOf = (detail: CaseStatusChangedV1) => ({
  caseId: detail.caseId,
  regionCode: detail.regionCode,
  departmentCode: detail.departmentCode,
  applicantIdHmac: detail.applicant.idHmac,
  status: detail.status,
});
export type CaseObservation = ReturnType<typeof caseObservationOf>;

/** Once a case has ended, its handling no longer needs the applicant's licences. */
const ENDED_STATUSES = new Set(['completed', 'rejected', 'terminated']);
export const hasEnded = (known: KnownCase) => known.statuses.some((status) => ENDED_STATUSES.has(status));

/** The platform handling a case: the region platform of its province, or the ministry whose department handles it. */
export function isCaseOfClient(
  client: Pick<AuthenticatedClient, 'kind' | 'regionCode' | 'departmentCode'>,
  known: Pick<KnownCase, 'regionCode' | 'departmentCode'>,
): boolean {
  if (client.kind === 'region') {
    return client.regionCode !== undefined && provinceOf(client.regionCode) === provinceOf(known.regionCode);
  }
  if (client.kind === 'ministry') return client.departmentCode === known.departmentCode;
  return false;
}

export type Authorisation =
  | { kind: 'holder_token'; sub: string; jti: string }
  | { kind: 'case'; caseId: string; known: KnownCase | undefined };

export interface HolderKeys {
  sub: string;
  idHmac: string;
}

const refused = (detail: string): Problem => forbidden('licence-use-refused', detail);

/**
 * Decided before any licence is looked up, so that a case which is not the caller's (or has ended) reveals nothing:
 * undefined when the authorisation may go on to be matched with a holder, otherwise the 403 to answer.
 */
export function refusalBeforeLookup(
  authorisation: Authorisation,
  client: Pick<AuthenticatedClient, 'kind' | 'regionCode' | 'departmentCode'>,
): Problem | undefined {
  if (authorisation.kind === 'holder_token') return undefined;
  const { known } = authorisation;
  if (!known || !isCaseOfClient(client, known)) {
    return refused('The hub knows no case of this platform with this case id.');
  }
  if (hasEnded(known)) return refused('The case has ended: it no longer authorises licence use.');
  return undefined;
}

/** Undefined when the authorisation (already past `refusalBeforeLookup`) covers this holder; otherwise the 403. */
export function refusalForHolder(authorisation: Authorisation, holder: HolderKeys): Problem | undefined {
  if (authorisation.kind === 'holder_token') {
    return authorisation.sub === holder.sub ? undefined : refused("The access token is not the holder's.");
  }
  return authorisation.known?.applicantIdHmac === holder.idHmac
    ? undefined
    : refused('The holder is not the applicant of this case.');
}

export const missingReason = () =>
  forbidden('use-reason-missing', 'State the reason for use (用证事由) in the `reason` query parameter.');

export const missingAuthorisation = () =>
  forbidden(
    'licence-authorisation-missing',
    "Send the holder's access token (Authorization: Bearer) or the id of your case in which the holder applied (caseId).",
  );

/** The authorisation as the audit and `LicenceAccessed` record it. */
export function auditedAuthorisation(authorisation: Authorisation): LicenceAccessedV1['authorisation'] {
  return authorisation.kind === 'holder_token'
    ? { kind: 'holder_token', jti: authorisation.jti }
    : { kind: 'case', caseId: authorisation.caseId };
}
