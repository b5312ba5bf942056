import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { ConfigError, commonEnv, loadConfig, positiveInt, tableName } from '../../../shared/config';

const validEnv = {
  HUB_STAGE: 'dev',
  POWERTOOLS_SERVICE_NAME: 'case-aggregate',
  EVENT_BUS_NAME: 'zwfw-dev-bus',
  NONCES_TABLE: 'zwfw-dev-nonces',
  IDEMPOTENCY_TABLE: 'zwfw-dev-idempotency',
  HUB_CLIENTS_FILE: '/abs/clients.dev.json',
};

const caseEnv = commonEnv.extend({ CASES_TABLE: tableName, STATS_SHARDS: positiveInt(8) });

describe('loadConfig', () => {
  it('returns typed values with defaults applied', () => {
    const config = loadConfig(caseEnv, { ...validEnv, CASES_TABLE: 'zwfw-dev-cases' });
    expect(config.CASES_TABLE).toBe('zwfw-dev-cases');
    expect(config.STATS_SHARDS).toBe(8);
    expect(config.POWERTOOLS_METRICS_NAMESPACE).toBe('zwfw-hub');
    expect(config.LOG_LEVEL).toBe('INFO');
  });

  it('coerces numbers and normalises the log level', () => {
    const config = loadConfig(caseEnv, {
      ...validEnv,
      CASES_TABLE: 'cases',
      STATS_SHARDS: '16',
      LOG_LEVEL: 'debug',
    });
    expect(config.STATS_SHARDS).toBe(16);
    expect(config.LOG_LEVEL).toBe('DEBUG');
  });

  it('names every missing or invalid variable, sorted, and never their values', () => {
    const env = { ...validEnv, NONCES_TABLE: 'x', STATS_SHARDS: 'secret-value-123', HUB_STAGE: undefined };
    let error: unknown;
    try {
      loadConfig(caseEnv, env);
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(ConfigError);
    expect((error as ConfigError).variables).toEqual([
      'CASES_TABLE',
      'HUB_STAGE',
      'NONCES_TABLE',
      'STATS_SHARDS',
    ]);
    expect((error as Error).message).not.toContain('secret-value-123');
  });

  it('parses once per schema and environment', () => {
    const schema = z.object({ A: z.string() });
    const env = { A: 'one' };
    const first = loadConfig(schema, env);
    env.A = 'two';
    expect(loadConfig(schema, env)).toBe(first);
    expect(loadConfig(schema, { A: 'three' }).A).toBe('three');
  });
});
