import { describe, expect, it } from 'vitest';
import type * as z from 'zod';
import { toTicketView } from '../../../functions/evaluation-ingest/domain/ticket';
import { RECTIFICATION_ROUTES } from '../../../functions/evaluation-ingest/rectification-api';
import { toLicenceSummary, toLicenceView } from '../../../functions/licence-retrieve/domain/licence';
import { toUseView, usesOf } from '../../../functions/licence-retrieve/domain/uses';
import { HOLDER_ROUTES } from '../../../functions/licence-retrieve/me-api';
import { RETRIEVAL_ROUTES } from '../../../functions/licence-retrieve/retrieval-api';
import { newTicket, transitioned } from '../evaluation-ingest/ticket-fixtures';
import { storedLicence } from '../licence-retrieve/fixtures';

/**
 * The response schemas the OpenAPI document publishes are exact: the views the handlers answer with, built by
 * the domain from fixtures, parse against their route's declared schema — every field typed, none `unknown`.
 */
const NOW = new Date('2026-06-01T00:00:00Z');
const schemaOf = (contract: { responses: Record<number, { schema?: z.ZodType }> }, status = 200) => {
  const schema = contract.responses[status]?.schema;
  if (!schema) throw new Error(`no ${status} schema`);
  return schema;
};
const at = (day: string) => `${day}T10:00:00+08:00`;

describe('response schemas match what the routes answer', () => {
  it('licence view: masked holder, surface data and the file in each state', () => {
    const get = schemaOf(RETRIEVAL_ROUTES.get);
    const recorded = storedLicence({ surface: { 名称: '某某有限公司' } });
    expect(get.parse(toLicenceView(recorded, NOW))).toEqual(toLicenceView(recorded, NOW));
    for (const file of [
      { state: 'awaiting_upload' as const },
      {
        state: 'rejected' as const,
        reason: 'size_mismatch' as const,
        rejectedAt: '2026-01-05T02:00:00.000Z',
      },
    ]) {
      expect(get.safeParse(toLicenceView(storedLicence({ file }), NOW)).success).toBe(true);
    }
    const download = { url: 'https://files.example/x', expiresAt: '2026-06-01T00:05:00.000Z' };
    expect(get.safeParse(toLicenceView(recorded, NOW, download)).success).toBe(true);
    // A holder field the contract does not declare would be refused: the masked holder is exact.
    const leaky = {
      ...toLicenceView(recorded, NOW),
      holder: { ...toLicenceSummary(recorded, NOW).holder, idHmac: 'x' },
    };
    expect(get.safeParse(leaky).success).toBe(false);
    const list = schemaOf(HOLDER_ROUTES.ownLicences);
    expect(list.safeParse({ items: [toLicenceSummary(recorded, NOW)] }).success).toBe(true);
  });

  it('licence uses: the authorisation is the holder token or a case', () => {
    const uses = schemaOf(HOLDER_ROUTES.ownUses);
    const licences = [storedLicence()];
    const common = {
      licences,
      operations: ['fetch' as const],
      client: { clientId: 'region-330000', name: '浙江省政务服务平台' },
      reason: '办理营业执照变更',
      now: NOW,
      correlationId: 'corr-1',
    };
    const byToken = usesOf({
      ...common,
      authorisation: { kind: 'holder_token', sub: 'u_1', jti: 'jti-0123456789abcdef' },
    });
    const byCase = usesOf({
      ...common,
      authorisation: { kind: 'case', caseId: '330000:C1', known: undefined },
    });
    const page = { items: [...byToken, ...byCase].map(toUseView) };
    expect(uses.parse(page)).toEqual(page);
  });

  it('rectification ticket: deadlines, overdue flags, revisit, dismissal and transitions', () => {
    const ticket = schemaOf(RECTIFICATION_ROUTES.transition);
    const open = newTicket();
    const verified = transitioned(open, { to: 'verified' }, at('2026-11-17'));
    const rectified = transitioned(verified, { to: 'rectified', note: '已整改' }, at('2026-11-20'));
    const revisited = transitioned(
      rectified,
      { to: 'revisited', reached: true, satisfaction: 'satisfied' },
      at('2026-11-23'),
    );
    const appealed = transitioned(open, { to: 'appealed' }, at('2026-11-16'));
    const dismissed = transitioned(appealed, { to: 'dismissed', finding: 'malicious' }, at('2026-11-18'));
    for (const each of [open, verified, revisited, appealed, dismissed]) {
      const view = toTicketView(each);
      expect(ticket.parse(view)).toEqual(view);
    }
    expect(toTicketView(revisited).transitions).toHaveLength(3);
    // Notes are never shown, and the schema has no room for one.
    expect(JSON.stringify(ticket.parse(toTicketView(revisited)))).not.toContain('已整改');
  });
});
