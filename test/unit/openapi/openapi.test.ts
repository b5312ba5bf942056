import { readFileSync } from 'node:fs';
import { createConfig, lintFromString } from '@redocly/openapi-core';
import { describe, expect, it } from 'vitest';
import { openApiDocument, renderOpenApi } from '../../../infra/openapi/document';
import { OPENAPI_FILE } from '../../../infra/openapi/generate';
import { allRouteContracts } from '../../../infra/openapi/routes';

describe('the OpenAPI document', () => {
  it('is committed as generated (run `npm run api:openapi` after changing a route contract)', () => {
    expect(readFileSync(OPENAPI_FILE, 'utf8')).toBe(renderOpenApi());
  });

  it("passes Redocly's recommended rules without an error or a warning", async () => {
    const config = await createConfig({ extends: ['recommended'] });
    const problems = await lintFromString({ source: renderOpenApi(), absoluteRef: OPENAPI_FILE, config });
    const found = problems.map((p) => `${p.severity} ${p.ruleId}: ${p.message} at ${p.location[0]?.pointer}`);
    expect(found).toEqual([]);
  });

  it('has one operation per route contract, each with a unique operation id and its security', () => {
    const document = openApiDocument() as {
      paths: Record<string, Record<string, { operationId: string; security: unknown[] }>>;
    };
    const operations = Object.entries(document.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, operation]) => ({
        key: `${method.toUpperCase()} ${path}`,
        operation,
      })),
    );
    const contracts = allRouteContracts();
    expect(operations.map((o) => o.key).sort()).toEqual(contracts.map((c) => `${c.method} ${c.path}`).sort());
    const ids = operations.map((o) => o.operation.operationId);
    expect(new Set(ids).size).toBe(ids.length);
    for (const contract of contracts) {
      const operation = document.paths[contract.path]?.[contract.method.toLowerCase()];
      const expected =
        contract.authentication === 'public'
          ? 0
          : contract.authentication.endsWith('optional-bearer')
            ? 2
            : 1;
      expect(operation?.security, contract.operation).toHaveLength(expected);
    }
  });

  it('documents the stack problems a route can meet: a signed POST with a body lists 401, 415 and 422', () => {
    const document = openApiDocument() as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const ingest = document.paths['/v1/cases:batch']?.post;
    expect(Object.keys(ingest?.responses ?? {})).toEqual(
      expect.arrayContaining(['202', '400', '401', '403', '409', '413', '415', '422', '429', '500', '503']),
    );
    const jwks = document.paths['/.well-known/jwks.json']?.get;
    expect(Object.keys(jwks?.responses ?? {})).not.toContain('401');
  });

  it("validates every contract's examples against the schemas they illustrate", () => {
    let checked = 0;
    for (const contract of allRouteContracts()) {
      const body = contract.documentedBody ?? contract.body;
      if (contract.requestExample !== undefined && body) {
        const result = body.safeParse(contract.requestExample);
        expect(result.success, `${contract.operation} request example: ${result.error?.message}`).toBe(true);
        checked++;
      }
      for (const [status, response] of Object.entries(contract.responses)) {
        if (response.example === undefined || !response.schema) continue;
        const result = response.schema.safeParse(response.example);
        expect(result.success, `${contract.operation} ${status} example: ${result.error?.message}`).toBe(
          true,
        );
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(10);
  });
});
