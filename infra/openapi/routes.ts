import { IDENTITY_ROUTES } from '../../functions/auth-verify/identity-api';
import { TOKEN_ROUTES } from '../../functions/auth-verify/tokens-api';
import { CASE_ROUTES } from '../../functions/case-aggregate/api';
import { ITEM_ROUTES } from '../../functions/case-aggregate/items-api';
import { PUBLIC_ASSESSMENT_ROUTES } from '../../functions/case-aggregate/public-assessments';
import { STATS_ROUTES } from '../../functions/case-aggregate/stats-api';
import { EVALUATION_ROUTES } from '../../functions/evaluation-ingest/api';
import { EVALUATION_QUERY_ROUTES } from '../../functions/evaluation-ingest/query-api';
import { RECTIFICATION_ROUTES } from '../../functions/evaluation-ingest/rectification-api';
import { ISSUING_ROUTES } from '../../functions/licence-retrieve/issuing-api';
import { HOLDER_ROUTES } from '../../functions/licence-retrieve/me-api';
import { RETRIEVAL_ROUTES } from '../../functions/licence-retrieve/retrieval-api';
import { type AnyRouteContract, routeKey } from '../../shared/contract';

/**
 * Every route of the hub's API, by the contracts their entry points serve (functions/*\/*api*.ts). The OpenAPI
 * document, the typed client and the CLI read them from here; a test compares them with the routes the
 * synthesised templates mount, so a route added to one side only fails the build.
 */
export const HUB_ROUTES = {
  tokens: TOKEN_ROUTES,
  identity: IDENTITY_ROUTES,
  cases: CASE_ROUTES,
  items: ITEM_ROUTES,
  stats: STATS_ROUTES,
  publicAssessments: PUBLIC_ASSESSMENT_ROUTES,
  evaluations: EVALUATION_ROUTES,
  evaluationQueries: EVALUATION_QUERY_ROUTES,
  rectifications: RECTIFICATION_ROUTES,
  licenceIssuing: ISSUING_ROUTES,
  licenceRetrieval: RETRIEVAL_ROUTES,
  licenceHolder: HOLDER_ROUTES,
} as const;

/** The contracts as one list, each route once, in a stable order (by path, then method). */
export function allRouteContracts(): AnyRouteContract[] {
  const byKey = new Map<string, AnyRouteContract>();
  for (const group of Object.values(HUB_ROUTES)) {
    for (const contract of Object.values(group) as AnyRouteContract[]) {
      const known = byKey.get(routeKey(contract));
      if (known && known !== contract) throw new Error(`two contracts for ${routeKey(contract)}`);
      byKey.set(routeKey(contract), contract);
    }
  }
  return [...byKey.values()].sort((a, b) =>
    a.path === b.path ? a.method.localeCompare(b.method) : a.path.localeCompare(b.path),
  );
}
