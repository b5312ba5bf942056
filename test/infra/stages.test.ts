import { describe, expect, it } from 'vitest';
import { createHubApp } from '../../infra/stacks/hub';
import { type CfnTemplate, onlyResource, propertyAt, resourcesOfType } from './policies';
import { cdkJsonContext, NO_BUNDLING, synthHub } from './synth';

// Names and stage settings only: esbuild is skipped, each synthesis takes a fraction of a second.
const synthStage = (context: Record<string, unknown>) => synthHub({ ...NO_BUNDLING, ...context });

const tables = (template: CfnTemplate) =>
  resourcesOfType(template, 'AWS::DynamoDB::Table').map(([, table]) => table);

describe('stages', () => {
  it('dev: both stacks named for the stage, data removable with the stack', () => {
    const hub = synthStage({ 'zwfw:stage': 'dev' });
    try {
      expect(hub.assembly.stacks.map((stack) => stack.stackName).sort()).toEqual([
        'zwfw-dev-private',
        'zwfw-dev-public',
      ]);
      for (const table of tables(hub.template('zwfw-dev-private'))) {
        expect(table.DeletionPolicy).toBe('Delete');
        expect(table.Properties?.DeletionProtectionEnabled).toBe(false);
      }
      expect(hub.privateCloud.terminationProtection).toBe(false);
    } finally {
      hub.cleanUp();
    }
  });

  it('prod: retained, deletion-protected data, longer logs, more stats shards', () => {
    const hub = synthStage({ 'zwfw:stage': 'prod' });
    try {
      expect(hub.assembly.stacks.map((stack) => stack.stackName).sort()).toEqual([
        'zwfw-prod-private',
        'zwfw-prod-public',
      ]);
      const template = hub.template('zwfw-prod-private');
      for (const table of tables(template)) {
        expect(table.DeletionPolicy).toBe('Retain');
        expect(table.Properties?.DeletionProtectionEnabled).toBe(true);
      }
      for (const [, logGroup] of resourcesOfType(template, 'AWS::Logs::LogGroup')) {
        expect(logGroup.Properties?.RetentionInDays).toBe(180);
      }
      for (const [, fn] of resourcesOfType(template, 'AWS::Lambda::Function')) {
        const variables = propertyAt<Record<string, string>>(fn, 'Environment.Variables') ?? {};
        expect(variables).toMatchObject({ HUB_STAGE: 'prod' });
        if (variables.STATS_TABLE !== undefined) expect(variables.STATS_SHARDS).toBe('16');
      }
      expect(propertyAt(onlyResource(template, 'AWS::Events::EventBus'), 'Name')).toBe('zwfw-prod-bus');
      expect(hub.privateCloud.terminationProtection).toBe(true);
      expect(hub.publicCloud.terminationProtection).toBe(true);
    } finally {
      hub.cleanUp();
    }
  });

  it('prod in two accounts: the public rule targets the private account, whose bus admits only the allow-list', () => {
    const hub = synthStage({
      'zwfw:stage': 'prod',
      'zwfw:account': '111111111111',
      'zwfw:publicAccount': '222222222222',
      'zwfw:region': 'cn-north-1',
    });
    try {
      expect(hub.privateCloud.account).toBe('111111111111');
      expect(hub.publicCloud.account).toBe('222222222222');
      const rule = onlyResource(hub.template('zwfw-prod-public'), 'AWS::Events::Rule');
      expect(propertyAt(rule, 'Targets.0.Arn')).toBe(
        'arn:aws-cn:events:cn-north-1:111111111111:event-bus/zwfw-prod-bus',
      );
      const policies = resourcesOfType(hub.template('zwfw-prod-private'), 'AWS::Events::EventBusPolicy');
      expect(policies).toHaveLength(1);
      const statement = JSON.stringify(policies[0]?.[1].Properties);
      expect(statement).toContain('222222222222');
      expect(statement).toContain('EvaluationSubmitted');
      expect(statement).toContain('zwfw.evaluation-ingest');
    } finally {
      hub.cleanUp();
    }
  });

  it('one account: no cross-account bus policy', () => {
    const hub = synthStage({ 'zwfw:stage': 'staging' });
    try {
      expect(resourcesOfType(hub.template('zwfw-staging-private'), 'AWS::Events::EventBusPolicy')).toEqual(
        [],
      );
    } finally {
      hub.cleanUp();
    }
  });

  it('rejects an unknown stage or a malformed account before building anything', () => {
    const context = { ...cdkJsonContext(), ...NO_BUNDLING };
    expect(() => createHubApp({ context: { ...context, 'zwfw:stage': 'qa' } })).toThrow(/zwfw context/);
    expect(() => createHubApp({ context: { ...context, 'zwfw:account': '12345' } })).toThrow(/12 digits/);
  });
});
