import type { DeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import { defaultDeadlineSettings } from '../../../functions/evaluation-ingest/domain/deadlines';
import {
  type OpenTicketInput,
  openTicket,
  type Ticket,
} from '../../../functions/evaluation-ingest/domain/ticket';
import {
  applyTransition,
  type TransitionRequest,
} from '../../../functions/evaluation-ingest/domain/transitions';

/** Rectification tickets for tests: a bad review of a Zhejiang case, opened on Monday 2026-11-16 (Shanghai). */
export const DEPARTMENT = '11330000002593947X';
export const ITEM = '11330000002593947X4000117051000';
export const EVALUATOR_HMAC = 'Bf2XpYAItYlScow_VT59ac340hW9EPy0SrvIORmdzYg';
export const MONDAY_MORNING = '2026-11-16T09:00:00+08:00';

export const ticketInput = (overrides: Partial<OpenTicketInput> = {}): OpenTicketInput => ({
  evaluationId: 'ev-0001',
  caseId: '330106:ZJ-2026-0001',
  regionCode: '330106',
  departmentCode: DEPARTMENT,
  itemCode: ITEM,
  level: 2,
  evaluatorIdHmac: EVALUATOR_HMAC,
  openedAt: MONDAY_MORNING,
  ...overrides,
});

export const newTicket = (overrides: Partial<OpenTicketInput> = {}, settings = defaultDeadlineSettings) =>
  openTicket(ticketInput(overrides), settings);

/** Applies a transition that must be allowed, at `at`, by the Zhejiang platform. */
export function transitioned(
  ticket: Ticket,
  request: TransitionRequest,
  at: string,
  settings: DeadlineSettings = defaultDeadlineSettings,
): Ticket {
  const outcome = applyTransition(ticket, request, {
    by: 'region-330000',
    at,
    correlationId: 'corr-1',
    settings,
  });
  if (!outcome.ok) throw new Error(`${outcome.from} → ${outcome.to} refused`);
  return outcome.ticket;
}
