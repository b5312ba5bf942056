import { randomBytes } from 'node:crypto';
import type { LicenceAccessedV1 } from '../../../events/licence-accessed.v1';
import { type Authorisation, auditedAuthorisation } from './authorisation';
import type { Licence } from './licence';

/**
 * A use of a licence (用证记录), kept for the holder (`GET /v1/me/licence-uses`) and announced as `LicenceAccessed`.
 * Written before the data is handed over: a use the hub could not record is a use it refuses.
 */
export type UseOperation = LicenceAccessedV1['operation'];

export interface LicenceUse {
  useId: string;
  holderSub: string;
  licenceId: string;
  typeCode: string;
  licenceName: string;
  operation: UseOperation;
  clientId: string;
  clientName: string;
  authorisation: LicenceAccessedV1['authorisation'];
  reason: string;
  accessedAt: string;
  correlationId: string;
}

export const newUseId = () => randomBytes(16).toString('base64url');

export function usesOf(input: {
  licences: readonly Licence[];
  operations: readonly UseOperation[];
  client: { clientId: string; name: string };
  authorisation: Authorisation;
  reason: string;
  now: Date;
  correlationId: string;
}): LicenceUse[] {
  return input.licences.flatMap((licence) =>
    input.operations.map(
      (operation): LicenceUse => ({
        useId: newUseId(),
        holderSub: licence.holder.sub,
        licenceId: licence.licenceId,
        typeCode: licence.typeCode,
        licenceName: licence.name,
        operation,
        clientId: input.client.clientId,
        clientName: input.client.name,
        authorisation: auditedAuthorisation(input.authorisation),
        reason: input.reason,
        accessedAt: input.now.toISOString(),
        correlationId: input.correlationId,
      }),
    ),
  );
}

export const accessedEventOf = (use: LicenceUse): LicenceAccessedV1 => ({
  version: 1,
  correlationId: use.correlationId,
  useId: use.useId,
  licenceId: use.licenceId,
  typeCode: use.typeCode,
  operation: use.operation,
  clientId: use.clientId,
  authorisation: use.authorisation,
  reason: use.reason,
  accessedAt: use.accessedAt,
});

/** What the holder sees of a use: who (platform id and name), which licence, on what authority, why, when. */
export const toUseView = (use: LicenceUse) => ({
  useId: use.useId,
  licenceId: use.licenceId,
  licenceName: use.licenceName,
  operation: use.operation,
  clientId: use.clientId,
  clientName: use.clientName,
  authorisation: use.authorisation,
  reason: use.reason,
  accessedAt: use.accessedAt,
});
