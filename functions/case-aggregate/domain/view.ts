import { type CaseRecord, currentStatus, earliestStatusAt } from './case';
import { countedOverdueDay } from './overdue';

/**
 * What `GET /v1/cases/{caseId}` answers: the case, its history and its conflicts. The applicant appears
 * masked only; the ID HMAC stays inside the hub, where it joins records, instead of becoming a tracking id.
 */
export function toCaseView(record: CaseRecord) {
  const { type, idType, maskedId, maskedName } = record.applicant;
  return {
    caseId: record.caseId,
    regionCode: record.regionCode,
    caseNumber: record.caseNumber,
    itemCode: record.itemCode,
    itemName: record.itemName,
    departmentCode: record.departmentCode,
    applicant: { type, idType, maskedId, maskedName },
    channel: record.channel,
    fullyOnline: record.fullyOnline,
    promisedDays: record.promisedDays,
    statutoryDays: record.statutoryDays,
    status: currentStatus(record),
    /** The last day of the promised limit (working days, Asia/Shanghai): closed on or before it is on time. */
    dueDay: record.due?.day ?? null,
    /** The day the case counts as overdue in (due day + 1), once the daily sweep has counted it; else null. */
    overdueDay: countedOverdueDay(record) ?? null,
    timeline: record.timeline.map(({ status, at, changeId, receivedAt }) => ({
      status,
      at,
      changeId,
      receivedAt,
    })),
    conflicts: record.conflicts.map(({ status, at, reason, conflictsWith, detectedAt }) => ({
      status,
      at,
      reason,
      conflictsWith,
      detectedAt,
    })),
    firstSeenAt: record.firstSeenAt,
    lastChangeAt: record.lastChangeAt,
    version: record.version,
  };
}

export type CaseView = ReturnType<typeof toCaseView>;

/**
 * A case as its applicant sees it in the user space (`GET /v1/me/cases`): what was applied for, where, and how
 * far it got. Masked applicant only, and none of the hub's bookkeeping (change ids, provenance, conflicts,
 * version), which says nothing to a citizen and something about the platforms.
 */
export function toApplicantCaseView(record: CaseRecord) {
  const { type, idType, maskedId, maskedName } = record.applicant;
  return {
    caseId: record.caseId,
    regionCode: record.regionCode,
    caseNumber: record.caseNumber,
    itemCode: record.itemCode,
    itemName: record.itemName,
    departmentCode: record.departmentCode,
    applicant: { type, idType, maskedId, maskedName },
    channel: record.channel,
    fullyOnline: record.fullyOnline,
    promisedDays: record.promisedDays,
    status: currentStatus(record),
    submittedAt: earliestStatusAt(record) ?? record.firstSeenAt,
    dueDay: record.due?.day ?? null,
    timeline: record.timeline.map(({ status, at }) => ({ status, at })),
    lastChangeAt: record.lastChangeAt,
  };
}

export type ApplicantCaseView = ReturnType<typeof toApplicantCaseView>;
